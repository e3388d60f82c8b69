"""Exact binomial tables shared by the design searches.

A design search evaluates the same binomial probabilities thousands of times (every
stage-1 size ``n1`` against every stage-2 size ``n - n1``). Instead of calling
``scipy.stats.binom`` inside loops, each search builds the full tables once per response
rate with one broadcast call to :func:`scipy.stats.binom.pmf` / ``sf`` and then indexes
them with NumPy fancy indexing.

The tables are small: ``(nmax + 1) x (nmax + 1)`` for the mass function and
``(nmax + 1) x (2 nmax + 2)`` for the survival function with negative arguments
(``P(X > k) = 1`` for ``k < 0``), which the Simon formulas need when ``r - x1 < 0``.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Controlled Clinical
Trials 1989;10:1-10 (equation 1: the two-stage rejection probability as a sum of
binomial terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class BinomialTables:
    """Mass and survival tables of Binomial(m, p) for every m in 0..nmax.

    Attributes
    ----------
    p : float
        Success probability.
    nmax : int
        Largest number of trials tabulated.
    pmf : ndarray, shape (nmax + 1, nmax + 1)
        ``pmf[m, x] = P(X = x)`` for ``X ~ Binomial(m, p)``; zero for ``x > m``.
    sf_ext : ndarray, shape (nmax + 1, 2 * nmax + 2)
        ``sf_ext[m, k + offset] = P(X > k)`` for ``k`` in ``-(nmax + 1) .. nmax``; equals 1
        for ``k < 0`` and 0 for ``k >= m``.
    cdf : ndarray, shape (nmax + 1, nmax + 1)
        ``cdf[m, k] = P(X <= k)``.
    offset : int
        Column of ``sf_ext`` that holds ``k = 0``.
    """

    p: float
    nmax: int
    pmf: FloatArray
    sf_ext: FloatArray
    cdf: FloatArray
    offset: int

    def sf(self, m: IntArray | int, k: IntArray | int) -> FloatArray:
        """``P(X > k)`` for ``X ~ Binomial(m, p)``, broadcasting ``m`` and ``k`` (k may be < 0)."""
        k_arr = np.clip(np.asarray(k) + self.offset, 0, self.sf_ext.shape[1] - 1)
        return np.asarray(self.sf_ext[np.asarray(m), k_arr], dtype=np.float64)


def smallest_upper_critical(alpha: float, n: IntArray, p: float, tol: float = 0.0) -> IntArray:
    """Smallest ``k`` with ``P(X > k) <= alpha + tol`` for ``X ~ Binomial(n, p)``, elementwise.

    Starts from ``scipy.stats.binom.isf`` and corrects it by single steps in both directions,
    so the result is exact even where ``isf`` is off by one at a tie.
    """
    n = np.asarray(n, dtype=np.int64)
    k = np.clip(np.asarray(stats.binom.isf(alpha, n, p)), 0, n).astype(np.int64)
    while np.any(up := stats.binom.sf(k, n, p) > alpha + tol):
        k = np.where(up, k + 1, k)
    while np.any(down := (k > 0) & (stats.binom.sf(k - 1, n, p) <= alpha + tol)):
        k = np.where(down, k - 1, k)
    return k


def binomial_tables(p: float, nmax: int) -> BinomialTables:
    """Build the exact binomial tables for success probability ``p`` and sizes ``0..nmax``."""
    m = np.arange(nmax + 1)[:, None]
    x = np.arange(nmax + 1)[None, :]
    pmf = np.where(x <= m, stats.binom.pmf(x, m, p), 0.0)
    cdf = np.where(x <= m, stats.binom.cdf(x, m, p), 1.0)
    offset = nmax + 1
    k = np.arange(-(nmax + 1), nmax + 1)[None, :]
    sf_ext = np.where(k < 0, 1.0, np.where(k >= m, 0.0, stats.binom.sf(np.maximum(k, 0), m, p)))
    return BinomialTables(
        p=float(p),
        nmax=int(nmax),
        pmf=np.asarray(pmf, dtype=np.float64),
        sf_ext=np.asarray(sf_ext, dtype=np.float64),
        cdf=np.asarray(cdf, dtype=np.float64),
        offset=offset,
    )
