"""Per-patient pure-Python reference implementation of the endpoint derivation.

It reads the same :class:`~lupuscell.outcomes.cohort.CohortData` and the same
:class:`~lupuscell.outcomes.definitions.EndpointOptions` as the vectorised engine
(:mod:`lupuscell.outcomes.endpoints`) but shares none of its code: each patient is a list of
plain dicts walked in a loop, and each visit is scored by the instruments' *per-visit*
functions (:func:`~lupuscell.instruments.sledai2k.score_sledai_2k`,
:func:`~lupuscell.instruments.response.score_lldas`,
:func:`~lupuscell.instruments.response.score_doris_2021`,
:func:`~lupuscell.instruments.response.score_sri`) and engraftment by
:mod:`lupuscell.instruments.labs`. Tests require both paths to agree on synthetic cohorts; the
benchmark uses this module as its per-patient loop baseline. It is deliberately simple and slow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from lupuscell.outcomes.cohort import BILAG_DOMAINS, DESCRIPTORS, CohortData
from lupuscell.outcomes.definitions import (
    DEFAULT_OPTIONS,
    NEUTROPHIL_ANALYTE,
    PLATELET_ANALYTE,
    EndpointOptions,
)


def _none(value: Any) -> Any:
    """pandas NA/NaN -> None (pure-Python view of a cell)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def _bucket(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in frame.to_dict("records"):
        out[str(row["patient_id"])].append({str(k): _none(v) for k, v in row.items()})
    return out


def iter_patients(cohort: CohortData) -> Iterator[dict[str, Any]]:
    """One plain dict per patient: the patient row plus lists of its visits, labs, events."""
    visits = _bucket(cohort.visits)
    labs = _bucket(cohort.labs)
    aes = _bucket(cohort.adverse_events)
    flares = _bucket(cohort.flare_events)
    tx = _bucket(cohort.transfusions)
    for row in cohort.patients.to_dict("records"):
        pid = str(row["patient_id"])
        yield {
            **{str(k): _none(v) for k, v in row.items()},
            "visits": sorted(visits.get(pid, []), key=lambda v: v["day"]),
            "labs": labs.get(pid, []),
            "adverse_events": aes.get(pid, []),
            "flare_events": flares.get(pid, []),
            "transfusions": [t["day"] for t in tx.get(pid, [])],
        }


def _score_visit(visit: dict[str, Any], options: EndpointOptions) -> dict[str, Any]:
    from lupuscell.instruments.response import score_doris_2021, score_lldas
    from lupuscell.instruments.sledai2k import score_sledai_2k

    descriptors = {d: (None if visit[d] is None else bool(visit[d])) for d in DESCRIPTORS}
    active = [d for d in DESCRIPTORS if descriptors[d]]
    unassessed = [d for d in DESCRIPTORS if descriptors[d] is None]
    flags = {
        k: (options.missing_visit_flags.get(k) if visit.get(k) is None else bool(visit[k]))
        for k in options.missing_visit_flags
    }
    sledai = score_sledai_2k({"descriptors": descriptors})
    common = {
        "sledai_2k_active_descriptors": active,
        "unassessed_descriptors": unassessed,
        "pga": visit["pga"],
        "prednisolone_mg_per_day": visit["prednisone_mg"],
    }
    lldas = score_lldas(
        {
            **common,
            "haemolytic_anaemia": flags["haemolytic_anaemia"],
            "gastrointestinal_activity": flags["gastrointestinal_activity"],
            "new_activity_since_previous_assessment": flags["new_activity_since_previous_assessment"],
            "standard_maintenance_therapy_well_tolerated": flags[
                "standard_maintenance_therapy_well_tolerated"
            ],
        }
    )
    doris = score_doris_2021(
        {
            **common,
            "on_antimalarial": flags["on_antimalarial"],
            "immunosuppressives_and_biologics_stable": flags["immunosuppressives_and_biologics_stable"],
            "prednisolone_rule": options.doris_prednisolone_rule,
            "pga_rule": options.doris_pga_rule,
        }
    )
    return {
        **visit,
        "sledai_2k": sledai["sledai_2k"],
        "clinical_sledai": sledai["clinical_sledai"],
        "lldas": lldas["lldas"],
        "doris_remission": doris["doris_remission"],
    }


def _windows(visits: list[dict[str, Any]], options: EndpointOptions) -> tuple[dict[str, Any] | None, dict]:
    baseline = None
    for v in visits:
        if -options.baseline_window_days <= v["day"] <= 0:
            baseline = v  # visits are in day order: the last one wins
    taken: set[int] = set()
    months: dict[int, dict[str, Any]] = {}
    for m in sorted(options.visit_months):
        target, half = options.target_day(m), options.window_half_width(m)
        best = None
        best_key: tuple[int, int] | None = None
        for i, v in enumerate(visits):
            if v["day"] > 0 and abs(v["day"] - target) <= half:
                key = (abs(v["day"] - target), v["day"] if options.window_tie == "earlier" else -v["day"])
                if best_key is None or key < best_key:
                    best, best_key = i, key
        if best is not None and best not in taken:
            taken.add(best)
            months[m] = visits[best]
    return baseline, months


def _first_run_visits(visits: list[dict[str, Any]], key: str, need: int) -> int | None:
    run = 0
    start = None
    for v in visits:
        if v[key] is True:
            if run == 0:
                start = v["day"]
            run += 1
            if run >= need:
                return start
        else:
            run = 0
    return None


def _engraftment(patient: dict[str, Any], options: EndpointOptions) -> tuple[int | None, int | None]:
    from lupuscell.instruments.labs import neutrophil_engraftment_day, platelet_engraftment_day

    if patient["therapy"] not in options.engraftment_therapies:
        return None, None
    reducers: dict[str, Callable[[list[float]], float]] = {"min": min, "max": max, "last": lambda xs: xs[-1]}
    reduce = reducers[options.lab_daily_aggregate]
    series: dict[str, dict[int, list[float]]] = {NEUTROPHIL_ANALYTE: {}, PLATELET_ANALYTE: {}}
    for lab in patient["labs"]:
        if lab["day"] >= options.engraftment_from_day:
            series[lab["analyte"]].setdefault(lab["day"], []).append(lab["value"])
    anc = sorted((d, reduce(vs)) for d, vs in series[NEUTROPHIL_ANALYTE].items())
    plt = sorted((d, reduce(vs)) for d, vs in series[PLATELET_ANALYTE].items())
    neut = (
        neutrophil_engraftment_day(
            [d for d, _ in anc],
            [v for _, v in anc],
            threshold=options.neutrophil_threshold,
            consecutive=options.neutrophil_consecutive,
        )
        if anc
        else None
    )
    plat = (
        platelet_engraftment_day(
            [d for d, _ in plt],
            [v for _, v in plt],
            sorted(set(patient["transfusions"])),
            threshold=options.platelet_threshold,
            consecutive=options.platelet_consecutive,
            transfusion_free_days=options.platelet_transfusion_free_days,
        )
        if plt
        else None
    )
    return neut, plat


def _sri(base: dict[str, Any] | None, follow: dict[str, Any] | None, threshold: int) -> bool | None:
    from lupuscell.instruments.response import score_sri

    if base is None or follow is None or base["sledai_2k"] is None or follow["sledai_2k"] is None:
        return None
    bilag_b = {d: base[f"bilag_{d}"] for d in BILAG_DOMAINS if base[f"bilag_{d}"] is not None}
    bilag_f = {d: follow[f"bilag_{d}"] for d in BILAG_DOMAINS if follow[f"bilag_{d}"] is not None}
    if not bilag_b or not bilag_f:
        return None
    result = score_sri(
        {
            "sledai_baseline": int(base["sledai_2k"]),
            "sledai_followup": int(follow["sledai_2k"]),
            "bilag_baseline": bilag_b,
            "bilag_followup": bilag_f,
            "pga_baseline": base["pga"],
            "pga_followup": follow["pga"],
            "sledai_version": "sledai_2k",
        },
        threshold=threshold,
    )
    responder: bool | None = result["responder"]
    return responder


def _flare_day(
    patient: dict[str, Any], visits: list[dict[str, Any]], origin: int | None, options: EndpointOptions
) -> int | None:
    if origin is None:
        return None
    if options.flare_rule == "selena_flare_index":
        days = [
            e["day"]
            for e in patient["flare_events"]
            if e["day"] > origin and (options.sfi_severity == "any" or e["severe"])
        ]
        return min(days) if days else None
    previous = None
    for v in visits:
        score = v["sledai_2k"]
        if score is None:
            continue
        if previous is not None and v["day"] > origin and score - previous >= options.flare_sledai_rise:
            return int(v["day"])
        previous = score
    return None


def _survival(patient: dict[str, Any], flare_day: int | None) -> dict[str, Any]:
    death = patient["death_day"]
    os_days = int(max(death if death is not None else patient["last_contact_day"], 0))
    out: dict[str, Any] = {"os_days": os_days, "os_event": death is not None}
    if flare_day is not None and (death is None or flare_day <= death):
        out["rfs_days"], out["rfs_event"], status = flare_day, True, 1
    elif death is not None:
        out["rfs_days"], out["rfs_event"], status = os_days, True, 2
    else:
        out["rfs_days"], out["rfs_event"], status = os_days, False, 0
    out["relapse_nrm_days"] = out["rfs_days"]
    out["relapse_nrm_status"] = status
    return out


def _landmarks(out: dict[str, Any], options: EndpointOptions) -> dict[str, bool | None]:
    status, t = out["relapse_nrm_status"], out["relapse_nrm_days"]
    marks: dict[str, bool | None] = {}
    for lm in options.landmark_days:
        for name, event, time, any_event in (
            ("nrm", status == 2, t, status > 0),
            ("relapse", status == 1, t, status > 0),
            ("death", out["os_event"], out["os_days"], out["os_event"]),
        ):
            if event and time <= lm:
                marks[f"{name}_by_day{lm}"] = True
            elif (any_event and time <= lm) or time >= lm:
                marks[f"{name}_by_day{lm}"] = False
            else:
                marks[f"{name}_by_day{lm}"] = None
    return marks


def _month_fields(
    baseline: dict[str, Any] | None, months: dict[int, dict[str, Any]], options: EndpointOptions
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in options.steroid_months:
        visit = months.get(m)
        pred = None if visit is None else visit["prednisone_mg"]
        out[f"pred_m{m}"] = pred
        out[f"steroid_free_m{m}"] = None if pred is None else pred <= options.steroid_free_max_mg
    for m in options.sri_months:
        out[f"sri{options.sri_threshold}_m{m}"] = _sri(baseline, months.get(m), options.sri_threshold)
    return out


def reference_patient(patient: dict[str, Any], options: EndpointOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """Endpoints of one patient (a dict from :func:`iter_patients`), by plain loops."""
    visits = [_score_visit(v, options) for v in patient["visits"]]
    baseline, months = _windows(visits, options)
    out: dict[str, Any] = {"patient_id": patient["patient_id"]}
    b = baseline or {}
    out["baseline_day"] = b.get("day")
    out["baseline_sledai_2k"] = b.get("sledai_2k")
    out["baseline_clinical_sledai"] = b.get("clinical_sledai")
    out["baseline_pga"] = b.get("pga")
    out["baseline_prednisone_mg"] = b.get("prednisone_mg")
    out["baseline_dsdna"] = b.get("increased_dna_binding")

    post = [v for v in visits if v["day"] >= options.remission_from_day]
    out["first_remission_day"] = next((v["day"] for v in post if v["doris_remission"] is True), None)
    out["first_lldas_day"] = next((v["day"] for v in post if v["lldas"] is True), None)
    out["sustained_remission_day"] = _first_run_visits(post, "doris_remission", options.sustained_min_visits)
    origin = out["first_remission_day"] if options.flare_origin == "first_remission" else 0
    out["flare_day"] = _flare_day(patient, visits, origin, options)
    out.update(_survival(patient, out["flare_day"]))
    out["neutrophil_engraftment_day"], out["platelet_engraftment_day"] = _engraftment(patient, options)
    for category in options.ae_categories:
        grades = [e["grade"] for e in patient["adverse_events"] if e["category"] == category]
        out[f"max_{category}_grade"] = int(max(grades)) if grades else 0
    out.update(_month_fields(baseline, months, options))
    out.update(_landmarks(out, options))
    return out


def reference_endpoints(cohort: CohortData, options: EndpointOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """Endpoints of every patient by the per-patient loop (one row per patient)."""
    return pd.DataFrame([reference_patient(p, options) for p in iter_patients(cohort)])
