"""Simon's two-stage designs for single-arm phase II trials: optimal, minimax, admissible.

Notation (Simon 1989): enrol ``n1`` patients; stop for futility if the number of responses
``X1 <= r1``; otherwise enrol ``n - n1`` more and reject H0: p <= p0 (declare the therapy
promising) if the total number of responses ``X > r``. With ``X1 ~ Bin(n1, p)`` and
``X2 ~ Bin(n - n1, p)`` independent,

    P(reject | p) = sum_{x1 = r1 + 1}^{n1} P(X1 = x1) P(X2 > r - x1),
    PET(p)        = P(X1 <= r1),
    EN(p)         = n1 + (1 - PET(p)) (n - n1).

A design is *feasible* if P(reject | p0) <= alpha and P(reject | p1) >= 1 - beta.
For each (n, n1, r1) the rejection probability decreases in ``r``, so the smallest ``r``
meeting the type I error constraint is also the one with the most power; only that ``r``
is examined. The *optimal* design minimises EN(p0); the *minimax* design minimises ``n``
(ties broken by the smaller EN(p0)); the *admissible* designs (Jung et al. 2004) are the
per-n best designs that minimise ``w n + (1 - w) EN(p0)`` for some ``w`` in [0, 1]; the
interval of ``w`` for which each design is the minimiser is reported.

Why hand-written: no maintained Python library offers Simon's search (R has
``clinfun::ph2simon``). For every total ``n`` the candidate (n1, r1) pairs are sorted by
EN(p0) — which does not depend on ``r`` — and evaluated in vectorised batches (NumPy
broadcasting over candidates, stage-1 outcomes and a window of ``r`` on exact binomial
tables, :mod:`lupuscell.design._binom`) until the first feasible one, which is the
per-n best. The search is bounded by three exact pruning rules, each a necessary condition
for feasibility:

* ``n`` is at least the smallest sample size at which the uniformly most powerful
  (randomised) level-alpha binomial test reaches the power; no two-stage design with fewer
  patients can (Neyman-Pearson lemma);
* ``r`` is at most the largest value with ``P(X > r | n, p1) >= 1 - beta`` (the two-stage
  rejection region is inside ``{X > r}``);
* ``r1`` is at most the largest value with ``P(X1 > r1 | n1, p1) >= 1 - beta``.

Constraints are compared with an absolute tolerance of ``1e-12`` (``TOL``) so that
floating-point rounding of a binomial sum that equals alpha exactly does not reject a design.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Controlled Clinical
Trials 1989;10(1):1-10.
Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for phase II cancer
clinical trials. Statistics in Medicine 2004;23(4):561-569.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

import numpy as np
from scipy import stats

from lupuscell.design._binom import (
    BinomialTables,
    FloatArray,
    IntArray,
    binomial_tables,
    smallest_upper_critical,
)
from lupuscell.design._checks import RECORD, check_two_stage_inputs
from lupuscell.errors import ValidationError

TOL = 1e-12

Choice = Literal["optimal", "minimax"]
"""Which of Simon's two designs a protocol uses."""
CHOICES: tuple[str, ...] = get_args(Choice)

DEFAULT_NMAX = 100
"""Largest total sample size searched unless the caller says otherwise (``--nmax``)."""


def check_choice(choice: str) -> None:
    """Reject a design choice other than ``optimal`` / ``minimax`` (field ``design``)."""
    if choice not in CHOICES:
        raise ValidationError.single(RECORD, "design", f"must be {' or '.join(CHOICES)}, got {choice!r}")


