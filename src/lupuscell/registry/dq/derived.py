"""Derived fields of a record for the rules (``analyte_code``, ``value_canonical`` of a lab
result), in Python for one record and in SQL for a table (:mod:`.rules`, module docstring).

Both read :mod:`lupuscell.units` (``data/units.yaml``): the SQL form is a ``CASE`` over the
distinct (analyte, unit) spellings stored, each normalised once in Python, so the two forms
give the same number for every stored spelling.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from sqlglot import exp

from lupuscell import units
from lupuscell.errors import ValidationError


@functools.lru_cache(maxsize=4096)
def _lab(analyte: str, unit: str) -> tuple[str | None, float | None]:
    """(analyte code, factor to the canonical unit) of a stored spelling; Nones if unknown."""
    try:
        entry = units.get_analyte(analyte)
    except ValidationError:
        return None, None
    try:
        return entry.code, units.unit_rule(analyte, unit).factor
    except ValidationError:
        return entry.code, None


def python_values(entity: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (a record's fields) with the derived fields of ``entity`` added."""
    record = dict(values)
    if entity == "lab_result":
        analyte, unit, value = record.get("analyte"), record.get("unit"), record.get("value")
        code, factor = (
            _lab(analyte, unit) if isinstance(analyte, str) and isinstance(unit, str) else (None, None)
        )
        record["analyte_code"] = code
        record["value_canonical"] = None if factor is None or value is None else float(value) * factor
    return record


def sql_values(entity: str, column: Any, pairs: Iterable[tuple[str, str]]) -> dict[str, exp.Expression]:
    """The derived fields of ``entity`` as SQL expressions over ``column(name)`` (a qualified
    column), for the stored (analyte, unit) spellings ``pairs``."""
    if entity != "lab_result":
        return {}
    codes: list[exp.If] = []
    factors: list[exp.If] = []
    seen: set[str] = set()
    for analyte, unit in pairs:
        code, factor = _lab(analyte, unit)
        if code is not None and analyte not in seen:
            seen.add(analyte)
            codes.append(
                exp.If(
                    this=exp.EQ(this=column("analyte"), expression=exp.Literal.string(analyte)),
                    true=exp.Literal.string(code),
                )
            )
        if factor is not None:
            same = exp.and_(
                exp.EQ(this=column("analyte"), expression=exp.Literal.string(analyte)),
                exp.EQ(this=column("unit"), expression=exp.Literal.string(unit)),
            )
            factors.append(
                exp.If(
                    this=same, true=exp.Mul(this=column("value"), expression=exp.Literal.number(repr(factor)))
                )
            )
    return {
        "analyte_code": exp.Case(ifs=codes, default=exp.Null()) if codes else exp.Null(),
        "value_canonical": exp.paren(exp.Case(ifs=factors, default=exp.Null())) if factors else exp.Null(),
    }
