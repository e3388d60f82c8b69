"""Bayesian beta-binomial safety monitoring (Thall-Simon style stopping boundaries).

For a toxicity such as treatment-related mortality (TRM) after autologous HSCT, or grade >= 3
CRS/ICANS after CAR-T, the rate ``q`` gets a Beta(a, b) prior. After every ``k`` patients
(``m = k, 2k, ...`` up to ``N``; ``N`` is always a look) with ``x`` events, the posterior is
Beta(a + x, b + m - x) and the trial stops if

    P(q > theta | x, m) > c.

The posterior probability increases with ``x``, so each look has a boundary: the smallest
``x`` that stops (``None`` when even ``x = m`` does not). The operating characteristics at a
true rate ``q`` are computed *exactly* by forward recursion over the number of events: the
sub-distribution of events among patients enrolled so far, given the trial has not stopped,
is convolved with Binomial(k, q) between looks and the mass at or above the boundary is
removed (absorbed as "stopped at this look"). This gives P(stop), P(stop by look) and the
expected number of patients ``E[N]`` without simulation; all true rates of a grid are
processed at once (NumPy, shape ``(rates, N + 1)``).

Why hand-written: no maintained Python library computes these boundaries and their exact
operating characteristics (the R and SAS tools used in transplant trials are not callable
from here). The posterior tail uses ``scipy.stats.beta.sf``.

References
----------
Thall PF, Simon R, Estey EH. Bayesian sequential monitoring designs for single-arm clinical
trials with multiple outcomes. Statistics in Medicine 1995;14:357-379.
Thall PF, Simon R. Practical Bayesian guidelines for phase IIB clinical trials. Biometrics
1994;50:337-349.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from lupuscell.design._checks import RECORD, open_unit, positive, positive_int, raise_if
from lupuscell.errors import Problem

#: Largest number of patients accepted (bounds the recursion).
N_CAP = 2000


@dataclass(frozen=True)
class MonitoringRule:
    """Parameters of the monitoring rule.

    Attributes
    ----------
    a, b
        Beta prior parameters (> 0); the prior mean is ``a / (a + b)``.
    theta
        Unacceptable event rate.
    cutoff
        Posterior probability cut-off ``c``: stop when ``P(q > theta | data) > c``.
    cohort
        Number of patients between looks ``k``.
    n_max
        Maximum number of patients ``N``.
    """

    a: float
    b: float
    theta: float
    cutoff: float
    cohort: int
    n_max: int

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        positive("prior_a", self.a, problems)
        positive("prior_b", self.b, problems)
        open_unit("theta", self.theta, problems)
        open_unit("cutoff", self.cutoff, problems)
        positive_int("n_max", self.n_max, problems, low=1, high=N_CAP)
        positive_int("cohort", self.cohort, problems, low=1)
        if not problems and self.cohort > self.n_max:
            problems.append(
                Problem(RECORD, "cohort", f"must be at most n_max ({self.n_max}), got {self.cohort}")
            )
        raise_if(problems)

    @property
    def looks(self) -> list[int]:
        """Numbers of patients at which the rule is checked."""
        out = list(range(self.cohort, self.n_max + 1, self.cohort))
        if not out or out[-1] != self.n_max:
            out.append(self.n_max)
        return out


@dataclass(frozen=True)
class Boundary:
    """Boundary at one look: stop if ``events >= min_events`` among ``patients``."""

    patients: int
    min_events: int | None
    posterior_at_boundary: float | None


@dataclass(frozen=True)
class MonitoringOC:
    """Exact operating characteristics at one true event rate."""

    rate: float
    p_stop: float
    expected_n: float
    p_stop_by_look: tuple[float, ...]


def posterior_exceeds(rule: MonitoringRule, events: np.ndarray, patients: np.ndarray) -> np.ndarray:
    """``P(q > theta | events, patients)`` under the Beta(a, b) prior."""
    return np.asarray(
        stats.beta.sf(rule.theta, rule.a + events, rule.b + patients - events), dtype=np.float64
    )


def boundaries(rule: MonitoringRule) -> list[Boundary]:
    """Minimum number of events that stops the trial at each look (``None``: cannot stop)."""
    out: list[Boundary] = []
    for m in rule.looks:
        x = np.arange(m + 1)
        post = posterior_exceeds(rule, x, np.full_like(x, m))
        hit = np.nonzero(post > rule.cutoff)[0]
        if hit.size:
            out.append(Boundary(m, int(hit[0]), float(post[hit[0]])))
        else:
            out.append(Boundary(m, None, None))
    return out


def operating_characteristics(rule: MonitoringRule, rates: Sequence[float]) -> list[MonitoringOC]:
    """Exact P(stop), E[N] and P(stop by each look) at each true event rate (forward recursion)."""
    problems: list[Problem] = []
    for i, rate in enumerate(rates):
        if not (isinstance(rate, int | float) and 0.0 <= rate <= 1.0):
            problems.append(Problem(RECORD, f"rates[{i}]", f"must be between 0 and 1, got {rate!r}"))
    if not rates:
        problems.append(Problem(RECORD, "rates", "give at least one true rate"))
    raise_if(problems)
    q = np.asarray(rates, dtype=np.float64)
    bounds = boundaries(rule)
    n = rule.n_max
    state = np.zeros((q.size, n + 1))  # P(events = x, not stopped) among patients so far
    state[:, 0] = 1.0
    enrolled = 0
    stop_at = np.zeros((q.size, len(bounds)))
    for j, bd in enumerate(bounds):
        add = bd.patients - enrolled
        step = stats.binom.pmf(np.arange(add + 1)[None, :], add, q[:, None])  # (G, add + 1)
        new = np.zeros_like(state)
        for g in range(q.size):  # one small convolution per rate: O(N * k)
            new[g, : bd.patients + 1] = np.convolve(state[g, : enrolled + 1], step[g])[: bd.patients + 1]
        state = new
        enrolled = bd.patients
        if bd.min_events is not None:
            stop_at[:, j] = state[:, bd.min_events : enrolled + 1].sum(axis=1)
            state[:, bd.min_events :] = 0.0
    looks = np.array([bd.patients for bd in bounds], dtype=np.float64)
    p_stop = stop_at.sum(axis=1)
    expected_n = stop_at @ looks + (1.0 - p_stop) * n
    cum = np.cumsum(stop_at, axis=1)
    return [
        MonitoringOC(float(q[g]), float(p_stop[g]), float(expected_n[g]), tuple(float(v) for v in cum[g]))
        for g in range(q.size)
    ]
