"""Standard codes of the exchange formats: LOINC, SNOMED CT, RxNorm, UCUM and OMOP concept ids.

The codes are data, ``lupuscell/data/interop/terminology.yaml``, each with the citable source
that confirmed it; a code that could not be confirmed is null there and is never used (the
item travels with its lupuscell code only, or as OMOP concept 0 with its source value).
OMOP unit concepts come from ``data/omop_units.csv`` (the screening package's table), keyed
by the unit spellings of ``data/units.yaml``.

The lupuscell code systems (therapy, drug purpose, SLEDAI-2K descriptors...) are named
``urn:lupuscell:<list>``: they carry the registry's own codes where no standard code exists,
so that an export round-trips without loss.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from lupuscell import units
from lupuscell.errors import ValidationError

NAMESPACE = "urn:lupuscell"


def local_system(name: str) -> str:
    """The URI of a lupuscell code system or extension, e.g. ``urn:lupuscell:therapy``."""
    return f"{NAMESPACE}:{name}"


@cache
def table() -> dict[str, Any]:
    """The parsed terminology file."""
    text = resources.files("lupuscell.data").joinpath("interop/terminology.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def system(name: str) -> str:
    """URI of a standard system (``loinc``, ``snomed``, ``rxnorm``, ``ucum``...)."""
    return str(table()["systems"][name])


@dataclass(frozen=True)
class AnalyteCode:
    analyte: str
    loinc: str | None
    display: str | None
    omop_concept_id: int | None


def analyte_code(analyte: str) -> AnalyteCode:
    """Confirmed LOINC code and OMOP concept of a registry analyte (None where unconfirmed)."""
    entry = table()["analytes"].get(analyte, {})
    return AnalyteCode(analyte, entry.get("loinc"), entry.get("display"), entry.get("omop_concept_id"))


@cache
def analyte_by_loinc() -> dict[str, str]:
    """Confirmed LOINC code -> registry analyte."""
    return {str(e["loinc"]): name for name, e in table()["analytes"].items() if e.get("loinc")}


def condition(name: str) -> dict[str, Any]:
    """``sle`` or ``lupus_nephritis``: SNOMED code, display and OMOP concept id."""
    return dict(table()["conditions"][name])


def drug(name: str) -> dict[str, Any] | None:
    """RxNorm ingredient and OMOP concept of a drug name (exact, case-insensitive), else None."""
    entry = table()["drugs"].get(name.strip().lower())
    return None if entry is None else dict(entry)


def omop(name: str) -> Any:
    return table()["omop"][name]


@cache
def _omop_units() -> dict[str, tuple[int, str]]:
    text = resources.files("lupuscell.data").joinpath("omop_units.csv").read_text(encoding="utf-8")
    out: dict[str, tuple[int, str]] = {}
    for row in csv.DictReader(text.splitlines()):
        concept = int(row["unit_concept_id"])
        if concept and row["unit"] not in out and "deprecated" not in row["note"]:
            out[row["unit"]] = (concept, row["ucum"])
    return out


def unit_codes(analyte: str, unit: str) -> tuple[int, str] | None:
    """(OMOP unit concept id, UCUM code) of a unit as entered for ``analyte``, when known.

    The entered spelling is resolved to its ``data/units.yaml`` unit first (``K/uL`` is
    ``10^9/L``); a unit without a confirmed OMOP/UCUM pair gives None (never a guess).
    """
    try:
        key = units.unit_rule(analyte, unit).unit
    except ValidationError:
        return None
    return _omop_units().get(key)
