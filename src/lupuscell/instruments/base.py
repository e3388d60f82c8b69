"""Shared result types of every instrument.

Every scorer is a pure function ``score(inputs: <InputModel>, **options) -> <Result>``; the
result is immutable and carries the headline value(s), the items that counted with their
points, a one-line reason for each, completeness, the instrument version and (where one
applies) the assessment window. See docs/instruments/index.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, fields
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


def printed(
    *, keys: tuple[str, ...] = (), omit_if: Callable[[Any], bool] | None = None
) -> dict[str, Any]:
    """Field metadata saying how a headline field appears in ``to_dict()``.

    Use as ``field(default=None, metadata=printed(...))``; a field without it is printed under
    its own name.

    Parameters
    ----------
    keys
        JSON key(s) to print the value under, as ``str.format`` templates over the result
        (``"sri{self.threshold}_responder"``); default: the field name.
    omit_if
        Predicate over the result: the field is left out of the JSON when it holds (e.g. the
        unknown-range bounds of a complete score).
    """
    return {"keys": keys, "omit_if": omit_if}


def _plain(value: Any) -> Any:
    """JSON-ready copy: tuples become lists and mappings dicts (recursively)."""
    if isinstance(value, tuple | list):
        return [_plain(v) if isinstance(v, tuple | list | dict) else v for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) if isinstance(v, tuple | list | dict) else v for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _Printed:
    """How one headline field is printed (read once per result class from its metadata)."""

    name: str
    keys: tuple[str, ...]
    templated: bool
    omit_if: Callable[[Any], bool] | None


@dataclass(frozen=True, kw_only=True)
class InstrumentResult:
    """Common envelope of every result; each instrument's subclass adds its headline fields.

    A subclass declares its headline values as typed fields (``sledai_2k: int | None``) in the
    order they are printed; :func:`printed` metadata renames or omits a field in the JSON.
    ``to_dict()`` returns the JSON-ready mapping printed by ``lupuscell score NAME --json``:
    the headline fields, then ``instrument``, ``version``, ``complete``, ``missing`` and
    ``items``. ``result["sledai_2k"]`` and ``result.values`` read the headline part by its
    JSON key.
    """

    instrument: str
    version: str
    items: tuple[Item, ...] = ()
    complete: bool = True
    missing: tuple[str, ...] = ()

    @classmethod
    def headline_fields(cls) -> tuple[Field[Any], ...]:
        """The dataclass fields that are headline values (everything but the envelope)."""
        return _headline_fields(cls)

    @property
    def values(self) -> dict[str, Any]:
        """The headline values under their JSON keys, in print order."""
        out: dict[str, Any] = {}
        for p in _printing(type(self))[0]:
            if p.omit_if is not None and p.omit_if(self):
                continue
            value = _plain(getattr(self, p.name))
            for key in p.keys:
                out[key.format(self=self) if p.templated else key] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        out = self.values
        out.update(
            {
                "instrument": self.instrument,
                "version": self.version,
                "complete": self.complete,
                "missing": list(self.missing),
                "items": [i.to_dict() for i in self.items],
            }
        )
        return out

    def __getitem__(self, key: str) -> Any:
        printed = _printing(type(self))[1].get(key)  # a fixed key: read the one field
        if printed is None:
            return self.values[key]
        if printed.omit_if is not None and printed.omit_if(self):
            raise KeyError(key)
        return _plain(getattr(self, printed.name))


_HEADLINE_FIELDS: dict[type, tuple[Field[Any], ...]] = {}
_PRINTING: dict[type, tuple[tuple[_Printed, ...], dict[str, _Printed]]] = {}


def _headline_fields(cls: type[InstrumentResult]) -> tuple[Field[Any], ...]:
    cached = _HEADLINE_FIELDS.get(cls)
    if cached is None:
        envelope = {f.name for f in fields(InstrumentResult)}
        cached = _HEADLINE_FIELDS[cls] = tuple(f for f in fields(cls) if f.name not in envelope)
    return cached


def _printing(cls: type[InstrumentResult]) -> tuple[tuple[_Printed, ...], dict[str, _Printed]]:
    """The print plan of a result class: every headline field, and the fixed keys by name."""
    cached = _PRINTING.get(cls)
    if cached is None:
        plan = []
        for f in _headline_fields(cls):
            keys = tuple(f.metadata.get("keys") or (f.name,))
            plan.append(_Printed(f.name, keys, any("{" in k for k in keys), f.metadata.get("omit_if")))
        fixed = {key: p for p in plan if not p.templated for key in p.keys}
        cached = _PRINTING[cls] = (tuple(plan), fixed)
    return cached


@dataclass(frozen=True)
class InstrumentSpec:
    """Catalog entry: name (as given to ``lupuscell score NAME``), input model, scorer,
    version, citation, one-line summary and the result class the scorer returns.

    ``row_input`` turns one row of a table (``lupuscell score-table``: column -> cell, missing
    cells left out) into the scorer's input; the default passes the columns named like the
    input model's fields.
    """

    name: str
    input_model: type[BaseModel]
    scorer: Callable[[Any], InstrumentResult]
    version: str
    source: str
    summary: str
    result_type: type[InstrumentResult] = InstrumentResult
    row_input: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def input_from_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The scorer's input from one table row (see ``row_input``)."""
        if self.row_input is not None:
            return self.row_input(row)
        known = self.input_model.model_fields
        return {k: v for k, v in row.items() if k in known}


# --------------------------------------------------------- input validation and exact precision

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
    (docs/instruments/lldas.md, "Exact thresholds"). The same arithmetic is used by the
    vectorised path (:func:`lupuscell.instruments.bulk.score_visit_table`), so both paths agree
    bit for bit.
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
