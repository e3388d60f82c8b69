"""Binomial-normal GLMM (sensitivity analysis for pooled proportions)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from lupuscell.evidence.effects import escalc
from lupuscell.evidence.glmm import _BinomialNormal, binomial_normal_glmm
from lupuscell.evidence.meta import rma

DATA = [(23, 83), (9, 12), (33, 50), (21, 24), (18, 22), (13, 40), (2, 3), (37, 40)]


def es(pairs):
    return escalc("PLO", [{"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate(pairs)])


def _loglik_quad(mu, tau, x, n):
    """Independent marginal log-likelihood by adaptive quadrature (scipy.integrate.quad)."""
    total = 0.0
    for xi, ni in zip(x, n, strict=True):
        f = lambda t, xi=xi, ni=ni: stats.binom.pmf(xi, ni, special.expit(t)) * stats.norm.pdf(t, mu, tau)  # noqa: E731
        val, _ = integrate.quad(f, mu - 12 * tau, mu + 12 * tau, limit=200)
        total += np.log(val)
    return total


def _loglik_grid(mu, tau, x, n):
    """Independent marginal log-likelihood by the trapezoidal rule on a fine grid (vectorised)."""
    t = np.linspace(mu - 10 * tau, mu + 10 * tau, 4001)
    dens = stats.binom.pmf(x[:, None], n[:, None], special.expit(t)) * stats.norm.pdf(t, mu, tau)
    return float(np.sum(np.log(np.trapezoid(dens, t, axis=1))))


def test_gauss_hermite_likelihood_matches_adaptive_quadrature():
    x = np.array([p[0] for p in DATA], float)
    n = np.array([p[1] for p in DATA], float)
    model = _BinomialNormal(x, n)
    # large tau relative to the binomial SEs is where plain Gauss-Hermite fails
    for mu, tau in [(0.5, 0.3), (1.0, 1.2), (-0.5, 2.0), (0.0, 5.0)]:
        ours = float(np.sum(model.loglikeobs(np.array([mu, np.log(tau)]))))
        assert ours == pytest.approx(_loglik_quad(mu, tau, x, n), abs=1e-6)


def test_glmm_maximises_the_independent_likelihood():
    x = np.array([p[0] for p in DATA], float)
    n = np.array([p[1] for p in DATA], float)
    fit = binomial_normal_glmm(es(DATA))
    best = optimize.minimize(
        lambda p: -_loglik_grid(p[0], np.exp(p[1]), x, n),
        [fit.estimate + 0.2, 0.5 * np.log(fit.tau2) - 0.2],
        method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-9},
    )
    assert fit.estimate == pytest.approx(best.x[0], abs=1e-3)
    assert fit.tau2 == pytest.approx(np.exp(2 * best.x[1]), rel=1e-2)
    assert fit.loglik == pytest.approx(-best.fun, abs=1e-5)
    assert not fit.boundary and fit.converged
    assert 0 < fit.se < 1
    assert fit.proportion_ci[0] < fit.proportion < fit.proportion_ci[1]
    # same ballpark as the normal-normal model, no continuity correction needed
    assert abs(fit.proportion - rma(es(DATA)).back.estimate) < 0.1


def test_homogeneous_data_fall_back_to_pooled_logistic():
    fit = binomial_normal_glmm(es([(10, 50), (11, 50), (9, 50), (10, 50)]))
    assert fit.boundary and fit.tau2 == 0.0
    assert fit.proportion == pytest.approx(40 / 200, abs=1e-8)


def test_zero_and_all_event_studies_enter_uncorrected():
    fit = binomial_normal_glmm(es([(0, 20), (20, 20), (5, 20), (15, 20)]))
    assert np.isfinite(fit.estimate) and fit.tau2 > 0


def test_needs_counts():
    gen = escalc("GEN", [{"id": "a", "yi": 0.1, "vi": 0.1}])
    with pytest.raises(ValueError, match="events/total"):
        binomial_normal_glmm(gen)
