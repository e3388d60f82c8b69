"""Shared result types of every instrument.

Every scorer is a pure function ``score(inputs: <InputModel>, **options) -> <Result>``; the
result is immutable and carries the headline value(s), the items that counted with their
points, a one-line reason for each, completeness, the instrument version and (where one
applies) the assessment window. See docs/instruments/index.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class StrictInput(BaseModel):
    """Base of every instrument input: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True)
class Item:
    """One item that counted (or was examined) with its contribution and why."""

    name: str
    points: float | int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "reason": self.reason}


@dataclass(frozen=True)
class InstrumentResult:
    """Common envelope: subclasses add their headline fields.

    ``to_dict()`` returns the JSON-ready mapping printed by ``lupuscell score --json``.
    """

    instrument: str
    version: str
    items: tuple[Item, ...] = ()
    complete: bool = True
    missing: tuple[str, ...] = ()
    window_days: int | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.values)
        out.update(
            {
                "instrument": self.instrument,
                "version": self.version,
                "complete": self.complete,
                "missing": list(self.missing),
                "items": [i.to_dict() for i in self.items],
            }
        )
        if self.window_days is not None:
            out["window_days"] = self.window_days
        return out

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(frozen=True)
class InstrumentSpec:
    """Catalog entry: name (spec section 16), input model, scorer, version and citation."""

    name: str
    input_model: type[BaseModel]
    scorer: Callable[[Any], InstrumentResult]
    version: str
    source: str
    summary: str


# --- additions (SLE/catalog work): input validation and exact-precision helpers -------------

_RANGE_KEYS = (
    ("minimum", ">="),
    ("exclusiveMinimum", ">"),
    ("maximum", "<="),
    ("exclusiveMaximum", "<"),
)


