"""Guyot (2012) reconstruction of patient data from a digitised Kaplan-Meier curve.

Method of test: simulate a cohort (seeded Weibull event times, uniform and administrative
censoring, n = 200), compute its Kaplan-Meier curve with lifelines, read the curve the way a
digitiser would (the two corners of every vertical drop, optionally with reading noise and
rounding), tabulate the numbers at risk every 6 months, reconstruct, and compare with the truth.

Tolerances (stated once, used throughout):
* events per risk-table interval: within +/- 1 of the simulated cohort;
* landmark survival at 12 and 24 months: within 0.01 (absolute);
* median: within 5% of the simulated cohort's median;
* fit check: RMSE of the refitted KM against the digitised points below 0.005 (0.01 with noise).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from typer.testing import CliRunner

from lupuscell.cli import evidence_ipd_cmd
from lupuscell.errors import ValidationError
from lupuscell.evidence.ipd import (
    fit_check,
    km_summary,
    pool_reconstructed,
    reconstruct_from_csv,
    reconstruct_ipd,
)
from lupuscell.evidence.ipd_plot import plot_reconstruction
from lupuscell.evidence.km_digitised import clean_curve, validate_curve
from lupuscell.reports.figures import save_figure

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "evidence" / "reconstruct.md"
DOC_DATA = REPO / "docs" / "evidence" / "data"

EVENTS_TOL = 1
LANDMARK_TOL = 0.01
MEDIAN_REL_TOL = 0.05
RMSE_TOL = 0.005
RMSE_NOISY_TOL = 0.01


# --------------------------------------------------------------------------- simulation helpers


def simulate_cohort(
    seed: int,
    n: int = 200,
    scale: float = 24.0,
    shape: float = 1.2,
    censor_max: float | None = 60.0,
    admin: float = 48.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Weibull event times, uniform(0, censor_max) and administrative censoring, 0.01 resolution."""
    rng = np.random.default_rng(seed)
    ev = scale * rng.weibull(shape, n)
    cens = rng.uniform(0, censor_max, n) if censor_max is not None else np.full(n, np.inf)
    cens = np.minimum(cens, admin)
    time = np.maximum(np.round(np.minimum(ev, cens), 2), 0.01)  # no event at exactly 0
    event = (ev <= cens).astype(int)
    return time, event


def digitise(
    time: np.ndarray, event: np.ndarray, noise: float = 0.0, decimals: int | None = None, seed: int = 99
) -> tuple[np.ndarray, np.ndarray]:
    """Read the KM step curve as a digitiser does: both corners of each drop, plus the end."""
    kmf = KaplanMeierFitter().fit(time, event)
    x = kmf.survival_function_.index.to_numpy()
    y = kmf.survival_function_.iloc[:, 0].to_numpy()
    pts_t, pts_s, prev = [0.0], [1.0], 1.0
    for xi, yi in zip(x[1:], y[1:], strict=True):
        if yi < prev:
            pts_t += [xi, xi]
            pts_s += [prev, yi]
            prev = yi
    pts_t.append(float(time.max()))
    pts_s.append(prev)
    t, s = np.array(pts_t), np.array(pts_s)
    if noise:
        rng = np.random.default_rng(seed)
        t = np.abs(t + rng.normal(0, noise, t.size))
        s = np.clip(s + rng.normal(0, noise / 10, s.size), 0, 1)
    if decimals is not None:
        s = np.round(s, decimals)
    return t, s


