"""Units of the measurements a protocol compares with a threshold.

Laboratory analytes (eGFR, platelets, ANC, bilirubin, uPCR, ...) use the one laboratory unit
table, ``data/units.yaml`` through :mod:`lupuscell.units`. Measurements that are not laboratory
analytes (LVEF, the SLEDAI-2K total) are listed in ``data/measures.yaml`` in the same
form. OMOP ``unit_concept_id`` values are mapped to unit spellings by ``data/omop_units.csv``
(ids and names from OHDSI sources, cited per row); a unit concept that is not listed, or not
accepted for the analyte, makes the value unusable. Nothing is guessed: unit concept 8523
"ratio" is deliberately not mapped.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml

from lupuscell import units
from lupuscell.errors import Problem, ValidationError


@dataclass(frozen=True)
class Measure:
    """An analyte with its canonical unit and {cleaned unit spelling: factor to canonical}."""

    code: str
    label: str
    canonical_unit: str
    factors: Mapping[str, float]


@cache
def _extra_measures() -> Mapping[str, Measure]:
    text = resources.files("lupuscell").joinpath("data", "measures.yaml").read_text("utf-8")
    table: dict[str, Measure] = {}
    for code, spec in yaml.safe_load(text)["measures"].items():
        factors: dict[str, float] = {}
        for unit, rule in spec["units"].items():
            for spelling in (unit, *(rule.get("aliases") or [])):
                factors[units.clean_unit(str(spelling))] = float(rule["factor"])
        table[code] = Measure(code, spec["label"], spec["canonical"], MappingProxyType(factors))
    return MappingProxyType(table)


@cache
def measure(analyte: str) -> Measure:
    """The :class:`Measure` for a laboratory analyte (units.yaml) or a listed non-lab measure."""
    extra = _extra_measures().get(analyte)
    if extra is not None:
        return extra
    try:
        entry = units.get_analyte(analyte)
    except ValidationError:
        known = ", ".join((*units.analyte_codes(), *_extra_measures()))
        raise ValidationError(
            Problem("", "analyte", f"unknown analyte {analyte!r}; known analytes: {known}")
        ) from None
    factors = {spelling: rule.factor for spelling, rule in entry.units.items()}
    return Measure(entry.code, entry.label, entry.canonical_unit, MappingProxyType(factors))


def factor(analyte: str, from_unit: str, to_unit: str) -> float | None:
    """Multiplier taking a value in ``from_unit`` to ``to_unit`` for ``analyte``; None if unusable."""
    m = measure(analyte)
    src = m.factors.get(units.clean_unit(from_unit))
    dst = m.factors.get(units.clean_unit(to_unit))
    if src is None or dst is None:
        return None
    return src / dst


def accepts(analyte: str, unit: str) -> bool:
    """Is ``unit`` a known unit of ``analyte``?"""
    return units.clean_unit(unit) in measure(analyte).factors


@cache
def omop_units() -> Mapping[int, str]:
    """``unit_concept_id`` -> unit spelling (``data/omop_units.csv``)."""
    text = resources.files("lupuscell").joinpath("data", "omop_units.csv").read_text("utf-8")
    return MappingProxyType({int(r["unit_concept_id"]): r["unit"] for r in csv.DictReader(text.splitlines())})


def omop_unit_factors(analyte: str, to_unit: str) -> dict[int, float]:
    """{unit_concept_id: factor to ``to_unit``} for every mapped unit concept the analyte accepts."""
    out: dict[int, float] = {}
    for concept_id, spelling in omop_units().items():
        f = factor(analyte, spelling, to_unit)
        if f is not None:
            out[concept_id] = f
    return out
