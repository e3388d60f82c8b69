"""Vectorised endpoint derivation over whole cohorts (and a thin per-patient wrapper).

Input is a :class:`lupuscell.outcomes.cohort.CohortData`; every definition comes from an
:class:`lupuscell.outcomes.definitions.EndpointOptions` (sources cited there and in
docs/outcomes/endpoints.md). The output is one row per patient (:data:`PATIENT_ENDPOINTS`)
plus the scored visit table with analysis-visit labels (ADRS is built from it).

How it is computed
------------------
Per-visit SLEDAI-2K, clinical SLEDAI, LLDAS and DORIS come from the instruments' vectorised
path (:func:`lupuscell.instruments.bulk.score_visit_table`). Everything per patient is then a
sort + mask + ``groupby().min()/max()`` over the long tables, or a run-length encoding with
``cumsum`` (sustained remission, engraftment runs); the "previous visit with a known SLEDAI-2K"
is found with a running maximum of row indices. There is no Python loop over patients, so a
100,000-patient cohort takes seconds. :mod:`lupuscell.outcomes.reference` is the independent
per-patient implementation it is tested against.

Why hand-written: pandas/numpy give the primitives (groupby, merge_asof, cumsum); no library
implements the clinical definitions (flare rule, CIBMTR engraftment runs, competing-risk coding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.analysis.conventions import json_number
from lupuscell.errors import Problem, ValidationError
from lupuscell.outcomes import missing_states
from lupuscell.outcomes.cohort import BILAG_COLUMNS, CohortData
from lupuscell.outcomes.definitions import (
    DEFAULT_OPTIONS,
    NEUTROPHIL_ANALYTE,
    PLATELET_ANALYTE,
    EndpointOptions,
    visit_label,
)

#: Per-patient endpoint columns (contract: docs/outcomes/datasets.md, ADSL lower-case fields).
PATIENT_ENDPOINTS: tuple[str, ...] = (
    "baseline_day",
    "baseline_sledai_2k",
    "baseline_clinical_sledai",
    "baseline_pga",
    "baseline_prednisone_mg",
    "baseline_dsdna",
    "first_remission_day",
    "first_lldas_day",
    "sustained_remission_day",
    "flare_day",
    "os_days",
    "os_event",
    "rfs_days",
    "rfs_event",
    "relapse_nrm_days",
    "relapse_nrm_status",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
    "max_infection_grade",
    "max_gvhd_grade",
    "max_crs_grade",
    "max_icans_grade",
)

_PGA_TENTHS = 10


@dataclass(frozen=True)
class EndpointResult:
    """Derived endpoints: ``patients`` (one row per patient) and scored ``visits``."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    options: EndpointOptions


# ------------------------------------------------------------------------------ visit level