def risk_table(
    time: np.ndarray, step: float = 6.0, until: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    end = time.max() if until is None else until
    rt = np.arange(0.0, end, step)
    rt = rt[rt <= time.max()]
    return rt, np.array([(time >= r).sum() for r in rt])


def events_per_interval(time: np.ndarray, event: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    edges = np.append(cuts, np.inf)
    return np.histogram(time[event == 1], bins=edges)[0]


def compare(rec, time, event, cuts, landmarks=(12.0, 24.0)):  # type: ignore[no-untyped-def]
    rebuilt = events_per_interval(rec.ipd["time"].to_numpy(), rec.ipd["event"].to_numpy(), cuts)
    truth = events_per_interval(time, event, cuts)
    true_km = km_summary(time, event, landmarks=landmarks)
    rec_km = rec.summary(landmarks=landmarks)
    return rebuilt - truth, true_km, rec_km


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_round_trip_with_risk_table(seed: int) -> None:
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr)
    diff, true_km, rec_km = compare(rec, time, event, rt)
    assert np.abs(diff).max() <= EVENTS_TOL, diff
    assert rec.n == len(time)
    assert abs(rec_km.median - true_km.median) <= MEDIAN_REL_TOL * true_km.median
    for a, b in zip(rec_km.landmarks, true_km.landmarks, strict=True):
        assert abs(a.survival - b.survival) <= LANDMARK_TOL
    assert rec.fit.rmse < RMSE_TOL
    # the published numbers at risk are reproduced exactly
    np.testing.assert_array_equal(rec.n_risk_at(rt), nr)


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_round_trip_noisy_rounded_digitisation(seed: int) -> None:
    # reading noise on survival (SD 0.002), 3 decimals, export order shuffled
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event)
    rng = np.random.default_rng(seed + 100)
    s = np.round(np.clip(s + rng.normal(0, 0.002, s.size), 0, 1), 3)
    order = rng.permutation(t.size)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t[order], s[order], rt, nr)
    assert rec.curve.n_monotone_fixed > 0  # the noise did make the curve go up somewhere
    diff, true_km, rec_km = compare(rec, time, event, rt)
    assert np.abs(diff).max() <= EVENTS_TOL, diff
    assert abs(rec_km.median - true_km.median) <= MEDIAN_REL_TOL * true_km.median
    for a, b in zip(rec_km.landmarks, true_km.landmarks, strict=True):
        assert abs(a.survival - b.survival) <= LANDMARK_TOL
    assert rec.fit.rmse < RMSE_NOISY_TOL


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_round_trip_jittered_times(seed: int) -> None:
    # time read with SD 0.05 months as well: a drop read on the other side of a risk-table
    # time moves its events to the neighbouring interval, so per-interval agreement is
    # looser (+/- 3) while totals and survival stay close
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event, noise=0.05, decimals=3, seed=seed + 100)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr)
    diff, true_km, rec_km = compare(rec, time, event, rt)
    assert np.abs(diff).max() <= 3, diff
    assert abs(rec.events - event.sum()) <= 3
    assert abs(rec_km.median - true_km.median) <= MEDIAN_REL_TOL * true_km.median
    for a, b in zip(rec_km.landmarks, true_km.landmarks, strict=True):
        assert abs(a.survival - b.survival) <= 0.015
    assert rec.fit.rmse < RMSE_NOISY_TOL


def test_no_censoring_is_recovered_exactly() -> None:
    time, event = simulate_cohort(5, censor_max=None, admin=np.inf)
    assert event.all()
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr)
    assert rec.censored == 0
    np.testing.assert_allclose(np.sort(rec.ipd["time"]), np.sort(time))
    assert rec.fit.max_abs_error < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_heavy_censoring(seed: int) -> None:
    time, event = simulate_cohort(seed, censor_max=20.0)
    assert event.mean() < 0.3  # heavy: most patients censored
    t, s = digitise(time, event)
    rt, nr = risk_table(time, step=3.0)
    rec = reconstruct_ipd(t, s, rt, nr)
    diff, true_km, rec_km = compare(rec, time, event, rt, landmarks=(6.0, 12.0))
    assert np.abs(diff).max() <= EVENTS_TOL, diff
    for a, b in zip(rec_km.landmarks, true_km.landmarks, strict=True):
        assert abs(a.survival - b.survival) <= LANDMARK_TOL
    assert rec.fit.rmse < RMSE_TOL


def test_last_interval_guard_keeps_patients_for_the_last_drops() -> None:
    # seed 2 with heavy censoring: the average-rate guess censors everyone before the last drop
    time, event = simulate_cohort(2, censor_max=20.0)
    t, s = digitise(time, event)
    rt, nr = risk_table(time, step=3.0)
    reference = reconstruct_ipd(t, s, rt, nr, end_tolerance=None)
    guarded = reconstruct_ipd(t, s, rt, nr)
    assert reference.fit.max_abs_error > 0.1
    assert guarded.fit.max_abs_error < 0.02
    assert guarded.events == event.sum()
    assert any("last interval" in w for w in guarded.warnings)
    assert not reference.warnings


