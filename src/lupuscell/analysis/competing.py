"""Cumulative incidence with competing risks (Aalen-Johansen estimator).

The estimate and its standard error come from statsmodels' ``CumIncidenceRight``, which
handles tied event times exactly. lifelines' ``AalenJohansenFitter`` is *not* used: it
jitters tied times at random (so day-resolution registry data give irreproducible estimates)
and spends most of its time in a row-by-row variance loop (statistics_notes.md). Confidence
intervals use the log(-log) transform, F^exp(±z·se/(F·log F)), which keeps them inside (0, 1)
(Choudhury, Stat Med 2002;21:1129).

Typical use: relapse with non-relapse mortality as the competing event, and NRM with relapse
as the competing event, at day 100 and 1 year (the transplant convention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.duration.survfunc import CumIncidenceRight

from lupuscell.errors import ValidationError


@dataclass(frozen=True)
class CIFResult:
    """Cumulative incidence of each cause over time, with landmark values."""

    label: str
    n: int
    causes: dict[int, str]
    table: pd.DataFrame  # time, then cif_<k>, se_<k>, ci_low_<k>, ci_high_<k> per cause
    landmarks: pd.DataFrame  # time, cause, cif, ci_low, ci_high

    def cif_at(self, cause: int, t: float) -> float:
        times = self.table["time"].to_numpy()
        idx = int(np.searchsorted(times, t, side="right") - 1)
        return 0.0 if idx < 0 else float(self.table[f"cif_{cause}"].iloc[idx])

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "causes": {str(k): v for k, v in self.causes.items()},
            "landmarks": self.landmarks.to_dict(orient="records"),
        }


def _loglog_ci(f: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.exp(z * se / (f * np.log(f)))
        lo = f ** (1 / w)
        hi = f**w
    zero = f <= 0
    lo = np.where(zero, 0.0, lo)
    hi = np.where(zero, 0.0, hi)
    one = f >= 1
    lo = np.where(one, 1.0, lo)
    hi = np.where(one, 1.0, hi)
    return np.minimum(lo, hi), np.maximum(lo, hi)


def cumulative_incidence(
    durations: ArrayLike,
    status: ArrayLike,
    *,
    causes: dict[int, str] | None = None,
    label: str = "all",
    landmark_times: Sequence[float] = (),
    alpha: float = 0.05,
) -> CIFResult:
    """Aalen-Johansen cumulative incidence for every cause.

    Parameters
    ----------
    durations
        Time to the first event or censoring (days).
    status
        0 = censored, 1..K = cause of the first event.
    causes
        Labels per cause code (default ``{1: "cause 1", ...}``).
    """
    t = np.asarray(durations, dtype=float)
    s = np.asarray(status, dtype=int)
    if t.shape != s.shape or t.size == 0:
        raise ValidationError.single(
            label, "durations", "durations and status must be non-empty and equal length"
        )
    if (t < 0).any() or np.isnan(t).any():
        raise ValidationError.single(label, "durations", "negative or missing durations")
    if (s < 0).any():
        raise ValidationError.single(label, "status", "status codes must be 0 (censored) or 1..K")
    kmax = int(s.max())
    labels = causes or {k: f"cause {k}" for k in range(1, kmax + 1)}
    n_causes = max(kmax, max(labels))
    columns: dict[str, np.ndarray] = {}
    if kmax == 0:
        times = np.array([0.0])
        columns = {"time": times}
        for k in range(1, n_causes + 1):
            columns |= {
                f"cif_{k}": np.zeros(1),
                f"se_{k}": np.zeros(1),
                f"ci_low_{k}": np.zeros(1),
                f"ci_high_{k}": np.zeros(1),
            }
    else:
        res = CumIncidenceRight(t, s.astype(float))
        times = np.asarray(res.times, dtype=float)
        columns["time"] = times
        for k in range(1, n_causes + 1):
            if k <= len(res.cinc):
                f = np.asarray(res.cinc[k - 1], dtype=float)
                se = np.asarray(res.cinc_se[k - 1], dtype=float)
            else:
                f = np.zeros_like(times)
                se = np.zeros_like(times)
            lo, hi = _loglog_ci(f, se, alpha)
            columns |= {f"cif_{k}": f, f"se_{k}": se, f"ci_low_{k}": lo, f"ci_high_{k}": hi}
    table = pd.DataFrame(columns)
    rows = []
    for lt in landmark_times:
        idx = int(np.searchsorted(table["time"].to_numpy(), lt, side="right") - 1)
        for k in range(1, n_causes + 1):
            if lt > t.max():  # past the last follow-up: not estimable (NaN; null in JSON), as KM
                val = lo_ = hi_ = np.nan
            elif idx < 0:
                val = lo_ = hi_ = 0.0
            else:
                val = float(table[f"cif_{k}"].iloc[idx])
                lo_ = float(table[f"ci_low_{k}"].iloc[idx])
                hi_ = float(table[f"ci_high_{k}"].iloc[idx])
            rows.append(
                {
                    "time": float(lt),
                    "cause": labels.get(k, f"cause {k}"),
                    "cif": val,
                    "ci_low": lo_,
                    "ci_high": hi_,
                }
            )
    landmarks = pd.DataFrame(rows, columns=["time", "cause", "cif", "ci_low", "ci_high"])
    return CIFResult(label=label, n=int(t.size), causes=labels, table=table, landmarks=landmarks)
