"""Pooling Kaplan-Meier curves rebuilt from several published studies.

The rebuilt patients of each study (:func:`lupuscell.evidence.ipd.reconstruct_ipd`) are
stacked with a ``study`` stratum; each study gets its own Kaplan-Meier summary, the stack a pooled
one, and a log-rank test (lifelines ``multivariate_logrank_test``) says whether the studies'
curves differ. The pooled curve treats the studies as one cohort: a fair description when the
studies are alike, misleading when they are not (Guyot et al. 2012 discuss uses of rebuilt data
in evidence synthesis).

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9.
doi:10.1186/1471-2288-12-9.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from lifelines.statistics import multivariate_logrank_test

from lupuscell.analysis.survival import kaplan_meier
from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.ipd_km import KMSummary, json_float, km_summary

__all__ = ["HasIPD", "PooledSurvival", "pool_reconstructed"]


class HasIPD(Protocol):
    """Anything carrying rebuilt patients as a ``time, event`` frame (e.g. a ``Reconstruction``)."""

    @property
    def ipd(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class PooledSurvival:
    """Reconstructed curves of several studies, pooled.

    Attributes
    ----------
    stacked
        All rebuilt patients with their ``study`` stratum: columns ``study, time, event``.
    pooled
        Kaplan-Meier summary of the stacked data (all studies as one cohort).
    by_study
        One summary per study, in input order.
    pooled_curve
        The pooled Kaplan-Meier curve as data: ``time, survival, ci_low, ci_high, n_risk``.
    logrank_chi2, logrank_df, logrank_p
        Log-rank test of equal survival across studies (``nan`` with one study): a large
        value says the studies differ and the pooled curve averages unlike cohorts.
    """

    stacked: pd.DataFrame
    pooled: KMSummary
    by_study: tuple[KMSummary, ...]
    pooled_curve: pd.DataFrame
    logrank_chi2: float
    logrank_df: int
    logrank_p: float

    def to_frame(self) -> pd.DataFrame:
        """One row per study, then the pooled row (``study == "pooled"``)."""
        return pd.DataFrame([s.to_row() for s in (*self.by_study, self.pooled)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "pooled": self.pooled.to_dict(),
            "by_study": [s.to_dict() for s in self.by_study],
            "logrank": {
                "chi2": json_float(self.logrank_chi2),
                "df": self.logrank_df,
                "p": json_float(self.logrank_p),
            },
        }


def pool_reconstructed(
    studies: Mapping[str, HasIPD | pd.DataFrame],
    *,
    landmarks: Sequence[float] = (),
    alpha: float = 0.05,
) -> PooledSurvival:
    """Pool rebuilt curves of several studies.

    The stacked data keep a ``study`` stratum. The pooled curve is the Kaplan-Meier estimate of
    all rebuilt patients as one cohort (a descriptive pooling, appropriate when the studies are
    alike: check the per-study curves and the log-rank test of equality across studies first).

    Parameters
    ----------
    studies
        Study label -> a :class:`~lupuscell.evidence.ipd.Reconstruction`, or a frame with
        ``time`` and ``event`` columns.
    landmarks, alpha
        As in :func:`km_summary`.
    """
    if not studies:
        raise ValidationError.single("studies", "studies", "nothing to pool: no studies given")
    frames = []
    problems: list[Problem] = []
    for label, item in studies.items():
        frame = item if isinstance(item, pd.DataFrame) else item.ipd
        missing = {"time", "event"} - set(frame.columns)
        if missing:
            problems.append(Problem(f"study {label}", ",".join(sorted(missing)), "missing column(s)"))
            continue
        if len(frame) == 0:
            problems.append(Problem(f"study {label}", "time", "no patients"))
            continue
        ev = frame["event"].to_numpy()
        if not np.isin(ev, (0, 1)).all():
            problems.append(Problem(f"study {label}", "event", "must be 0 (censored) or 1 (event)"))
            continue
        tm = frame["time"].to_numpy(dtype=float)
        if not np.isfinite(tm).all() or (tm < 0).any():
            problems.append(Problem(f"study {label}", "time", "must be finite and >= 0"))
            continue
        frames.append(pd.DataFrame({"study": str(label), "time": tm, "event": ev.astype(int)}))
    if problems:
        raise ValidationError(problems)
    stacked = pd.concat(frames, ignore_index=True)
    by_study = tuple(
        km_summary(f["time"], f["event"], landmarks=landmarks, alpha=alpha, label=str(f["study"].iloc[0]))
        for f in frames
    )
    pooled = km_summary(stacked["time"], stacked["event"], landmarks=landmarks, alpha=alpha, label="pooled")
    table = kaplan_meier(stacked["time"], stacked["event"], alpha=alpha).table
    curve = table.rename(columns={"n_at_risk": "n_risk"})[["time", "survival", "ci_low", "ci_high", "n_risk"]]
    if len(frames) > 1:
        lr = multivariate_logrank_test(stacked["time"], stacked["study"], stacked["event"])
        chi2, df, p = float(lr.test_statistic), len(frames) - 1, float(lr.p_value)
    else:
        chi2, df, p = math.nan, 0, math.nan
    return PooledSurvival(
        stacked=stacked,
        pooled=pooled,
        by_study=by_study,
        pooled_curve=curve,
        logrank_chi2=chi2,
        logrank_df=df,
        logrank_p=p,
    )
