"""MAGIC acute GVHD staging and overall grade (Harris 2016; spec section 9)."""

from __future__ import annotations

import itertools

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.gvhd import MagicInput, overall_grade, score


@pytest.mark.parametrize(
    ("bsa", "stage"),
    [(0, 0), (0.5, 1), (24.9, 1), (25, 2), (50, 2), (50.1, 3), (100, 3)],
)
def test_skin_stage(bsa: float, stage: int) -> None:
    assert score({"skin_active_rash_bsa_percent": bsa})["skin_stage"] == stage


def test_skin_stage_4_needs_bullae_flag() -> None:
    r = score(
        {
            "skin_active_rash_bsa_percent": 90,
            "skin_generalized_erythroderma_with_bullae_desquamation_gt_5pct": True,
        }
    )
    assert r["skin_stage"] == 4
    assert r["overall_grade"] == 4


@pytest.mark.parametrize(
    ("bili", "stage"),
    [
        (0.0, 0),
        (1.99, 0),
        (2.0, 1),
        (3.0, 1),
        (3.05, 2),  # the printed gap 3.0-3.1 goes to stage 2
        (3.1, 2),
        (6.0, 2),
        (6.05, 3),
        (15.0, 3),
        (15.01, 4),
    ],
)
def test_liver_stage_boundaries(bili: float, stage: int) -> None:
    assert score({"total_bilirubin_mg_dl": bili})["liver_stage"] == stage


@pytest.mark.parametrize(
    ("umol", "stage"), [(34.2, 1), (51.3, 1), (52.0, 2), (102.6, 2), (256.5, 3), (257, 4)]
)
def test_bilirubin_umol_option_exact_at_boundaries(umol: float, stage: int) -> None:
    # 51.3 umol/L / 17.1 is exactly 3.0 mg/dL (stage 1) although 51.3/17.1 == 2.9999999999999996 in floats
    r = score({"total_bilirubin_umol_l": umol})
    assert r["liver_stage"] == stage


def test_upper_gi() -> None:
    assert score({})["upper_gi_stage"] == 0
    r = score({"upper_gi_persistent_nausea_vomiting_or_anorexia": True})
    assert (r["upper_gi_stage"], r["overall_grade"]) == (1, 2)


@pytest.mark.parametrize(
    ("volume", "stage"),
    [(0, 0), (499, 0), (500, 1), (999, 1), (999.5, 1), (1000, 2), (1500, 2), (1501, 3)],
)
def test_lower_gi_adult_volume(volume: float, stage: int) -> None:
    assert score({"stool_volume_ml_per_day": volume})["lower_gi_stage"] == stage


@pytest.mark.parametrize(
    ("episodes", "stage"), [(2, 0), (3, 1), (4, 1), (4.5, 1), (5, 2), (7, 2), (7.5, 3), (8, 3)]
)
def test_lower_gi_adult_episodes(episodes: float, stage: int) -> None:
    assert score({"stool_episodes_per_day": episodes})["lower_gi_stage"] == stage


@pytest.mark.parametrize(
    ("volume", "episodes", "stage"),
    [(600, 8, 3), (1600, 2, 3), (1200, 3, 2), (400, 4, 1)],
)
def test_volume_and_episodes_take_the_higher_stage(volume: float, episodes: float, stage: int) -> None:
    r = score({"stool_volume_ml_per_day": volume, "stool_episodes_per_day": episodes})
    assert r["lower_gi_stage"] == stage


@pytest.mark.parametrize(
    ("ml_kg", "episodes", "stage"),
    [
        (9.9, None, 0),
        (10, None, 1),
        (19.9, None, 1),
        (20, None, 2),
        (30, None, 2),
        (30.1, None, 3),
        (None, 3, 0),
        (None, 4, 1),
        (None, 6, 1),
        (None, 7, 2),
        (None, 10, 2),
        (None, 11, 3),
    ],
)
def test_lower_gi_child_scale(ml_kg: float | None, episodes: float | None, stage: int) -> None:
    data: dict = {"lower_gi_scale": "child"}
    if ml_kg is not None:
        data["stool_volume_ml_per_kg_per_day"] = ml_kg
    if episodes is not None:
        data["stool_episodes_per_day"] = episodes
    assert score(data)["lower_gi_stage"] == stage


def test_severe_pain_or_bloody_stool_is_stage_4_regardless_of_volume() -> None:
    r = score({"stool_volume_ml_per_day": 100, "lower_gi_severe_pain_ileus_or_grossly_bloody_stool": True})
    assert (r["lower_gi_stage"], r["overall_grade"]) == (4, 4)


# Overall grade, rules of spec 9.2 written out as a reference independent of the module.
def _reference_grade(skin: int, liver: int, ugi: int, lgi: int) -> int:
    if skin == 4 or liver == 4 or lgi == 4:
        return 4
    if 2 <= liver <= 3 or 2 <= lgi <= 3:
        return 3
    if skin == 3 or liver == 1 or ugi == 1 or lgi == 1:
        return 2
    if 1 <= skin <= 2:
        return 1
    return 0


def test_overall_grade_all_stage_combinations() -> None:
    for combo in itertools.product(range(5), range(5), range(2), range(5)):
        assert overall_grade(*combo) == _reference_grade(*combo), combo


@pytest.mark.parametrize(
    ("data", "grade", "label"),
    [
        ({}, 0, "0"),
        ({"skin_active_rash_bsa_percent": 30}, 1, "I"),
        ({"skin_active_rash_bsa_percent": 60}, 2, "II"),
        ({"skin_active_rash_bsa_percent": 30, "total_bilirubin_mg_dl": 2.5}, 2, "II"),
        ({"total_bilirubin_mg_dl": 4}, 3, "III"),
        ({"stool_volume_ml_per_day": 1200, "skin_active_rash_bsa_percent": 60}, 3, "III"),
        ({"total_bilirubin_mg_dl": 16}, 4, "IV"),
    ],
)
def test_overall_grade_examples(data: dict, grade: int, label: str) -> None:
    r = score(data)
    assert (r["overall_grade"], r["overall_grade_label"]) == (grade, label)
    d = r.to_dict()
    assert d["grading_system"] == "MAGIC_2016"
    assert d["version"] == "magic_2016"
    assert {"skin_stage", "liver_stage", "upper_gi_stage", "lower_gi_stage", "overall_grade"} <= set(d)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"skin_active_rash_bsa_percent": 120}, "skin_active_rash_bsa_percent"),
        ({"total_bilirubin_mg_dl": -1}, "total_bilirubin_mg_dl"),
        ({"stool_volume_ml_per_day": -5}, "stool_volume_ml_per_day"),
        ({"total_bilirubin_mg_dl": 2, "total_bilirubin_umol_l": 34.2}, "total_bilirubin_umol_l"),
        ({"stool_volume_ml_per_kg_per_day": 12}, "stool_volume_ml_per_kg_per_day"),
        ({"lower_gi_scale": "child", "stool_volume_ml_per_day": 900}, "stool_volume_ml_per_day"),
        ({"rash": True}, "rash"),
    ],
)
def test_bad_input(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(MagicInput, data)
    assert exc.value.problems[0].field == field
    if len(data) == 1 and field in MagicInput.model_fields and "scale" not in field:
        assert "allowed range" in exc.value.problems[0].message
