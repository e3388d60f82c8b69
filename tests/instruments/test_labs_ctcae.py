"""CTCAE v5.0 laboratory grades (spec 11.1): exact boundary reading, creatinine, anaemia flag."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.labs import CtcaeInput, ctcae_grade, score_ctcae


@pytest.mark.parametrize(
    ("term", "lln", "cases"),
    [
        # "<X - Y" means Y <= value < X; exactly at the LLN is grade 0
        (
            "neutrophil_count_decreased",
            2.0,
            [(2.0, 0), (1.99, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4), (0.0, 4)],
        ),
        (
            "platelet_count_decreased",
            150.0,
            [(150, 0), (149, 1), (75.0, 1), (74.9, 2), (50.0, 2), (49.9, 3), (25.0, 3), (24.9, 4)],
        ),
        (
            "lymphocyte_count_decreased",
            1.0,
            [(1.0, 0), (0.9, 1), (0.8, 1), (0.79, 2), (0.5, 2), (0.49, 3), (0.2, 3), (0.19, 4)],
        ),
        (
            "white_blood_cell_decreased",
            4.0,
            [(4.0, 0), (3.9, 1), (3.0, 1), (2.9, 2), (2.0, 2), (1.9, 3), (1.0, 3), (0.9, 4)],
        ),
        ("anemia", 12.0, [(12.0, 0), (11.9, 1), (10.0, 1), (9.9, 2), (8.0, 2), (7.9, 3), (3.0, 3)]),
    ],
)
def test_decreased_terms_boundaries(term: str, lln: float, cases: list[tuple[float, int]]) -> None:
    for value, grade in cases:
        assert ctcae_grade(term, value, lln) == grade, (term, value)


def test_grade_1_requires_below_lln() -> None:
    # grade 1 is "<LLN": a value above the grade-2 cut-off but not below LLN is normal
    assert ctcae_grade("neutrophil_count_decreased", 1.7, 1.6) == 0
    # grades 2-4 are absolute: a lab with an unusually low LLN cannot hide a grade 2
    assert ctcae_grade("neutrophil_count_decreased", 1.45, 1.4) == 2


@pytest.mark.parametrize(
    ("cr", "uln", "grade"),
    [
        (1.2, 1.2, 0),
        (1.21, 1.2, 1),
        (1.8, 1.2, 1),  # exactly 1.5 x ULN is grade 1 (1.5 * 1.2 = 1.7999999999999998 in floats)
        (1.81, 1.2, 2),
        (3.6, 1.2, 2),  # exactly 3 x ULN
        (3.61, 1.2, 3),
        (7.2, 1.2, 3),  # exactly 6 x ULN
        (7.21, 1.2, 4),
        (0.33, 0.11, 2),  # 3 x 0.11 = 0.33000000000000002 in floats
    ],
)
def test_creatinine_uln_based(cr: float, uln: float, grade: int) -> None:
    assert ctcae_grade("creatinine_increased", cr, uln) == grade


@pytest.mark.parametrize(
    ("cr", "base", "grade"), [(1.5, 1.0, 0), (1.51, 1.0, 2), (2.1, 0.7, 2), (2.11, 0.7, 3)]
)
def test_creatinine_baseline_based(cr: float, base: float, grade: int) -> None:
    assert ctcae_grade("creatinine_increased_baseline", cr, base) == grade


def test_creatinine_reported_both_ways_and_max() -> None:
    r = score_ctcae({"creatinine_mg_dl": 1.3, "creatinine_uln_mg_dl": 1.2, "creatinine_baseline_mg_dl": 0.6})
    assert r["creatinine_increased_grade_uln_based"] == 1
    assert r["creatinine_increased_grade_baseline_based"] == 2
    assert r["creatinine_increased_grade"] == 2
    r = score_ctcae({"creatinine_mg_dl": 1.3, "creatinine_uln_mg_dl": 1.2})
    assert r["creatinine_increased_grade_baseline_based"] is None
    assert r["creatinine_increased_grade"] == 1


def test_anemia_grade_4_needs_clinician_flag() -> None:
    assert score_ctcae({"hemoglobin_g_dl": 4.0, "hemoglobin_lln_g_dl": 12.0})["anemia_grade"] == 3
    r = score_ctcae(
        {
            "hemoglobin_g_dl": 4.0,
            "hemoglobin_lln_g_dl": 12.0,
            "anemia_life_threatening_urgent_intervention": True,
        }
    )
    assert r["anemia_grade"] == 4
    assert [i.points for i in r.items if i.name == "anemia"] == [4]


def test_printed_term_spelling_accepted() -> None:
    assert ctcae_grade("Platelet count decreased", 49.0, 150) == 3
    assert ctcae_grade("Anemia", 7.9, 12) == 3
    assert ctcae_grade("White blood cell decreased", 2.5, 4) == 2


def test_unknown_term_rejected() -> None:
    with pytest.raises(ValueError, match="unknown CTCAE term"):
        ctcae_grade("neutropenia", 1.0, 1.5)


def test_panel_output_fields_and_version() -> None:
    r = score_ctcae(
        {
            "anc_10e9_l": 1.0,
            "anc_lln_10e9_l": 1.8,
            "platelets_10e9_l": 60,
            "platelets_lln_10e9_l": 150,
            "lymphocytes_10e9_l": 0.3,
            "lymphocytes_lln_10e9_l": 1.0,
            "hemoglobin_g_dl": 10.0,
            "hemoglobin_lln_g_dl": 12.0,
            "creatinine_mg_dl": 1.0,
            "creatinine_uln_mg_dl": 1.2,
        }
    )
    d = r.to_dict()
    assert d["version"] == "ctcae_v5.0"
    assert d["complete"] is True
    assert (
        d["neutrophil_count_decreased_grade"],
        d["platelet_count_decreased_grade"],
        d["lymphocyte_count_decreased_grade"],
        d["anemia_grade"],
        d["creatinine_increased_grade_uln_based"],
    ) == (2, 2, 3, 1, 0)


def test_missing_reference_is_unknown_unless_absolute_cutoff_decides() -> None:
    r = score_ctcae({"anc_10e9_l": 1.7})
    assert r["neutrophil_count_decreased_grade"] is None
    assert not r.complete
    assert r.to_dict()["missing"] == ["anc_lln_10e9_l"]
    r = score_ctcae({"anc_10e9_l": 0.3})  # < 0.5 is grade 4 whatever the LLN
    assert r["neutrophil_count_decreased_grade"] == 4
    assert r.complete
    r = score_ctcae({"creatinine_mg_dl": 9.0})
    assert r["creatinine_increased_grade_uln_based"] is None
    assert r.to_dict()["missing"] == ["creatinine_uln_mg_dl"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"anc_10e9_l": -0.1, "anc_lln_10e9_l": 1.5}, "anc_10e9_l"),
        ({"platelets_10e9_l": 100, "platelets_lln_10e9_l": 0}, "platelets_lln_10e9_l"),
        ({"hemoglobin_g_dl": 45}, "hemoglobin_g_dl"),
        ({"creatinine_mg_dl": "high"}, "creatinine_mg_dl"),
        ({"anc": 1.0}, "anc"),
        ({}, "(input)"),
    ],
)
def test_bad_input(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(CtcaeInput, data)
    assert exc.value.problems[0].field == field


@given(st.floats(0, 5), st.floats(0, 5), st.floats(0.5, 3))
def test_decreased_grade_is_monotone(a: float, b: float, lln: float) -> None:
    lo, hi = sorted((a, b))
    assert ctcae_grade("neutrophil_count_decreased", lo, lln) >= ctcae_grade(
        "neutrophil_count_decreased", hi, lln
    )


@given(st.floats(0, 30), st.floats(0, 30), st.floats(0.3, 2))
def test_creatinine_grade_is_monotone(a: float, b: float, uln: float) -> None:
    lo, hi = sorted((a, b))
    assert ctcae_grade("creatinine_increased", lo, uln) <= ctcae_grade("creatinine_increased", hi, uln)
