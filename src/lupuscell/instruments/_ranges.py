"""Bounded numeric fields and exact threshold helpers shared by the transplant, lab and body modules.

Why hand-written: pydantic's ``Field(ge=..., le=...)`` rejects an out-of-range value with a
message naming only the violated bound ("greater than or equal to 0"). Issue 3 asks every
rejection to name the field *and the allowed range*, so :class:`Range` is an ``Annotated``
marker whose validator states both bounds and the unit, while still publishing
``minimum``/``maximum`` in the JSON Schema (``lupuscell score NAME --schema``). Usage::

    weight_kg: Annotated[float, Range(0, 700, "kg", lo_open=True)]
    bmi_kg_m2: Annotated[float | None, Range(5, 150, "kg/m2")] = None   # None passes through

:func:`dec` converts a float to :class:`decimal.Decimal` through its shortest ``repr`` so that
products such as ``1.5 × ULN`` are compared exactly (in IEEE floats
``1.5 * 1.2 = 1.7999999999999998``, which would miss a boundary; docs/instruments/index.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from lupuscell.instruments.base import StrictInput


class TypedInput(StrictInput):
    """:class:`StrictInput` with strict types: booleans must be JSON ``true``/``false``, numbers
    must be JSON numbers (no ``"1"`` or ``"yes"`` coercion), as docs/instruments/index.md states.
    Attribute docstrings become the field descriptions of ``lupuscell score NAME --schema``."""

    model_config = ConfigDict(strict=True, use_attribute_docstrings=True)


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Range:
    """``Annotated`` marker: the value must lie in [lo, hi] (open ends optional); None passes."""

    lo: float
    hi: float
    unit: str = ""
    lo_open: bool = False
    hi_open: bool = False

    @property
    def text(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}" + (f" {self.unit}" if self.unit else "")

    def check(self, v: Any) -> Any:
        if v is None:
            return v
        too_low = v <= self.lo if self.lo_open else v < self.lo
        too_high = v >= self.hi if self.hi_open else v > self.hi
        if too_low or too_high or v != v:
            raise ValueError(f"{_fmt(v)} is outside the allowed range {self.text}")
        return v

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        js = handler(schema)
        target = js
        if "anyOf" in js:  # Optional[float]: annotate the numeric branch
            target = next((s for s in js["anyOf"] if s.get("type") in ("number", "integer")), js)
        target["exclusiveMinimum" if self.lo_open else "minimum"] = self.lo
        target["exclusiveMaximum" if self.hi_open else "maximum"] = self.hi
        js["description"] = (js.get("description", "") + f" Allowed range {self.text}.").strip()
        return js


def dec(x: float) -> Decimal:
    """Exact decimal of the value as written (shortest round-tripping repr of the float)."""
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