@pytest.mark.parametrize("seed", [0, 3])
def test_curve_ending_above_one_half(seed: int) -> None:
    time, event = simulate_cohort(seed, scale=80.0)
    t, s = digitise(time, event)
    assert s.min() > 0.5
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr)
    diff, true_km, rec_km = compare(rec, time, event, rt)
    assert np.abs(diff).max() <= EVENTS_TOL
    assert math.isinf(true_km.median) and math.isinf(rec_km.median)
    assert not rec_km.median_reached
    assert rec.to_dict()["median"] is None  # JSON has no infinity


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_no_risk_table_with_n_and_total_events(seed: int) -> None:
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event)
    rec = reconstruct_ipd(t, s, n_patients=len(time), total_events=int(event.sum()))
    true_km = km_summary(time, event, landmarks=(12.0, 24.0))
    rec_km = rec.summary(landmarks=(12.0, 24.0))
    assert rec.n == len(time)
    assert rec.events == event.sum()
    # without a risk table the censoring pattern is a guess: looser, stated tolerances
    for a, b in zip(rec_km.landmarks, true_km.landmarks, strict=True):
        assert abs(a.survival - b.survival) <= 0.02
    assert abs(rec_km.median - true_km.median) <= MEDIAN_REL_TOL * true_km.median
    assert rec.fit.rmse < 0.02


def test_no_risk_table_without_total_events_censors_only_at_the_end() -> None:
    time, event = simulate_cohort(1)
    t, s = digitise(time, event)
    rec = reconstruct_ipd(t, s, n_patients=200)
    assert (rec.ipd.loc[rec.ipd["event"] == 0, "time"] == t.max()).all()
    # no censoring before the end: events = N (1 - S_end), rounded step by step
    assert abs(rec.events - 200 * (1 - s[-1])) <= 2


@pytest.mark.parametrize("seed", [2, 4])
def test_total_events_are_matched_when_the_curve_allows(seed: int) -> None:
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr, total_events=int(event.sum()))
    assert rec.events == event.sum()
    assert rec.total_events == event.sum()
    assert not rec.warnings


def test_total_events_already_reached_before_last_interval() -> None:
    time, event = simulate_cohort(2)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    free = reconstruct_ipd(t, s, rt, nr)
    before_last = int(free.intervals["events"].iloc[:-1].sum())
    rec = reconstruct_ipd(t, s, rt, nr, total_events=before_last - 1)
    assert rec.intervals["events"].iloc[-1] == 0
    assert rec.intervals["censored"].iloc[-1] == 0
    assert any("already reach" in w for w in rec.warnings)


def test_spread_placement_keeps_events_and_counts() -> None:
    time, event = simulate_cohort(3)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    mid = reconstruct_ipd(t, s, rt, nr)
    spread = reconstruct_ipd(t, s, rt, nr, censor_placement="spread")
    pd.testing.assert_frame_equal(
        mid.ipd[mid.ipd["event"] == 1].reset_index(drop=True),
        spread.ipd[spread.ipd["event"] == 1].reset_index(drop=True),
    )
    np.testing.assert_array_equal(spread.n_risk_at(rt), nr)
    cens_mid = mid.ipd.loc[mid.ipd["event"] == 0, "time"]
    cens_spread = spread.ipd.loc[spread.ipd["event"] == 0, "time"]
    assert len(cens_mid) == len(cens_spread)
    assert cens_spread.nunique() > cens_mid.nunique()  # spread times are distinct


def test_published_count_unreachable_is_reported() -> None:
    # a drop of 30% in the first interval but a table claiming 95 of 100 still at risk at 6
    t = np.array([0, 3, 3, 9])
    s = np.array([1, 1, 0.7, 0.7])
    rec = reconstruct_ipd(t, s, [0, 6], [100, 95])
    assert rec.intervals["n_risk_rebuilt"].tolist() == [100, 70]
    assert rec.events == 30
    assert any("more events than the risk table allows" in w for w in rec.warnings)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 150),
    shape=st.floats(0.6, 2.5),
    censor_max=st.one_of(st.none(), st.floats(10.0, 80.0)),
    step=st.sampled_from([3.0, 6.0, 12.0]),
    noise=st.sampled_from([0.0, 0.02]),
)
def test_invariants_hold_for_any_simulated_cohort(
    seed: int, n: int, shape: float, censor_max: float | None, step: float, noise: float
) -> None:
    time, event = simulate_cohort(seed, n=n, shape=shape, censor_max=censor_max)
    t, s = digitise(time, event, noise=noise, decimals=3 if noise else None, seed=seed)
    rt, nr = risk_table(time, step=step)
    keep = rt <= t.max()  # reading noise may put the curve's end before the last risk time
    rt, nr = rt[keep], nr[keep]
    rec = reconstruct_ipd(t, s, rt, nr)
    # everybody accounted for once, times inside the curve, counts never above the table
    assert rec.n == n
    assert rec.ipd["time"].between(0, t.max()).all()
    assert set(rec.ipd["event"].unique()) <= {0, 1}
    rebuilt = rec.n_risk_at(rt)
    assert (rebuilt <= nr).all()
    if not any("risk table allows" in w for w in rec.warnings):
        np.testing.assert_array_equal(rebuilt, nr)
    assert rec.fit.rmse < 0.05


