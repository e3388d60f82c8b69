"""RAND 36-Item Health Survey 1.0 against RAND's published scoring rules, worked by hand.

The expected values below are typed from the RAND scoring instructions, not taken from the
module: Table 1 (recoding of every item), Table 2 (the items of each scale) and the rule for
missing items (a scale is the mean of the items answered). Hays RD, Sherbourne CD, Mazel RM.
Health Econ 1993;2(3):217-227.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.errors import ValidationError
from lupuscell.instruments import rand36
from lupuscell.instruments.catalog import CATALOG

#: RAND Table 1: item numbers -> recoded value of answers 1, 2, ...
TABLE_1: dict[tuple[int, ...], tuple[int, ...]] = {
    (1, 2, 20, 22, 34, 36): (100, 75, 50, 25, 0),
    (3, 4, 5, 6, 7, 8, 9, 10, 11, 12): (0, 50, 100),
    (13, 14, 15, 16, 17, 18, 19): (0, 100),
    (21, 23, 26, 27, 30): (100, 80, 60, 40, 20, 0),
    (24, 25, 28, 29, 31): (0, 20, 40, 60, 80, 100),
    (32, 33, 35): (0, 25, 50, 75, 100),
}
#: RAND Table 2: scale -> items averaged.
TABLE_2: dict[str, tuple[int, ...]] = {
    "physical_functioning": (3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    "role_physical": (13, 14, 15, 16),
    "role_emotional": (17, 18, 19),
    "energy_fatigue": (23, 27, 29, 31),
    "emotional_wellbeing": (24, 25, 26, 28, 30),
    "social_functioning": (20, 32),
    "pain": (21, 22),
    "general_health": (1, 33, 34, 35, 36),
}
RECODE = [
    (item, answer, value)
    for items, values in TABLE_1.items()
    for item in items
    for answer, value in enumerate(values, start=1)
]

#: One complete survey and its scales worked by hand from Tables 1 and 2.
ANSWERS = {
    1: 2, 2: 3, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 2, 10: 3, 11: 3, 12: 3,
    13: 1, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 1, 20: 2, 21: 3, 22: 2,
    23: 3, 24: 5, 25: 6, 26: 2, 27: 4, 28: 5, 29: 4, 30: 3, 31: 3, 32: 4,
    33: 4, 34: 2, 35: 3, 36: 2,
}  # fmt: skip
BY_HAND = {
    # q3..q12 -> 0, 50, 50, 100, 100, 100, 50, 100, 100, 100 = 750 / 10
    "physical_functioning": 75.0,
    # q13..q16 -> 0, 100, 100, 100 = 300 / 4
    "role_physical": 75.0,
    # q17..q19 -> 100, 100, 0 = 200 / 3
    "role_emotional": 200 / 3,
    # q23 60 (a good bit, pep), q27 40 (some, energy), q29 60 (some, worn out), q31 40 (a good bit, tired)
    "energy_fatigue": 50.0,
    # q24 80, q25 100, q26 80, q28 80, q30 60 = 400 / 5
    "emotional_wellbeing": 80.0,
    # q20 75 (slightly), q32 75 (a little of the time)
    "social_functioning": 75.0,
    # q21 60 (mild), q22 75 (a little bit)
    "pain": 67.5,
    # q1 75 (very good), q33 75 (mostly false), q34 75 (mostly true), q35 50 (don't know), q36 75
    "general_health": 70.0,
}


def _responses(answers: dict[int, int]) -> dict[str, dict[str, int]]:
    return {"responses": {f"q{k}": v for k, v in answers.items()}}


def test_table_1_covers_every_item_once() -> None:
    assert sorted(i for group in TABLE_1 for i in group) == list(range(1, 37))


@pytest.mark.parametrize(("item", "answer", "value"), RECODE)
def test_every_item_recoding(item: int, answer: int, value: int) -> None:
    assert rand36.recode(rand36.QUESTIONS[item - 1], answer) == value
    result = rand36.score_rand36(_responses({item: answer}))
    assert next(i for i in result.items if i.name == f"q{item}").points == value
    if item == 2:
        assert result.health_change == value
    else:
        scale = next(s for s, items in TABLE_2.items() if item in items)
        assert result[scale] == value  # the only answered item of its scale


def test_scale_membership_is_rand_table_2() -> None:
    assert dict(rand36.SCALE_ITEMS) == TABLE_2
    assert tuple(TABLE_2) == rand36.SCALES
    assert set(rand36.QUESTION_KEYS) == {f"q{n}" for n in range(1, 37)}


def test_complete_survey_worked_by_hand() -> None:
    result = rand36.score_rand36(_responses(ANSWERS))
    for scale, expected in BY_HAND.items():
        assert result[scale] == pytest.approx(expected, rel=1e-12), scale
    assert result.health_change == 50.0  # q2 = 3, about the same
    assert result.complete and result.missing == ()
    assert result.items_answered == {scale: len(items) for scale, items in TABLE_2.items()}


def test_every_scale_is_the_mean_of_its_items() -> None:
    for scale, items in TABLE_2.items():
        values = [TABLE_1[next(g for g in TABLE_1 if i in g)][ANSWERS[i] - 1] for i in items]
        assert rand36.score_rand36(_responses(ANSWERS))[scale] == pytest.approx(sum(values) / len(values))


def test_missing_items_are_left_out_of_the_mean() -> None:
    answers = {k: v for k, v in ANSWERS.items() if k not in (12, 31, 17, 18, 19, 2)}
    result = rand36.score_rand36(_responses(answers))
    assert result.physical_functioning == pytest.approx(650 / 9)  # q12 (100) left out
    assert result.energy_fatigue == pytest.approx((60 + 40 + 60) / 3)  # q31 left out
    assert result.role_emotional is None  # no item of the scale answered
    assert result.health_change is None
    assert result.general_health == 70.0  # untouched
    assert not result.complete
    assert set(result.missing) == {f"responses.q{k}" for k in (2, 12, 17, 18, 19, 31)}
    assert result.items_answered["energy_fatigue"] == 3 and result.items_answered["role_emotional"] == 0
    role = next(i for i in result.items if i.name == "role_emotional")
    assert role.points is None and "no item answered" in role.reason


#: The best and the worst answer of every item, typed from the form and RAND Table 1 (the answer
#: recoded to 100, and the one recoded to 0).
BEST = {
    1: 1, 2: 1, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3, 10: 3, 11: 3, 12: 3,
    13: 2, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 2, 20: 1, 21: 1, 22: 1,
    23: 1, 24: 6, 25: 6, 26: 1, 27: 1, 28: 6, 29: 6, 30: 1, 31: 6, 32: 5,
    33: 5, 34: 1, 35: 5, 36: 1,
}  # fmt: skip
WORST = {
    1: 5, 2: 5, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1,
    13: 1, 14: 1, 15: 1, 16: 1, 17: 1, 18: 1, 19: 1, 20: 5, 21: 6, 22: 5,
    23: 6, 24: 1, 25: 1, 26: 6, 27: 6, 28: 1, 29: 1, 30: 6, 31: 1, 32: 1,
    33: 1, 34: 5, 35: 1, 36: 5,
}  # fmt: skip


def test_best_and_worst_answers_score_100_and_0_on_every_scale() -> None:
    best, worst = rand36.score_rand36(_responses(BEST)), rand36.score_rand36(_responses(WORST))
    for scale in TABLE_2:
        assert (best[scale], worst[scale]) == (100.0, 0.0), scale
    assert (best.health_change, worst.health_change) == (100.0, 0.0)


def test_one_item_missing_in_every_scale_worked_by_hand() -> None:
    """One item left out of each scale of the complete survey: each scale is the mean of the
    items still answered (RAND), never a blank read as 0; the half rule agrees here."""
    left_out = (3, 13, 19, 23, 30, 32, 22, 1)
    answers = {k: v for k, v in ANSWERS.items() if k not in left_out}
    expected = {
        "physical_functioning": 750 / 9,  # q3 (0) left out: 50 50 100 100 100 50 100 100 100
        "role_physical": 100.0,  # q13 (0) left out: 100 100 100
        "role_emotional": 100.0,  # q19 (0) left out: 100 100
        "energy_fatigue": 140 / 3,  # q23 (60) left out: q27 40, q29 60, q31 40
        "emotional_wellbeing": 85.0,  # q30 (60) left out: 80 100 80 80
        "social_functioning": 75.0,  # q32 left out: q20 75
        "pain": 60.0,  # q22 (75) left out: q21 60
        "general_health": 68.75,  # q1 (75) left out: 75 75 50 75
    }
    for rule in ("rand", "half_of_items"):
        result = rand36.score_rand36({**_responses(answers), "missing_item_rule": rule})
        for scale, value in expected.items():
            assert result[scale] == pytest.approx(value, rel=1e-12), (rule, scale)
        assert sum(result.items_answered.values()) == 35 - len(left_out)  # item 2 is in no scale


def test_one_answered_item_scores_the_scale_under_rand_not_under_half_rule() -> None:
    answers = {23: 1, 21: 6, 13: 2, 14: 2}
    rand = rand36.score_rand36(_responses(answers))
    assert rand.energy_fatigue == 100.0 and rand.pain == 0.0 and rand.role_physical == 100.0
    half = rand36.score_rand36({**_responses(answers), "missing_item_rule": "half_of_items"})
    assert half.energy_fatigue is None  # 1 of 4 < 2
    assert half.pain == 0.0  # 1 of 2 is half
    assert half.role_physical == 100.0  # 2 of 4 is half
    assert half.missing_item_rule == "half_of_items"


def test_empty_survey() -> None:
    result = rand36.score_rand36({})
    assert all(result[scale] is None for scale in TABLE_2)
    assert len(result.missing) == 36 and not result.complete


@pytest.mark.parametrize("item", range(1, 37))
def test_out_of_range_answers_name_the_item(item: int) -> None:
    n = len(next(values for group, values in TABLE_1.items() if item in group))
    for answer in (0, n + 1, -1):
        with pytest.raises(ValidationError) as info:
            rand36.score_rand36(_responses({item: answer}))
        problem = info.value.problems[0]
        assert problem.field == f"responses.q{item}"
        assert f"answer {answer} is not one of the {n} answers of q{item}" in problem.message


@pytest.mark.parametrize("bad", ["2", True, 2.0, None])
def test_answers_must_be_json_integers(bad: object) -> None:
    if bad is None:  # null is "not answered", as leaving the item out
        assert rand36.score_rand36({"responses": {"q1": None}}).general_health is None
        return
    with pytest.raises(ValidationError) as info:
        rand36.score_rand36({"responses": {"q1": bad}})
    assert info.value.problems[0].field == "responses.q1"


def test_unknown_item_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        rand36.score_rand36({"responses": {"q37": 1}})
    assert info.value.problems[0].field == "responses.q37"
    assert "q36" in info.value.problems[0].message


def test_patient_global_assessment_by_scale() -> None:
    nrs = rand36.score_rand36({"patient_global_assessment": 3.5})
    assert (nrs.patient_global_assessment, nrs.patient_global_assessment_scale) == (3.5, "nrs_0_10")
    vas = rand36.score_rand36(
        {"patient_global_assessment": 55, "patient_global_assessment_scale": "vas_0_100_mm"}
    )
    assert vas.patient_global_assessment == 55
    for body in (
        {"patient_global_assessment": 11},
        {"patient_global_assessment": -0.5},
        {"patient_global_assessment": 101, "patient_global_assessment_scale": "vas_0_100_mm"},
    ):
        with pytest.raises(ValidationError) as info:
            rand36.score_rand36(body)
        assert info.value.problems[0].field == "patient_global_assessment"


runner = CliRunner()


def test_cli_score_list_schema(tmp_path: Path) -> None:
    path = tmp_path / "rand36.json"
    path.write_text(json.dumps(_responses(ANSWERS)))
    scored = runner.invoke(app, ["score", "rand36", "--input", str(path), "--json"])
    assert scored.exit_code == 0, scored.output
    out = json.loads(scored.stdout)
    assert list(out)[:8] == list(TABLE_2)
    assert (
        out["role_emotional"] == pytest.approx(200 / 3) and out["items"][0]["name"] == "physical_functioning"
    )
    listed = json.loads(runner.invoke(app, ["score", "--list", "--json"]).stdout)
    assert "rand36" in {row["name"] for row in listed}
    schema = json.loads(runner.invoke(app, ["score", "rand36", "--schema"]).stdout)
    q21 = schema["$defs"]["Rand36Responses"]["properties"]["q21"]
    assert (q21["minimum"], q21["maximum"]) == (1, 6)
    bad = runner.invoke(app, ["score", "rand36", "--input", "-"], input='{"responses": {"q14": 3}}')
    assert bad.exit_code == 2 and "responses.q14: " in bad.stderr and "1 = yes; 2 = no" in bad.stderr


def test_score_table_reads_one_survey_per_row(tmp_path: Path) -> None:
    full = {f"q{k}": v for k, v in ANSWERS.items()}
    partial = {k: v for k, v in full.items() if k not in ("q12", "q31")}
    src, out = tmp_path / "surveys.csv", tmp_path / "scored.csv"
    pd.DataFrame([{"patient": "A", **full}, {"patient": "B", **partial}]).to_csv(src, index=False)
    result = runner.invoke(app, ["score-table", "rand36", "--input", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert scored["rand36.physical_functioning"].tolist() == pytest.approx([75.0, 650 / 9])
    assert scored["rand36.complete"].tolist() == [True, False]
    assert scored["patient"].tolist() == ["A", "B"]


def test_catalog_entry() -> None:
    spec = CATALOG["rand36"]
    assert spec.result_type is rand36.Rand36Result and spec.version == "rand36_1.0"


def test_docs_page_names_the_licensed_instruments() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "instruments" / "rand36.md").read_text(
        encoding="utf-8"
    )
    for name in ("LupusQoL", "LupusPRO", "FACIT-Fatigue", "PROMIS-29"):
        assert f"| {name} (" in page, name
    assert "builds **none that needs a licence**" in page
    assert 'title="input: rand36"' in page and 'title="error: rand36"' in page
