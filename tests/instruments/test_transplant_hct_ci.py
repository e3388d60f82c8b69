"""HCT-CI (Sorror 2005): weights, exclusive pairs, lab boundaries (spec 8.1), indication, age."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.hct_ci import HctCiInput, score

# Sorror 2005 / NCI PDQ Table 4, typed in from the source independently of the module table.
SOURCE_WEIGHTS = {
    "arrhythmia": 1,
    "cardiac": 1,
    "inflammatory_bowel_disease": 1,
    "diabetes": 1,
    "cerebrovascular_disease": 1,
    "psychiatric_disturbance": 1,
    "hepatic_mild": 1,
    "obesity": 1,
    "infection": 1,
    "rheumatologic": 2,
    "peptic_ulcer": 2,
    "renal_moderate_severe": 2,
    "pulmonary_moderate": 2,
    "prior_solid_tumor": 3,
    "heart_valve_disease": 3,
    "pulmonary_severe": 3,
    "hepatic_moderate_severe": 3,
}
NON_SLE = {"indication_is_sle": False}


@pytest.mark.parametrize(("key", "weight"), sorted(SOURCE_WEIGHTS.items()))
def test_each_weight(key: str, weight: int) -> None:
    r = score({**NON_SLE, "comorbidities": {key: True}})
    assert r["hct_ci_score"] == weight
    assert r["scored_comorbidities"] == [key]
    assert [i.points for i in r.items if i.name == key] == [weight]


def test_empty_is_low_and_sle_indication_scores_two_by_default() -> None:
    assert score(NON_SLE)["hct_ci_score"] == 0
    assert score(NON_SLE)["risk_group"] == "low"
    r = score({})
    assert r["hct_ci_score"] == 2
    assert r["risk_group"] == "intermediate"
    assert r["scored_comorbidities"] == ["rheumatologic"]
    assert r["hct_ci_excluding_indication"] == 0
    assert r["risk_group_excluding_indication"] == "low"


def test_indication_not_double_counted_and_second_rheumatologic_disease_kept() -> None:
    r = score({"comorbidities": {"rheumatologic": True}})
    assert (r["hct_ci_score"], r["hct_ci_excluding_indication"]) == (2, 0)
    r = score({"comorbidities": {"rheumatologic": True}, "rheumatologic_besides_indication": True})
    assert (r["hct_ci_score"], r["hct_ci_excluding_indication"]) == (2, 2)


@pytest.mark.parametrize(
    ("total", "group"), [(0, "low"), (1, "intermediate"), (2, "intermediate"), (3, "high")]
)
def test_risk_group_boundaries(total: int, group: str) -> None:
    # build the total from weight-1 items only
    keys = ["arrhythmia", "diabetes", "infection"][:total]
    r = score({**NON_SLE, "comorbidities": dict.fromkeys(keys, True)})
    assert r["hct_ci_score"] == total
    assert r["risk_group"] == group


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [("hepatic_mild", "hepatic_moderate_severe", 3), ("pulmonary_moderate", "pulmonary_severe", 3)],
)
def test_mutually_exclusive_pairs_score_only_the_higher(low: str, high: str, expected: int) -> None:
    r = score({**NON_SLE, "comorbidities": {low: True, high: True}})
    assert r["hct_ci_score"] == expected
    assert r["scored_comorbidities"] == [high]
    superseded = next(i for i in r.items if i.name == low)
    assert superseded.points == 0
    assert "superseded" in superseded.reason


def test_cardiac_and_valve_are_independent() -> None:
    r = score(
        {**NON_SLE, "comorbidities": {"cardiac": True, "heart_valve_disease": True, "arrhythmia": True}}
    )
    assert r["hct_ci_score"] == 1 + 3 + 1


def test_all_items_maximum() -> None:
    r = score({"comorbidities": dict.fromkeys(SOURCE_WEIGHTS, True)})
    # every weight minus the two superseded lower items of the pairs
    assert r["hct_ci_score"] == sum(SOURCE_WEIGHTS.values()) - 1 - 2 == 26


# ---- lab-derived flags at the exact boundaries of spec 8.1 -----------------------------------
@pytest.mark.parametrize(
    ("labs", "expected"),
    [
        ({"bmi_kg_m2": 35.0}, []),
        ({"bmi_kg_m2": 35.01}, ["obesity"]),
        ({"serum_creatinine_mg_dl": 2.0}, []),
        ({"serum_creatinine_mg_dl": 2.01}, ["renal_moderate_severe"]),
        ({"lvef_percent": 50.0}, ["cardiac"]),
        ({"lvef_percent": 50.5}, []),
        ({"dlco_percent_predicted": 80.0}, ["pulmonary_moderate"]),
        ({"dlco_percent_predicted": 80.1}, []),
        ({"dlco_percent_predicted": 65.5}, ["pulmonary_moderate"]),  # the 65-66 gap is moderate
        ({"dlco_percent_predicted": 65.0}, ["pulmonary_severe"]),
        ({"fev1_percent_predicted": 64.0, "dlco_percent_predicted": 90.0}, ["pulmonary_severe"]),  # worse
        ({"fev1_percent_predicted": 90.0, "dlco_percent_predicted": 70.0}, ["pulmonary_moderate"]),
        ({"total_bilirubin_x_uln": 1.0}, []),
        ({"total_bilirubin_x_uln": 1.01}, ["hepatic_mild"]),
        ({"total_bilirubin_x_uln": 1.5}, ["hepatic_mild"]),
        ({"total_bilirubin_x_uln": 1.51}, ["hepatic_moderate_severe"]),
        ({"ast_x_uln": 1.0}, []),
        ({"ast_x_uln": 2.5}, ["hepatic_mild"]),
        ({"alt_x_uln": 2.51}, ["hepatic_moderate_severe"]),
        ({"total_bilirubin_x_uln": 1.2, "alt_x_uln": 3.0}, ["hepatic_moderate_severe"]),
    ],
)
def test_lab_boundaries(labs: dict[str, float], expected: list[str]) -> None:
    r = score({**NON_SLE, "labs": labs})
    assert r["scored_comorbidities"] == expected
    assert set(expected) <= set(r["lab_derived_comorbidities"])
    assert r["hct_ci_score"] == sum(SOURCE_WEIGHTS[k] for k in expected)


def test_lab_flag_or_clinician_boolean() -> None:
    # clinician tick stands even when the lab is normal; a lab flag stands without a tick
    r = score({**NON_SLE, "comorbidities": {"obesity": True}, "labs": {"bmi_kg_m2": 22}})
    assert r["scored_comorbidities"] == ["obesity"]
    r = score({**NON_SLE, "comorbidities": {"hepatic_mild": True}, "labs": {"total_bilirubin_x_uln": 2.0}})
    assert r["scored_comorbidities"] == ["hepatic_moderate_severe"]
    assert r["hct_ci_score"] == 3


def test_age_composite_is_separate() -> None:
    assert score({"age_years": 39.9})["hct_ci_age"] == 2
    r = score({"age_years": 40})
    assert r["hct_ci_age"] == 3
    assert r["hct_ci_score"] == 2  # never mixed in
    assert score({})["hct_ci_age"] is None


def test_diabetes_rule_is_explicit() -> None:
    base = {**NON_SLE, "steroid_induced_hyperglycaemia": True}
    assert score(base)["hct_ci_score"] == 0
    r = score({**base, "diabetes_rule": "cibmtr_crf_incl_steroid_hyperglycaemia"})
    assert r["scored_comorbidities"] == ["diabetes"]
    assert r["diabetes_rule"] == "cibmtr_crf_incl_steroid_hyperglycaemia"


def test_result_envelope() -> None:
    d = score({}).to_dict()
    assert d["version"] == "sorror_2005"
    assert d["complete"] is True
    assert all({"name", "points", "reason"} <= set(i) for i in d["items"])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"comorbidities": {"hepatitis": True}}, "comorbidities.hepatitis"),
        ({"labs": {"bmi_kg_m2": -3}}, "labs.bmi_kg_m2"),
        ({"labs": {"lvef_percent": 120}}, "labs.lvef_percent"),
        ({"age_years": 200}, "age_years"),
        ({"diabetes_rule": "any"}, "diabetes_rule"),
    ],
)
def test_bad_input_names_field(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(HctCiInput, data)
    assert exc.value.problems[0].field == field


@given(
    st.sets(st.sampled_from(sorted(SOURCE_WEIGHTS))),
    st.sampled_from(sorted(SOURCE_WEIGHTS)),
)
def test_adding_a_comorbidity_never_lowers_the_score(present: set[str], extra: str) -> None:
    before = score({"comorbidities": dict.fromkeys(present, True)})["hct_ci_score"]
    after = score({"comorbidities": dict.fromkeys(present | {extra}, True)})["hct_ci_score"]
    assert after >= before
