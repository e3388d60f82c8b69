"""Individual patient data rebuilt from a published Kaplan-Meier curve (Guyot et al. 2012).

Given the digitised coordinates of a Kaplan-Meier curve and the numbers at risk printed under
it, :func:`reconstruct_ipd` finds event and censoring times whose Kaplan-Meier estimate
reproduces the curve and whose numbers at risk match the table. The rebuilt data can then be
summarised (:func:`km_summary`, in :mod:`lupuscell.evidence.ipd_km`), checked against the curve
(:func:`fit_check`) and pooled with other studies (:func:`pool_reconstructed`, in
:mod:`lupuscell.evidence.ipd_pool`); both are re-exported here.

Algorithm (Guyot et al. 2012; R ``IPDfromKM``'s ``getIPD`` is the reference implementation)
-------------------------------------------------------------------------------------------
The risk-table times ``t_1 = 0 < t_2 < ... < t_m`` cut the curve into intervals. For each
interval ``i < m`` with ``n_i`` at risk at its start and ``n_{i+1}`` at its end:

1. guess the number censored, ``nc_i = round(n_i * S(t_{i+1}) / S(t_i) - n_{i+1})``;
2. spread ``nc_i`` censoring times evenly over the interval,
   ``t_i + j (t_{i+1} - t_i) / (nc_i + 1)``, and count how many fall between consecutive
   digitised points;
3. walk the points: at point ``k`` the events are ``d_k = round(n_k (1 - S_k / KM_last))``, the
   rebuilt curve is ``KM_k = KM_last (1 - d_k / n_k)`` (``KM_last`` is the rebuilt value at
   the last point with an event) and ``n_{k+1} = n_k - d_k - cen_k``;
4. compare the rebuilt number at risk at ``t_{i+1}`` with the published one, move ``nc_i``
   by the difference and repeat 2-4 until they agree or ``nc_i`` reaches 0 or
   ``n_i - n_{i+1}``.

If the iteration cycles, the ``nc_i`` with the smallest disagreement is kept; a remaining
surplus at risk is censored at the end of the interval, a deficit (the curve's drops need
more events than the table allows) is kept and reported in :attr:`Reconstruction.warnings`.

The last interval has no count at its end. Censoring there is assumed to continue at the
average rate of the earlier intervals (censorings per unit time, Guyot's formula; IPDfromKM
scales the mean count per interval by the length of the previous interval, the same for
equally spaced risk tables), capped at the number at risk
less the events still owed to the reported total ``D``. When ``D`` is given, the number
censored in the last interval is then moved by (events rebuilt - ``D``) until the totals agree,
as in Guyot's code; if the earlier intervals already hold ``D`` events, the last interval gets
no events and no censoring. Without ``D``, lupuscell adds one guard of its own: if the
average-rate censoring leaves too few at risk for the curve's last drops, so that the rebuilt
curve ends more than ``end_tolerance`` (default 0.02) away from the digitised one (above it:
drops missed; below it: one event taking a large bite), the censoring of the last interval is
reduced until it does not (a visible drop needs enough patients at risk to be that size). Pass
``end_tolerance=None`` for the reference behaviour.

Without a risk table (only the initial ``N``), the curve is one interval with ``N - D``
censorings as the first guess when ``D`` is known, none otherwise.

Output: ``d_k`` events at ``T_k``; censorings at the midpoint of the pair of points they fall
between (``censor_placement="midpoint"``, IPDfromKM's choice) or at the evenly spread times of
step 2 (``"spread"``); whoever is still at risk at the end is censored at the last time.

Why hand-written
----------------
No maintained Python implementation exists; Python users call the R package ``IPDfromKM``
through rpy2. R ``IPDfromKM`` (``preprocess``, ``getIPD``, ``survreport``) is the reference
this module follows; downstream, every Kaplan-Meier estimate, confidence interval and median
is the analysis Kaplan-Meier (:func:`lupuscell.analysis.survival.kaplan_meier`, checked against
R survival) and the log-rank test is lifelines'.

Limitations
-----------
Reconstruction is only as good as the inputs: without a risk table or a total number of events,
the censoring pattern is a guess and hazard ratios computed from the data are unreliable
(Guyot et al. 2012 found HRs accurate only when numbers at risk or total events were reported).

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9. doi:10.1186/1471-2288-12-9.

Liu N, Zhou Y, Lee JJ. IPDfromKM: reconstruct individual patient data from published
Kaplan-Meier survival curves. BMC Med Res Methodol 2021;21:111.
doi:10.1186/s12874-021-01308-8.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from lupuscell.analysis.conventions import numbers_at_risk
from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.ipd_km import (
    KMSummary,
    LandmarkSurvival,
    json_float,
    km_step_curve,
    km_summary,
    step_value,
)
from lupuscell.evidence.ipd_pool import PooledSurvival, pool_reconstructed
from lupuscell.evidence.km_digitised import (
    DEFAULT_CLIP_TOLERANCE,
    DigitisedCurve,
    FloatArray,
    IntArray,
    RiskTable,
    check_risk_within_curve,
    clean_curve,
    read_curve_csv,
    read_risk_csv,
    validate_curve,
    validate_risk_table,
)

__all__ = [
    "CensorPlacement",
    "FitCheck",
    "KMSummary",
    "LandmarkSurvival",
    "PooledSurvival",
    "Reconstruction",
    "fit_check",
    "km_step_curve",
    "km_summary",
    "pool_reconstructed",
    "reconstruct_from_csv",
    "reconstruct_ipd",
    "step_value",
]

CensorPlacement = Literal["midpoint", "spread"]
_P = TypeVar("_P")
CENSOR_PLACEMENTS: tuple[str, ...] = ("midpoint", "spread")

#: Last-interval guard (lupuscell addition, see module docstring): without a reported total,
#: if the rebuilt curve ends more than this away from the digitised one, censor less there.
DEFAULT_END_TOLERANCE = 0.02

#: Safety bound on the censoring adjustment loop of one interval (it usually needs < 10).
MAX_ITERATIONS = 200


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FitCheck:
    """Agreement between the Kaplan-Meier curve of the rebuilt data and the digitised curve.

    As reported by R ``IPDfromKM::getIPD``: the refitted curve is evaluated at every digitised
    point (at its left limit for the top reading of a vertical drop) and compared with the
    digitised survival. ``ks_distance`` is the largest vertical distance between the two step
    curves over all times (a two-sample Kolmogorov-Smirnov-type statistic on survival
    functions). No p-value is given: digitised points are not a random sample, so a KS test
    p-value would have no meaning.
    """

    n_points: int
    rmse: float
    mean_abs_error: float
    max_abs_error: float
    ks_distance: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n_points": self.n_points,
            "rmse": self.rmse,
            "mean_abs_error": self.mean_abs_error,
            "max_abs_error": self.max_abs_error,
            "ks_distance": self.ks_distance,
        }


@dataclass(frozen=True)
class Reconstruction:
    """Rebuilt individual patient data and how it was obtained.

    Attributes
    ----------
    ipd
        One row per patient: ``time`` (float, the curve's time unit) and ``event`` (1 event,
        0 censored), sorted by time.
    curve
        The cleaned digitised curve the algorithm ran on.
    risk_table
        The published risk table (a single row ``(0, N)`` in no-risk-table mode).
    intervals
        Per risk-table interval: ``start``, ``end``, ``n_risk_published``,
        ``n_risk_rebuilt`` (at the start), ``events``, ``censored``, ``iterations``.
    fit
        :class:`FitCheck` of the rebuilt data against the digitised curve.
    total_events
        The reported total number of events ``D``, if given.
    warnings
        Everything the algorithm had to bend (published counts it could not reach, ...).
    """

    ipd: pd.DataFrame
    curve: DigitisedCurve
    risk_table: RiskTable
    intervals: pd.DataFrame
    fit: FitCheck
    total_events: int | None
    censor_placement: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        return len(self.ipd)

    def to_frame(self) -> pd.DataFrame:
        """The rebuilt patients: ``time, event`` (a copy)."""
        return self.ipd.copy()

    @property
    def events(self) -> int:
        return int(self.ipd["event"].sum())

    @property
    def censored(self) -> int:
        return self.n - self.events

    def summary(self, landmarks: Sequence[float] = (), alpha: float = 0.05, label: str = "") -> KMSummary:
        """Kaplan-Meier summary of the rebuilt data (see :func:`km_summary`)."""
        return km_summary(self.ipd["time"], self.ipd["event"], landmarks=landmarks, alpha=alpha, label=label)

    def n_risk_at(self, times: npt.ArrayLike) -> IntArray:
        """Rebuilt numbers at risk at ``times`` (patients with time >= t)."""
        return np.asarray(numbers_at_risk(self.ipd["time"], np.atleast_1d(times)), dtype=np.int64)

    def to_dict(self, landmarks: Sequence[float] = (), alpha: float = 0.05) -> dict[str, Any]:
        summ = self.summary(landmarks=landmarks, alpha=alpha)
        return {
            "n": self.n,
            "events": self.events,
            "censored": self.censored,
            "total_events_reported": self.total_events,
            "median": json_float(summ.median),
            "median_ci_low": json_float(summ.median_ci_low),
            "median_ci_high": json_float(summ.median_ci_high),
            "alpha": alpha,
            "landmarks": [lm.to_dict() for lm in summ.landmarks],
            "fit": self.fit.to_dict(),
            "censor_placement": self.censor_placement,
            "curve_points": {
                "input": self.curve.n_input,
                "used": len(self.curve),
                "monotone_fixed": self.curve.n_monotone_fixed,
                "dropped": self.curve.n_dropped,
                "inserted": self.curve.n_inserted,
            },
            "intervals": [
                {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in self.intervals.to_dict(orient="records")
            ],
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------- engine


@dataclass
class _Pass:
    """One walk through the points of an interval."""

    d: IntArray
    cen: IntArray
    n_end: int
    km_last: float


class _Engine:
    """The point-by-point walk on one cleaned curve (steps 2-3 of the module docstring)."""

    def __init__(self, curve: DigitisedCurve) -> None:
        self.t = curve.time
        self.s = curve.survival

    def spread(self, nc: int, lo: int, hi: int, t_to: float) -> tuple[IntArray, FloatArray, IntArray]:
        """Censoring times spread evenly over ``[T_lo, t_to)``: counts per point bin, times, bins."""
        n_bins = hi - lo + 1
        if nc <= 0:
            return np.zeros(n_bins, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64)
        t_from = self.t[lo]
        times = t_from + np.arange(1, nc + 1) * (t_to - t_from) / (nc + 1)
        bins = np.searchsorted(self.t[lo : hi + 1], times, side="right") - 1
        bins = np.clip(bins, 0, n_bins - 1)
        return np.bincount(bins, minlength=n_bins).astype(np.int64), times, bins

    def walk(
        self, lo: int, hi: int, n_start: int, km_start: float, cen: IntArray, events: bool = True
    ) -> _Pass:
        """Events and numbers at risk at points ``lo..hi`` given the censorings per bin."""
        d = np.zeros(hi - lo + 1, dtype=np.int64)
        cen_used = cen.copy()
        n = n_start
        km_last = km_start
        for j, k in enumerate(range(lo, hi + 1)):
            dk = 0
            if events and n > 0 and km_last > 0:
                dk = int(np.rint(n * (1.0 - self.s[k] / km_last)))
                dk = min(max(dk, 0), n)
            if dk > 0:
                km_last *= 1.0 - dk / n
            ck = min(int(cen_used[j]), n - dk)  # nobody can be censored twice
            cen_used[j] = ck
            d[j] = dk
            n -= dk + ck
        return _Pass(d=d, cen=cen_used, n_end=n, km_last=km_last)


def _adjust(
    evaluate: Callable[[int], _P], nc0: int, upper: int, target_diff: Callable[[_P], int], max_iter: int
) -> tuple[int, _P, int]:
    """Move ``nc`` by the disagreement until it vanishes, hits a bound, or cycles.

    ``evaluate(nc)`` returns a pass; ``target_diff(pass)`` the signed disagreement (positive:
    too many at risk / too many events, fixed by censoring more). Returns the chosen ``nc``,
    its pass and the number of passes made.
    """
    nc = min(max(nc0, 0), upper)
    tried: dict[int, int] = {}
    run = evaluate(nc)
    for iteration in range(1, max_iter + 1):
        diff = target_diff(run)
        tried[nc] = diff
        if diff == 0 or (diff < 0 and nc == 0) or (diff > 0 and nc == upper):
            return nc, run, iteration
        new = min(max(nc + diff, 0), upper)
        if new in tried or iteration == max_iter:
            # cycling: keep the closest, preferring a surplus (fixable by censoring) on ties
            best = min(tried, key=lambda c: (abs(tried[c]), tried[c] < 0))
            return best, (run if best == nc else evaluate(best)), iteration + (best != nc)
        nc = new
        run = evaluate(nc)
    raise AssertionError("unreachable")  # pragma: no cover


def _censor_times(
    curve: DigitisedCurve, cen: IntArray, spread_times: list[FloatArray], placement: str
) -> FloatArray:
    t = curve.time
    if placement == "midpoint":
        nxt = np.append(t[1:], t[-1])
        return np.repeat((t + nxt) / 2.0, cen)
    return np.concatenate(spread_times) if spread_times else np.empty(0)


def _validate_options(
    n_patients: int | None,
    total_events: int | None,
    censor_placement: str,
    risk_given: bool,
    max_iter: int,
) -> None:
    problems: list[Problem] = []
    if censor_placement not in CENSOR_PLACEMENTS:
        problems.append(
            Problem(
                "options", "censor_placement", f"unknown {censor_placement!r}; use one of {CENSOR_PLACEMENTS}"
            )
        )
    if not risk_given and n_patients is None:
        problems.append(
            Problem(
                "options", "n_patients", "without a risk table the initial number of patients N is required"
            )
        )
    if n_patients is not None and (n_patients != int(n_patients) or n_patients <= 0):
        problems.append(Problem("options", "n_patients", f"must be a whole number > 0, got {n_patients}"))
    if max_iter < 1:
        problems.append(Problem("options", "max_iter", f"must be >= 1, got {max_iter}"))
    if total_events is not None and (total_events != int(total_events) or total_events < 0):
        problems.append(
            Problem("options", "total_events", f"must be a whole number >= 0, got {total_events}")
        )
    if problems:
        raise ValidationError(problems)


def _validated_inputs(
    curve_time: npt.ArrayLike,
    curve_survival: npt.ArrayLike,
    risk_time: npt.ArrayLike | None,
    n_risk: npt.ArrayLike | None,
    n_patients: int | None,
    scale: str,
    clip_tolerance: float,
    curve_source: str,
    risk_source: str,
) -> tuple[FloatArray, FloatArray, RiskTable]:
    """The checked curve coordinates and risk table; every problem of both reported at once."""
    risk_given = risk_time is not None or n_risk is not None
    problems: list[Problem] = []
    curve_xy: tuple[FloatArray, FloatArray] | None = None
    table: RiskTable | None = None
    try:
        curve_xy = validate_curve(
            curve_time, curve_survival, source=curve_source, scale=scale, clip_tolerance=clip_tolerance
        )
    except ValidationError as exc:  # keep going: report the risk table's problems too
        problems.extend(exc.problems)
    if risk_given:
        if risk_time is None or n_risk is None:
            raise ValidationError.single(risk_source, "n_risk", "give both the risk times and the counts")
        try:
            table = validate_risk_table(risk_time, n_risk, source=risk_source)
        except ValidationError as exc:
            problems.extend(exc.problems)
    else:
        assert n_patients is not None
        table = RiskTable(time=np.array([0.0]), n_risk=np.array([int(n_patients)], dtype=np.int64))
    if problems:
        raise ValidationError(problems)
    assert curve_xy is not None and table is not None
    if risk_given and n_patients is not None and int(n_patients) != int(table.n_risk[0]):
        raise ValidationError.single(
            "options",
            "n_patients",
            f"{n_patients} differs from the {table.n_risk[0]} at risk at time 0 in {risk_source}",
        )
    check_risk_within_curve(table, curve_xy[0], source=risk_source)
    return curve_xy[0], curve_xy[1], table


def reconstruct_ipd(
    curve_time: npt.ArrayLike,
    curve_survival: npt.ArrayLike,
    risk_time: npt.ArrayLike | None = None,
    n_risk: npt.ArrayLike | None = None,
    *,
    n_patients: int | None = None,
    total_events: int | None = None,
    censor_placement: CensorPlacement = "midpoint",
    scale: str = "proportion",
    clip_tolerance: float = DEFAULT_CLIP_TOLERANCE,
    max_iter: int = MAX_ITERATIONS,
    end_tolerance: float | None = DEFAULT_END_TOLERANCE,
    curve_source: str = "curve",
    risk_source: str = "at-risk",
) -> Reconstruction:
    """Rebuild individual patient data from a digitised Kaplan-Meier curve (Guyot 2012).

    Parameters
    ----------
    curve_time, curve_survival
        Digitised coordinates (any order; cleaned as in :mod:`lupuscell.evidence.km_digitised`).
    risk_time, n_risk
        The published risk table (first time 0). Omit both to use ``n_patients`` alone.
    n_patients
        Initial number of patients ``N``; required without a risk table, and must equal the
        first count when both are given.
    total_events
        Reported total number of events ``D`` (optional; improves the last interval, and the
        whole curve when there is no risk table).
    censor_placement
        ``"midpoint"`` (IPDfromKM) or ``"spread"`` (the evenly spread times themselves).
    scale
        Survival scale of the input: ``"proportion"`` or ``"percent"``.
    clip_tolerance
        Survival within this margin outside [0, 1] is clipped, beyond it rejected.
    max_iter
        Bound on the censoring adjustment passes per interval.
    end_tolerance
        Last-interval guard (used only without ``total_events``): if the rebuilt curve ends
        more than this away from the digitised curve, the last interval's censoring is reduced
        until it does not (or as far as it helps). ``None`` turns the guard off, which is
        Guyot's and IPDfromKM's behaviour.
    curve_source, risk_source
        Names used in error messages (e.g. file names).

    Returns
    -------
    Reconstruction

    Raises
    ------
    ValidationError
        Bad coordinates, risk table or options, each naming the row and field.
    """
    risk_given = risk_time is not None or n_risk is not None
    _validate_options(n_patients, total_events, censor_placement, risk_given, max_iter)
    t_raw, s_raw, table = _validated_inputs(
        curve_time,
        curve_survival,
        risk_time,
        n_risk,
        n_patients,
        scale,
        clip_tolerance,
        curve_source,
        risk_source,
    )
    if total_events is not None and total_events > table.n_risk[0]:
        raise ValidationError.single(
            "options", "total_events", f"{total_events} events exceed the {table.n_risk[0]} patients"
        )
    curve = clean_curve(t_raw, s_raw, risk_times=table.time)
    return _reconstruct(curve, table, total_events, censor_placement, max_iter, end_tolerance)


_Run = tuple[_Pass, FloatArray, IntArray]


@dataclass
class _Interval:
    """One risk-table interval as the walk sees it: point indices, counts at its start, KM."""

    i: int
    lo: int
    hi: int
    n_i: int
    km_start: float


def _middle_interval(
    eng: _Engine, table: RiskTable, iv: _Interval, n_eff: IntArray, max_iter: int, warnings: list[str]
) -> tuple[_Run, int]:
    """Steps 1-4 of the module docstring for an interval with a published count at its end."""
    t, s = eng.t, eng.s
    lower_next = int(np.searchsorted(t, table.time[iv.i + 1], side="left"))
    n_next = int(n_eff[iv.i + 1])
    t_to = float(t[lower_next])
    cap = max(iv.n_i - n_next, 0)
    guess = int(np.rint(iv.n_i * s[lower_next] / s[iv.lo] - n_next)) if s[iv.lo] > 0 else 0

    def evaluate(nc: int) -> _Run:
        counts, times, bins = eng.spread(nc, iv.lo, iv.hi, t_to)
        return eng.walk(iv.lo, iv.hi, iv.n_i, iv.km_start, counts), times, bins

    _, (run, times, bins), iters = _adjust(evaluate, guess, cap, lambda r: r[0].n_end - n_next, max_iter)
    if run.n_end > n_next:  # surplus left after cycling: censor it at the interval's end
        extra = run.n_end - n_next
        run.cen[-1] += extra
        times = np.append(times, np.full(extra, (t[iv.hi] + t_to) / 2.0))
        bins = np.append(bins, np.full(extra, iv.hi - iv.lo))
        run.n_end = n_next
    elif run.n_end < n_next:
        warnings.append(
            f"interval {table.time[iv.i]:g}-{table.time[iv.i + 1]:g}: the curve's drops need more "
            f"events than the risk table allows; {run.n_end} at risk at {table.time[iv.i + 1]:g} "
            f"instead of the published {n_next}"
        )
        n_eff[iv.i + 1] = run.n_end
    return (run, times, bins), iters


def _last_guarded(
    evaluate: Callable[[int], _Run],
    nc: int,
    end_s: float,
    end_tolerance: float | None,
    start: float,
    warnings: list[str],
) -> tuple[_Run, int]:
    """Last interval without a reported total, with lupuscell's end-of-curve guard."""
    run = evaluate(nc)
    iters = 1
    excess = run[0].km_last - end_s
    if end_tolerance is None or nc == 0 or abs(excess) <= end_tolerance:
        return run, iters
    # the average-rate guess censored the patients the last drops need (too few at risk: drops
    # missed, or one event halving the curve); censor fewer, as many as the curve's end allows
    best_nc, best_excess, best = nc, excess, run
    for cand in range(nc - 1, -1, -1):
        trial = evaluate(cand)
        iters += 1
        cand_excess = trial[0].km_last - end_s
        if abs(cand_excess) < abs(best_excess):
            best_nc, best_excess, best = cand, cand_excess, trial
        if abs(cand_excess) <= end_tolerance:
            break
    warnings.append(
        f"last interval from {start:g}: {nc} censorings at the earlier average "
        f"rate left too few at risk for the curve's last drops (rebuilt curve ended "
        f"{excess:+.3f} from it); reduced to {best_nc}"
    )
    return best, iters