# --------------------------------------------------------------------------- cleaning


def test_cleaning_sorts_fixes_monotonicity_and_keeps_two_readings_per_time() -> None:
    t = np.array([5.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0])
    s = np.array([0.60, 0.95, 0.90, 0.80, 0.85, 0.82, 0.70])
    tv, sv = validate_curve(t, s)
    c = clean_curve(tv, sv, risk_times=[0.0, 2.5])
    # origin added, three readings at 2 cut to two (0.90 and 0.80), 0.82 lowered to 0.80,
    # a point inserted at the risk time 2.5 with the step value 0.80
    np.testing.assert_allclose(c.time, [0, 1, 2, 2, 2.5, 3, 4, 5])
    np.testing.assert_allclose(c.survival, [1, 0.95, 0.90, 0.80, 0.80, 0.80, 0.70, 0.60])
    assert c.n_dropped == 1 and c.n_monotone_fixed == 1 and c.n_inserted == 2
    assert c.upper_corner.tolist() == [False, False, True, False, False, False, False, False]


@pytest.mark.parametrize(("value", "ok"), [(1.01, True), (-0.01, True), (1.0101, False), (-0.0101, False)])
def test_clip_tolerance_boundary(value: float, ok: bool) -> None:
    if ok:
        _, s = validate_curve([0, 1], [1.0, value])
        assert 0.0 <= s[1] <= 1.0
    else:
        with pytest.raises(ValidationError, match="row 2: survival"):
            validate_curve([0, 1], [1.0, value])


def test_percent_scale() -> None:
    _, s = validate_curve([0, 1, 2], [100, 80, 55], scale="percent")
    np.testing.assert_allclose(s, [1, 0.8, 0.55])
    with pytest.raises(ValidationError, match="percent scale"):
        validate_curve([0, 1, 2], [100, 80, 55])


# --------------------------------------------------------------------------- bad input

