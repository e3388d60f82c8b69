"""Canonical laboratory units and conversion (pure, no I/O beyond reading the data table).

The table is ``lupuscell/data/units.yaml``: one canonical unit per analyte, the accepted entry
units with their multiplicative factor to the canonical unit, and the source of every factor
(SI prefixes; molar masses from Young DS, *Implementation of SI units for clinical laboratory
data*, Ann Intern Med 1987;106:114-129; KDIGO 2012 for the rounded uPCR factor).

Registry lab values are stored as entered (value, unit) and normalised on read with
:func:`normalise`. An unknown analyte or unit raises :class:`lupuscell.errors.ValidationError`
naming it and listing the accepted values; nothing is ever guessed.

Unit spellings are compared after a mechanical clean-up only (:func:`clean_unit`): case,
whitespace, micro sign, multiplication sign, a leading ``x`` and ``10e9``/``10*9`` exponent
notation. Any other spelling must be listed as an alias in the table. (A units library such
as *pint* was not used: it has no notion of per-analyte molar conversions, of clinical
spellings such as ``cells/mm3``, or of the named rounding conventions clinicians use.)

Conventions
-----------
``convention="kdigo_approx"`` uses KDIGO's rounded uPCR factor (1 mg/mmol ~ 0.01 g/g) instead
of the exact molar one (1/113.12). The exact factor is the default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from lupuscell.errors import Problem, ValidationError

CONVENTIONS = ("exact", "kdigo_approx")


@dataclass(frozen=True)
class UnitRule:
    """One accepted entry unit of an analyte."""

    unit: str
    factor: float
    source: str
    alternatives: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PlausibleRange:
    """Values a human can have, in the canonical unit (bounds inclusive), with their source."""

    low: float
    high: float
    source: str


@dataclass(frozen=True)
class Analyte:
    """An analyte with its canonical unit and accepted entry units (keyed by cleaned spelling)."""

    code: str
    label: str
    canonical_unit: str
    units: Mapping[str, UnitRule]
    aliases: tuple[str, ...] = ()
    plausible: PlausibleRange | None = None


_EXPONENT = re.compile(r"10(?:e|\*\*|\*)(\d+)")


def clean_unit(unit: str) -> str:
    """Mechanical clean-up of a unit spelling used for matching (never a conversion)."""
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace("×", "x")
    text = re.sub(r"\s+", "", text).lower()
    text = _EXPONENT.sub(r"10^\1", text)
    if text.startswith("x10^"):
        text = text[1:]
    return text


def _clean_code(code: str) -> str:
    return code.strip().lower()


@cache
def load_table() -> Mapping[str, Analyte]:
    """The analyte table from ``data/units.yaml`` keyed by analyte code and alias."""
    raw = yaml.safe_load(resources.files("lupuscell").joinpath("data", "units.yaml").read_text("utf-8"))
    table: dict[str, Analyte] = {}
    for code, spec in raw["analytes"].items():
        units: dict[str, UnitRule] = {}
        for unit, rule in spec["units"].items():
            parsed = UnitRule(
                unit=str(unit),
                factor=float(rule["factor"]),
                source=str(rule["source"]),
                alternatives=MappingProxyType(
                    {k: float(v) for k, v in (rule.get("alternatives") or {}).items()}
                ),
            )
            for spelling in (unit, *(rule.get("aliases") or [])):
                key = clean_unit(str(spelling))
                if key in units:
                    raise ValueError(f"units.yaml: {code}: unit spelling {spelling!r} listed twice")
                units[key] = parsed
        canonical = str(spec["canonical"])
        if clean_unit(canonical) not in units or units[clean_unit(canonical)].factor != 1:
            raise ValueError(f"units.yaml: {code}: canonical unit {canonical!r} needs factor 1")
        analyte = Analyte(
            code=str(code),
            label=str(spec.get("label", code)),
            canonical_unit=canonical,
            units=MappingProxyType(units),
            aliases=tuple(str(a) for a in spec.get("aliases") or ()),
            plausible=_plausible(code, spec.get("plausible")),
        )
        for key in (code, *analyte.aliases):
            if _clean_code(str(key)) in table:
                raise ValueError(f"units.yaml: analyte code or alias {key!r} listed twice")
            table[_clean_code(str(key))] = analyte
    return MappingProxyType(table)


def _plausible(code: str, raw: Mapping[str, Any] | None) -> PlausibleRange | None:
    if raw is None:
        return None
    low, high, source = float(raw["low"]), float(raw["high"]), str(raw.get("source") or "")
    if not low < high or not source:
        raise ValueError(f"units.yaml: {code}: plausible range needs low < high and a source")
    return PlausibleRange(low, high, source)


def plausible_range(analyte: str) -> PlausibleRange | None:
    """The physiologically possible range of ``analyte`` (canonical unit), if tabulated."""
    return get_analyte(analyte).plausible


def analyte_codes() -> tuple[str, ...]:
    """Canonical analyte codes (without aliases), in table order."""
    return tuple(dict.fromkeys(a.code for a in load_table().values()))


def get_analyte(analyte: str, *, record: str = "") -> Analyte:
    """The :class:`Analyte` for a code or alias; ValidationError naming it if unknown."""
    found = load_table().get(_clean_code(analyte))
    if found is None:
        raise ValidationError(
            Problem(
                record,
                "analyte",
                f"unknown analyte {analyte!r}; known analytes: {', '.join(analyte_codes())}",
            )
        )
    return found


def accepted_units(analyte: str) -> tuple[str, ...]:
    """The units accepted for ``analyte`` (primary spellings, canonical first)."""
    entry = get_analyte(analyte)
    primary = dict.fromkeys(rule.unit for rule in entry.units.values())
    return (entry.canonical_unit, *(u for u in primary if u != entry.canonical_unit))


def canonical_unit(analyte: str) -> str:
    """The canonical unit of ``analyte`` (code or alias)."""
    return get_analyte(analyte).canonical_unit


def unit_rule(analyte: str, unit: str, *, record: str = "") -> UnitRule:
    """The conversion rule for ``unit`` of ``analyte``; ValidationError naming it if unknown."""
    entry = get_analyte(analyte, record=record)
    rule = entry.units.get(clean_unit(unit))
    if rule is None:
        raise ValidationError(
            Problem(
                record,
                "unit",
                f"unit {unit!r} is not accepted for analyte {entry.code!r}; "
                f"accepted units: {', '.join(accepted_units(entry.code))}",
            )
        )
    return rule


def normalise(
    analyte: str, value: float, unit: str, *, convention: str = "exact", record: str = ""
) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the canonical unit of ``analyte``.

    Parameters
    ----------
    analyte
        Analyte code or alias (e.g. ``"anc"`` or ``"neutrophils"``).
    value
        The value as entered; must be a finite number.
    unit
        The unit as entered.
    convention
        ``"exact"`` (default) or a named alternative factor from the table
        (``"kdigo_approx"`` for uPCR in mg/mmol); where the unit has no such alternative the
        exact factor applies.
    record
        Optional record label used in error messages.

    Returns
    -------
    tuple of (float, str)
        The value in the canonical unit and the canonical unit.

    Raises
    ------
    lupuscell.errors.ValidationError
        Unknown analyte, unit not accepted for the analyte, unknown convention, or a value
        that is not a finite number.
    """
    if convention not in CONVENTIONS:
        raise ValidationError(
            Problem(record, "convention", f"unknown convention {convention!r}; use one of {CONVENTIONS}")
        )
    rule = unit_rule(analyte, unit, record=record)
    number = _finite(value, record)
    factor = rule.alternatives.get(convention, rule.factor)
    return number * factor, get_analyte(analyte).canonical_unit


def _finite(value: Any, record: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool):
        raise ValidationError(Problem(record, "value", f"value {value!r} is not a finite number"))
    return number
