"""The Fine-Gray risk sets (censoring weights) and the Fine & Gray (1999) sandwich variance.

For the cause of interest ``c`` a subject stays in the risk set after a competing event at
``T_i``, weighted by ``G(t-) / G(T_i-)`` where ``G`` is the Kaplan-Meier curve of the censoring
times (Fine & Gray 1999, section 2.2; Geskus 2011). In the segment form of
:mod:`lupuscell.analysis._cox_core` that is one extra segment per competing event, covering the
event times after ``T_i`` with weight ``1/G(T_i-)`` times the common factor ``G(t_j-)``: no
expanded data set (R ``finegray`` writes one row per censoring interval, quadratic in the
worst case).

Two conventions for ties between a censoring and an event at the same time, both R's:
``"crr"`` (cmprsk ``crr``: the censoring curve is ``survfit`` of the censoring indicator, so a
subject with an event at ``u`` is still at risk of censoring at ``u``) and ``"finegray"``
(survival ``finegray``: events come first, so that subject is not).

The variance is the sandwich of Fine & Gray (1999, eq. 4-5) as cmprsk's ``crrvv`` computes it
(the score's ``eta_i`` plus the ``psi_i`` term for the estimated censoring distribution),
rewritten with cumulative sums so it is O(n p) after sorting instead of crr's O(n^2) loops.

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.

Geskus RB. Cause-specific cumulative incidence estimation and the Fine and Gray model under both
left truncation and right censoring. Biometrics 2011;67:39-49.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from lupuscell.analysis._cox_core import Covariates, FloatArray, IntArray, RiskSets, risk_sums
from lupuscell.analysis.conventions import step_value
from lupuscell.analysis.survival import kaplan_meier

CensoringWeights = Literal["crr", "finegray"]


@dataclass(frozen=True)
class FGData:
    """Times, status codes and the censoring curve ``G(T_i-)`` of each subject."""

    time: FloatArray
    status: IntArray
    cause: int
    g_before: FloatArray  # G(T_i-)
    cens_time: FloatArray  # distinct times at which G jumps
    cens_surv: FloatArray  # G just after each of them

    @property
    def competing(self) -> np.ndarray:
        return (self.status != 0) & (self.status != self.cause)


def censoring_curve(time: FloatArray, status: IntArray, cause: int, convention: CensoringWeights) -> FGData:
    """Kaplan-Meier curve of the censoring times under the chosen tie convention."""
    censored = status == 0
    if convention == "crr":
        table = kaplan_meier(time, censored).table
        ct, cs = table["time"].to_numpy(), table["survival"].to_numpy()
    else:
        # events before censorings at the same time: an event at u leaves the risk set before u
        times = np.unique(time[censored])
        at_risk = time.size - np.searchsorted(np.sort(time), times, side="left")
        events_at = np.searchsorted(np.sort(time[~censored]), times, side="right") - np.searchsorted(
            np.sort(time[~censored]), times, side="left"
        )
        n_cens = np.searchsorted(np.sort(time[censored]), times, side="right") - np.searchsorted(
            np.sort(time[censored]), times, side="left"
        )
        ct, cs = times, np.cumprod(1.0 - n_cens / (at_risk - events_at))
    g_before = step_value(ct, cs, time, side="left")
    return FGData(time, status, cause, g_before, ct, cs)


def finegray_risk_sets(fg: FGData) -> RiskSets:
    """Segments: every subject up to its time (weight 1); competing events after it, weighted."""
    is_event = fg.status == fg.cause
    times = np.unique(fg.time[is_event])
    n = fg.time.size
    hi = np.searchsorted(times, fg.time, side="right").astype(np.int64)
    comp = np.flatnonzero(fg.competing)
    factor = step_value(fg.cens_time, fg.cens_surv, times, side="left")
    rows = np.flatnonzero(is_event)
    return RiskSets(
        times=times,
        seg_row=np.concatenate((np.arange(n), comp)).astype(np.int64),
        seg_lo=np.concatenate((np.zeros(n, dtype=np.int64), hi[comp])),
        seg_hi=np.concatenate((hi, np.full(comp.size, times.size, dtype=np.int64))),
        seg_weight=np.concatenate((np.ones(n), 1.0 / fg.g_before[comp])),
        seg_factor=np.concatenate((np.zeros(n, dtype=bool), np.ones(comp.size, dtype=bool))),
        factor=np.asarray(factor, dtype=float),
        death_row=rows.astype(np.int64),
        death_time=np.searchsorted(times, fg.time[rows], side="left").astype(np.int64),
        death_weight=np.ones(rows.size),
    )


def _suffix(values: FloatArray) -> FloatArray:
    """``out[J] = sum_{j >= J} values[j]`` for J = 0..m (``out[m] = 0``)."""
    tail = np.cumsum(values[::-1], axis=0)[::-1]
    return np.concatenate((tail, np.zeros((1, *values.shape[1:]))), axis=0)


def _eta(fg: FGData, rs: RiskSets, x: FloatArray, r: FloatArray, s0: FloatArray, s1: FloatArray) -> FloatArray:
    """The score part of each subject's influence (crr's ``eta_i``), Breslow means."""
    d = np.bincount(rs.death_time, minlength=rs.m).astype(float)
    xbar = s1 / s0[:, None]
    a, b = d / s0, (d / s0)[:, None] * xbar
    g = rs.factor
    hi = np.searchsorted(rs.times, fg.time, side="right")
    cum_a = np.concatenate(([0.0], np.cumsum(a)))
    cum_b = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(b, axis=0)))
    eta = -r[:, None] * (x * cum_a[hi][:, None] - cum_b[hi])
    comp = fg.competing
    tail_a, tail_b = _suffix(a * g), _suffix(b * g[:, None])
    w = (r / fg.g_before)[comp][:, None]
    eta[comp] -= w * (x[comp] * tail_a[hi[comp]][:, None] - tail_b[hi[comp]])
    ev = rs.death_row
    eta[ev] += x[ev] - xbar[rs.death_time]
    return eta


def _psi(fg: FGData, rs: RiskSets, x: FloatArray, r: FloatArray, s0: FloatArray, s1: FloatArray) -> FloatArray:
    """The censoring-distribution part (crr's ``psi_i``), at the distinct censoring times."""
    n, p = x.shape
    censored = fg.status == 0
    u = np.unique(fg.time[censored])
    if u.size == 0:
        return np.zeros((n, p))
    d = np.bincount(rs.death_time, minlength=rs.m).astype(float)
    g = rs.factor
    lo = np.searchsorted(rs.times, u, side="left")  # event times >= u start here
    tail_a = _suffix(d * g / s0)[lo]
    tail_b = _suffix((d * g / s0**2)[:, None] * s1)[lo]
    comp = np.flatnonzero(fg.competing)
    order = comp[np.argsort(fg.time[comp], kind="stable")]
    wc = r[order] / fg.g_before[order]
    cum_q = np.concatenate(([0.0], np.cumsum(wc)))
    cum_p = np.concatenate((np.zeros((1, p)), np.cumsum(wc[:, None] * x[order], axis=0)))
    k = np.searchsorted(fg.time[order], u, side="left")  # competing events before u
    q = cum_p[k] * tail_a[:, None] - cum_q[k][:, None] * tail_b
    y = (n - np.searchsorted(np.sort(fg.time), u, side="left")).astype(float)
    n_cens = np.bincount(np.searchsorted(u, fg.time[censored]), minlength=u.size).astype(float)
    cum_term = np.cumsum(q * (n_cens / y**2)[:, None], axis=0)
    idx = np.searchsorted(u, fg.time, side="right") - 1  # censoring times <= T_i
    psi = np.where((idx >= 0)[:, None], -cum_term[np.clip(idx, 0, None)], 0.0)
    own = np.flatnonzero(censored)
    at = np.searchsorted(u, fg.time[own])
    psi[own] += q[at] / y[at][:, None]
    return np.asarray(psi, dtype=float)


def sandwich(fg: FGData, rs: RiskSets, x: FloatArray, beta: FloatArray, information: FloatArray) -> FloatArray:
    """Fine & Gray's (1999) variance ``I^-1 (sum (eta_i + psi_i)(eta_i + psi_i)') I^-1`` (crr)."""
    r = np.exp(x @ beta)
    s0, s1 = risk_sums(rs, Covariates.of(rs, x), r)
    infl = _eta(fg, rs, x, r, s0, s1) + _psi(fg, rs, x, r, s0, s1)
    inv = np.linalg.inv(information)
    return np.asarray(inv @ (infl.T @ infl) @ inv, dtype=float)
