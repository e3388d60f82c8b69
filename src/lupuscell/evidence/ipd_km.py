"""Kaplan-Meier helpers for reconstructed data: step curves, medians and landmarks with CIs.

Thin wrappers over lifelines' ``KaplanMeierFitter`` that return fixed-schema results (numbers,
not drawings), used by :mod:`lupuscell.evidence.ipd` (fit check, summaries) and
:mod:`lupuscell.evidence.ipd_pool` (pooling).

Confidence intervals are lifelines' defaults: pointwise Greenwood intervals on the log(-log)
scale, and for the median the times where those limits cross 0.5 (Brookmeyer and Crowley 1982
style, as R ``survfit(conf.type = "log-log")`` reports).

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
1958;53:457-481.

Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
1982;38:29-41.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from lupuscell.errors import ValidationError
from lupuscell.evidence.km_digitised import FloatArray

__all__ = ["KMSummary", "LandmarkSurvival", "json_float", "km_step_curve", "km_summary", "step_value"]


def json_float(x: float | None) -> float | None:
    """A finite float, or ``None`` (JSON has no infinity or NaN)."""
    if x is None or not math.isfinite(float(x)):
        return None
    return float(x)


def km_step_curve(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Kaplan-Meier curve (lifelines) as arrays ``(times, survival)``, starting at time 0."""
    kmf = KaplanMeierFitter().fit(np.asarray(time, dtype=float), np.asarray(event, dtype=int))
    sf = kmf.survival_function_
    return sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)


def step_value(
    x: FloatArray, y: FloatArray, q: FloatArray, side: Literal["left", "right"] = "right"
) -> FloatArray:
    """Value of the step function ``(x, y)`` at ``q``: after (``right``) or before (``left``) a jump.

    Before the first step the value is 1 (a survival curve).
    """
    idx = np.searchsorted(x, q, side=side) - 1
    return np.where(idx >= 0, y[np.clip(idx, 0, None)], 1.0)


@dataclass(frozen=True)
class LandmarkSurvival:
    """Kaplan-Meier survival at a landmark time with its pointwise confidence interval."""

    time: float
    survival: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float | None]:
        return {k: json_float(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class KMSummary:
    """Size, events, median (``inf`` when not reached) and landmark survival of one curve.

    Confidence intervals are lifelines' defaults: pointwise Greenwood intervals on the
    log(-log) scale for survival, and for the median the times where those limits cross 0.5
    (Brookmeyer-Crowley style, as R ``survfit`` reports).
    """

    label: str
    n: int
    events: int
    median: float
    median_ci_low: float
    median_ci_high: float
    landmarks: tuple[LandmarkSurvival, ...] = ()
    alpha: float = 0.05

    @property
    def median_reached(self) -> bool:
        return math.isfinite(self.median)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "events": self.events,
            "median": json_float(self.median),
            "median_ci_low": json_float(self.median_ci_low),
            "median_ci_high": json_float(self.median_ci_high),
            "alpha": self.alpha,
            "landmarks": [lm.to_dict() for lm in self.landmarks],
        }

    def to_row(self) -> dict[str, Any]:
        """One flat row (for :meth:`PooledSurvival.to_frame`)."""
        row: dict[str, Any] = {
            "study": self.label,
            "n": self.n,
            "events": self.events,
            "median": self.median,
            "median_ci_low": self.median_ci_low,
            "median_ci_high": self.median_ci_high,
        }
        for lm in self.landmarks:
            row[f"S({lm.time:g})"] = lm.survival
            row[f"S({lm.time:g})_ci_low"] = lm.ci_low
            row[f"S({lm.time:g})_ci_high"] = lm.ci_high
        return row


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValidationError.single("options", "alpha", f"must lie in (0, 1), got {alpha}")


def km_summary(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    *,
    landmarks: Sequence[float] = (),
    alpha: float = 0.05,
    label: str = "",
) -> KMSummary:
    """Kaplan-Meier size, events, median with CI and landmark survival with CI (lifelines).

    A landmark after the last observed time gets ``nan`` (the curve says nothing there); a
    median not reached is ``inf``, as are CI limits that are not reached.
    """
    _check_alpha(alpha)
    t = np.asarray(time, dtype=float)
    e_raw = np.asarray(event)
    where = label or "data"
    if t.size == 0 or t.size != e_raw.size:
        raise ValidationError.single(where, "time", f"{t.size} times and {e_raw.size} event flags")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValidationError.single(where, "time", "times must be finite and >= 0")
    if not np.isin(e_raw, (0, 1)).all():
        raise ValidationError.single(where, "event", "must be 0 (censored) or 1 (event)")
    e = e_raw.astype(int)
    kmf = KaplanMeierFitter(alpha=alpha).fit(t, e)
    ci = kmf.confidence_interval_survival_function_
    med_ci = median_survival_times(ci)
    x = ci.index.to_numpy(dtype=float)
    sf = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    lo_ci = ci.iloc[:, 0].to_numpy(dtype=float)
    hi_ci = ci.iloc[:, 1].to_numpy(dtype=float)
    t_max = float(t.max()) if t.size else 0.0
    marks = []
    for lm in landmarks:
        q = np.array([float(lm)])
        if lm > t_max or lm < 0:
            marks.append(LandmarkSurvival(float(lm), math.nan, math.nan, math.nan))
            continue
        marks.append(
            LandmarkSurvival(
                time=float(lm),
                survival=float(step_value(x, sf, q, "right")[0]),
                ci_low=float(step_value(x, lo_ci, q, "right")[0]),
                ci_high=float(step_value(x, hi_ci, q, "right")[0]),
            )
        )
    return KMSummary(
        label=label,
        n=int(t.size),
        events=int(e.sum()),
        median=float(kmf.median_survival_time_),
        median_ci_low=float(med_ci.iloc[0, 0]),
        median_ci_high=float(med_ci.iloc[0, 1]),
        landmarks=tuple(marks),
        alpha=alpha,
    )
