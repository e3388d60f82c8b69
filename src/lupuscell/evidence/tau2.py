"""Estimators of the between-study variance tau^2, for intercept-only and meta-regression models.

Estimators, with metafor's names (Viechtbauer 2005, J Educ Behav Stat 30:261; Veroniki et al.
2016, Res Synth Methods 7:55):

``DL``   DerSimonian & Laird (1986) method of moments, generalised to moderators
         (Raudenbush 2009): ``(QE - (k - p)) / tr(P)``;
``HE``   Hedges (1983) / Hedges & Olkin, unweighted method of moments;
``SJ``   Sidik & Jonkman (2005), one step from var(y) (k-1)/k (also with moderators, as metafor);
``PM``   Paule & Mandel (1982): generalised Q equal to its expectation k - p, solved by
         Brent's method on metafor's bracket to the exact root (absolute tolerance
         :data:`PM_TOL` = 1e-12 in tau^2); ``tol=METAFOR_UNIROOT_TOL`` reproduces metafor's
         default ``uniroot`` tolerance (eps^0.25 ~ 1.2e-4) and so its printed value;
``ML``   maximum likelihood, ``REML`` restricted maximum likelihood, both by Fisher scoring
         from the HE estimate with step halving at the boundary and metafor's stopping rule
         (change < 1e-5; configurable).

Method-of-moments estimates below 0 are truncated at 0 and the untruncated value is returned
as well, so callers can report the truncation. This is the trap in
``statsmodels.stats.meta_analysis.combine_effects(method_re="dl")``, which returns a negative
tau^2 (and a NaN standard error) on homogeneous data; statsmodels also lacks HE, SJ, ML, REML
and any estimator with moderators, which is why this module is written by hand. The Q-profile
confidence interval (Viechtbauer 2007, Stat Med 26:37) is here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

FloatArray = NDArray[np.float64]

TAU2_METHODS = ("DL", "HE", "SJ", "PM", "ML", "REML")
_TOL = 1e-10
#: metafor's default convergence threshold for the iterative tau^2 estimators.
METAFOR_THRESHOLD = 1e-5
_MAXITER = 1000


@dataclass(frozen=True)
class Tau2Estimate:
    """tau^2 with its raw (untruncated) value, its SE (metafor's formulas) and iteration count."""

    tau2: float
    raw: float
    se: float | None
    truncated: bool
    iterations: int = 0


def wls(
    y: FloatArray, v: FloatArray, x: FloatArray, tau2: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted least squares with weights 1/(v + tau2): (beta, vcov, weights)."""
    w = 1.0 / (v + tau2)
    xtw = x.T * w
    vb = np.asarray(np.linalg.inv(xtw @ x), dtype=float)
    beta = vb @ (xtw @ y)
    return beta, vb, w


def p_matrix(v: FloatArray, x: FloatArray, tau2: float) -> FloatArray:
    """P = W - W X (X'WX)^-1 X'W with W = diag(1/(v + tau2))."""
    w = 1.0 / (v + tau2)
    xtw = x.T * w
    vb = np.linalg.inv(xtw @ x)
    return np.diag(w) - xtw.T @ vb @ xtw


def q_generalised(y: FloatArray, v: FloatArray, x: FloatArray, tau2: float) -> float:
    """Generalised Cochran Q at tau2: sum w_i (y_i - x_i' beta(tau2))^2."""
    beta, _, w = wls(y, v, x, tau2)
    r = y - x @ beta
    return float(np.sum(w * r * r))


def typical_variance(v: FloatArray, x: FloatArray) -> float:
    """metafor's 'typical' within-study variance (k - p) / tr(P(0)), used for I^2 and H^2."""
    k, p = x.shape
    return float((k - p) / np.trace(p_matrix(v, x, 0.0)))


def _dl(y: FloatArray, v: FloatArray, x: FloatArray) -> tuple[float, int]:
    k, p = x.shape
    pm = p_matrix(v, x, 0.0)
    q = float(y @ pm @ y)
    return (q - (k - p)) / float(np.trace(pm)), 0


def _he(y: FloatArray, v: FloatArray, x: FloatArray) -> tuple[float, int]:
    k, p = x.shape
    h = x @ np.linalg.pinv(x.T @ x) @ x.T
    m = np.eye(k) - h
    rss = float(y @ m @ y)
    return (rss - float(np.trace(m @ np.diag(v)))) / (k - p), 0


def _sj(y: FloatArray, v: FloatArray, x: FloatArray) -> tuple[float, int]:
    k, p = x.shape
    tau0 = _sj_start(y)
    if tau0 <= 0:
        return 0.0, 0
    pm = p_matrix(v, x, tau0)
    return tau0 * float(y @ pm @ y) / (k - p), 0


def _sj_start(y: FloatArray) -> float:
    """Sidik-Jonkman starting value var(y) (k - 1) / k, also with moderators (as metafor)."""
    return float(np.var(y))


#: R's ``uniroot`` default tolerance, ``.Machine$double.eps^0.25``, which metafor uses for PM.
METAFOR_UNIROOT_TOL = float(np.finfo(float).eps ** 0.25)
#: lupuscell's default absolute tolerance of the Paule-Mandel root (in tau^2 units).
PM_TOL = 1e-12


def _pm(y: FloatArray, v: FloatArray, x: FloatArray, tol: float = PM_TOL) -> tuple[float, int]:
    """Paule-Mandel root of Q_gen(tau^2) = k - p.

    Brent's method (scipy ``brentq``) on metafor's bracket [0, max(100, 10 mad(y)^2)], to the
    absolute tolerance ``tol`` (default :data:`PM_TOL` = 1e-12: the exact root). metafor 3.8
    runs R's ``uniroot``, the same algorithm, with tolerance eps^0.25 ~ 1.2e-4; with
    ``tol=METAFOR_UNIROOT_TOL`` the same bracket returns metafor's printed value to ~1e-10,
    while the exact root differs from it by up to ~1e-5 in tau^2 (measured on dat.pritz1997:
    tests/evidence/r/metafor_proportions.out, which prints both).
    """
    k, p = x.shape
    target = k - p

    def f(t: float) -> float:
        return q_generalised(y, v, x, t) - target

    if f(0.0) <= 0:
        return 0.0, 0
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    hi = max(100.0, 10 * mad**2)
    while f(hi) > 0:  # beyond metafor's bracket (metafor stops with an error here)
        hi *= 10
    root, res = optimize.brentq(f, 0.0, hi, xtol=tol, full_output=True)
    return float(root), int(res.iterations)


def _fisher(
    y: FloatArray, v: FloatArray, x: FloatArray, reml: bool, threshold: float = _TOL
) -> tuple[float, int]:
    start, _ = _he(y, v, x)
    tau2 = max(0.0, start)
    for it in range(1, _MAXITER + 1):
        pm = p_matrix(v, x, tau2)
        py = pm @ y
        if reml:
            ppm = pm @ pm
            adj = (float(py @ py) - float(np.trace(pm))) / float(np.trace(ppm))
        else:
            w = 1.0 / (v + tau2)
            adj = (float(py @ py) - float(np.sum(w))) / float(np.sum(w * w))
        while tau2 + adj < 0:
            adj /= 2
            if abs(adj) < _TOL:
                adj = -tau2
                break
        tau2 += adj
        if abs(adj) < threshold:
            return max(tau2, 0.0), it
    raise RuntimeError(f"{'REML' if reml else 'ML'} estimate of tau^2 did not converge")


_Estimator = Callable[[FloatArray, FloatArray, FloatArray, float, float], tuple[float, int]]
_ESTIMATORS: dict[str, _Estimator] = {
    "DL": lambda y, v, x, t, tol: _dl(y, v, x),
    "HE": lambda y, v, x, t, tol: _he(y, v, x),
    "SJ": lambda y, v, x, t, tol: _sj(y, v, x),
    "PM": lambda y, v, x, t, tol: _pm(y, v, x, tol),
    "ML": lambda y, v, x, t, tol: _fisher(y, v, x, reml=False, threshold=t),
    "REML": lambda y, v, x, t, tol: _fisher(y, v, x, reml=True, threshold=t),
}


def estimate_tau2(
    method: str,
    y: FloatArray,
    v: FloatArray,
    x: FloatArray | None = None,
    *,
    threshold: float = METAFOR_THRESHOLD,
    tol: float = PM_TOL,
) -> Tau2Estimate:
    """Estimate tau^2 by ``method`` (one of :data:`TAU2_METHODS`), truncating at 0.

    ``x`` is the k x p design matrix (default: intercept only). With k = p there is nothing
    to estimate and tau^2 = 0. ``threshold`` stops the ML/REML Fisher scoring when the change
    in tau^2 falls below it; the default is metafor's (1e-5, starting from the HE estimate), so
    results reproduce metafor's printed values; pass e.g. 1e-10 for the exact optimum (the two
    can differ by ~1e-5 in tau^2 when Fisher scoring converges slowly, e.g. dat.bcg ~ ablat).
    ``tol`` is the absolute tolerance of the Paule-Mandel root (default 1e-12, the exact root;
    :data:`METAFOR_UNIROOT_TOL` gives metafor's default).
    """
    if method not in _ESTIMATORS:
        raise ValueError(f"unknown tau^2 estimator {method!r}; one of {', '.join(TAU2_METHODS)}")
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    xm = np.ones((y.size, 1)) if x is None else np.asarray(x, dtype=float)
    k, p = xm.shape
    if k <= p:
        return Tau2Estimate(0.0, 0.0, None, False)
    raw, iterations = _ESTIMATORS[method](y, v, xm, threshold, tol)
    tau2 = max(raw, 0.0)
    return Tau2Estimate(tau2, float(raw), _se_tau2(method, y, v, xm, tau2), raw < 0, iterations)


def _se_tau2(method: str, y: FloatArray, v: FloatArray, x: FloatArray, tau2: float) -> float:
    """Standard error of the tau^2 estimate, with metafor's formula for each estimator."""
    k, p = x.shape
    t = max(tau2, 0.0)
    if method == "REML":
        pm = p_matrix(v, x, tau2)
        return float(np.sqrt(2 / np.sum(pm * pm)))
    if method == "ML":
        w = 1.0 / (v + tau2)
        return float(np.sqrt(2 / np.sum(w * w)))
    if method == "PM":
        w = 1.0 / (v + tau2)
        return float(np.sqrt(2 * k**2 / (k - p) / np.sum(w) ** 2))
    if method == "DL":
        pm = p_matrix(v, x, 0.0)
        trp = float(np.trace(pm))
        return float(np.sqrt((2 * (k - p) + 4 * t * trp + 2 * t**2 * np.sum(pm * pm)) / trp**2))
    if method == "HE":
        m = np.eye(k) - x @ np.linalg.pinv(x.T @ x) @ x.T
        pv = m * v  # M diag(v)
        return float(
            np.sqrt((2 * np.sum(pv * pv.T) + 4 * t * np.trace(pv) + 2 * t**2 * (k - p)) / (k - p) ** 2)
        )
    # SJ
    tau0 = _sj_start(y)
    pm = p_matrix(v, x, tau0)
    pv = pm * v
    return float(
        np.sqrt(
            tau0**2
            / (k - p) ** 2
            * (2 * np.sum(pv * pv.T) + 4 * t * np.sum(pv * pm) + 2 * t**2 * np.sum(pm * pm))
        )
    )


def q_profile_ci(
    y: FloatArray, v: FloatArray, x: FloatArray | None = None, level: float = 0.95
) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007), bounds truncated at 0.

    The bounds solve Q_gen(tau2) = chi^2_{k-p} quantiles at (1+level)/2 (lower bound) and
    (1-level)/2 (upper bound); Q_gen decreases in tau2, so each is one bracketed root.
    """
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    xm = np.ones((y.size, 1)) if x is None else np.asarray(x, dtype=float)
    k, p = xm.shape
    if k <= p:
        return (float("nan"), float("nan"))
    df = k - p
    alpha = 1 - level

    def bound(crit: float) -> float:
        def f(t: float) -> float:
            return q_generalised(y, v, xm, t) - crit

        if f(0.0) <= 0:
            return 0.0
        hi = max(1.0, float(np.var(y)) * 10)
        while f(hi) > 0:
            hi *= 10
        return float(optimize.brentq(f, 0.0, hi, xtol=1e-12))

    lower = bound(float(stats.chi2.ppf(1 - alpha / 2, df)))
    upper = bound(float(stats.chi2.ppf(alpha / 2, df)))
    return lower, upper
