"""Kaplan-Meier estimates, medians, landmarks, numbers at risk and median follow-up.

The product-limit estimate with Greenwood's variance and the log(-log) ("exponential
Greenwood") confidence interval (Kalbfleisch & Prentice 2002, section 1.4), with delayed entry
(left truncation): a subject who enters at ``a`` joins the risk set for times ``t > a``, as in
R ``survfit(Surv(entry, time, event) ~ 1)``. Medians and their confidence limits follow R
``quantile.survfit``: where the curve equals 0.5 over an interval the median is the midpoint of
that interval (as R and SAS report it), and a median the curve never reaches is ``None``.
Every number is checked against R survival 3.5 in tests/analysis/test_survival_r.py.

Written with NumPy rather than on lifelines' ``KaplanMeierFitter``: lifelines counts a subject
entering at ``t`` as at risk for events at ``t`` (R does not), takes the first time the curve is
at or below 0.5 as the median (no midpoint rule), and is about ten times slower than a
vectorised estimator on a million rows (benchmarks/survival_scale.py).

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
1958;53:457-481.

Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd ed. Wiley 2002.

Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
1982;38:29-41.

Schemper M, Smith TL. A note on quantifying follow-up in studies of failure time. Control Clin
Trials 1996;17:343-346 (reverse Kaplan-Meier follow-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from lupuscell.analysis._counting import CountingData, FloatArray, risk_table
from lupuscell.analysis.conventions import json_number, numbers_at_risk, step_value
from lupuscell.errors import ValidationError

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "KMResult",
    "Landmark",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "median_follow_up",
    "numbers_at_risk",
    "survival_quantile",
    "years",
]

DAYS_PER_YEAR = 365.25
"""The Julian year (days), the year of every displayed duration."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""The display month: DAYS_PER_YEAR / 12 = 30.4375 days (the outcomes engine places its month-m
visit windows at round(30.44 * m), see lupuscell.outcomes.definitions)."""

#: R's tolerance for "the curve equals p" in quantile.survfit (sqrt of double epsilon).
QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class Landmark:
    """A Kaplan-Meier estimate at one landmark time, with its CI and the number at risk
    (survival and limits ``None`` past the last follow-up)."""

    time: float
    survival: float | None  # None when the landmark lies beyond the last follow-up
    ci_low: float | None
    ci_high: float | None
    n_at_risk: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "time": self.time,
            "survival": json_number(self.survival),
            "ci_low": json_number(self.ci_low),
            "ci_high": json_number(self.ci_high),
            "n_at_risk": self.n_at_risk,
        }


@dataclass(frozen=True)
class KMResult:
    """A fitted Kaplan-Meier curve with the numbers a report prints.

    ``table`` has one row per distinct exit time: ``time, n_at_risk, n_events, n_censored,
    survival, std_err`` (Greenwood standard error of the survival) ``, ci_low, ci_high``.
    """

    label: str
    n: int
    events: int
    table: pd.DataFrame
    median: float | None
    median_ci: tuple[float | None, float | None]
    landmarks: tuple[Landmark, ...] = ()
    alpha: float = 0.05
    extra: dict[str, Any] = field(default_factory=dict)
    exit_times: np.ndarray | None = field(default=None, repr=False, compare=False)
    entry_times: np.ndarray | None = field(default=None, repr=False, compare=False)

    def survival_at(self, t: float) -> float:
        """Right-continuous survival at ``t`` (1 before the first time)."""
        return float(step_value(self.table["time"], self.table["survival"], [t])[0])

    def numbers_at_risk(self, times: Sequence[float]) -> list[int]:
        """Subjects at risk at each of ``times`` (only those who have entered, see conventions)."""
        if self.exit_times is None:
            raise ValueError("this result does not carry its subjects' times")
        return numbers_at_risk(self.exit_times, times, entry=self.entry_times)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "events": self.events,
            "median": json_number(self.median),
            "median_ci": [json_number(v) for v in self.median_ci],
            "landmarks": [lm.to_dict() for lm in self.landmarks],
        }


def survival_quantile(
    times: ArrayLike, surv: ArrayLike, p: float = 0.5, *, first_time: float = 0.0
) -> float | None:
    """Time at which the curve ``(times, surv)`` reaches ``1 - p``, by R's ``quantile.survfit`` rule.

    The first time ``1 - S(t) >= p``; where ``S(t) = 1 - p`` exactly (to R's tolerance
    ``sqrt(eps)``) over an interval, the midpoint of that interval, and when the curve stays
    there until the last time, the midpoint with the last time. ``None`` when never reached.
    ``NaN`` values (e.g. a confidence limit that is not defined) are skipped, as R's ``approx``
    does.
    """
    x = np.concatenate(([first_time], np.asarray(times, dtype=float)))
    y = np.concatenate(([0.0], 1.0 - np.asarray(surv, dtype=float)))
    if np.isnan(y).all() or np.nanmax(y) < p:
        return None
    fast = _monotone_quantile(x, y, p)
    if fast is not False:
        return fast
    xmax = x[-1]
    keep = _first_occurrences(y)
    x, y = x[keep], y[keep]
    tol = QUANTILE_TOLERANCE
    i1 = _right_constant_index(y + tol, p)
    i2 = _right_constant_index(y - tol, p)
    quant = np.nan if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol and i1 is not None:
        quant = (x[i1] + xmax) / 2
    return None if np.isnan(quant) else float(quant)


def _monotone_quantile(x: FloatArray, y: FloatArray, p: float) -> float | bool | None:
    """The same rule in O(log n) when ``1 - S`` never decreases and is missing only at the end.

    The first index at or above a level is then the first occurrence of its value, so R's
    de-duplication changes nothing. Returns ``False`` when the shortcut does not apply.
    """
    nan = np.isnan(y)
    n_ok = int(np.argmax(nan)) if nan.any() else y.size
    if nan[n_ok:].size and not nan[n_ok:].all():
        return False
    yv = y[:n_ok]
    if np.any(yv[1:] < yv[:-1]) or p == 0:
        return False
    tol = QUANTILE_TOLERANCE
    i1 = int(np.searchsorted(yv + tol, p, side="left"))
    i2 = int(np.searchsorted(yv - tol, p, side="left"))
    if i1 >= n_ok:
        return None
    if n_ok == y.size and abs(p - yv[-1]) < tol:  # flat at p until the last time
        return float((x[i1] + x[-1]) / 2)
    if i2 >= n_ok:
        return None
    return float((x[i1] + x[i2]) / 2)


def _first_occurrences(y: FloatArray) -> np.ndarray:
    """R ``!duplicated(y)`` (the first NaN counts as a value); linear when ``y`` is monotone."""
    nan = np.isnan(y)
    idx = np.flatnonzero(~nan)
    vals = y[idx]
    if np.any(np.diff(vals) < 0):
        return ~pd.Series(y).duplicated().to_numpy()
    keep = np.zeros(y.size, dtype=bool)
    keep[idx[np.concatenate(([True], vals[1:] != vals[:-1]))] if idx.size else idx] = True
    if nan.any():
        keep[np.flatnonzero(nan)[0]] = True
    return keep


def _right_constant_index(knots: FloatArray, p: float) -> int | None:
    """R ``approx(knots, seq_along(knots), p, method="constant", f=1)``: index of the first knot >= p."""
    idx = np.flatnonzero(~np.isnan(knots))
    if idx.size == 0:
        return None
    xs, pos = knots[idx], idx
    if np.any(np.diff(xs) < 0):
        order = np.argsort(xs, kind="stable")
        xs, pos = xs[order], idx[order]
    if p < xs[0] or p > xs[-1]:
        return None
    return int(pos[int(np.searchsorted(xs, p, side="left"))])


def _loglog_interval(surv: FloatArray, var_cumhaz: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """R ``survfit(conf.type = "log-log")`` limits from S and the Greenwood variance of -log S."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.where((surv > 0) & (surv < 1), surv, np.nan)
        theta = np.log(-np.log(inner))
        half = z * np.sqrt(var_cumhaz) / np.log(inner)
        lo = np.exp(-np.exp(theta - half))
        hi = np.exp(-np.exp(theta + half))
    flat = var_cumhaz == 0  # no event yet: the limits equal the estimate (R)
    lo = np.where(flat, surv, lo)
    hi = np.where(flat, surv, hi)
    return lo, hi


