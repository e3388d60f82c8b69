"""ASTCT 2019 CRS grade, ICE score and ICANS grade (Lee 2019; spec section 10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.cellular_toxicity import CrsInput, IcansInput, score_crs, score_icans

FEVER = {"max_temperature_c": 38.5}
DIFFUSE_EDEMA = "diffuse_edema_or_posturing_or_cn6_palsy_or_papilledema_or_cushing"


# ---------------------------------------------------------------------------------------- CRS
@pytest.mark.parametrize(("t", "grade"), [(37.9, 0), (38.0, 1), (38.4, 1), (41.0, 1)])
def test_fever_threshold(t: float, grade: int) -> None:
    assert score_crs({"max_temperature_c": t})["crs_grade"] == grade


@pytest.mark.parametrize(
    ("extra", "grade"),
    [
        ({"hypotension": True}, 2),
        ({"vasopressors_excluding_vasopressin": 1}, 3),
        ({"vasopressors_excluding_vasopressin": 1, "vasopressin": True}, 3),
        ({"vasopressin": True}, 3),  # vasopressin alone = one vasopressor (default convention)
        ({"vasopressors_excluding_vasopressin": 2}, 4),
        ({"oxygen_delivery": "blow_by"}, 2),
        ({"oxygen_delivery": "nasal_cannula", "oxygen_flow_l_min": 6}, 2),
        ({"oxygen_delivery": "nasal_cannula", "oxygen_flow_l_min": 6.5}, 3),
        ({"oxygen_delivery": "high_flow_nasal_cannula"}, 3),
        ({"oxygen_delivery": "high_flow_nasal_cannula", "oxygen_flow_l_min": 40}, 3),
        ({"oxygen_delivery": "facemask"}, 3),
        ({"oxygen_delivery": "non_rebreather_mask"}, 3),
        ({"oxygen_delivery": "venturi_mask"}, 3),
        ({"oxygen_delivery": "cpap"}, 4),
        ({"oxygen_delivery": "bipap"}, 4),
        ({"oxygen_delivery": "mechanical_ventilation"}, 4),
    ],
)
def test_hypotension_and_hypoxia_grades(extra: dict, grade: int) -> None:
    r = score_crs({**FEVER, **extra})
    assert r["crs_grade"] == grade
    assert r.to_dict()["grading_system"] == "ASTCT_2019"


def test_more_severe_of_hypotension_and_hypoxia() -> None:
    # fever + one pressor + low-flow O2 = grade 3 (spec example)
    r = score_crs(
        {
            **FEVER,
            "vasopressors_excluding_vasopressin": 1,
            "oxygen_delivery": "nasal_cannula",
            "oxygen_flow_l_min": 2,
        }
    )
    assert r["crs_grade"] == 3
    r = score_crs({**FEVER, "hypotension": True, "oxygen_delivery": "bipap"})
    assert r["crs_grade"] == 4


def test_vasopressin_alone_is_an_explicit_option() -> None:
    r = score_crs({**FEVER, "vasopressin": True, "vasopressin_alone_counts_as_vasopressor": False})
    assert r["crs_grade"] == 2


def test_no_fever_without_treatment_is_grade_0_even_with_organ_dysfunction() -> None:
    r = score_crs({"max_temperature_c": 37.0, "vasopressors_excluding_vasopressin": 2})
    assert r["crs_grade"] == 0
    assert r["crs_status"] == "criteria_not_met"


def test_fever_masked_by_tocilizumab_still_graded() -> None:
    # the public-tool bug: "no fever -> grade 0" after tocilizumab
    r = score_crs(
        {
            "max_temperature_c": 36.8,
            "received_antipyretic_or_anticytokine_after_crs_onset": True,
            "vasopressors_excluding_vasopressin": 1,
        }
    )
    assert r["crs_grade"] == 3
    assert r["fever_requirement"] == "waived_after_treatment"
    r = score_crs({"received_antipyretic_or_anticytokine_after_crs_onset": True, "oxygen_delivery": "cpap"})
    assert r["crs_grade"] == 4
    assert r.complete  # temperature not needed once waived


def test_masked_fever_without_organ_dysfunction_convention() -> None:
    base = {"max_temperature_c": 37.0, "received_antipyretic_or_anticytokine_after_crs_onset": True}
    r = score_crs(base)
    assert (r["crs_grade"], r["crs_status"]) == (0, "resolved")
    assert score_crs({**base, "crs_clinically_active": True})["crs_grade"] == 1
    r = score_crs({**base, "crs_clinically_active": True, "masked_fever_rule": "grade_0"})
    assert r["crs_grade"] == 0


def test_missing_temperature_is_unknown_not_zero() -> None:
    r = score_crs({"hypotension": True})
    assert r["crs_grade"] is None
    assert (r["crs_grade_min"], r["crs_grade_max"]) == (0, 2)
    assert not r.complete
    assert r.to_dict()["missing"] == ["max_temperature_c"]


def test_nasal_cannula_without_flow_is_a_range() -> None:
    r = score_crs({**FEVER, "oxygen_delivery": "nasal_cannula"})
    assert r["crs_grade"] is None
    assert (r["crs_grade_min"], r["crs_grade_max"]) == (2, 3)
    assert "oxygen_flow_l_min" in r.to_dict()["missing"]
    # ...but a grade set by something more severe is determined, and the flow is not needed
    r = score_crs({**FEVER, "oxygen_delivery": "nasal_cannula", "vasopressors_excluding_vasopressin": 2})
    assert r["crs_grade"] == 4
    assert r.complete


def test_missing_temperature_after_treatment_matters_only_without_organ_dysfunction() -> None:
    waived = {"received_antipyretic_or_anticytokine_after_crs_onset": True}
    r = score_crs({**waived, "hypotension": True})
    assert (r["crs_grade"], r.complete) == (2, True)
    r = score_crs(waived)  # fever (1) or masked fever, resolved (0)
    assert (r["crs_grade"], r["crs_grade_min"], r["crs_grade_max"]) == (None, 0, 1)
    assert r.to_dict()["missing"] == ["max_temperature_c"]
    r = score_crs({**waived, "crs_clinically_active": True})  # 1 either way
    assert (r["crs_grade"], r.complete) == (1, True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_temperature_c": 60}, "max_temperature_c"),
        ({"max_temperature_c": 20}, "max_temperature_c"),
        ({"vasopressors_excluding_vasopressin": -1}, "vasopressors_excluding_vasopressin"),
        ({"vasopressors_excluding_vasopressin": 1.5}, "vasopressors_excluding_vasopressin"),
        ({"oxygen_delivery": "tent"}, "oxygen_delivery"),
        ({"oxygen_flow_l_min": -2}, "oxygen_flow_l_min"),
        ({"creatinine": 3}, "creatinine"),
    ],
)
def test_crs_bad_input(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(CrsInput, data)
    problem = exc.value.problems[0]
    assert problem.field == field
    if field == "max_temperature_c":
        assert "[25, 45]" in problem.message


# -------------------------------------------------------------------------------------- ICANS
@pytest.mark.parametrize(("ice", "grade"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)])
def test_ice_score_bands(ice: int, grade: int) -> None:
    r = score_icans({"ice_score": ice})
    assert (r["ice_score"], r["icans_grade"]) == (ice, grade)


def test_ice_components_sum() -> None:
    comps = {"orientation": 3, "naming": 3, "following_commands": 1, "writing": 0, "attention": 1}
    r = score_icans({"ice_components": comps})
    assert (r["ice_score"], r["icans_grade"]) == (8, 1)


def test_ice_zero_awake_is_3_unarousable_is_4() -> None:
    assert score_icans({"ice_score": 0})["icans_grade"] == 3
    r = score_icans({"unarousable_unable_to_perform_ice": True})
    assert (r["ice_score"], r["icans_grade"]) == (0, 4)


@pytest.mark.parametrize(
    ("extra", "grade"),
    [
        ({"level_of_consciousness": "awakens_spontaneously"}, 1),
        ({"level_of_consciousness": "awakens_to_voice"}, 2),
        ({"level_of_consciousness": "awakens_only_to_tactile_stimulus"}, 3),
        ({"level_of_consciousness": "unarousable_or_vigorous_stimuli_stupor_coma"}, 4),
        ({"seizure": "clinical_seizure_resolving_rapidly_or_eeg_seizure_resolving_with_intervention"}, 3),
        ({"seizure": "life_threatening_prolonged_or_repetitive_seizures"}, 4),
        ({"deep_focal_motor_weakness": True}, 4),
        ({"raised_icp_cerebral_edema": "focal_edema"}, 3),
        ({"raised_icp_cerebral_edema": DIFFUSE_EDEMA}, 4),
    ],
)
def test_domain_grades_with_normal_ice(extra: dict, grade: int) -> None:
    r = score_icans({"ice_score": 10, **extra})
    assert r["icans_grade"] == grade
    assert r.to_dict()["version"] == "astct_2019"


def test_most_severe_domain_wins() -> None:
    r = score_icans(
        {
            "ice_score": 8,
            "level_of_consciousness": "awakens_to_voice",
            "raised_icp_cerebral_edema": "focal_edema",
        }
    )
    assert r["icans_grade"] == 3


def test_missing_ice_is_unknown_unless_other_domains_decide() -> None:
    r = score_icans({})
    assert r["icans_grade"] is None
    assert (r["icans_grade_min"], r["icans_grade_max"]) == (0, 3)
    assert not r.complete
    r = score_icans({"seizure": "life_threatening_prolonged_or_repetitive_seizures"})
    assert r["icans_grade"] == 4
    # partial components: orientation 4 + naming 3 known (7), three 1-point items unknown -> ICE 7..10
    r = score_icans({"ice_components": {"orientation": 4, "naming": 3}})
    assert (r["ice_score_min"], r["ice_score_max"]) == (7, 10)
    assert (r["icans_grade_min"], r["icans_grade_max"]) == (0, 1)
    assert r.to_dict()["missing"] == [
        "ice_components.following_commands",
        "ice_components.writing",
        "ice_components.attention",
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ice_score": 11}, "ice_score"),
        ({"ice_components": {"orientation": 5}}, "ice_components.orientation"),
        ({"ice_components": {"naming": 4}}, "ice_components.naming"),
        ({"ice_components": {"attention": 2}}, "ice_components.attention"),
        ({"seizure": "yes"}, "seizure"),
        ({"level_of_consciousness": "drowsy"}, "level_of_consciousness"),
        ({"ice_score": 5, "unarousable_unable_to_perform_ice": True}, "unarousable_unable_to_perform_ice"),
        (
            {
                "ice_score": 9,
                "ice_components": {
                    "orientation": 4,
                    "naming": 3,
                    "following_commands": 1,
                    "writing": 1,
                    "attention": 1,
                },
            },
            "ice_components",
        ),
    ],
)
def test_icans_bad_input(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(IcansInput, data)
    assert exc.value.problems[0].field == field


@given(
    st.integers(0, 10),
    st.sampled_from(
        ["normal", "awakens_spontaneously", "awakens_to_voice", "awakens_only_to_tactile_stimulus"]
    ),
    st.booleans(),
)
def test_icans_grade_is_max_of_domains(ice: int, loc: str, motor: bool) -> None:
    r = score_icans({"ice_score": ice, "level_of_consciousness": loc, "deep_focal_motor_weakness": motor})
    domain_points = [i.points for i in r.items]
    assert r["icans_grade"] == max(p for p in domain_points if p is not None)
