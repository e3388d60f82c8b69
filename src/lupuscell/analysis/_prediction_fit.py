"""The numerical core of the prediction models: penalised fits, tuning, performance and the bootstrap.

Ridge (L2) penalties on standardised predictors, the penalty chosen by 5-fold cross-validation
(log-loss for the logistic model, the cross-validated partial likelihood of Verweij & van
Houwelingen 1993 for the Cox model), and Harrell's bootstrap optimism correction with the tuning
repeated in every bootstrap sample (Harrell, Lee & Mark 1996; Steyerberg 2019, ch. 5). The
logistic fits are scikit-learn's ``LogisticRegression`` (Newton-Cholesky solver: exact and fast for
few predictors); the Cox fits are the vectorised Newton
solver of :mod:`lupuscell.analysis._cox_core` with a ridge term (lifelines would also do, but a
bootstrap of a few hundred tuned fits needs the fast path).

References
----------
Verweij PJM, van Houwelingen HC. Cross-validation in survival analysis. Stat Med 1993;12:2305-14.

Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-387.

Crowson CS, Atkinson EJ, Therneau TM. Assessing calibration of prognostic risk scores. Stat
Methods Med Res 2016;25:1692-1706.

Steyerberg EW. Clinical Prediction Models, 2nd ed. Springer 2019.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from lupuscell.analysis._cox_core import Covariates, FloatArray, cox_risk_sets, evaluate, make_slots, newton
from lupuscell.analysis.concordance import concordance
from lupuscell.analysis.conventions import step_value

Kind = Literal["logistic", "cox"]
#: Penalty grid: C = 1/lambda for the logistic model, lambda for the Cox model (standardised scale).
PENALTIES = np.logspace(-2, 3, 9)
FOLDS = 5


@dataclass(frozen=True)
class Outcome:
    """Binary outcome ``y`` (logistic) or time and event (Cox)."""

    y: FloatArray | None = None
    time: FloatArray | None = None
    event: FloatArray | None = None

    def take(self, idx: np.ndarray) -> Outcome:
        pick = (lambda a: None if a is None else a[idx])  # noqa: E731
        return Outcome(pick(self.y), pick(self.time), pick(self.event))


@dataclass(frozen=True)
class Fitted:
    """One fitted model on the standardised scale."""

    coef: FloatArray
    intercept: float  # logistic only
    penalty: float
    baseline_time: FloatArray  # Cox only: event times and the cumulative baseline hazard at lp = 0
    baseline_cumhaz: FloatArray

    def lp(self, z: FloatArray) -> FloatArray:
        return np.asarray(z @ self.coef + self.intercept, dtype=float)

    def cumhaz(self, t: FloatArray) -> FloatArray:
        return step_value(self.baseline_time, self.baseline_cumhaz, t, before=0.0)


def _logistic(z: FloatArray, y: FloatArray, c: float) -> Fitted:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200).fit(z, y.astype(int))
    return Fitted(model.coef_[0].astype(float), float(model.intercept_[0]), c, np.empty(0), np.empty(0))


def _cox(z: FloatArray, time: FloatArray, event: FloatArray, lam: float) -> Fitted:
    rs = cox_risk_sets(time, event > 0, None, np.ones(time.size))
    fit = newton(rs, z, "breslow", penalty=lam, max_iter=40, tol=1e-8)
    beta = np.nan_to_num(fit.beta)
    ev = fit.evaluation or evaluate(rs, make_slots(rs, "breslow"), Covariates.of(rs, z), beta, info=False)
    return Fitted(beta, 0.0, lam, rs.times, np.cumsum(ev.a))


def _tune(kind: Kind, z: FloatArray, out: Outcome, seed: int) -> float:
    """The penalty with the best 5-fold cross-validated fit."""
    scores = np.zeros(PENALTIES.size)
    if kind == "logistic":
        assert out.y is not None
        splits = StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(z, out.y)
        for train, test in splits:
            for i, c in enumerate(PENALTIES):
                p = np.clip(expit(_logistic(z[train], out.y[train], c).lp(z[test])), 1e-12, 1 - 1e-12)
                yt = out.y[test]
                scores[i] += float(np.sum(yt * np.log(p) + (1 - yt) * np.log(1 - p)))
    else:
        scores = _cox_cv_likelihood(z, out, seed)
    return float(PENALTIES[int(np.argmax(scores))])


def _cox_cv_likelihood(z: FloatArray, out: Outcome, seed: int) -> FloatArray:
    """Verweij & van Houwelingen's cross-validated partial likelihood per penalty (warm-started path)."""
    assert out.time is not None and out.event is not None
    rs_full = cox_risk_sets(out.time, out.event > 0, None, np.ones(out.time.size))
    slots_full, cov_full = make_slots(rs_full, "breslow"), Covariates.of(rs_full, z)
    scores = np.zeros(PENALTIES.size)
    for train, _ in KFold(FOLDS, shuffle=True, random_state=seed).split(z):
        rs = cox_risk_sets(out.time[train], out.event[train] > 0, None, np.ones(train.size))
        beta: FloatArray | None = None
        for i in np.argsort(-PENALTIES):  # strongest penalty first: each fit starts from the last
            lam = float(PENALTIES[i])
            fit = newton(rs, z[train], "breslow", penalty=lam, max_iter=40, tol=1e-8, init=beta)
            beta = np.nan_to_num(fit.beta)
            train_loglik = fit.loglik + 0.5 * lam * float(beta @ beta)  # the unpenalised partial likelihood
            scores[i] += evaluate(rs_full, slots_full, cov_full, beta, info=False).loglik - train_loglik
    return scores


