"""Harrell's concordance of a risk score with survival, for right-censored or counting-process rows.

For every event at time ``t`` each row at risk at ``t`` (``entry < t <= exit``) that does not
itself have an event at ``t`` forms a comparable pair; the pair is concordant when the row with
the event has the higher risk score, and a tie in the score counts one half. This is R
``survival::concordance`` with its default ``timewt = "n"`` (tied event times are not
comparable), the C-statistic R ``coxph`` prints.

Counting pairs naively is quadratic; here each count is a two-dimensional dominance count
(rows still at risk *and* with a lower score) answered by a merge-sort tree built with NumPy:
O(n log^2 n) without a Python loop over rows (a million rows in about a second). Written by
hand because lifelines' ``concordance_index`` walks a Python B-tree row by row and has no
delayed entry.

References
----------
Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-387.

Therneau TM, Atkinson EJ. Concordance. Vignette of the R survival package, 2023.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Concordance", "concordance"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Concordance:
    concordant: float
    discordant: float
    tied_risk: float

    @property
    def value(self) -> float:
        total = self.concordant + self.discordant + self.tied_risk
        return float("nan") if total == 0 else (self.concordant + 0.5 * self.tied_risk) / total


class _DominanceCounter:
    """Counts, for queries ``(k, v)``, the points among the first ``k`` whose value is below ``v``."""

    def __init__(self, values: IntArray) -> None:
        self.n = int(values.size)
        self.big = int(values.max(initial=0)) + 2
        self.levels: list[IntArray] = []
        keys = values.astype(np.int64)
        level = 0
        while (1 << level) <= max(self.n, 1):
            block = np.arange(self.n, dtype=np.int64) >> level
            keys = np.sort(block * self.big + values, kind="stable")
            self.levels.append(keys)
            level += 1

    def count(self, k: IntArray, v: IntArray, side: str) -> IntArray:
        out = np.zeros(k.size, dtype=np.int64)
        for level, keys in enumerate(self.levels):
            has = ((k >> level) & 1).astype(bool)
            if not has.any():
                continue
            b = (k[has] >> level) - 1
            pos = np.searchsorted(keys, b * self.big + v[has], side=side)  # type: ignore[call-overload]
            out[has] += pos - b * (1 << level)
        return out


def _count_below(
    point_x: FloatArray, point_v: IntArray, query_x: FloatArray, query_v: IntArray
) -> tuple[IntArray, IntArray]:
    """Per query: points with ``x >= query_x`` and value ``< v`` and ``<= v``."""
    order = np.argsort(-point_x, kind="stable")
    xs = -point_x[order]
    counter = _DominanceCounter(point_v[order])
    k = np.searchsorted(xs, -query_x, side="right").astype(np.int64)  # points with x >= query
    return counter.count(k, query_v, "left"), counter.count(k, query_v, "right")


def concordance(
    stop: npt.ArrayLike,
    event: npt.ArrayLike,
    risk: npt.ArrayLike,
    entry: npt.ArrayLike | None = None,
) -> Concordance:
    """Concordant, discordant and tied-score pair counts (higher ``risk`` = earlier event)."""
    t = np.asarray(stop, dtype=float)
    e = np.asarray(event, dtype=bool)
    _, ranks = np.unique(np.asarray(risk, dtype=float), return_inverse=True)
    v = ranks.astype(np.int64)
    qt, qv = t[e], v[e]
    lt, le = _count_below(t, v, qt, qv)  # rows with exit >= t
    at_risk = np.searchsorted(np.sort(t), qt, side="left")
    at_risk = t.size - at_risk
    if entry is not None:
        a = np.asarray(entry, dtype=float)
        lt_e, le_e = _count_below(a, v, qt, qv)  # rows not yet entered at t (entry >= t)
        lt, le = lt - lt_e, le - le_e
        at_risk = at_risk - (a.size - np.searchsorted(np.sort(a), qt, side="left"))
    # events at the same time are not comparable: remove them (and the row itself)
    ev_time = np.unique(qt, return_inverse=True)[1].astype(np.int64)
    keys = np.sort(ev_time * (int(v.max(initial=0)) + 2) + qv)
    qkey = ev_time * (int(v.max(initial=0)) + 2)
    lt_same = np.searchsorted(keys, qkey + qv, side="left") - np.searchsorted(keys, qkey, side="left")
    le_same = np.searchsorted(keys, qkey + qv, side="right") - np.searchsorted(keys, qkey, side="left")
    n_same = np.bincount(ev_time)[ev_time]
    conc = lt - lt_same
    ties = (le - le_same) - conc
    comparable = at_risk - n_same
    return Concordance(
        concordant=float(conc.sum()),
        discordant=float((comparable - conc - ties).sum()),
        tied_risk=float(ties.sum()),
    )