CURVE_T = [0, 2, 2, 5, 5, 10]
CURVE_S = [1, 1, 0.8, 0.8, 0.6, 0.6]


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        (
            {"risk_time": [0, 4, 8], "n_risk": [50, 40, 45]},
            "at-risk row 3: n_risk: numbers at risk cannot increase",
        ),
        ({"risk_time": [0, 4, 12], "n_risk": [50, 40, 30]}, "at-risk row 3: time: 12 is after the end"),
        ({"risk_time": [1, 4], "n_risk": [50, 40]}, "at-risk row 1: time: the first time must be 0"),
        ({"risk_time": [0, 4, 4], "n_risk": [50, 40, 30]}, "at-risk row 3: time: times must increase"),
        ({"risk_time": [0, 4], "n_risk": [50, 39.5]}, "at-risk row 2: n_risk: must be a whole number"),
        ({"risk_time": [0, 4], "n_risk": [0, 0]}, "at-risk row 1: n_risk: the number at risk at time 0"),
        ({"risk_time": [0, 4], "n_risk": [50, 40], "total_events": 51}, "total_events: 51 events exceed"),
        ({"risk_time": [0, 4], "n_risk": [50, 40], "n_patients": 60}, "n_patients: 60 differs"),
        ({"risk_time": [0, 4]}, "give both"),
        ({}, "n_patients: without a risk table"),
        ({"n_patients": 50, "total_events": -1}, "total_events: must be a whole number >= 0"),
        ({"n_patients": 50, "censor_placement": "random"}, "censor_placement: unknown"),
    ],
)
def test_bad_risk_and_options_name_row_and_field(kwargs: dict, where: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as err:
        reconstruct_ipd(CURVE_T, CURVE_S, **kwargs)
    assert where in str(err.value)


@pytest.mark.parametrize(
    ("t", "s", "where"),
    [
        ([0, 2, 5], [1, 1.5, 0.5], "curve row 2: survival: 1.5 is outside"),
        ([0, -2, 5], [1, 0.9, 0.5], "curve row 2: time: negative time -2"),
        ([0, 2, 5], [1, float("nan"), 0.5], "curve row 2: survival: not a finite number"),
        ([0, "x", 5], [1, 0.9, 0.5], "curve row 2: time: not a finite number: 'x'"),
        ([0], [1], "needs at least 2 digitised points"),
    ],
)
def test_bad_curve_names_row_and_field(t: list, s: list, where: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as err:
        reconstruct_ipd(t, s, n_patients=10)
    assert where in str(err.value)


def test_all_problems_reported_together() -> None:
    with pytest.raises(ValidationError) as err:
        validate_curve([0, -1, 2, 3], [1, 0.9, 2.0, -0.5])
    assert len(err.value.problems) == 3
    assert {p.record for p in err.value.problems} == {"curve row 2", "curve row 3", "curve row 4"}


def test_curve_and_risk_problems_reported_together_in_row_order() -> None:
    with pytest.raises(ValidationError) as err:
        reconstruct_ipd([0, 1, -1], [1, 1.4, 0.9], [0, 1, 2], [10, 12, 5])
    assert [str(p) for p in err.value.problems] == [
        "curve row 2: survival: 1.4 is outside the proportion range (use the percent scale for 0-100 values)",
        "curve row 3: time: negative time -1",
        "at-risk row 2: n_risk: numbers at risk cannot increase: 12 after 10",
    ]


def test_csv_problems(tmp_path: Path) -> None:
    bad = tmp_path / "km.csv"
    bad.write_text("t,surv\n0,1\n")
    with pytest.raises(ValidationError, match=r"km\.csv: time,survival: missing column"):
        reconstruct_from_csv(bad, n_patients=5)
    with pytest.raises(ValidationError, match="no such file"):
        reconstruct_from_csv(tmp_path / "absent.csv", n_patients=5)


# --------------------------------------------------------------------------- fit check, summaries, pooling


def test_fit_check_measures_a_known_offset() -> None:
    time, event = simulate_cohort(1)
    t, s = digitise(time, event)
    tv, sv = validate_curve(t, s)
    exact = fit_check(time, event, clean_curve(tv, sv))
    assert exact.rmse < 1e-12 and exact.ks_distance < 1e-12
    shifted = clean_curve(tv, np.clip(sv - 0.01, 0, 1))  # the whole curve read 1 point too low
    off = fit_check(time, event, shifted)
    # the origin stays at 1, so the error is 0.01 at every point but the first
    assert off.max_abs_error == pytest.approx(0.01)
    assert off.ks_distance == pytest.approx(0.01)
    assert off.rmse == pytest.approx(0.01 * math.sqrt((off.n_points - 1) / off.n_points))


def test_km_summary_landmark_beyond_follow_up_is_nan() -> None:
    time, event = simulate_cohort(0)
    summ = km_summary(time, event, landmarks=(12.0, 1000.0))
    assert 0 < summ.landmarks[0].ci_low < summ.landmarks[0].survival < summ.landmarks[0].ci_high < 1
    assert math.isnan(summ.landmarks[1].survival)
    assert summ.median_ci_low < summ.median < summ.median_ci_high
    with pytest.raises(ValidationError, match="alpha"):
        km_summary(time, event, alpha=1.5)
    with pytest.raises(ValidationError, match="event: must be 0"):
        km_summary([1.0, 2.0], [1, 2])
    with pytest.raises(ValidationError, match="time: times must be finite"):
        km_summary([1.0, -2.0], [1, 0])
    with pytest.raises(ValidationError, match="0 times"):
        km_summary([], [])


def test_pool_reconstructed_studies() -> None:
    recs = {}
    truths = {}
    for label, scale, seed in (("A", 24.0, 0), ("B", 24.0, 1), ("C", 60.0, 2)):
        time, event = simulate_cohort(seed, scale=scale)
        t, s = digitise(time, event)
        rt, nr = risk_table(time)
        recs[label] = reconstruct_ipd(t, s, rt, nr)
        truths[label] = (time, event)
    pooled = pool_reconstructed(recs, landmarks=(12.0,))
    assert len(pooled.stacked) == 600
    assert pooled.pooled.events == sum(r.events for r in recs.values())
    assert [b.label for b in pooled.by_study] == ["A", "B", "C"]
    frame = pooled.to_frame()
    assert frame["study"].tolist() == ["A", "B", "C", "pooled"]
    assert "S(12)_ci_low" in frame.columns
    # pooled landmark survival equals the KM of the stacked true cohorts within tolerance
    all_t = np.concatenate([v[0] for v in truths.values()])
    all_e = np.concatenate([v[1] for v in truths.values()])
    true_pooled = km_summary(all_t, all_e, landmarks=(12.0,))
    assert abs(pooled.pooled.landmarks[0].survival - true_pooled.landmarks[0].survival) <= LANDMARK_TOL
    assert pooled.logrank_df == 2 and pooled.logrank_p < 0.001  # C has a much lower hazard
    alike = pool_reconstructed({"A": recs["A"], "B": recs["B"]})
    assert alike.logrank_p > 0.05
    assert pooled.pooled_curve["n_risk"].iloc[0] == 600
    json.dumps(pooled.to_dict())


def test_pool_single_study_and_bad_frames() -> None:
    single = pool_reconstructed({"only": pd.DataFrame({"time": [1.0, 2.0, 3.0], "event": [1, 0, 1]})})
    assert math.isnan(single.logrank_p) and single.logrank_df == 0
    with pytest.raises(ValidationError) as err:
        pool_reconstructed(
            {
                "x": pd.DataFrame({"time": [1.0]}),
                "y": pd.DataFrame({"time": [1.0], "event": [2]}),
                "z": pd.DataFrame({"time": [-1.0], "event": [1]}),
            }
        )
    msg = str(err.value)
    assert "study x: event: missing" in msg and "study y: event" in msg and "study z: time" in msg
    with pytest.raises(ValidationError, match="nothing to pool"):
        pool_reconstructed({})


# --------------------------------------------------------------------------- plot


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_formats(tmp_path: Path, suffix: str, magic: bytes) -> None:
    time, event = simulate_cohort(0)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    rec = reconstruct_ipd(t, s, rt, nr)
    fig = plot_reconstruction(rec)
    assert fig.axes[0].get_ylabel() == "Survival probability"
    assert f"n = {rec.n}" in fig.axes[0].get_legend().get_texts()[2].get_text()
    out = save_figure(fig, tmp_path / f"km{suffix}")
    assert out.read_bytes()[:5].startswith(magic)
    with pytest.raises(ValidationError, match="unsupported figure format"):
        save_figure(fig, tmp_path / "km.jpg")


# --------------------------------------------------------------------------- CLI


def _write_inputs(tmp_path: Path, seed: int = 2) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    time, event = simulate_cohort(seed)
    t, s = digitise(time, event)
    rt, nr = risk_table(time)
    curve = tmp_path / "curve.csv"
    risk = tmp_path / "atrisk.csv"
    pd.DataFrame({"time": t, "survival": s}).to_csv(curve, index=False)
    pd.DataFrame({"time": rt, "n_risk": nr}).to_csv(risk, index=False)
    return curve, risk, time, event


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    evidence = typer.Typer()
    evidence_ipd_cmd.register(evidence)
    root.add_typer(evidence, name="evidence")
    return root


def test_cli_reconstruct_writes_ipd_and_plot(app: typer.Typer, tmp_path: Path) -> None:
    curve, risk, _, _ = _write_inputs(tmp_path)
    out, png = tmp_path / "ipd.csv", tmp_path / "km.png"
    args = ["evidence", "reconstruct", "--curve", str(curve), "--at-risk", str(risk)]
    res = CliRunner().invoke(app, [*args, "--out", str(out), "--plot", str(png), "--landmark", "12"])
    assert res.exit_code == 0, res.output
    ipd = pd.read_csv(out)
    assert list(ipd.columns) == ["time", "event"] and len(ipd) == 200
    assert f"Reconstructed 200 patients: {ipd['event'].sum()} events" in res.output
    assert "S(12) = " in res.output and "RMSE" in res.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_json_and_stdout_ipd(app: typer.Typer, tmp_path: Path) -> None:
    curve, risk, _, event = _write_inputs(tmp_path)
    args = ["evidence", "reconstruct", "--curve", str(curve), "--at-risk", str(risk)]
    res = CliRunner().invoke(app, [*args, "--json", "--total-events", str(event.sum()), "--landmark", "24"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n"] == 200 and data["events"] == event.sum() and data["total_events_reported"] == event.sum()
    assert data["fit"]["rmse"] < RMSE_TOL and len(data["landmarks"]) == 1
    published = pd.read_csv(risk)["n_risk"].tolist()
    assert [row["n_risk_published"] for row in data["intervals"]] == published
    res = CliRunner().invoke(app, [*args, "--out", "-"])
    assert res.exit_code == 0
    assert res.stdout.startswith("time,event\n") and len(res.stdout.strip().splitlines()) == 201


def test_cli_without_risk_table(app: typer.Typer, tmp_path: Path) -> None:
    curve, _, _, event = _write_inputs(tmp_path)
    res = CliRunner().invoke(
        app, ["evidence", "reconstruct", "--curve", str(curve), "-N", "200", "-D", str(event.sum()), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["events"] == event.sum()


def test_cli_bad_input_exit_2_names_row_and_field(app: typer.Typer, tmp_path: Path) -> None:
    curve, risk, _, _ = _write_inputs(tmp_path)
    risk.write_text("time,n_risk\n0,200\n6,150\n12,160\n")
    res = CliRunner().invoke(app, ["evidence", "reconstruct", "--curve", str(curve), "--at-risk", str(risk)])
    assert res.exit_code == 2
    assert "atrisk.csv row 3: n_risk: numbers at risk cannot increase" in res.stderr
    assert res.stdout == ""
    res = CliRunner().invoke(app, ["evidence", "reconstruct", "--curve", str(curve)])
    assert res.exit_code == 2 and "without a risk table" in res.stderr
    res = CliRunner().invoke(
        app, ["evidence", "reconstruct", "--curve", str(curve), "-N", "5", "--json", "--out", "-"]
    )
    assert res.exit_code == 2


def test_cli_through_main_app(tmp_path: Path) -> None:
    from typer.main import get_command

    from lupuscell.cli.main import app as main_app

    group = get_command(main_app).commands.get("evidence")  # type: ignore[attr-defined]
    assert group is not None and "reconstruct" in group.commands
    curve, risk, _, _ = _write_inputs(tmp_path)
    res = CliRunner().invoke(
        main_app, ["evidence", "reconstruct", "--curve", str(curve), "--at-risk", str(risk)]
    )
    assert res.exit_code == 0, res.output
    assert "Reconstructed 200 patients" in res.output


# --------------------------------------------------------------------------- docs example


def doc_example_inputs() -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The simulated example of docs/evidence/reconstruct.md (seed 2026, n = 150)."""
    time, event = simulate_cohort(2026, n=150, scale=30.0, shape=1.1)
    t, s = digitise(time, event, noise=0.02, decimals=3, seed=2027)
    rt, nr = risk_table(time)
    return (
        pd.DataFrame({"time": np.round(t, 2), "survival": s}),
        pd.DataFrame({"time": rt, "n_risk": nr}),
        int(event.sum()),
    )


def test_docs_example_data_is_the_documented_simulation() -> None:
    curve, risk, _ = doc_example_inputs()
    pd.testing.assert_frame_equal(pd.read_csv(DOC_DATA / "simulated_km_curve.csv", comment="#"), curve)
    pd.testing.assert_frame_equal(
        pd.read_csv(DOC_DATA / "simulated_km_at_risk.csv", comment="#"), risk, check_dtype=False
    )


def test_docs_cli_example_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: typer.Typer
) -> None:
    text = DOC.read_text()
    block = re.search(r"```console\n\$ (lupuscell evidence reconstruct[^\n]*)\n(.*?)```", text, re.S)
    assert block, "the console example is missing from docs/evidence/reconstruct.md"
    argv = shlex.split(block.group(1))[1:]
    expected = [line for line in block.group(2).splitlines() if line.strip()]
    _, _, total = doc_example_inputs()
    assert f"--total-events {total}" in block.group(1)
    monkeypatch.chdir(REPO)
    argv = [a.replace("ipd.csv", str(tmp_path / "ipd.csv")) if a.endswith("ipd.csv") else a for a in argv]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    got = [line for line in res.stdout.splitlines() if line.strip()]
    got = [g.replace(str(tmp_path / "ipd.csv"), "ipd.csv") for g in got]
    assert got == expected