def _last_interval(
    eng: _Engine,
    table: RiskTable,
    iv: _Interval,
    before: tuple[int, int],
    total_events: int | None,
    max_iter: int,
    end_tolerance: float | None,
    warnings: list[str],
) -> tuple[_Run, int]:
    """The last interval: average-rate censoring, matched to the reported total when given."""
    t, s = eng.t, eng.s
    events_before, cen_before = before
    m = len(table)
    if m == 1:
        guess = iv.n_i - total_events if total_events is not None else 0
    else:
        span = float(table.time[-1] - table.time[0])
        rate = cen_before / span if span > 0 else 0.0
        guess = int(np.rint(rate * (t[iv.hi] - t[iv.lo])))
    owed = max(0, total_events - events_before) if total_events is not None else 0
    cap = max(iv.n_i - owed, 0)
    t_end = float(t[iv.hi])

    def evaluate(nc: int, events: bool = True) -> _Run:
        counts, times, bins = eng.spread(nc, iv.lo, iv.hi, t_end)
        return eng.walk(iv.lo, iv.hi, iv.n_i, iv.km_start, counts, events=events), times, bins

    if total_events is not None and events_before >= total_events and m > 1:
        if s[iv.hi] < s[iv.lo]:
            warnings.append(
                f"the {events_before} events before {table.time[iv.i]:g} already reach the reported "
                f"total {total_events}; the curve's later drops were given no events"
            )
        return evaluate(0, events=False), 1
    if total_events is None:
        nc = min(max(guess, 0), cap)
        return _last_guarded(evaluate, nc, float(s[iv.hi]), end_tolerance, float(table.time[iv.i]), warnings)
    target = total_events
    _, run, iters = _adjust(
        evaluate, min(guess, cap), iv.n_i, lambda r: events_before + int(r[0].d.sum()) - target, max_iter
    )
    got = events_before + int(run[0].d.sum())
    if got != total_events:
        warnings.append(
            f"rebuilt {got} events in total, the reported total is {total_events}: "
            "the curve and the total cannot both be matched"
        )
    return run, iters


