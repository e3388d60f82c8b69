"""The cases docs/outcomes/endpoints.md ("Cases a hand-worker meets") states, one test each.

The docs table names these tests; ``test_docs_name_every_case_test`` keeps the two in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from outcomes_helpers import SCORE_0, SCORE_4, SCORE_12, date, patient, sledai, visit
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.errors import ValidationError
from lupuscell.outcomes.definitions import EndpointOptions
from lupuscell.outcomes.endpoints import derive_endpoints, records
from lupuscell.outcomes.inputs import from_json_payload

DOC = Path(__file__).resolve().parents[2] / "docs" / "outcomes" / "endpoints.md"
BASELINE = visit(-10, SCORE_12, pga=2.0, pred=20.0)
REMISSION = {"pga": 0.2, "pred": 5.0}
BILAG_C = dict.fromkeys(
    (
        "constitutional",
        "mucocutaneous",
        "neuropsychiatric",
        "musculoskeletal",
        "cardiorespiratory",
        "gastrointestinal",
        "ophthalmic",
        "renal",
        "haematological",
    ),
    "C",
)


def run(*patients: dict, **options: Any) -> dict[str, dict[str, Any]]:
    cohort = from_json_payload({"patients": list(patients)})
    return {r["id"]: r for r in records(derive_endpoints(cohort, EndpointOptions(**options)).patients)}


def _errors(payload: dict) -> str:
    result = CliRunner().invoke(app, ["endpoints", "--input", "-", "--json"], input=json.dumps(payload))
    assert result.exit_code == 2, result.stdout
    return str(result.stderr)


def _labs(analyte: str, values: dict[int, float], unit: str = "10^9/L") -> list[dict]:
    return [{"date": date(d), "analyte": analyte, "value": v, "unit": unit} for d, v in values.items()]


# ------------------------------------------------------------------------------- landmarks


def test_case_follow_up_ending_on_the_landmark_day_counts_as_followed() -> None:
    out = run(
        patient("ON", [BASELINE], last_contact=100),
        patient("BEFORE", [BASELINE], last_contact=99),
    )
    assert out["ON"]["death_by_day100"] is False and out["ON"]["nrm_by_day100"] is False
    assert out["BEFORE"]["death_by_day100"] is None and out["BEFORE"]["nrm_by_day100"] is None


# ---------------------------------------------------------------------- flare and death


def test_case_flare_and_death_on_the_same_day_is_a_relapse() -> None:
    visits = [BASELINE, visit(30, SCORE_0, **REMISSION), visit(80, SCORE_12, pga=2.0, pred=20)]
    out = run(patient("SAME", visits, death=80, last_contact=80))["SAME"]
    assert out["flare_day"] == 80 and out["os_days"] == 80 and out["os_event"] is True
    assert (out["relapse_nrm_status"], out["relapse_nrm_days"]) == (1, 80)
    assert out["relapse_by_day100"] is True and out["nrm_by_day100"] is False


# -------------------------------------------------------------------------- engraftment


def test_case_pre_day0_counts_do_not_enter_the_neutrophil_nadir() -> None:
    # conditioning: 0.1 on day -3 then >= 0.5 on days -2..0; post-infusion nadir 0.2 on day 3
    anc = {-3: 0.1, -2: 0.6, -1: 0.6, 0: 0.6, 3: 0.2, 6: 0.4, 8: 0.5, 9: 0.7, 10: 0.9}
    p = patient("N", [], labs=_labs("anc", anc))
    assert run(p)["N"]["neutrophil_engraftment_day"] == 8
    # reading every count (the option) would report engraftment before the infusion
    assert run(p, engraftment_from_day=-10)["N"]["neutrophil_engraftment_day"] == -2


def test_case_pre_day0_platelet_counts_do_not_start_the_search() -> None:
    plt = {-2: 15.0, -1: 25.0, 0: 25.0, 1: 25.0, 2: 25.0}
    out = run(patient("P", [], labs=_labs("platelets", plt)))["P"]
    assert out["platelet_engraftment_day"] is None  # never below 20 from day 0 on
    tx = patient("T", [], labs=_labs("platelets", plt), platelet_transfusions=[date(-1)])
    # a transfusion on day -1 starts the search and supports days -1..5: engrafted on day 6
    plt_late = {**plt, **{d: 25.0 for d in range(3, 12)}}
    tx["labs"] = _labs("platelets", plt_late)
    assert run(tx)["T"]["platelet_engraftment_day"] == 6


# ------------------------------------------------------------------------------- flares


def test_case_the_first_post_day0_visit_compares_with_a_pre_day0_visit() -> None:
    p = patient("PREV", [visit(-10, SCORE_4, pga=1.0, pred=10), visit(30, SCORE_12, pga=2.0, pred=20)])
    assert run(p, flare_origin="day0")["PREV"]["flare_day"] == 30  # 4 -> 12 across day 0
    assert run(p)["PREV"]["flare_day"] is None  # default origin: no remission, no flare


# ------------------------------------------------------------------------------- SRI-4


def _sri_patient(follow: tuple[str, ...], bilag: bool) -> dict:
    extra = {"bilag": BILAG_C} if bilag else {}
    visits = [visit(-7, SCORE_12, pga=1.0, pred=10, **extra), visit(183, follow, pga=1.0, pred=10, **extra)]
    return patient("S", visits)


def test_case_sri4_without_bilag_is_null_even_when_sledai_already_fails() -> None:
    assert run(_sri_patient(SCORE_12, bilag=False))["S"]["sri4_m6"] is None  # 12 -> 12, no BILAG
    assert run(_sri_patient(SCORE_12, bilag=True))["S"]["sri4_m6"] is False  # same with BILAG
    assert run(_sri_patient(SCORE_0, bilag=True))["S"]["sri4_m6"] is True


# ------------------------------------------------------------------------ null descriptors


def test_case_a_null_descriptor_means_not_assessed() -> None:
    unknown = visit(-10, SCORE_4, pga=1.0, pred=10)
    unknown["sledai2k"] = {**sledai(*SCORE_4), "low_complement": None}
    out = run(patient("NULL", [unknown, visit(91, SCORE_12, pga=2.0, pred=20)]), flare_origin="day0")["NULL"]
    assert out["baseline_day"] == -10 and out["baseline_sledai_2k"] is None
    assert out["flare_day"] is None  # no earlier visit with a known SLEDAI-2K to rise from
    cohort = from_json_payload({"patients": [patient("NULL", [unknown])]})
    visits = derive_endpoints(cohort).visits
    assert visits["sledai_2k"].isna().all()


def test_case_a_missing_descriptor_key_is_an_error_not_a_null() -> None:
    v = visit(30, SCORE_4)
    del v["sledai2k"]["fever"]
    assert "missing descriptor(s) ['fever']" in _errors({"patients": [patient("K", [v])]})


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"death": {"date": date(-1)}, "last_contact": date(0)}, f"death.date {date(-1)} is before day0"),
        ({"last_contact": date(-5)}, f"last_contact {date(-5)} is before day0"),
        ({"visits": [visit(30), visit(30, SCORE_4)]}, "two visits on the same date"),
        ({"death": {"date": date(20)}}, f"before visit(s) on {date(30)}"),
        (
            {"death": {"date": date(40)}, "labs": _labs("anc", {50: 1.0})},
            f"before lab value(s) on {date(50)}",
        ),
        (
            {
                "death": {"date": date(40)},
                "adverse_events": [{"date": date(45), "category": "infection", "grade": 3}],
            },
            f"before adverse event(s) on {date(45)}",
        ),
        (
            {
                "adverse_events": [
                    {"date": date(45), "category": "infection", "grade": 3, "resolution_date": date(40)}
                ]
            },
            "resolution_date",
        ),
        (
            {"adverse_events": [{"date": date(5), "category": "crs", "grade": 2, "grading_system": "Penn"}]},
            "'Penn' is not a known grading system",
        ),
        ({"adverse_events": [{"date": date(5), "category": "crs", "grade": 6}]}, "less than or equal to 5"),
    ],
)
def test_case_input_errors(change: dict, needle: str) -> None:
    p = {**patient("ERR", [visit(30)]), **change}
    stderr = _errors({"patients": [p]})
    assert "patient ERR" in stderr and needle in stderr, stderr


# -------------------------------------------------------------------------- adverse events


def test_case_adverse_events_give_the_maximum_grades() -> None:
    aes = [
        {"date": date(8), "category": "infection", "grade": 2},  # CTCAE v5.0 by default
        {"date": date(12), "category": "infection", "grade": 3, "grading_system": "CTCAE_v5.0"},
        {"date": date(3), "category": "crs", "grade": 2, "grading_system": "ASTCT_2019"},
        {"date": date(6), "category": "icans", "grade": 1, "grading_system": "ASTCT_2019"},
        {"date": date(40), "category": "gvhd", "grade": 2, "term": "skin aGVHD"},
        {"date": date(9), "category": "other", "grade": 4},
    ]
    out = run(patient("AE", [], adverse_events=aes, therapy="car_t"))["AE"]
    grades = {k: out[f"max_{k}_grade"] for k in ("infection", "crs", "icans", "gvhd")}
    assert grades == {"infection": 3, "crs": 2, "icans": 1, "gvhd": 2}
    assert run(patient("NONE", []))["NONE"]["max_crs_grade"] == 0  # none recorded


def test_case_a_grade_on_another_scale_is_an_error_never_mixed() -> None:
    # a CRS grade without a system is a CTCAE v5.0 grade, which CRS is not graded on
    crs = [{"date": date(3), "category": "crs", "grade": 3}]
    stderr = _errors({"patients": [patient("CRS", [], adverse_events=crs)]})
    assert "patients[0].adverse_events[0]" in stderr and "crs is not graded on CTCAE_v5.0" in stderr
    # acute GVHD may be graded by CTCAE v5.0 or MAGIC 2016, but one maximum reads one scale
    magic = [{"date": date(30), "category": "gvhd", "grade": 3, "grading_system": "MAGIC_2016"}]
    with pytest.raises(ValidationError) as err:
        run(patient("MIX", [], adverse_events=magic))
    problem = err.value.problems[0]
    assert problem.record == "patient MIX" and problem.field == "adverse_events.grading_system"
    assert "MAGIC_2016" in problem.message and "CTCAE_v5.0" in problem.message
    assert "patient MIX" in _errors({"patients": [patient("MIX", [], adverse_events=magic)]})
    options = {"infection": "CTCAE_v5.0", "gvhd": "MAGIC_2016", "crs": "ASTCT_2019", "icans": "ASTCT_2019"}
    assert run(patient("MIX", [], adverse_events=magic), ae_grading=options)["MIX"]["max_gvhd_grade"] == 3
    result = CliRunner().invoke(
        app,
        ["endpoints", "--input", "-", "--json", "--ae-grading", "gvhd=MAGIC_2016"],
        input=json.dumps({"patients": [patient("MIX", [], adverse_events=magic)]}),
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["patients"][0]["max_gvhd_grade"] == 3
    bad = CliRunner().invoke(app, ["endpoints", "--input", "-", "--ae-grading", "crs=MAGIC_2016"], input="{}")
    assert bad.exit_code == 2 and "--ae-grading" in bad.stderr and "crs cannot be graded on" in bad.stderr


def test_case_adverse_events_extend_follow_up() -> None:
    aes = [{"date": date(300), "category": "infection", "grade": 2, "resolution_date": date(330)}]
    assert run(patient("AEFU", [visit(30)], last_contact=200, adverse_events=aes))["AEFU"]["os_days"] == 330


# ------------------------------------------------------------------------------- the docs


def test_docs_name_every_case_test() -> None:
    named = set(re.findall(r"`(test_case_[a-z0-9_]+)`", DOC.read_text()))
    defined = {name for name in globals() if name.startswith("test_case_")}
    assert named == defined