def _field_schema(schema: dict[str, Any], loc: tuple[int | str, ...]) -> dict[str, Any]:
    """Follow ``loc`` through a JSON Schema (properties, $defs, arrays, maps, anyOf)."""
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return dict(defs.get(ref.rsplit("/", 1)[1], {}))
        return node

    node = resolve(schema)
    for part in loc:
        if "anyOf" in node:
            branches = [resolve(b) for b in node["anyOf"] if b.get("type") != "null"]
            node = branches[0] if branches else {}
        node = resolve(node)
        if isinstance(part, int):
            node = resolve(node.get("items", {}))
        elif "properties" in node and part in node["properties"]:
            node = resolve(node["properties"][part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = resolve(node["additionalProperties"])
        else:
            return {}
    if "anyOf" in node:
        branches = [resolve(b) for b in node["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            node = {**branches[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    return node


def _describe(node: dict[str, Any], defs: dict[str, Any]) -> str:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = defs.get(ref.rsplit("/", 1)[1], {})
    if "anyOf" in node:
        parts = [_describe(b, defs) for b in node["anyOf"] if b.get("type") != "null"]
        return " or ".join(p for p in parts if p)
    bounds = [f"{op} {node[key]}" for key, op in _RANGE_KEYS if key in node]
    if bounds:
        kind = node.get("type", "number")
        return f"{kind} " + " and ".join(bounds)
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    if "const" in node:
        return f"{node['const']}"
    if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is False:
        return "an object with fields " + ", ".join(node["properties"])
    return str(node.get("type", ""))


def allowed_values(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """Human-readable allowed range/values of the field at ``loc`` (empty if unconstrained)."""
    schema = model.model_json_schema()
    node = _field_schema(schema, loc)
    bounds = [f"{op} {node[key]}" for key, op in _RANGE_KEYS if key in node]
    if bounds:
        return "allowed range: " + " and ".join(bounds)
    if "enum" in node:
        return "allowed values: " + ", ".join(str(v) for v in node["enum"])
    if "const" in node:
        return f"allowed value: {node['const']}"
    if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is False:
        return "allowed fields: " + ", ".join(node["properties"])
    described = _describe(node, schema.get("$defs", {}))
    if described:
        return f"expected: {described}" if "anyOf" in node else f"expected type: {described}"
    return ""


#: Last ``loc`` elements that name a union member rather than a field (pydantic error tags).
_UNION_TAG = re.compile(r"^(bool|int|float|str|bytes|none|constrained-\w+|[a-z-]+\[.*\]|[A-Z]\w*)$")


def validate_input(model: type[InputT], data: Any, record: str = "input") -> InputT:
    """Validate ``data`` against ``model``; raise :class:`lupuscell.errors.ValidationError`.

    Every problem names the record, the dotted field path, pydantic's reason and, where the
    JSON Schema of the model states one, the allowed range or values (e.g. ``pga: Input should
    be less than or equal to 3 (allowed range: >= 0.0 and <= 3.0)``). Errors of the members of
    a union (``bool | int``) are merged into one problem per field.
    """
    from pydantic import ValidationError as PydanticValidationError

    from lupuscell.errors import Problem, ValidationError

    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        merged: dict[tuple[int | str, ...], list[str]] = {}
        for err in exc.errors():
            loc = tuple(err["loc"])
            while loc and isinstance(loc[-1], str) and _UNION_TAG.match(loc[-1]):
                loc = loc[:-1]
            if err["type"] == "extra_forbidden" and loc:
                message = "unknown field"
                loc = (*loc, "\0extra")
            elif err["type"] == "literal_error":
                message = err["msg"].replace("Input should be", "allowed values:", 1)
                if loc and loc[-1] == "[key]":  # a key of a mapping with fixed keys
                    loc, message = loc[:-1], "unknown key; " + message
                loc = (*loc, "\0listed")
            else:
                message = err["msg"]
            if message not in merged.setdefault(loc, []):
                merged[loc].append(message)
        problems = []
        for loc, messages in merged.items():
            if loc and loc[-1] == "\0extra":
                loc = loc[:-1]
                hint = allowed_values(model, loc[:-1]) if len(loc) > 1 else ""
                if not hint:
                    hint = "allowed fields: " + ", ".join(model.model_fields) if len(loc) == 1 else ""
            elif loc and loc[-1] == "\0listed":
                loc, hint = loc[:-1], ""
            else:
                hint = allowed_values(model, loc) if loc else ""
            message = "; or ".join(messages) + (f" ({hint})" if hint else "")
            field_name = ".".join(str(p) for p in loc) or "(input)"
            problems.append(Problem(record, field_name, message))
        raise ValidationError(problems) from None


#: Added before flooring: half-up rounding with a 1e-9 guard (one constant, so the scalar and
#: the vectorised paths perform the very same two floating-point operations).
HALF_UP = 0.5 + 1e-9


def to_units(value: float, per_unit: int) -> int:
    """Round ``value`` to the instrument's precision, returned as an integer count of steps.

    ``per_unit`` is the number of steps per unit: 10 for PGA (0.1), 100 for doses in mg to
    0.01. Rounding is half-up with a 1e-9 guard so that decimal inputs such as 1.1 (stored as
    1.1000000000000000888) and 0.45 land on the step a person reading the decimal expects;
    comparing integer steps then avoids the IEEE trap ``1.4 - 1.1 = 0.2999999999999998``
    (spec section 0). The same arithmetic is used by the vectorised path
    (:func:`lupuscell.instruments.bulk.score_visit_table`), so both paths agree bit for bit.
    """
    return math.floor(value * per_unit + HALF_UP)


def plain_scalar(value: Any) -> Any:
    """Turn numpy scalars (``np.float64``, ``np.int64``, ``np.bool_``) into Python scalars.

    Use as ``BeforeValidator(plain_scalar)`` on strict fields so values taken from numpy or
    pandas validate like the JSON numbers and booleans they stand for (strings still fail).
    """
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    return value