def _ipd_frame(
    curve: DigitisedCurve,
    d_all: IntArray,
    cen_all: IntArray,
    spread_times: list[FloatArray],
    placement: str,
    remaining: int,
) -> pd.DataFrame:
    """Events at the points, censorings where placed, and the rest censored at the last time."""
    t = curve.time
    ev_times = np.repeat(t, d_all)
    cen_times = _censor_times(curve, cen_all, spread_times, placement)
    end_times = np.full(remaining, t[-1])
    ipd = pd.DataFrame(
        {
            "time": np.concatenate((ev_times, cen_times, end_times)),
            "event": np.concatenate(
                (np.ones(ev_times.size, np.int64), np.zeros(cen_times.size + end_times.size, np.int64))
            ),
        }
    )
    return ipd.sort_values(["time", "event"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _reconstruct(
    curve: DigitisedCurve,
    table: RiskTable,
    total_events: int | None,
    placement: str,
    max_iter: int,
    end_tolerance: float | None,
) -> Reconstruction:
    eng = _Engine(curve)
    t = curve.time
    m = len(table)
    lower = np.searchsorted(t, table.time, side="left")
    upper = np.append(lower[1:] - 1, t.size - 1)
    n_eff = table.n_risk.astype(np.int64).copy()
    d_all = np.zeros(t.size, dtype=np.int64)
    cen_all = np.zeros(t.size, dtype=np.int64)
    spread_times: list[FloatArray] = []
    km_last = 1.0
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    remaining = 0
    for i in range(m):
        iv = _Interval(i, int(lower[i]), int(upper[i]), int(n_eff[i]), km_last)
        last = i == m - 1
        if not last:
            (run, times, bins), iters = _middle_interval(eng, table, iv, n_eff, max_iter, warnings)
        else:
            before = (int(d_all[: iv.lo].sum()), int(cen_all[: iv.lo].sum()))
            (run, times, bins), iters = _last_interval(
                eng, table, iv, before, total_events, max_iter, end_tolerance, warnings
            )
            remaining = run.n_end
        d_all[iv.lo : iv.hi + 1] = run.d
        cen_all[iv.lo : iv.hi + 1] = run.cen
        if placement == "spread":  # keep, per bin, as many spread times as the walk could censor
            spread_times.extend(times[bins == j][: int(c)] for j, c in enumerate(run.cen))
        km_last = run.km_last
        rows.append(
            {
                "start": float(table.time[i]),
                "end": float(table.time[i + 1]) if not last else float(t[iv.hi]),
                "n_risk_published": int(table.n_risk[i]),
                "n_risk_rebuilt": iv.n_i,
                "events": int(run.d.sum()),
                "censored": int(run.cen.sum()),
                "iterations": int(iters),
            }
        )
    ipd = _ipd_frame(curve, d_all, cen_all, spread_times, placement, remaining)
    return Reconstruction(
        ipd=ipd,
        curve=curve,
        risk_table=table,
        intervals=pd.DataFrame(rows),
        fit=fit_check(ipd["time"], ipd["event"], curve),
        total_events=total_events,
        censor_placement=placement,
        warnings=tuple(warnings),
    )


def reconstruct_from_csv(
    curve_csv: str | Path,
    risk_csv: str | Path | None = None,
    *,
    n_patients: int | None = None,
    total_events: int | None = None,
    censor_placement: CensorPlacement = "midpoint",
    scale: str = "proportion",
) -> Reconstruction:
    """:func:`reconstruct_ipd` on a curve CSV (``time,survival``) and a risk CSV (``time,n_risk``)."""
    t, s = read_curve_csv(curve_csv, scale=scale)
    if risk_csv is None:
        return reconstruct_ipd(
            t,
            s,
            n_patients=n_patients,
            total_events=total_events,
            censor_placement=censor_placement,
            curve_source=Path(curve_csv).name,
        )
    table = read_risk_csv(risk_csv)
    return reconstruct_ipd(
        t,
        s,
        table.time,
        table.n_risk,
        n_patients=n_patients,
        total_events=total_events,
        censor_placement=censor_placement,
        curve_source=Path(curve_csv).name,
        risk_source=Path(risk_csv).name,
    )


# --------------------------------------------------------------------------- fit check


def fit_check(time: npt.ArrayLike, event: npt.ArrayLike, curve: DigitisedCurve) -> FitCheck:
    """Refit Kaplan-Meier on rebuilt data and measure its distance to the digitised curve.

    Returns RMSE, mean and maximum absolute error at the digitised points and the
    Kolmogorov-Smirnov-type distance between the two step curves (see :class:`FitCheck`).
    """
    x, y = km_step_curve(time, event)
    right = step_value(x, y, curve.time, "right")
    left = step_value(x, y, curve.time, "left")
    pred = np.where(curve.upper_corner, left, right)
    err = pred - curve.survival
    grid = np.union1d(x, curve.time)
    ks = 0.0
    for side in ("left", "right"):
        side_lit: Literal["left", "right"] = "left" if side == "left" else "right"
        rec = step_value(x, y, grid, side_lit)
        dig = step_value(curve.time, curve.survival, grid, side_lit)
        ks = max(ks, float(np.max(np.abs(rec - dig))))
    return FitCheck(
        n_points=int(err.size),
        rmse=float(np.sqrt(np.mean(err**2))),
        mean_abs_error=float(np.mean(np.abs(err))),
        max_abs_error=float(np.max(np.abs(err))),
        ks_distance=ks,
    )