def _km_table(data: CountingData, alpha: float) -> pd.DataFrame:
    rt = risk_table(data, 1)
    y = rt.n_at_risk.astype(float)
    d = rt.events[0].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(y > 0, d / y, 0.0)
        greenwood = np.where(d > 0, d / (y * (y - d)), 0.0)
    surv = np.asarray(np.cumprod(1.0 - hazard), dtype=float)
    var_cumhaz = np.asarray(np.cumsum(greenwood), dtype=float)
    lo, hi = _loglog_interval(surv, var_cumhaz, alpha)
    with np.errstate(invalid="ignore"):
        std_err = np.where(np.isinf(var_cumhaz), np.nan, surv * np.sqrt(var_cumhaz))
    return pd.DataFrame(
        {
            "time": rt.time,
            "n_at_risk": rt.n_at_risk,
            "n_events": rt.events[0],
            "n_censored": rt.censored,
            "survival": surv,
            "std_err": std_err,
            "ci_low": lo,
            "ci_high": hi,
        },
        copy=False,  # fresh arrays: no consolidation copy (a million-row table in milliseconds)
    )


def _landmark(table: pd.DataFrame, data: CountingData, t: float) -> Landmark:
    at_risk = numbers_at_risk(data.stop, [t], entry=data.entry)[0]
    if t > float(data.stop.max()):
        return Landmark(float(t), None, None, None, at_risk)
    times = table["time"].to_numpy()
    values = [float(step_value(times, table[c].to_numpy(), [t])[0]) for c in ("survival", "ci_low", "ci_high")]
    s, lo, hi = (json_number(v) for v in values)
    return Landmark(float(t), s, lo, hi, at_risk)


