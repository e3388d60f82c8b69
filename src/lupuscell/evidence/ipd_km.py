"""Kaplan-Meier helpers for reconstructed data: step curves, medians and landmarks with CIs.

Thin views of the one Kaplan-Meier estimator, :func:`lupuscell.analysis.survival.kaplan_meier`
(checked against R survival), returning fixed-schema results (numbers, not drawings), used by
:mod:`lupuscell.evidence.ipd` (fit check, summaries) and :mod:`lupuscell.evidence.ipd_pool`
(pooling). The step lookup and the JSON-safe number are the analysis conventions
(:mod:`lupuscell.analysis.conventions`).

Confidence intervals: pointwise Greenwood intervals on the log(-log) scale, and for the median
the times where those limits cross 0.5 (Brookmeyer and Crowley 1982), with R's midpoint rule
where a curve equals 0.5 over an interval, as R ``survfit(conf.type = "log-log")`` reports.

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
from typing import Any

import numpy as np
import numpy.typing as npt

from lupuscell.analysis.conventions import json_number, step_value
from lupuscell.analysis.survival import kaplan_meier
from lupuscell.errors import ValidationError
from lupuscell.evidence.km_digitised import FloatArray

__all__ = ["KMSummary", "LandmarkSurvival", "json_float", "km_step_curve", "km_summary", "step_value"]


def json_float(x: float | None) -> float | None:
    """A finite float, or ``None`` (JSON has no infinity or NaN): the analysis ``json_number``."""
    value = json_number(None if x is None else float(x))
    return None if value is None else float(value)


def km_step_curve(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Kaplan-Meier curve as arrays ``(times, survival)``, starting at time 0."""
    tab = kaplan_meier(time, np.asarray(event, dtype=int)).table
    x, y = tab["time"].to_numpy(dtype=float), tab["survival"].to_numpy(dtype=float)
    if x[0] > 0:
        x, y = np.concatenate(([0.0], x)), np.concatenate(([1.0], y))
    return x, y


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

    Confidence intervals as R ``survfit(conf.type = "log-log")`` reports them: pointwise
    Greenwood intervals on the log(-log) scale for survival, and for the median the times where
    those limits cross 0.5 (Brookmeyer-Crowley).
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
    """Kaplan-Meier size, events, median with CI and landmark survival with CI.

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
    km = kaplan_meier(t, e, alpha=alpha, landmark_times=[lm for lm in landmarks if lm >= 0])
    by_time = {lm.time: lm for lm in km.landmarks}
    marks = []
    for lm in landmarks:
        mark = by_time.get(float(lm))
        values = (None, None, None) if mark is None else (mark.survival, mark.ci_low, mark.ci_high)
        s, lo, hi = (math.nan if v is None else v for v in values)  # nan: after the end of the curve
        marks.append(LandmarkSurvival(float(lm), s, lo, hi))

    def reached(v: float | None) -> float:
        return math.inf if v is None else v

    return KMSummary(
        label=label,
        n=km.n,
        events=km.events,
        median=reached(km.median),
        median_ci_low=reached(km.median_ci[0]),
        median_ci_high=reached(km.median_ci[1]),
        landmarks=tuple(marks),
        alpha=alpha,
    )
