"""Hand-made patients testing every endpoint definition at its boundaries."""

from __future__ import annotations

from typing import Any

import pytest
from outcomes_helpers import SCORE_0, SCORE_3, SCORE_4, SCORE_7, SCORE_12, patient, visit

from lupuscell.errors import ValidationError
from lupuscell.outcomes.datasets import build_datasets
from lupuscell.outcomes.definitions import EndpointOptions
from lupuscell.outcomes.endpoints import derive_endpoints, derive_patient, records
from lupuscell.outcomes.inputs import from_json_payload

BASELINE = visit(-10, SCORE_12, pga=2.0, pred=20.0)
REMISSION = {"pga": 0.2, "pred": 5.0}  # DORIS: clinical SLEDAI 0, PGA < 0.5, prednisone <= 5


def run(*patients: dict, **options: Any) -> dict[str, dict[str, Any]]:
    cohort = from_json_payload({"patients": list(patients)})
    result = derive_endpoints(cohort, EndpointOptions(**options))
    return {row["id"]: row for row in records(result.patients)}


# ------------------------------------------------------------------------------ remission


def test_remission_on_the_last_visit_counts_but_is_not_sustained() -> None:
    out = run(
        patient("A", [BASELINE, visit(91, SCORE_4), visit(182, SCORE_0, **REMISSION)], last_contact=182)
    )["A"]
    assert out["first_remission_day"] == 182
    assert out["sustained_remission_day"] is None


def test_sustained_remission_needs_two_consecutive_visits() -> None:
    interrupted = patient(
        "I",
        [BASELINE, visit(30, **REMISSION), visit(91, SCORE_4), visit(182, **REMISSION)],
    )
    sustained = patient("S", [BASELINE, visit(30, SCORE_4), visit(91, **REMISSION), visit(182, **REMISSION)])
    out = run(interrupted, sustained)
    assert out["I"]["first_remission_day"] == 30
    assert out["I"]["sustained_remission_day"] is None
    assert out["S"]["first_remission_day"] == 91
    assert out["S"]["sustained_remission_day"] == 91
    three = run(sustained, sustained_min_visits=3)["S"]
    assert three["sustained_remission_day"] is None


def test_visits_before_day0_do_not_count_for_remission_or_lldas() -> None:
    out = run(
        patient("B", [visit(-20, **REMISSION), visit(-5, **REMISSION), visit(30, SCORE_7, pga=1.5, pred=10)])
    )["B"]
    assert out["first_remission_day"] is None
    assert out["first_lldas_day"] is None
    day0 = run(patient("Z", [visit(0, **REMISSION)]))["Z"]
    assert day0["first_remission_day"] == 0  # day 0 itself counts


def test_doris_thresholds_pga_and_prednisone() -> None:
    out = run(
        patient(
            "P", [visit(30, pga=0.5, pred=5.0), visit(91, pga=0.4, pred=5.01), visit(182, pga=0.4, pred=5.0)]
        )
    )["P"]
    assert out["first_remission_day"] == 182  # PGA 0.5 fails (< 0.5 needed); 5.01 mg fails


def test_first_lldas_allows_serology_and_arthritis_but_not_fever() -> None:
    out = run(
        patient(
            "L",
            [
                visit(30, ("fever",), pga=0.5, pred=7.5),
                visit(91, SCORE_4, pga=1.0, pred=7.5),
            ],
        )
    )["L"]
    assert out["first_lldas_day"] == 91
    assert out["first_remission_day"] is None


# ---------------------------------------------------------------------------------- flare


def _flare_patient(pid: str, flare_active: tuple[str, ...]) -> dict:
    return patient(
        pid,
        [BASELINE, visit(91, **REMISSION), visit(182, SCORE_0, pga=0.2, pred=5.0), visit(365, flare_active)],
    )


def test_flare_is_a_rise_of_exactly_4_not_3() -> None:
    out = run(_flare_patient("F4", SCORE_4), _flare_patient("F3", SCORE_3))
    assert out["F4"]["flare_day"] == 365
    assert out["F4"]["rfs_days"] == 365 and out["F4"]["rfs_event"] is True
    assert out["F3"]["flare_day"] is None
    assert out["F3"]["rfs_event"] is False