def kaplan_meier(
    durations: ArrayLike,
    events: ArrayLike,
    *,
    entry: ArrayLike | None = None,
    label: str = "all",
    alpha: float = 0.05,
    landmark_times: Sequence[float] = (),
) -> KMResult:
    """Fit a Kaplan-Meier curve with log(-log) CIs, median (with CI) and landmarks.

    Parameters
    ----------
    durations, events
        Exit time (days) and event indicator (True or 1 = event, False or 0 = censored).
    entry
        Delayed-entry time of each subject (left truncation), e.g. registry enrolment on a
        time scale that starts at transplant. Rows may also be counting-process intervals
        ``(entry, duration]``, several per person.
    landmark_times
        Times (days) at which to report survival with CI and the number at risk; a landmark
        after the last follow-up is ``None`` (not estimable).

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3, 4, 5, 6, 7], [1, 1, 0, 1, 1, 0, 1, 1])
    >>> km.median, km.median_ci  # as R print(survfit(..., conf.type = "log-log"))
    (4.0, (1.0, None))
    """
    if not 0 < alpha < 1:
        raise ValidationError.single(label, "alpha", f"must lie in (0, 1), got {alpha}")
    data = CountingData.build(durations, events, entry, label)
    data = CountingData(data.stop, (data.status > 0).astype(np.int64), data.entry, data.stop_unique, data.entry_counts)
    table = _km_table(data, alpha)
    times = table["time"].to_numpy()
    median = survival_quantile(times, table["survival"].to_numpy())
    median_ci = (
        survival_quantile(times, table["ci_low"].to_numpy()),
        survival_quantile(times, table["ci_high"].to_numpy()),
    )
    return KMResult(
        label=label,
        n=data.n,
        events=int(data.status.sum()),
        table=table,
        median=median,
        median_ci=median_ci,
        landmarks=tuple(_landmark(table, data, float(t)) for t in landmark_times),
        alpha=alpha,
        exit_times=data.stop,
        entry_times=data.entry,
    )


def median_follow_up(durations: ArrayLike, events: ArrayLike, *, entry: ArrayLike | None = None) -> KMResult:
    """Median follow-up by reverse Kaplan-Meier: censoring is the 'event', deaths are censored."""
    e = np.asarray(events, dtype=bool)
    return kaplan_meier(durations, ~e, entry=entry, label="reverse KM (follow-up)")


def kaplan_meier_by_group(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    group_col: str,
    entry_col: str | None = None,
    landmark_times: Sequence[float] = (),
    alpha: float = 0.05,
) -> dict[str, KMResult]:
    """One Kaplan-Meier fit per group (sorted by group name), plus ``"all"``."""

    def fit(sub: pd.DataFrame, label: str) -> KMResult:
        return kaplan_meier(
            sub[duration_col],
            sub[event_col].astype(bool),
            entry=None if entry_col is None else sub[entry_col],
            label=label,
            alpha=alpha,
            landmark_times=landmark_times,
        )

    out: dict[str, KMResult] = {"all": fit(frame, "all")}
    for name, sub in sorted(frame.groupby(group_col, observed=True), key=lambda kv: str(kv[0])):
        out[str(name)] = fit(sub, str(name))
    return out


def years(days: float) -> float:
    return days / DAYS_PER_YEAR
