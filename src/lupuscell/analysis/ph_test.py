"""Test of proportional hazards: the score test for a time-varying coefficient, per term and global.

For each covariate the test asks whether adding ``x * g(t)`` improves the fitted Cox model,
where ``g`` is a transform of time centred at its mean over the events; a small p-value says
the hazard ratio changes over time. This is the score test of R survival 3 ``cox.zph``
(Grambsch & Therneau 1994, in the exact score form survival adopted in version 3.0), computed
with the same vectorised risk-set sums as the fit: the score of the added terms and the full
2p x 2p information matrix at the fitted coefficients. ``transform="km"`` (R's default) uses
``g(t) = 1 - S(t-)`` from the Kaplan-Meier curve of the data; ``"rank"``, ``"identity"`` and
``"log"`` are R's other choices.

Per-term tests are correlated, so their sum is not a global test; the global test here is the
joint score test of all terms, as R's ``GLOBAL`` row.

References
----------
Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 1994;81:515-526.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from lupuscell.analysis._cox_core import (
    Covariates,
    Evaluation,
    FloatArray,
    RiskSets,
    Ties,
    evaluate,
    make_slots,
    slot_information,
)
from lupuscell.analysis.conventions import step_value
from lupuscell.analysis.survival import kaplan_meier

__all__ = ["PHTest", "ph_score_test"]

Transform = Literal["km", "rank", "identity", "log"]


@dataclass(frozen=True)
class PHTest:
    """Chi-square (1 df each), p-value per column, and the global test (p df)."""

    chisq: FloatArray
    p: FloatArray
    global_chisq: float
    global_df: int
    global_p: float


def _time_transform(
    transform: Transform, stop: FloatArray, event: np.ndarray, entry: FloatArray | None
) -> FloatArray:
    """R ``cox.zph``'s transformed time of every row, centred at its mean over the events."""
    if transform == "km":
        km = kaplan_meier(stop, event, entry=entry)
        g = 1.0 - step_value(km.table["time"], km.table["survival"], stop, side="left")
    elif transform == "rank":
        g = stats.rankdata(stop)
    elif transform == "log":
        g = np.log(stop)
    else:
        g = stop.astype(float)
    return np.asarray(g - g[event].mean(), dtype=float)


def ph_score_test(
    rs: RiskSets,
    x: FloatArray,
    beta: FloatArray,
    ties: Ties,
    *,
    stop: FloatArray,
    event: np.ndarray,
    entry: FloatArray | None = None,
    transform: Transform = "km",
    evaluation: Evaluation | None = None,
) -> PHTest:
    """Score test of ``beta_k(t) = beta_k + theta_k g(t)`` at the fitted ``beta`` (R ``cox.zph``)."""
    p = x.shape[1]
    g_row = _time_transform(transform, stop, event, entry)
    g_time = np.zeros(rs.m)
    g_time[rs.death_time] = g_row[rs.death_row]
    cov = Covariates.of(rs, x)
    ev = evaluation or evaluate(rs, make_slots(rs, ties), cov, beta, info=False)
    r = np.exp(x @ beta)
    u_time = (rs.death_weight * g_time[rs.death_time]) @ cov.dead - ev.mean_sum(g_time)
    blocks = [slot_information(rs, cov, r, ev, g_time**k) for k in (0, 1, 2)]
    full = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    u = np.concatenate([np.zeros(p), u_time])
    chisq = np.empty(p)
    for k in range(p):
        keep = np.r_[np.arange(p), p + k]
        uk = u[keep]
        chisq[k] = float(uk @ np.linalg.solve(full[np.ix_(keep, keep)], uk))
    global_chisq = float(u @ np.linalg.solve(full, u))
    return PHTest(
        chisq=chisq,
        p=stats.chi2.sf(chisq, 1),
        global_chisq=global_chisq,
        global_df=p,
        global_p=float(stats.chi2.sf(global_chisq, p)),
    )