@dataclass(frozen=True)
class SimonDesign:
    """One two-stage design and its exact operating characteristics under p0 and p1.

    ``alpha`` and ``power`` are the exact type I error and power of the design (not the
    targets). ``w_low``/``w_high`` are set for admissible designs only.
    """

    r1: int
    n1: int
    r: int
    n: int
    en_p0: float
    pet_p0: float
    alpha: float
    power: float
    w_low: float | None = None
    w_high: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain dict with the JSON keys of ``lupuscell design simon``."""
        out = asdict(self)
        if self.w_low is None:
            out.pop("w_low")
            out.pop("w_high")
        return out


@dataclass(frozen=True)
class SimonResult:
    """Result of :func:`simon_design`: optimal, minimax and admissible designs."""

    p0: float
    p1: float
    alpha_target: float
    beta_target: float
    nmax: int
    optimal: SimonDesign
    minimax: SimonDesign
    admissible: tuple[SimonDesign, ...]
    best_per_n: tuple[SimonDesign, ...] = field(repr=False)

    def choose(self, choice: str) -> SimonDesign:
        """The ``optimal`` or the ``minimax`` design (anything else: ``ValidationError``)."""
        check_choice(choice)
        return self.optimal if choice == "optimal" else self.minimax

    def to_dict(self) -> dict[str, object]:
        return {
            "p0": self.p0,
            "p1": self.p1,
            "alpha_target": self.alpha_target,
            "beta_target": self.beta_target,
            "nmax": self.nmax,
            "optimal": self.optimal.to_dict(),
            "minimax": self.minimax.to_dict(),
            "admissible": [d.to_dict() for d in self.admissible],
        }


@dataclass(frozen=True)
class TwoStageOC:
    """Exact operating characteristics of a two-stage design at a true response rate ``p``."""

    p: float
    reject: float
    pet: float
    en: float


def two_stage_oc(r1: int, n1: int, r: int, n: int, p: float) -> TwoStageOC:
    """Exact P(reject H0), PET and EN of the design ``(r1/n1, r/n)`` at true rate ``p``.

    Rejection means more than ``r`` responses among ``n`` after passing stage 1
    (more than ``r1`` responses among ``n1``). See the module docstring for the formulas.
    """
    if not (0 <= n1 < n and -1 <= r1 < n1 + 1 and r >= -1):
        raise ValidationError.single(RECORD, "design", f"invalid design r1={r1} n1={n1} r={r} n={n}")
    x1 = np.arange(r1 + 1, n1 + 1)
    reject = float(np.sum(stats.binom.pmf(x1, n1, p) * stats.binom.sf(r - x1, n - n1, p)))
    pet = float(stats.binom.cdf(r1, n1, p))
    return TwoStageOC(p=float(p), reject=reject, pet=pet, en=n1 + (1.0 - pet) * (n - n1))


def ump_min_n(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> int | None:
    """Smallest n at which the randomised UMP level-alpha test of H0: p <= p0 has power >= 1 - beta.

    A lower bound on the total sample size of every feasible two-stage design
    (Neyman-Pearson); ``None`` if no n <= nmax suffices.
    """
    n = np.arange(1, nmax + 1)
    k = smallest_upper_critical(alpha, n, p0, TOL)  # smallest k with P(X > k | p0) <= alpha
    size_k = stats.binom.sf(k, n, p0)
    mass_k = stats.binom.pmf(k, n, p0)
    gamma = np.where(mass_k > 0, (alpha - size_k) / np.where(mass_k > 0, mass_k, 1.0), 0.0)
    gamma = np.clip(gamma, 0.0, 1.0)
    power = stats.binom.sf(k, n, p1) + gamma * stats.binom.pmf(k, n, p1)
    ok = np.nonzero(power >= 1.0 - beta - TOL)[0]
    return int(n[ok[0]]) if ok.size else None


def _rejection(n: int, n1: IntArray, r1: IntArray, rr: IntArray, t: BinomialTables) -> FloatArray:
    """``P(X1 > r1[k], X > rr[k, j])`` for candidate designs ``k`` with total size ``n``.

    ``n1`` and ``r1`` have shape ``(K,)``; ``rr`` has shape ``(K, J)``. Returns ``(K, J)``.
    """
    x1 = np.arange(int(r1.min()) + 1, int(n1.max()) + 1)
    weight = np.where(x1[None, :] > r1[:, None], t.pmf[n1[:, None], x1[None, :]], 0.0)
    # 0 <= r <= nmax and 0 <= x1 <= nmax keep the column inside sf_ext: no clipping needed
    k = rr[:, None, :] - x1[None, :, None] + t.offset
    stage2 = t.sf_ext[(n - n1)[:, None, None], k]
    return np.asarray(np.einsum("kx,kxr->kr", weight, stage2), dtype=np.float64)


def _smallest_r(
    n: int, n1: IntArray, r1: IntArray, r_hi: IntArray, t0: BinomialTables, alpha: float, width: int
) -> IntArray:
    """Smallest ``r >= r1`` with type I error <= alpha, or ``r_hi + 1`` if none up to ``r_hi``.

    The rejection probability decreases in ``r``, so ``r*`` is ``r_lo`` plus the number of
    violations in ``[r_lo, r_hi]``; that is exact when ``r_lo`` itself violates (or equals
    ``r1``). Rows where it does not are recomputed over the full range ``[r1, r_hi]``.
    """
    r_lo = np.maximum(r1, r_hi - width)
    rr = np.minimum(r_lo[:, None] + np.arange(width + 1)[None, :], r_hi[:, None])
    rej0 = _rejection(n, n1, r1, rr, t0)
    over = (
        (rej0 > alpha + TOL)
        & (rr <= r_hi[:, None])
        & (np.arange(width + 1)[None, :] <= (r_hi - r_lo)[:, None])
    )
    r_star = r_lo + over.sum(axis=1)
    unresolved = ~over[:, 0] & (r_lo > r1)
    if unresolved.any():
        u = np.nonzero(unresolved)[0]
        span = int((r_hi[u] - r1[u]).max()) + 1
        rr_u = r1[u][:, None] + np.arange(span)[None, :]
        rej_u = _rejection(n, n1[u], r1[u], np.minimum(rr_u, r_hi[u][:, None]), t0)
        over_u = (rej_u > alpha + TOL) & (rr_u <= r_hi[u][:, None])
        r_star[u] = r1[u] + over_u.sum(axis=1)
    return np.asarray(r_star, dtype=np.int64)


def _best_for_n(
    n: int, t0: BinomialTables, t1: BinomialTables, alpha: float, beta: float
) -> SimonDesign | None:
    """The feasible design with the smallest EN(p0) among all (n1, r1) for total size ``n``.

    EN(p0) depends on (n1, r1) only, so all candidates are sorted by (EN, n1, r1) and
    evaluated in batches of growing size; the first feasible candidate is the answer
    (branch and bound, vectorised per batch). For each candidate ``r`` is searched at most
    up to ``r_hi``: the single-stage critical value bounds ``r*`` (the two-stage region
    lies inside ``{X > r}``) and power requires ``r <= rmax``.
    """
    sf1_n = t1.sf_ext[n, t1.offset : t1.offset + n + 1]
    rmax = int(np.nonzero(sf1_n >= 1.0 - beta - TOL)[0].max(initial=-1))
    if rmax < 0:
        return None
    sf0_n = t0.sf_ext[n, t0.offset : t0.offset + n + 1]
    k_single = int(np.argmax(sf0_n <= alpha + TOL))  # sf(n) == 0, so always found
    n1_all = np.arange(1, n)
    # r1 pruning: P(X1 > r1 | p1) >= 1 - beta is necessary; r1max per n1.
    ok1 = t1.sf_ext[n1_all, t1.offset : t1.offset + n] >= 1.0 - beta - TOL
    r1max = np.minimum(np.where(ok1.any(axis=1), n - 1 - np.argmax(ok1[:, ::-1], axis=1), -1), rmax)
    if r1max.max() < 0:
        return None
    r1_grid = np.arange(int(r1max.max()) + 1)
    valid = r1_grid[None, :] <= r1max[:, None]
    n1 = np.broadcast_to(n1_all[:, None], valid.shape)[valid]
    r1 = np.broadcast_to(r1_grid[None, :], valid.shape)[valid]
    pet = t0.cdf[n1, r1]
    en = n1 + (1.0 - pet) * (n - n1)
    order = np.lexsort((r1, n1, en))
    n1, r1, pet, en = n1[order], r1[order], pet[order], en[order]
    width = max(4, int(2.0 * np.sqrt(n * t0.p * (1.0 - t0.p))) + 2)
    start, batch = 0, 64
    while start < n1.size:
        b = slice(start, start + batch)
        bn1, br1 = n1[b], r1[b]
        r_hi = np.maximum(np.full(bn1.size, min(rmax, k_single)), br1)
        r_star = _smallest_r(n, bn1, br1, r_hi, t0, alpha, width)
        r_eval = np.minimum(r_star, r_hi)[:, None]
        power = _rejection(n, bn1, br1, r_eval, t1)[:, 0]
        feasible = (r_star <= np.minimum(r_hi, rmax)) & (power >= 1.0 - beta - TOL)
        if feasible.any():
            i = int(np.argmax(feasible))
            size = float(_rejection(n, bn1[i : i + 1], br1[i : i + 1], r_eval[i : i + 1], t0)[0, 0])
            return SimonDesign(
                r1=int(br1[i]),
                n1=int(bn1[i]),
                r=int(r_star[i]),
                n=n,
                en_p0=float(en[start + i]),
                pet_p0=float(pet[start + i]),
                alpha=size,
                power=float(power[i]),
            )
        start += batch
        batch *= 2
    return None


def admissible_designs(best_per_n: list[SimonDesign]) -> list[SimonDesign]:
    """Designs minimising ``w n + (1 - w) EN(p0)`` for some ``w`` in [0, 1] (Jung et al. 2004).

    Parameters
    ----------
    best_per_n
        The minimum-EN feasible design for each total size ``n`` (one per n).

    Returns
    -------
    list of SimonDesign
        Sorted by ``n``, each with ``w_low``/``w_high``: the closed interval of weights for
        which it minimises the loss. A design that is a minimiser only at a single weight
        shared with a design of smaller loss elsewhere (a tie point) is not listed.
    """
    if not best_per_n:
        return []
    n = np.array([d.n for d in best_per_n], dtype=float)
    en = np.array([d.en_p0 for d in best_per_n], dtype=float)
    out: list[SimonDesign] = []
    for i, d in enumerate(best_per_n):
        lo, hi = 0.0, 1.0
        # loss_i(w) - loss_j(w) = (en_i - en_j) + w * [(n_i - n_j) - (en_i - en_j)] <= 0
        c0 = en[i] - en
        c1 = (n[i] - n) - c0
        for a0, a1 in zip(c0, c1, strict=True):
            if abs(a1) <= 1e-12:
                if a0 > 1e-9:
                    lo, hi = 1.0, 0.0
                    break
                continue
            bound = -a0 / a1
            if a1 > 0:
                hi = min(hi, bound)
            else:
                lo = max(lo, bound)
        is_endpoint = (lo <= hi + 1e-12) and (hi - lo > 1e-9 or len(best_per_n) == 1)
        if is_endpoint:
            out.append(SimonDesign(**{**asdict(d), "w_low": max(0.0, lo), "w_high": min(1.0, hi)}))
    return sorted(out, key=lambda x: x.n)


def simon_design(
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    nmax: int = DEFAULT_NMAX,
    progress: Callable[[int, int], None] | None = None,
) -> SimonResult:
    """Optimal, minimax and admissible Simon two-stage designs.

    Parameters
    ----------
    p0, p1
        Uninteresting and target response rates, ``0 < p0 < p1 < 1``.
    alpha, beta
        Upper bounds for the type I error and the type II error (power = 1 - beta),
        each in (0, 0.5).
    nmax
        Largest total sample size searched (at most 1000).
    progress
        Optional callback ``progress(done, total)`` called after each total size ``n``.

    Returns
    -------
    SimonResult

    Raises
    ------
    ValidationError
        Bad parameters, or no feasible design with ``n <= nmax`` (field ``nmax``).

    References
    ----------
    Simon (1989); Jung, Lee, Kim and George (2004). See the module docstring.
    """
    check_two_stage_inputs(p0, p1, alpha, beta, nmax)
    n_low = ump_min_n(p0, p1, alpha, beta, nmax)
    if n_low is None:
        raise ValidationError.single(
            RECORD,
            "nmax",
            f"no design with n <= {nmax} reaches power {1 - beta:.3g} at alpha {alpha:.3g} "
            f"for p0={p0}, p1={p1}; increase nmax",
        )
    t0 = binomial_tables(p0, nmax)
    t1 = binomial_tables(p1, nmax)
    best: list[SimonDesign] = []
    sizes = range(max(n_low, 2), nmax + 1)
    for i, n in enumerate(sizes):
        d = _best_for_n(n, t0, t1, alpha, beta)
        if d is not None:
            best.append(d)
        if progress is not None:
            progress(i + 1, len(sizes))
    if not best:
        raise ValidationError.single(
            RECORD,
            "nmax",
            f"no two-stage design with n <= {nmax} meets alpha <= {alpha:.3g} and power >= "
            f"{1 - beta:.3g} for p0={p0}, p1={p1}; increase nmax",
        )
    optimal = min(best, key=lambda d: (d.en_p0, d.n))
    minimax = min(best, key=lambda d: (d.n, d.en_p0))
    candidates = [d for d in best if minimax.n <= d.n <= optimal.n]
    admissible = admissible_designs(candidates)
    return SimonResult(
        p0=p0,
        p1=p1,
        alpha_target=alpha,
        beta_target=beta,
        nmax=nmax,
        optimal=optimal,
        minimax=minimax,
        admissible=tuple(admissible),
        best_per_n=tuple(best),
    )
