"""Canonical units and conversion factors (data/units.yaml, lupuscell.units)."""

from __future__ import annotations

import math

import pytest

from lupuscell import units
from lupuscell.errors import ValidationError


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected", "canonical"),
    [
        ("anc", 1.5, "10^9/L", 1.5, "10^9/L"),
        ("neutrophils", 1500, "cells/mm3", 1.5, "10^9/L"),
        ("anc", 500, "/µL", 0.5, "10^9/L"),
        ("platelets", 150, "10^3/uL", 150, "10^9/L"),
        ("platelets", 150, "x10E9/L", 150, "10^9/L"),
        ("platelets", 150, "× 10^9 / L", 150, "10^9/L"),
        ("wbc", 3000, "/uL", 3.0, "10^9/L"),
        ("lymphocytes", 800, "10^6/L", 0.8, "10^9/L"),
        ("hemoglobin", 120, "g/L", 12.0, "g/dL"),
        ("hb", 7.45, "mmol/L", 7.45 * 1.611, "g/dL"),
        ("creatinine", 88.4, "umol/L", 1.0, "mg/dL"),
        ("creatinine", 176.8, "µmol/l", 2.0, "mg/dL"),
        ("bilirubin", 17.1, "umol/L", 1.0, "mg/dL"),
        ("c3", 90, "mg/dL", 0.9, "g/L"),
        ("c4", 12, "mg/dL", 0.12, "g/L"),
        ("anti_dsdna", 45, "IU/mL", 45, "IU/mL"),
        ("upcr", 113.12, "mg/mmol", 1.0, "g/g"),
        ("upcr", 500, "mg/g", 0.5, "g/g"),
        ("urine_protein_24h", 800, "mg/24h", 0.8, "g/24h"),
        ("albumin", 3.5, "g/dL", 35, "g/L"),
        ("crp", 1.2, "mg/dL", 12, "mg/L"),
        ("esr", 40, "mm/hr", 40, "mm/h"),
        ("alt", 0.5, "ukat/L", 30, "U/L"),
        ("ast", 25, "IU/L", 25, "U/L"),
    ],
)
def test_conversions(analyte: str, value: float, unit: str, expected: float, canonical: str) -> None:
    converted, unit_out = units.normalise(analyte, value, unit)
    assert converted == pytest.approx(expected, rel=1e-12)
    assert unit_out == canonical


def test_upcr_kdigo_rounding_is_an_explicit_alternative() -> None:
    exact, _ = units.normalise("upcr", 50, "mg/mmol")
    rounded, _ = units.normalise("upcr", 50, "mg/mmol", convention="kdigo_approx")
    assert exact == pytest.approx(50 / 113.12)
    assert rounded == pytest.approx(0.5)
    # a unit without an alternative keeps its exact factor under any convention
    assert units.normalise("upcr", 500, "mg/g", convention="kdigo_approx")[0] == pytest.approx(0.5)


def test_unknown_unit_names_the_unit_and_lists_the_accepted_ones() -> None:
    with pytest.raises(ValidationError) as info:
        units.normalise("c3", 1.0, "mmol/L", record="lab 7")
    problem = info.value.problems[0]
    assert (problem.record, problem.field) == ("lab 7", "unit")
    assert "'mmol/L'" in problem.message and "mg/dL" in problem.message


def test_unknown_analyte_is_never_guessed() -> None:
    with pytest.raises(ValidationError, match="unknown analyte 'c5'"):
        units.normalise("c5", 1.0, "g/L")


def test_giga_per_litre_is_not_confused_with_grams() -> None:
    with pytest.raises(ValidationError, match="unit"):
        units.normalise("platelets", 150, "g/L")


def test_assay_units_of_anti_dsdna_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unit"):
        units.normalise("anti_dsdna", 30, "U/mL")


@pytest.mark.parametrize("value", [math.nan, math.inf, "abc", True])
def test_non_finite_values_are_rejected(value: object) -> None:
    with pytest.raises(ValidationError, match="value"):
        units.normalise("c3", value, "g/L")  # type: ignore[arg-type]


def test_unknown_convention() -> None:
    with pytest.raises(ValidationError, match="convention"):
        units.normalise("upcr", 1, "g/g", convention="roughly")


def test_every_analyte_has_a_canonical_unit_with_factor_one_and_sources() -> None:
    table = units.load_table()
    for code in units.analyte_codes():
        entry = table[code]
        assert units.normalise(code, 2.5, entry.canonical_unit) == (2.5, entry.canonical_unit)
        for rule in entry.units.values():
            assert rule.factor > 0 and rule.source
    assert {
        "anc",
        "wbc",
        "lymphocytes",
        "platelets",
        "hemoglobin",
        "creatinine",
        "bilirubin",
        "c3",
        "c4",
        "anti_dsdna",
        "upcr",
        "urine_protein_24h",
        "albumin",
        "crp",
        "esr",
        "alt",
        "ast",
    } <= set(units.analyte_codes())


def test_accepted_units_lists_canonical_first() -> None:
    assert units.accepted_units("creatinine")[0] == "mg/dL"
    assert "umol/L" in units.accepted_units("creatinine")
    assert units.canonical_unit("neutrophils") == "10^9/L"


def test_the_examples_in_the_data_model_docs_run() -> None:
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "registry" / "data_model.md"
    result = doctest.testfile(str(page), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0