def test_flare_compares_with_the_previous_visit_not_with_remission() -> None:
    # 0 -> 3 -> 7: each step +3/+4 from the previous visit; the +4 step is the flare
    p = patient("G", [BASELINE, visit(91, **REMISSION), visit(182, SCORE_3), visit(365, SCORE_7)])
    assert run(p)["G"]["flare_day"] == 365
    # 0 -> 3 -> 6: 6 is >= 4 above the remission visit but only +3 above the previous visit
    q = patient(
        "H", [BASELINE, visit(91, **REMISSION), visit(182, SCORE_3), visit(365, ("arthritis", "rash"))]
    )
    assert run(q)["H"]["flare_day"] is None


def test_rise_before_first_remission_is_not_a_flare_unless_origin_day0() -> None:
    p = patient("O", [visit(-5, SCORE_0, pga=1.0, pred=10), visit(30, SCORE_4, pga=1.0, pred=10)])
    assert run(p)["O"]["flare_day"] is None  # never in remission
    assert run(p, flare_origin="day0")["O"]["flare_day"] == 30


def test_selena_flare_index_option_uses_recorded_flares() -> None:
    visits = [
        BASELINE,
        visit(91, **REMISSION),
        visit(182, SCORE_0, pga=0.2, pred=5.0, flare=True),
        visit(365, SCORE_0, pga=0.2, pred=5.0, severe_flare=True),
    ]
    p = patient("S", visits)
    assert run(p)["S"]["flare_day"] is None  # no SLEDAI rise
    assert run(p, flare_rule="selena_flare_index")["S"]["flare_day"] == 182
    assert run(p, flare_rule="selena_flare_index", sfi_severity="severe")["S"]["flare_day"] == 365


# -------------------------------------------------------------------------------- survival


def test_death_on_day_100_is_inside_the_day_100_landmark_101_is_not() -> None:
    out = run(
        patient("D100", [BASELINE, visit(30, SCORE_4)], death=100, last_contact=100),
        patient("D101", [BASELINE, visit(30, SCORE_4)], death=101, last_contact=101),
    )
    assert (out["D100"]["os_days"], out["D100"]["os_event"]) == (100, True)
    assert (out["D101"]["os_days"], out["D101"]["os_event"]) == (101, True)
    assert out["D100"]["nrm_by_day100"] is True
    assert out["D101"]["nrm_by_day100"] is False
    assert out["D101"]["nrm_by_day365"] is True
    assert out["D100"]["relapse_nrm_status"] == 2  # death without prior relapse = NRM
    assert out["D100"]["rfs_event"] is True and out["D100"]["rfs_days"] == 100


def test_censoring_at_last_contact() -> None:
    out = run(patient("C", [BASELINE, visit(91, SCORE_4)], last_contact=250))["C"]
    assert (out["os_days"], out["os_event"]) == (250, False)
    assert (out["rfs_days"], out["rfs_event"]) == (250, False)
    assert out["relapse_nrm_status"] == 0
    assert out["nrm_by_day100"] is False  # followed beyond day 100 event-free
    assert out["nrm_by_day365"] is None  # censored before 1 year: unknown
    later = run(patient("V", [BASELINE, visit(400, SCORE_4)], last_contact=250))["V"]
    assert later["os_days"] == 400  # a visit proves contact after the stated last contact


def test_relapse_then_death_is_relapse_not_nrm() -> None:
    out = run(
        patient(
            "R",
            [BASELINE, visit(91, **REMISSION), visit(182, SCORE_4)],
            death=300,
            last_contact=300,
        )
    )["R"]
    assert out["flare_day"] == 182
    assert (out["relapse_nrm_days"], out["relapse_nrm_status"]) == (182, 1)
    assert (out["os_days"], out["os_event"]) == (300, True)
    assert out["nrm_by_day365"] is False and out["relapse_by_day365"] is True


