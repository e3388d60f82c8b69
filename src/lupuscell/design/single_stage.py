"""A'Hern (2001) exact single-stage phase II design.

Enrol ``n`` patients and reject H0: p <= p0 (declare the therapy promising) if the number of
responses ``X >= r`` — A'Hern's convention: ``r`` is the *minimum number of responses
required*, so this design's ``r`` equals Simon's ``r + 1``. The design is the smallest ``n``
for which some ``r`` satisfies

    P(X >= r | n, p0) <= alpha   and   P(X >= r | n, p1) >= 1 - beta,

with ``r`` the smallest value meeting the first condition (it maximises power). The search
is one vectorised pass over ``n = 1..nmax`` using ``scipy.stats.binom``; hand-written
because no maintained Python package tabulates A'Hern designs.

References
----------
A'Hern RP. Sample size tables for exact single-stage phase II designs. Statistics in
Medicine 2001;20(6):859-866.
Khan I, Sarker SJ, Hackshaw A. Smaller sample sizes for phase II trials based on exact
tests with actual error rates by trading-off their nominal levels of significance and
power. British Journal of Cancer 2012;107:1801-1809 (quotes the A'Hern design for
p0 = 0.10, p1 = 0.20, alpha = 0.05, power = 0.80: n = 78, exact alpha 4.53 %, power 80.81 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from lupuscell.design._binom import smallest_upper_critical
from lupuscell.design._checks import RECORD, check_two_stage_inputs
from lupuscell.errors import ValidationError

TOL = 1e-12


@dataclass(frozen=True)
class SingleStageDesign:
    """An exact single-stage design: reject H0 if at least ``r`` responses among ``n``."""

    n: int
    r: int
    alpha: float
    power: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def single_stage_oc(n: int, r: int, p: float) -> float:
    """Exact probability of ``X >= r`` responses among ``n`` at true rate ``p``."""
    return float(stats.binom.sf(r - 1, n, p))


def ahern_design(p0: float, p1: float, alpha: float, beta: float, nmax: int = 1000) -> SingleStageDesign:
    """Smallest exact single-stage design (A'Hern 2001).

    Parameters
    ----------
    p0, p1
        Uninteresting and target response rates, ``0 < p0 < p1 < 1``.
    alpha, beta
        Bounds on the type I and type II error, each in (0, 0.5).
    nmax
        Largest ``n`` searched (at most 1000).

    Returns
    -------
    SingleStageDesign
        ``n``, ``r`` (reject H0 if responses >= r), exact ``alpha`` and ``power``.

    Raises
    ------
    ValidationError
        Bad parameters, or no design with ``n <= nmax`` (field ``nmax``).
    """
    check_two_stage_inputs(p0, p1, alpha, beta, nmax)
    n = np.arange(1, nmax + 1)
    # smallest r with P(X >= r | p0) <= alpha, i.e. P(X > r - 1) <= alpha
    r = smallest_upper_critical(alpha, n, p0, TOL) + 1
    size = stats.binom.sf(r - 1, n, p0)
    power = stats.binom.sf(r - 1, n, p1)
    ok = np.nonzero((power >= 1.0 - beta - TOL) & (r <= n))[0]
    if ok.size == 0:
        raise ValidationError.single(
            RECORD,
            "nmax",
            f"no single-stage design with n <= {nmax} reaches power {1 - beta:.3g} at alpha "
            f"{alpha:.3g} for p0={p0}, p1={p1}; increase nmax",
        )
    i = int(ok[0])
    return SingleStageDesign(n=int(n[i]), r=int(r[i]), alpha=float(size[i]), power=float(power[i]))
