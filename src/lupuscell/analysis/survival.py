"""Kaplan-Meier estimates, medians, landmarks, numbers at risk and median follow-up.

Built on lifelines' ``KaplanMeierFitter`` (product-limit estimate, Greenwood variance and the
"exponential Greenwood" log(-log) confidence interval, Kalbfleisch & Prentice 2002, §1.4).
What lifelines lacks and is added here: numbers at risk as *data* (counted at t, i.e. subjects
with time >= t, the SAS/R convention; statistics_notes.md item 3), landmark estimates with
their CI at fixed times, and median follow-up by the reverse Kaplan-Meier method
(Schemper & Smith, Control Clin Trials 1996;17:343).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from numpy.typing import ArrayLike

from lupuscell.errors import ValidationError

#: Julian year; display months are DAYS_PER_YEAR / 12 = 30.4375 days (the outcomes engine's
#: visit windows use the issue's round(30.44 * m), see lupuscell.outcomes.definitions).
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def _check(durations: np.ndarray, events: np.ndarray, what: str) -> None:
    if durations.shape != events.shape:
        raise ValidationError.single(what, "durations", "durations and events differ in length")
    if durations.size == 0:
        raise ValidationError.single(what, "durations", "no subjects")
    if np.isnan(durations).any():
        raise ValidationError.single(what, "durations", "missing durations")
    if (durations < 0).any():
        raise ValidationError.single(what, "durations", "negative durations")


@dataclass(frozen=True)
class Landmark:
    time: float
    survival: float | None  # None when the landmark lies beyond the last follow-up
    ci_low: float | None
    ci_high: float | None
    n_at_risk: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "time": self.time,
            "survival": self.survival,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_at_risk": self.n_at_risk,
        }


@dataclass(frozen=True)
class KMResult:
    """A fitted Kaplan-Meier curve with the numbers a report prints."""

    label: str
    n: int
    events: int
    table: pd.DataFrame  # time, n_at_risk, n_events, n_censored, survival, ci_low, ci_high
    median: float | None
    median_ci: tuple[float | None, float | None]
    landmarks: tuple[Landmark, ...] = ()
    alpha: float = 0.05
    extra: dict[str, Any] = field(default_factory=dict)

    def survival_at(self, t: float) -> float:
        idx = np.searchsorted(self.table["time"].to_numpy(), t, side="right") - 1
        return 1.0 if idx < 0 else float(self.table["survival"].iloc[idx])

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "events": self.events,
            "median": self.median,
            "median_ci": list(self.median_ci),
            "landmarks": [lm.to_dict() for lm in self.landmarks],
        }


def _finite_or_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def numbers_at_risk(durations: ArrayLike, times: Sequence[float]) -> list[int]:
    """Subjects still under observation at each time t (duration >= t)."""
    d = np.sort(np.asarray(durations, dtype=float))
    return [int(d.size - np.searchsorted(d, t, side="left")) for t in times]


def kaplan_meier(
    durations: ArrayLike,
    events: ArrayLike,
    *,
    label: str = "all",
    alpha: float = 0.05,
    landmark_times: Sequence[float] = (),
) -> KMResult:
    """Fit a Kaplan-Meier curve with log(-log) CIs, median (with CI) and landmarks.

    Parameters
    ----------
    durations, events
        Follow-up time (days) and event indicator (True = event, False = censored).
    landmark_times
        Times (days) at which to report survival with CI and the number at risk.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    _check(t, e, label)
    kmf = KaplanMeierFitter(alpha=alpha).fit(t, e, label=label)
    ev = kmf.event_table
    ci = kmf.confidence_interval_survival_function_
    table = pd.DataFrame(
        {
            "time": ev.index.to_numpy(dtype=float),
            "n_at_risk": ev["at_risk"].to_numpy(dtype=int),
            "n_events": ev["observed"].to_numpy(dtype=int),
            "n_censored": ev["censored"].to_numpy(dtype=int),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
        }
    )
    median = _finite_or_none(kmf.median_survival_time_)
    mci = median_survival_times(ci)
    median_ci = (_finite_or_none(float(mci.iloc[0, 0])), _finite_or_none(float(mci.iloc[0, 1])))
    landmarks = []
    times_arr = table["time"].to_numpy()
    for lt in landmark_times:
        idx = int(np.searchsorted(times_arr, lt, side="right") - 1)
        s: float | None
        lo: float | None
        hi: float | None
        if idx < 0:
            s, lo, hi = 1.0, 1.0, 1.0
        elif lt > t.max():
            s = lo = hi = None
        else:
            s = float(table["survival"].iloc[idx])
            lo = float(table["ci_low"].iloc[idx])
            hi = float(table["ci_high"].iloc[idx])
        landmarks.append(Landmark(float(lt), s, lo, hi, numbers_at_risk(t, [lt])[0]))
    return KMResult(
        label=label,
        n=int(t.size),
        events=int(e.sum()),
        table=table,
        median=median,
        median_ci=median_ci,
        landmarks=tuple(landmarks),
        alpha=alpha,
    )


def median_follow_up(durations: ArrayLike, events: ArrayLike) -> KMResult:
    """Median follow-up by reverse Kaplan-Meier: censoring is the 'event', deaths are censored."""
    e = np.asarray(events, dtype=bool)
    return kaplan_meier(durations, ~e, label="reverse KM (follow-up)")


def kaplan_meier_by_group(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    group_col: str,
    landmark_times: Sequence[float] = (),
    alpha: float = 0.05,
) -> dict[str, KMResult]:
    """One Kaplan-Meier fit per group (sorted by group name), plus ``"all"``."""
    out: dict[str, KMResult] = {}
    out["all"] = kaplan_meier(
        frame[duration_col],
        frame[event_col].astype(bool),
        label="all",
        alpha=alpha,
        landmark_times=landmark_times,
    )
    for name, sub in sorted(frame.groupby(group_col, observed=True), key=lambda kv: str(kv[0])):
        out[str(name)] = kaplan_meier(
            sub[duration_col],
            sub[event_col].astype(bool),
            label=str(name),
            alpha=alpha,
            landmark_times=landmark_times,
        )
    return out


def years(days: float) -> float:
    return days / DAYS_PER_YEAR