# --------------------------------------------------------------------- windows and baseline


def test_baseline_window_60_days_inclusive_61_excluded() -> None:
    out = run(
        patient("B60", [visit(-60, SCORE_12, pga=2.0, pred=20)]),
        patient("B61", [visit(-61, SCORE_12, pga=2.0, pred=20)]),
        patient("B0", [visit(-30, SCORE_4), visit(0, SCORE_12, pga=2.0, pred=20)]),
    )
    assert out["B60"]["baseline_sledai_2k"] == 12
    assert out["B61"]["baseline_sledai_2k"] is None
    assert out["B0"]["baseline_day"] == 0  # last visit on or before day 0


def _pred_at_m6(*days_and_doses: tuple[int, float], **options: Any) -> float | None:
    visits = [visit(d, SCORE_4, pga=1.0, pred=p) for d, p in days_and_doses]
    return run(patient("W", visits), **options)["W"]["pred_m6"]


def test_month_6_window_edges_and_a_visit_outside_every_window() -> None:
    # month 6 target = round(30.44 * 6) = 183, window 153..213
    assert _pred_at_m6((213, 2.5)) == 2.5
    assert _pred_at_m6((214, 2.5)) is None
    assert _pred_at_m6((153, 2.5)) == 2.5
    assert _pred_at_m6((152, 2.5)) is None
    cohort = from_json_payload({"patients": [patient("U", [visit(130, SCORE_4, pga=1.0, pred=2.5)])]})
    result = derive_endpoints(cohort)
    row = records(result.patients)[0]
    assert row["pred_m6"] is None and row["pred_m12"] is None
    adrs = build_datasets(cohort, result=result).adrs
    assert adrs["AVISIT"].tolist() == ["Unscheduled"]
    assert adrs["AVISITN"].isna().all()


def test_month_window_widths_after_month_12() -> None:
    # month 12: target 365, +/-30; month 18: target 548, +/-60
    assert run(patient("M", [visit(395, pred=1.0)]))["M"]["pred_m12"] == 1.0
    assert run(patient("M", [visit(396, pred=1.0)]))["M"]["pred_m12"] is None
    cohort = from_json_payload({"patients": [patient("N", [visit(608, pred=1.0), visit(1300, pred=1.0)])]})
    adrs = build_datasets(cohort).adrs
    assert adrs["AVISIT"].tolist() == ["Month 18", "Unscheduled"]


def test_window_tie_rule_earlier_or_later() -> None:
    # two visits 10 days either side of the month-6 target 183
    pair = ((173, 2.5), (193, 10.0))
    assert _pred_at_m6(*pair) == 2.5
    assert _pred_at_m6(*pair, window_tie="later") == 10.0
    assert _pred_at_m6((180, 7.5), (173, 2.5)) == 7.5  # nearest wins over earlier


def test_steroid_free_status() -> None:
    assert run(patient("Z", [visit(183, pred=0.0)]))["Z"]["steroid_free_m6"] is True
    assert run(patient("Z", [visit(183, pred=2.5)]))["Z"]["steroid_free_m6"] is False
    assert run(patient("Z", [visit(100, pred=0.0)]))["Z"]["steroid_free_m6"] is None


# ------------------------------------------------------------------------------------ SRI-4

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


def _sri(
    base: tuple[str, ...],
    follow: tuple[str, ...],
    *,
    pga_b: float = 1.0,
    pga_f: float = 1.0,
    bilag_f: dict | None = None,
    with_bilag: bool = True,
) -> bool | None:
    extra_b = {"bilag": BILAG_C} if with_bilag else {}
    extra_f = {"bilag": bilag_f or BILAG_C} if with_bilag else {}
    p = patient(
        "S",
        [visit(-7, base, pga=pga_b, pred=10, **extra_b), visit(183, follow, pga=pga_f, pred=10, **extra_f)],
    )
    return run(p)["S"]["sri4_m6"]