def score_visits(visits: pd.DataFrame, options: EndpointOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """Per-visit SLEDAI-2K, clinical SLEDAI, LLDAS and DORIS via the instruments' bulk path.

    Visit flags that were not recorded take :attr:`EndpointOptions.missing_visit_flags`, but a
    flag with an explicit missing-value state stays unknown, and ``not_done`` descriptors score
    as absent only under ``not_done_as_absent`` (:mod:`lupuscell.outcomes.missing_states`).
    Returns the visits with ``sledai_2k``, ``clinical_sledai`` (nullable Int) and ``lldas``,
    ``doris_remission`` (nullable boolean; NA = not evaluable, or False for every NA under
    ``unknown_response="non_response"``) and ``unevaluable_inputs`` added.
    """
    from lupuscell.instruments.bulk import score_visit_table

    frame = visits.rename(columns={"prednisone_mg": "prednisolone_mg_per_day"})
    frame = missing_states.prepare(frame, options.missing_visit_flags, options.not_done_as_absent)
    unevaluable = missing_states.unevaluable_inputs(frame)
    scored = score_visit_table(
        frame,
        ("sledai_2k", "clinical_sledai", "lldas", "doris_2021"),
        prednisolone_rule=options.doris_prednisolone_rule,
        pga_rule=options.doris_pga_rule,
    )
    scored = missing_states.apply_unknown_response(scored, options.unknown_response)
    scored["unevaluable_inputs"] = unevaluable.to_numpy()
    return scored.rename(columns={"prednisolone_mg_per_day": "prednisone_mg"})


def _pick_nearest(codes: np.ndarray, day: np.ndarray, mask: np.ndarray, target: int, tie: str) -> np.ndarray:
    """Row positions: per patient code, the row within ``mask`` nearest ``target`` (tie rule)."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return idx
    cand = day[idx]
    order = np.lexsort((cand if tie == "earlier" else -cand, np.abs(cand - target), codes[idx]))
    ranked = idx[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = codes[ranked[1:]] != codes[ranked[:-1]]
    return ranked[first]


def assign_visit_windows(visits: pd.DataFrame, options: EndpointOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """Add ``avisit`` (label), ``avisitn`` (month; 0 baseline; NaN unscheduled) and ``is_baseline``.

    Baseline: the last visit with ``-baseline_window_days <= day <= 0``. Month m: the visit with
    ``day > 0`` nearest ``round(30.44 m)`` within the half-width; tie per ``window_tie``. A visit
    chosen for two months keeps the earlier month's label (the later month has no visit).
    """
    out = visits.reset_index(drop=True)
    day = out["day"].to_numpy(dtype=np.int64)
    codes = pd.factorize(out["patient_id"])[0]
    n = len(out)
    avisitn = np.full(n, np.nan)
    labels = np.full(n, "Unscheduled", dtype=object)
    base_mask = (day <= 0) & (day >= -options.baseline_window_days)
    tie_last = "later"  # the last visit on or before day 0 = the nearest to day 0 from below
    base = _pick_nearest(codes, day, base_mask, 0, tie_last)
    is_baseline = np.zeros(n, dtype=bool)
    is_baseline[base] = True
    avisitn[is_baseline] = 0.0
    labels[is_baseline] = "Baseline"
    for month in sorted(options.visit_months):
        target = options.target_day(month)
        half = options.window_half_width(month)
        mask = (day > 0) & (np.abs(day - target) <= half)
        picked = _pick_nearest(codes, day, mask, target, options.window_tie)
        picked = picked[np.isnan(avisitn[picked])]
        avisitn[picked] = float(month)
        labels[picked] = visit_label(month)
    out["avisit"] = labels
    out["avisitn"] = avisitn
    out["is_baseline"] = is_baseline
    return out


# ---------------------------------------------------------------------------- patient level


def _first_day(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> pd.Series:
    sub = frame.loc[np.asarray(mask, dtype=bool), ["patient_id", "day"]]
    return sub.groupby("patient_id", sort=False)["day"].min()


def _true(series: pd.Series) -> np.ndarray:
    """Nullable boolean -> numpy bool with NA read as False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _run_starts(pid: np.ndarray, day: np.ndarray, ok: np.ndarray, min_len: int, calendar: bool) -> pd.Series:
    """Per patient, the first day of the first run of ``min_len`` consecutive ``ok`` rows.

    Rows are sorted by patient and day. ``calendar``: rows must also be on consecutive days.
    """
    if len(pid) == 0:
        return pd.Series(dtype=float)
    same = np.zeros(len(pid), dtype=bool)
    same[1:] = pid[1:] == pid[:-1]
    cont = np.zeros(len(pid), dtype=bool)
    cont[1:] = ok[:-1] & same[1:]
    if calendar:
        cont[1:] &= day[1:] == day[:-1] + 1
    start = ok & ~cont
    run_id = np.cumsum(start)
    rows = pd.DataFrame({"pid": pid[ok], "run": run_id[ok], "day": day[ok]})
    runs = rows.groupby("run", sort=False).agg(pid=("pid", "first"), day=("day", "first"), n=("day", "size"))
    runs = runs[runs["n"] >= min_len]
    return runs.groupby("pid", sort=False)["day"].min()


def _flare_days(
    scored: pd.DataFrame, flares: pd.DataFrame, origin: pd.Series, options: EndpointOptions
) -> pd.Series:
    """First flare strictly after the patient's origin day (first remission or day 0)."""
    if options.flare_rule == "selena_flare_index":
        ev = flares if options.sfi_severity == "any" else flares[flares["severe"].astype(bool)]
        after = ev["day"].to_numpy() > ev["patient_id"].map(origin).to_numpy(dtype=float)
        return _first_day(ev, after)
    pid = scored["patient_id"].to_numpy()
    sledai = scored["sledai_2k"].to_numpy(dtype=float, na_value=np.nan)
    idx = np.arange(len(scored))
    last_known = np.maximum.accumulate(np.where(~np.isnan(sledai), idx, -1)) if len(idx) else idx
    prev = np.full(len(idx), -1)
    prev[1:] = last_known[:-1]
    valid = prev >= 0
    valid[valid] &= pid[prev[valid]] == pid[valid]
    prev_score = np.where(valid, sledai[np.where(valid, prev, 0)], np.nan)
    rise = sledai - prev_score
    org = scored["patient_id"].map(origin).to_numpy(dtype=float)
    flare = (rise >= options.flare_sledai_rise) & (scored["day"].to_numpy() > org)
    return _first_day(scored, flare)


def _kleene_and(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """AND of (value, unknown) pairs: false if any known false, else unknown if any unknown."""
    any_false = np.zeros(len(parts[0][0]), dtype=bool)
    any_unknown = np.zeros_like(any_false)
    for value, unknown in parts:
        any_false |= ~value & ~unknown
        any_unknown |= unknown
    return ~any_false & ~any_unknown, ~any_false & any_unknown


def _sri(base: pd.DataFrame, follow: pd.DataFrame, threshold: int) -> pd.Series:
    """SRI-k (SLEDAI-2K) per patient from aligned baseline and follow-up rows (nullable bool)."""
    sb = base["sledai_2k"].to_numpy(dtype=float, na_value=np.nan)
    sf = follow["sledai_2k"].to_numpy(dtype=float, na_value=np.nan)
    evaluable = ~np.isnan(sb) & ~np.isnan(sf)
    bb = base[list(BILAG_COLUMNS)].to_numpy(dtype=object)
    fb = follow[list(BILAG_COLUMNS)].to_numpy(dtype=object)
    b_known = pd.notna(bb)
    f_known = pd.notna(fb)
    evaluable &= b_known.any(axis=1) & f_known.any(axis=1)
    known = b_known & f_known
    new_a = (known & (fb == "A") & (bb != "A")).sum(axis=1)
    new_b = (known & (fb == "B") & np.isin(bb, ["C", "D", "E"])).sum(axis=1)
    bilag_fail = (new_a > 0) | (new_b > 1)
    bilag_unknown = ~bilag_fail & (known.sum(axis=1) < len(BILAG_COLUMNS))
    pb = base["pga"].to_numpy(dtype=float, na_value=np.nan)
    pf = follow["pga"].to_numpy(dtype=float, na_value=np.nan)
    pga_unknown = np.isnan(pb) | np.isnan(pf)
    tenths_b = np.floor(np.nan_to_num(pb) * _PGA_TENTHS + 0.5 + 1e-9)
    tenths_f = np.floor(np.nan_to_num(pf) * _PGA_TENTHS + 0.5 + 1e-9)
    pga_ok = (tenths_f - tenths_b) < 3
    sledai_ok = np.nan_to_num(sb - sf, nan=-1) >= threshold
    value, unknown = _kleene_and(
        [
            (sledai_ok, np.zeros_like(sledai_ok)),
            (~bilag_fail, bilag_unknown),
            (pga_ok, pga_unknown),
        ]
    )
    out = pd.array(value, dtype="boolean")
    out[unknown | ~evaluable] = pd.NA
    return pd.Series(out, index=base.index)


def _daily(labs: pd.DataFrame, pid: np.ndarray, analyte: str, options: EndpointOptions) -> pd.DataFrame:
    """One value per patient position and day (``lab_daily_aggregate``) from ``engraftment_from_day``."""
    frame = pd.DataFrame(
        {
            "pid": pid,
            "day": labs["day"].to_numpy(dtype=np.int64),
            "value": labs["value"].to_numpy(dtype=float),
        }
    )
    mask = (labs["analyte"].to_numpy() == analyte) & (pid >= 0)
    mask &= frame["day"].to_numpy() >= options.engraftment_from_day
    sub = frame[mask]
    return sub.groupby(["pid", "day"], sort=True)["value"].agg(options.lab_daily_aggregate).reset_index()


def _neutrophil_days(anc: pd.DataFrame, n_patients: int, options: EndpointOptions) -> pd.Series:
    """Neutrophil engraftment day per patient position: a run from the nadir (earliest minimum)."""
    nadir = anc.sort_values(["pid", "value", "day"], kind="stable").drop_duplicates("pid")
    nadir = nadir[nadir["value"] < options.neutrophil_threshold]
    nadir_day = np.full(n_patients, np.nan)
    nadir_day[nadir["pid"].to_numpy()] = nadir["day"].to_numpy()
    keep = anc["day"].to_numpy() >= nadir_day[anc["pid"].to_numpy()]  # NaN (never below) -> False
    a = anc[keep]
    return _run_starts(
        a["pid"].to_numpy(),
        a["day"].to_numpy(),
        a["value"].to_numpy() >= options.neutrophil_threshold,
        options.neutrophil_consecutive,
        calendar=True,
    )


def _last_transfusion(plt: pd.DataFrame, tx: pd.DataFrame) -> np.ndarray:
    """Per platelet count, the day of the latest transfusion on or before it (NaN: none)."""
    last_tx = np.full(len(plt), np.nan)
    if len(tx) and len(plt):
        left = pd.DataFrame(
            {"pid": plt["pid"].to_numpy(), "day": plt["day"].to_numpy(), "_row": np.arange(len(plt))}
        ).sort_values("day", kind="stable")
        right = tx.assign(tx_day=tx["day"]).sort_values("day", kind="stable")
        merged = pd.merge_asof(left, right, on="day", by="pid", direction="backward")
        last_tx[merged["_row"].to_numpy()] = merged["tx_day"].to_numpy(dtype=float)
    return last_tx


def _platelet_days(
    plt: pd.DataFrame, tx: pd.DataFrame, n_patients: int, options: EndpointOptions
) -> pd.Series:
    """Platelet engraftment day per patient position: unsupported runs from the first low count
    or the first transfusion, whichever is earlier."""
    ppid, pday = plt["pid"].to_numpy(), plt["day"].to_numpy()
    start_day = np.full(n_patients, np.nan)
    low = plt[plt["value"].to_numpy() < options.platelet_threshold].groupby("pid")["day"].min()
    start_day[low.index.to_numpy()] = low.to_numpy()
    first_tx = tx.groupby("pid")["day"].min()
    start_day[first_tx.index.to_numpy()] = np.fmin(start_day[first_tx.index.to_numpy()], first_tx.to_numpy())
    last_tx = _last_transfusion(plt, tx)
    supported = ~np.isnan(last_tx) & (last_tx > pday - options.platelet_transfusion_free_days)
    ok = (plt["value"].to_numpy() >= options.platelet_threshold) & ~supported
    keep = pday >= start_day[ppid]
    return _run_starts(ppid[keep], pday[keep], ok[keep], options.platelet_consecutive, calendar=True)


def _engraftment(
    labs: pd.DataFrame, transfusions: pd.DataFrame, ids: pd.Index, options: EndpointOptions
) -> tuple[pd.Series, pd.Series]:
    """Neutrophil and platelet engraftment day per patient (docs/instruments/engraftment.md).

    Patients are handled as integer positions in ``ids`` (fast integer group-bys); the result
    is indexed by patient id. Counts before ``engraftment_from_day`` are not read; platelet
    transfusions are read on every day.
    """
    pid = ids.get_indexer(pd.Index(labs["patient_id"]))
    tx = pd.DataFrame(
        {
            "pid": ids.get_indexer(pd.Index(transfusions["patient_id"])),
            "day": transfusions["day"].to_numpy(dtype=np.int64),
        }
    )
    tx = tx[tx["pid"] >= 0].drop_duplicates().sort_values(["pid", "day"])
    neut = _neutrophil_days(_daily(labs, pid, NEUTROPHIL_ANALYTE, options), len(ids), options)
    plat = _platelet_days(_daily(labs, pid, PLATELET_ANALYTE, options), tx, len(ids), options)

    def by_id(series: pd.Series) -> pd.Series:
        return pd.Series(series.to_numpy(), index=ids[series.index.to_numpy(dtype=np.int64)])

    return by_id(neut), by_id(plat)


def _landmarks(out: pd.DataFrame, options: EndpointOptions) -> pd.DataFrame:
    """Event-by-landmark indicators: True/False, NA if censored before the landmark.

    Follow-up ending exactly on the landmark day counts as followed to it (False without the
    event), as Kaplan-Meier and cumulative-incidence landmarks count it
    (:mod:`lupuscell.analysis.survival`, :mod:`lupuscell.analysis.competing`).
    """
    extra = {}
    code = out["relapse_nrm_status"].to_numpy()
    t = out["relapse_nrm_days"].to_numpy(dtype=float)
    os_t = out["os_days"].to_numpy(dtype=float)
    os_e = out["os_event"].to_numpy(dtype=bool)
    for lm in options.landmark_days:
        for name, event, time, any_event in (
            ("nrm", code == 2, t, code > 0),
            ("relapse", code == 1, t, code > 0),
            ("death", os_e, os_t, os_e),
        ):
            value = pd.array(event & (time <= lm), dtype="boolean")
            value[~(any_event & (time <= lm)) & (time < lm)] = pd.NA
            extra[f"{name}_by_day{lm}"] = value
    return pd.DataFrame(extra, index=out.index)


def _baseline(visits: pd.DataFrame, ids: pd.Series) -> dict[str, Any]:
    base = visits[visits["is_baseline"]].set_index("patient_id")
    return {
        "baseline_day": ids.map(base["day"]),
        "baseline_sledai_2k": ids.map(base["sledai_2k"]),
        "baseline_clinical_sledai": ids.map(base["clinical_sledai"]),
        "baseline_pga": ids.map(base["pga"]),
        "baseline_prednisone_mg": ids.map(base["prednisone_mg"]),
        "baseline_dsdna": ids.map(base["increased_dna_binding"]).astype("boolean"),
    }


def _response(
    visits: pd.DataFrame, flares: pd.DataFrame, ids: pd.Series, options: EndpointOptions
) -> dict[str, Any]:
    """First DORIS remission, first LLDAS, sustained remission and the first flare."""
    post = visits[visits["day"].to_numpy() >= options.remission_from_day]
    doris = _true(post["doris_remission"])
    out: dict[str, Any] = {
        "first_remission_day": ids.map(_first_day(post, doris)).to_numpy(),
        "first_lldas_day": ids.map(_first_day(post, _true(post["lldas"]))).to_numpy(),
    }
    sustained = _run_starts(
        post["patient_id"].to_numpy(),
        post["day"].to_numpy(),
        doris,
        options.sustained_min_visits,
        calendar=False,
    )
    out["sustained_remission_day"] = ids.map(sustained).to_numpy()
    if options.flare_origin == "first_remission":
        origin = pd.Series(out["first_remission_day"].astype(float), index=ids)
    else:
        origin = pd.Series(0.0, index=ids)
    out["flare_day"] = ids.map(_flare_days(visits, flares, origin.dropna(), options)).to_numpy()
    return out


def _survival(patients: pd.DataFrame, flare_day: np.ndarray) -> dict[str, Any]:
    """OS, RFS and the relapse / non-relapse-mortality competing-risks coding.

    A flare on the day of death counts as a relapse first (status 1, the death is not NRM).
    """
    death = patients["death_day"].to_numpy(dtype=float)
    last = patients["last_contact_day"].to_numpy(dtype=float)
    dead = ~np.isnan(death)
    os_days = np.maximum(np.where(dead, death, last), 0.0)
    flare = flare_day.astype(float)
    flare_first = ~np.isnan(flare) & (~dead | (flare <= death))
    rfs_days = np.where(flare_first, flare, os_days)
    return {
        "os_days": os_days,
        "os_event": dead,
        "rfs_days": rfs_days,
        "rfs_event": flare_first | dead,
        "relapse_nrm_days": rfs_days,
        "relapse_nrm_status": np.where(flare_first, 1, np.where(dead, 2, 0)),
    }


def _max_grades(aes: pd.DataFrame, ids: pd.Series, options: EndpointOptions) -> dict[str, Any]:
    """Maximum grade per reported category (0 = none recorded), on the category's grading system.

    Raises :class:`~lupuscell.errors.ValidationError` naming the patient when an adverse event
    of a reported category is graded on another system: two scales are never mixed in a maximum.
    """
    grades = aes[aes["category"].isin(options.ae_categories)]
    expected = grades["category"].map(options.ae_grading)
    wrong = grades[(grades["grading_system"] != expected).to_numpy()]
    if len(wrong):
        raise ValidationError(
            Problem(
                f"patient {r.patient_id}",
                "adverse_events.grading_system",
                f"{r.category} on day {r.day} is graded on {r.grading_system}; max_{r.category}_grade "
                f"is read on {options.grading_system(str(r.category))} (EndpointOptions.ae_grading)",
            )
            for r in wrong.itertuples()
        )
    table = grades.groupby(["patient_id", "category"])["grade"].max().unstack("category")
    out = {}
    for category in options.ae_categories:
        col = table[category] if category in table.columns else pd.Series(dtype=float)
        out[f"max_{category}_grade"] = ids.map(col).fillna(0).astype(np.int64).to_numpy()
    return out


def _month_fields(visits: pd.DataFrame, ids: pd.Series, options: EndpointOptions) -> dict[str, Any]:
    """Prednisone dose and steroid-free status at the steroid months; SRI-k at the SRI months.

    SRI-k is not evaluable (NA) without BILAG grades at both visits, even when another
    criterion already fails, so a programme that does not record BILAG shows no SRI rate
    rather than only its failures.
    """
    month_rows = {
        m: visits[visits["avisitn"].to_numpy() == m].set_index("patient_id")
        for m in sorted(set(options.steroid_months) | set(options.sri_months))
    }
    out: dict[str, Any] = {}
    for m in options.steroid_months:
        pred = ids.map(month_rows[m]["prednisone_mg"]).to_numpy(dtype=float)
        out[f"pred_m{m}"] = pred
        free = pd.array(pred <= options.steroid_free_max_mg, dtype="boolean")
        free[np.isnan(pred)] = pd.NA
        out[f"steroid_free_m{m}"] = free
    base = visits[visits["is_baseline"]].set_index("patient_id").reindex(ids)
    for m in options.sri_months:
        follow = month_rows[m].reindex(ids)
        out[f"sri{options.sri_threshold}_m{m}"] = _sri(base, follow, options.sri_threshold).array
    return out


def derive_endpoints(cohort: CohortData, options: EndpointOptions = DEFAULT_OPTIONS) -> EndpointResult:
    """Derive every per-patient endpoint for the whole cohort (vectorised).

    Parameters
    ----------
    cohort
        Normalised cohort (:mod:`lupuscell.outcomes.cohort`).
    options
        Endpoint definitions; defaults are the programme's primary definitions.

    Returns
    -------
    EndpointResult
        ``patients``: one row per patient, ``patient_id`` plus :data:`PATIENT_ENDPOINTS`, the
        month-m steroid/SRI fields (``pred_m6``, ``steroid_free_m6``, ``sri4_m6``, ...) and the
        landmark indicators (``nrm_by_day100`` ...). Days are study days (nullable Int64),
        ``NA`` = not reached / not evaluable. ``visits``: the scored visits with ``avisit``.

    Raises
    ------
    lupuscell.errors.ValidationError
        An adverse event of a reported category graded on another system than
        ``options.ae_grading`` names.
    """
    pats = cohort.patients.reset_index(drop=True)
    ids = pats["patient_id"]
    visits = assign_visit_windows(score_visits(cohort.visits, options), options)
    out = pd.DataFrame({"patient_id": ids})
    for name, column in _baseline(visits, ids).items():
        out[name] = column
    response = _response(visits, cohort.flare_events, ids, options)
    neut, plat = _engraftment(cohort.labs, cohort.transfusions, pd.Index(ids), options)
    eligible = pats["therapy"].isin(options.engraftment_therapies).to_numpy()
    columns = {
        **response,
        **_survival(pats, response["flare_day"]),
        "neutrophil_engraftment_day": np.where(eligible, ids.map(neut).to_numpy(), np.nan),
        "platelet_engraftment_day": np.where(eligible, ids.map(plat).to_numpy(), np.nan),
        **_max_grades(cohort.adverse_events, ids, options),
        **_month_fields(visits, ids, options),
    }
    for name, column in columns.items():
        out[name] = column
    out = _typed(out)
    out = pd.concat([out, _landmarks(out, options)], axis=1)
    return EndpointResult(patients=out, visits=visits, options=options)


_INT_COLUMNS = (
    "baseline_day",
    "baseline_sledai_2k",
    "baseline_clinical_sledai",
    "first_remission_day",
    "first_lldas_day",
    "sustained_remission_day",
    "flare_day",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
)


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    for col in _INT_COLUMNS:
        out[col] = pd.array(pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)).astype("Int64")
    for col in ("os_days", "rfs_days", "relapse_nrm_days"):
        out[col] = out[col].astype(np.int64)
    for col in ("os_event", "rfs_event"):
        out[col] = out[col].astype(bool)
    out["relapse_nrm_status"] = out["relapse_nrm_status"].astype(np.int64)
    return out


# ------------------------------------------------------------------------------- per patient


def derive_patient(
    cohort: CohortData, patient_id: str, options: EndpointOptions = DEFAULT_OPTIONS
) -> dict[str, Any]:
    """Endpoints of one patient as a JSON-ready dict (thin wrapper over :func:`derive_endpoints`)."""
    result = derive_endpoints(cohort.subset([patient_id]), options)
    if result.patients.empty:
        from lupuscell.errors import NotFoundError

        raise NotFoundError(f"patient {patient_id!r} is not in the cohort")
    return records(result.patients)[0]


def records(patients: pd.DataFrame, fields: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Rows of the patient endpoint frame as dicts (``id`` first; NA -> None)."""
    frame = patients.rename(columns={"patient_id": "id"})
    cols = [c for c in (fields or tuple(frame.columns)) if c in frame.columns]
    if fields is None:
        cols = ["id", *[c for c in cols if c != "id"]]
    data: Mapping[str, list[Any]] = {c: frame[c].tolist() for c in cols}
    return [{c: json_number(data[c][i]) for c in cols} for i in range(len(frame))]
