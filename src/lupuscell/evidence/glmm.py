"""Binomial-normal random-intercept GLMM for single proportions (sensitivity analysis).

Model (Stijnen, Hamza & Ozdemir 2010, Stat Med 29:3046; metafor ``rma.glmm(measure="PLO")``,
``model="UM.FS"`` for one group): ``x_i ~ Binomial(n_i, expit(theta_i))``,
``theta_i ~ N(mu, tau^2)``. The exact binomial likelihood needs no continuity correction, so
zero-event and all-event studies enter as they are, which is why it is the usual sensitivity
analysis to the normal-normal (``PLO``) model.

The marginal likelihood is integrated by adaptive Gauss-Hermite quadrature (``nodes`` points
per study, 32 by default, centred and scaled at each study's mode as in lme4's ``nAGQ``;
plain Gauss-Hermite is inaccurate when tau is large relative to a study's binomial SE) and
maximised with statsmodels' ``GenericLikelihoodModel`` over
(mu, log tau), which also supplies the Hessian-based standard errors. statsmodels has no
frequentist binomial GLMM (``BinomialBayesMixedGLM`` is a variational Bayes fit), hence this
small model class. When the likelihood is maximal at tau = 0 the model reduces to a pooled
logistic regression, fitted with statsmodels ``GLM`` and reported with tau^2 = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import special, stats
from statsmodels.base.model import GenericLikelihoodModel

from lupuscell.evidence.effects import EffectSizes

FloatArray = NDArray[np.float64]


class _BinomialNormal(GenericLikelihoodModel):  # type: ignore[misc]
    """Marginal binomial-normal likelihood, parameters (mu, log tau)."""

    def __init__(self, events: FloatArray, total: FloatArray, nodes: int = 32, **kwargs: Any) -> None:
        self.events = np.asarray(events, dtype=float)
        self.total = np.asarray(total, dtype=float)
        z, w = np.polynomial.hermite.hermgauss(nodes)
        self._z = z
        self._logw_raw = np.log(w)
        self._logc = (
            special.gammaln(self.total + 1)
            - special.gammaln(self.events + 1)
            - special.gammaln(self.total - self.events + 1)
        )
        super().__init__(
            self.events, np.ones((self.events.size, 1)), extra_params_names=["log_tau"], **kwargs
        )

    def loglikeobs(self, params: FloatArray) -> FloatArray:
        """Per-study marginal log-likelihood by adaptive Gauss-Hermite quadrature.

        Each study's integrand is centred at its mode and scaled by its curvature (Liu & Pierce
        1994), which keeps the rule accurate when tau is large relative to the binomial SE.
        """
        mu, log_tau = float(params[0]), float(params[1])
        tau2 = float(np.exp(2 * log_tau))
        x, n = self.events, self.total
        # mode of h(t) = log Bin(x | expit t) + log N(t | mu, tau^2): Newton on a concave function
        t = (np.log((x + 0.5) / (n - x + 0.5)) * (n / 4) + mu / tau2) / (n / 4 + 1 / tau2)
        for _ in range(50):
            p = special.expit(t)
            grad = x - n * p - (t - mu) / tau2
            hess = -n * p * (1 - p) - 1 / tau2
            step = np.clip(grad / hess, -5, 5)
            t = t - step
            if np.max(np.abs(step)) < 1e-12:
                break
        p = special.expit(t)
        sigma = 1 / np.sqrt(n * p * (1 - p) + 1 / tau2)
        nodes = t[:, None] + np.sqrt(2.0) * sigma[:, None] * self._z
        log_p = -np.logaddexp(0.0, -nodes)
        log_q = -np.logaddexp(0.0, nodes)
        h = (
            x[:, None] * log_p
            + (n - x)[:, None] * log_q
            - (nodes - mu) ** 2 / (2 * tau2)
            - 0.5 * np.log(2 * np.pi * tau2)
        )
        ll = special.logsumexp(h + self._z**2 + self._logw_raw, axis=1) + np.log(np.sqrt(2.0) * sigma)
        return np.asarray(self._logc + ll, dtype=float)


@dataclass(frozen=True)
class GlmmResult:
    """Pooled logit proportion from the binomial-normal model, and its back-transformation."""

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    loglik: float
    proportion: float
    proportion_ci: tuple[float, float]
    converged: bool
    boundary: bool


def binomial_normal_glmm(es: EffectSizes, level: float = 0.95, nodes: int = 32) -> GlmmResult:
    """Fit the binomial-normal GLMM to the raw counts behind ``es`` (a proportion measure)."""
    if "events" not in es.raw:
        raise ValueError("the binomial-normal GLMM needs events/total (a proportion measure)")
    x, n = es.raw["events"], es.raw["total"]
    crit = float(stats.norm.ppf(0.5 + level / 2))
    # tau = 0: ordinary pooled logistic regression (statsmodels GLM)
    glm = sm.GLM(np.column_stack([x, n - x]), np.ones((x.size, 1)), family=sm.families.Binomial()).fit()
    mu0, se0 = float(glm.params[0]), float(glm.bse[0])
    ll0 = float(glm.llf)
    best: tuple[float, float, float, float, bool] = (mu0, se0, 0.0, ll0, True)
    converged = True
    if x.size > 1:
        model = _BinomialNormal(x, n, nodes=nodes)
        start = np.array([mu0, np.log(0.5)])
        fit = model.fit(start_params=start, method="bfgs", maxiter=500, disp=False)
        converged = bool(fit.mle_retvals.get("converged", True))
        ll1 = float(fit.llf)
        if ll1 > ll0 + 1e-8 and np.exp(fit.params[1]) > 1e-4:
            cov = fit.cov_params()
            se1 = float(np.sqrt(cov[0, 0])) if np.isfinite(cov[0, 0]) else float("nan")
            best = (float(fit.params[0]), se1, float(np.exp(2 * fit.params[1])), ll1, False)
    mu, se, tau2, ll, boundary = best
    lo, hi = mu - crit * se, mu + crit * se
    return GlmmResult(
        k=int(x.size),
        estimate=mu,
        se=se,
        ci_low=lo,
        ci_high=hi,
        tau2=tau2,
        loglik=ll,
        proportion=float(special.expit(mu)),
        proportion_ci=(float(special.expit(lo)), float(special.expit(hi))),
        converged=converged,
        boundary=boundary,
    )