def test_sri4_reduction_of_exactly_4_responds_3_does_not() -> None:
    assert _sri(SCORE_7, SCORE_3) is True  # 7 -> 3: -4
    assert _sri(SCORE_7, SCORE_4) is False  # 7 -> 4: -3


def test_sri4_pga_worsening_of_0_3_fails() -> None:
    assert _sri(SCORE_7, SCORE_3, pga_b=1.1, pga_f=1.3) is True
    assert _sri(SCORE_7, SCORE_3, pga_b=1.1, pga_f=1.4) is False


def test_sri4_new_bilag_a_fails_and_missing_bilag_is_not_evaluable() -> None:
    assert _sri(SCORE_7, SCORE_3, bilag_f={**BILAG_C, "renal": "A"}) is False
    assert _sri(SCORE_7, SCORE_3, bilag_f={**BILAG_C, "renal": "B"}) is True  # one new B allowed
    assert _sri(SCORE_7, SCORE_3, with_bilag=False) is None


# ----------------------------------------------------------------------------- engraftment


def _labs(analyte: str, unit: str, values: dict[int, float]) -> list[dict]:
    from outcomes_helpers import date

    return [{"date": date(d), "analyte": analyte, "value": v, "unit": unit} for d, v in values.items()]


def test_neutrophil_engraftment_three_consecutive_days_from_the_nadir() -> None:
    anc = {0: 2000, 3: 300, 5: 100, 9: 500, 10: 600, 11: 400, 12: 700, 13: 800, 14: 900}  # cells/uL
    out = run(
        patient("E", [], labs=_labs("neutrophils", "cells/uL", anc)),
        patient("M", [], therapy="msc", labs=_labs("anc", "10^9/L", {d: v / 1000 for d, v in anc.items()})),
    )
    assert out["E"]["neutrophil_engraftment_day"] == 12  # 9,10 ok; 11 = 0.4 breaks; 12-14
    assert out["M"]["neutrophil_engraftment_day"] is None  # not defined for MSC


def test_platelet_engraftment_unsupported_by_transfusion_for_7_days() -> None:
    plt = {d: 25.0 for d in range(0, 20)}
    plt[2] = 10.0
    p = patient("P", [], labs=_labs("platelets", "10^9/L", plt), platelet_transfusions=[])
    t = patient("T", [], labs=_labs("platelets", "10^9/L", plt))
    from outcomes_helpers import date

    t["platelet_transfusions"] = [date(4)]
    out = run(p, t)
    assert out["P"]["platelet_engraftment_day"] == 3
    assert out["T"]["platelet_engraftment_day"] == 11  # transfusion day 4 supports days 4..10
    assert run(t, platelet_consecutive=7)["T"]["platelet_engraftment_day"] == 11


def test_unknown_lab_unit_names_the_patient() -> None:
    p = patient("Q", [], labs=_labs("anc", "furlongs", {1: 1.0}))
    with pytest.raises(ValidationError) as err:
        run(p)
    assert err.value.problems[0].record == "patient Q"
    assert "furlongs" in str(err.value)


def test_derive_patient_thin_wrapper_matches_the_cohort_path() -> None:
    payload = {"patients": [_flare_patient("F4", SCORE_4), _flare_patient("F3", SCORE_3)]}
    cohort = from_json_payload(payload)
    single = derive_patient(cohort, "F4")
    assert single == run(*payload["patients"])["F4"]


def test_doris_cut_off_options() -> None:
    p = patient("K", [visit(30, pga=0.5, pred=5.0)])
    assert run(p)["K"]["first_remission_day"] is None  # 2021: PGA < 0.5
    assert run(p, doris_pga_rule="le_0_5")["K"]["first_remission_day"] == 30
    q = patient("Q", [visit(30, pga=0.2, pred=5.0)])
    assert run(q, doris_prednisolone_rule="lt_5")["Q"]["first_remission_day"] is None


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValidationError, match="flare_rule must be one of"):
        EndpointOptions(flare_rule="bilag")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="sri_months"):
        EndpointOptions(sri_months=(7,))