def fit_model(kind: Kind, z: FloatArray, out: Outcome, seed: int, penalty: float | None = None) -> Fitted:
    """Tune the penalty (unless given) and fit on all rows."""
    lam = _tune(kind, z, out, seed) if penalty is None else penalty
    if kind == "logistic":
        assert out.y is not None
        return _logistic(z, out.y, lam)
    assert out.time is not None and out.event is not None
    return _cox(z, out.time, out.event, lam)


def performance(kind: Kind, model: Fitted, z: FloatArray, out: Outcome) -> FloatArray:
    """C-statistic, calibration slope and calibration intercept of ``model`` on ``(z, out)``.

    Logistic: the AUC; the slope of ``logit(y) ~ lp`` and the intercept of ``logit(y) ~ offset(lp)``
    (calibration in the large). Cox: Harrell's C; the slope of a Cox model of the outcome on ``lp``;
    ``log(observed / expected events)`` (Crowson et al. 2016, the Poisson intercept).
    """
    lp = model.lp(z)
    if kind == "logistic":
        assert out.y is not None
        if out.y.min() == out.y.max():
            return np.full(3, np.nan)
        return np.array([roc_auc_score(out.y, lp), *_logistic_calibration(lp, out.y)])
    assert out.time is not None and out.event is not None
    c = concordance(out.time, out.event > 0, lp).value
    rs = cox_risk_sets(out.time, out.event > 0, None, np.ones(out.time.size))
    if not rs.death_row.size:
        return np.array([c, np.nan, np.nan])
    slope = float(newton(rs, (lp - lp.mean())[:, None], "breslow", max_iter=30).beta[0])
    expected = float(np.sum(model.cumhaz(out.time) * np.exp(lp)))
    return np.array([c, slope, np.log(out.event.sum() / expected) if expected > 0 else np.nan])


def _logistic_calibration(lp: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Slope of ``y ~ lp`` and intercept of ``y ~ offset(lp)`` by Newton-Raphson (2 and 1 parameters)."""
    slope_fit = _newton_logit(np.column_stack([np.ones_like(lp), lp]), y, np.zeros_like(lp))
    intercept_fit = _newton_logit(np.ones((lp.size, 1)), y, lp)
    return float(slope_fit[1]), float(intercept_fit[0])


def _newton_logit(x: FloatArray, y: FloatArray, offset: FloatArray, iterations: int = 50) -> FloatArray:
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = expit(x @ beta + offset)
        info = (x * (p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(info, x.T @ (y - p))
        except np.linalg.LinAlgError:
            return np.full(x.shape[1], np.nan)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return np.asarray(beta if np.all(np.isfinite(beta)) and np.max(np.abs(beta)) < 50 else np.nan * beta)


@dataclass(frozen=True)
class Bootstrap:
    """Per bootstrap sample: the model and the optimism of each performance measure."""

    models: list[Fitted]
    optimism: FloatArray  # samples x 3 (C, slope, intercept)
    failed: int


def bootstrap(
    kind: Kind,
    z: FloatArray,
    out: Outcome,
    n_boot: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> Bootstrap:
    """Harrell's optimism bootstrap: refit (tuning included) on each resample, test on the original."""
    rng = np.random.default_rng(seed)
    n = z.shape[0]
    models, optimism, failed = [], [], 0
    for b in range(n_boot):
        idx = np.asarray(rng.integers(0, n, n), dtype=np.int64)
        boot = out.take(idx)
        if (kind == "logistic" and boot.y is not None and boot.y.min() == boot.y.max()) or (
            kind == "cox" and boot.event is not None and boot.event.sum() == 0
        ):
            failed += 1
            continue
        model = fit_model(kind, z[idx], boot, seed + b + 1)
        models.append(model)
        optimism.append(performance(kind, model, z[idx], boot) - performance(kind, model, z, out))
        if progress is not None:
            progress(b + 1)
    return Bootstrap(models, np.array(optimism).reshape(-1, 3), failed)


def predicted_risk(kind: Kind, model: Fitted, z: FloatArray, horizon: float) -> FloatArray:
    """Probability of the outcome (logistic) or of an event by ``horizon`` (Cox)."""
    if kind == "logistic":
        return np.asarray(expit(model.lp(z)), dtype=float)
    return np.asarray(1 - np.exp(-model.cumhaz(np.array([horizon]))[0] * np.exp(model.lp(z))), dtype=float)


__all__ = ["Bootstrap", "Fitted", "Kind", "Outcome", "bootstrap", "fit_model", "performance", "predicted_risk"]
