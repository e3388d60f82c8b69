"""Meta-analysis engine in metafor's vocabulary (``rma``, ``rma.mh``, ``leave1out``, ``regtest``).

Models (Viechtbauer 2010, "Conducting meta-analyses in R with the metafor package", J Stat
Softw 36(3); metafor reference manual):

* ``EE``: equal/common-effect model, inverse-variance weights; :func:`rma_mh` gives the
  Mantel-Haenszel common effect for ``RR``/``OR``/``RD`` (Mantel & Haenszel 1959; variances of
  Greenland & Robins 1985, Robins, Breslow & Greenland 1986, Sato, Greenland & Robins 1989);
* random effects with tau^2 by ``DL``, ``REML``, ``ML``, ``PM``, ``HE``, ``SJ``
  (:mod:`lupuscell.evidence.tau2`), negative estimates truncated at 0 and reported;
* Wald-type ``z`` inference or Knapp & Hartung (2003) ``knha`` (t with k - p df, variance
  scaled by the weighted residual mean square, not truncated below at 1, as metafor);
* prediction interval ``mu +/- crit * sqrt(SE^2 + tau^2)`` with ``crit`` from t(k - p) under
  ``knha`` and from N(0, 1) otherwise (metafor ``predict.rma``);
* Q, I^2 and H^2 from tau^2 and metafor's "typical" within-study variance (Higgins & Thompson
  2002), tau^2/I^2/H^2 Q-profile intervals (Viechtbauer 2007);
* meta-regression (``mods``): coefficients, QM (Wald chi^2 or F under knha), QE, and
  pseudo-R^2 = (tau^2_RE - tau^2_ME) / tau^2_RE in percent (Raudenbush 2009);
* subgroup analysis with the test for subgroup differences, leave-one-out, Egger's
  regression test (metafor ``regtest``), in :mod:`lupuscell.evidence.meta` too.

Why hand-written: ``statsmodels.stats.meta_analysis.combine_effects`` covers only
intercept-only DL/PM/IV models, has no moderators, no Knapp-Hartung with REML, no Q-profile
interval and returns a negative DL tau^2 with a NaN SE on homogeneous data; metafor's rules
are therefore written out with NumPy/SciPy. statsmodels is used where it fits: the classic
Egger test (``WLS``) and the binomial-normal GLMM (:mod:`lupuscell.evidence.glmm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats

from lupuscell.analysis.conventions import json_safe
from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.effects import EffectSizes, back_transform
from lupuscell.evidence.tau2 import (
    METAFOR_THRESHOLD,
    PM_TOL,
    TAU2_METHODS,
    estimate_tau2,
    q_profile_ci,
    typical_variance,
    wls,
)

FloatArray = NDArray[np.float64]
METHODS = ("EE", *TAU2_METHODS)
TESTS = ("z", "knha")
Test = Literal["z", "knha"]


@dataclass(frozen=True)
class Coefficient:
    """One model coefficient (``intrcpt`` first)."""

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    stat: float


@dataclass(frozen=True)
class BackTransformed:
    """Pooled estimate on the natural scale (proportion, RR, OR; identity otherwise)."""

    estimate: float
    ci_low: float
    ci_high: float
    pred_low: float
    pred_high: float


@dataclass(frozen=True)
class MetaResult:
    """A fitted model: everything metafor prints for ``rma``, on the model scale."""

    measure: str
    method: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float
    pred_low: float
    pred_high: float
    tau2: float
    tau2_raw: float
    tau2_truncated: bool
    se_tau2: float | None
    tau2_ci: tuple[float, float]
    i2: float | None
    i2_ci: tuple[float, float] | None
    h2: float | None
    h2_ci: tuple[float, float] | None
    q: float
    q_df: int
    q_p: float | None
    back: BackTransformed
    ids: tuple[str, ...]
    yi: FloatArray
    vi: FloatArray
    ni: FloatArray
    weights: FloatArray
    coefficients: tuple[Coefficient, ...] = ()
    mods: Mapping[str, FloatArray] = field(default_factory=dict)
    qm: float | None = None
    qm_df: tuple[int, int] | None = None
    qm_p: float | None = None
    r2: float | None = None
    df: int | None = None
    notes: tuple[str, ...] = ()
    corrected: tuple[bool, ...] = ()

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    def summary(self) -> dict[str, Any]:
        """The CLI's JSON keys (see docs/evidence/meta_analysis.md)."""
        out: dict[str, Any] = {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "pval": self.pval,
            "pred_low": self.pred_low,
            "pred_high": self.pred_high,
            "tau2": self.tau2,
            "tau2_ci": list(self.tau2_ci),
            "tau2_truncated": self.tau2_truncated,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "back": {
                "estimate": self.back.estimate,
                "ci_low": self.back.ci_low,
                "ci_high": self.back.ci_high,
                "pred_low": self.back.pred_low,
                "pred_high": self.back.pred_high,
            },
            "weights": dict(zip(self.ids, (float(w) for w in self.weights), strict=True)),
            "notes": list(self.notes),
        }
        if self.coefficients:
            out["coefficients"] = [
                {k: v for k, v in asdict(c).items() if k != "stat"} for c in self.coefficients
            ]
            out["r2"] = self.r2
            out["qe"] = self.q
            out["qm"] = self.qm
            out["qm_p"] = self.qm_p
        return json_safe(out)


# ------------------------------------------------------------------ design matrix


def design_matrix(mods: Mapping[str, Sequence[Any]] | None, k: int) -> tuple[FloatArray, list[str]]:
    """Intercept plus moderators; non-numeric moderators are dummy coded (first level = reference).

    Column names follow R: ``intrcpt``, the moderator name, or ``<name><level>`` for dummies.
    """
    cols: list[FloatArray] = [np.ones(k)]
    names = ["intrcpt"]
    problems: list[Problem] = []
    for name, values in (mods or {}).items():
        vals = list(values)
        if len(vals) != k:
            problems.append(Problem("mods", name, f"needs one value per study ({k}), got {len(vals)}"))
            continue
        try:
            numeric = np.asarray([float(v) for v in vals])
        except (TypeError, ValueError):
            numeric = None
        if numeric is not None and not isinstance(vals[0], str):
            if not np.all(np.isfinite(numeric)):
                problems.append(Problem("mods", name, "values must be finite numbers"))
                continue
            cols.append(numeric)
            names.append(name)
            continue
        levels = sorted({str(v) for v in vals})
        for level in levels[1:]:
            cols.append(np.asarray([1.0 if str(v) == level else 0.0 for v in vals]))
            names.append(f"{name}{level}")
    if problems:
        raise ValidationError(problems)
    x = np.column_stack(cols)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValidationError.single(
            "mods", ",".join(names[1:]), "moderators are collinear with the intercept"
        )
    return x, names


# ------------------------------------------------------------------ the model


def _validate(method: str, test: str, es: EffectSizes, p: int) -> None:
    problems: list[Problem] = []
    if method not in METHODS:
        problems.append(Problem("", "method", f"unknown method {method!r}; one of {', '.join(METHODS)}"))
    if test not in TESTS:
        problems.append(Problem("", "test", f"unknown test {test!r}; one of z, knha"))
    if es.k == 0:
        problems.append(Problem("", "studies", "no studies"))
    elif es.k < p:
        problems.append(Problem("", "mods", f"{p} coefficients but only {es.k} studies"))
    elif test == "knha" and es.k <= p:
        problems.append(Problem("", "test", f"knha needs more studies than coefficients (k = {es.k})"))
    for sid, v in zip(es.ids, es.vi, strict=True):
        if not np.isfinite(v) or v < 0:
            problems.append(Problem(f"study {sid}", "vi", "sampling variance must be finite and >= 0"))
    if method != "EE" and np.any(es.vi == 0):
        problems.append(Problem("", "vi", "random-effects weights need every vi > 0"))
    if problems:
        raise ValidationError(problems)


@dataclass(frozen=True)
class _Tau2Fit:
    tau2: float
    raw: float
    se: float | None
    truncated: bool


def _fit_tau2(
    method: str, y: FloatArray, v: FloatArray, x: FloatArray, threshold: float, tol: float, notes: list[str]
) -> _Tau2Fit:
    k, p = x.shape
    if method == "EE" or k == p:
        if method != "EE":
            notes.append(f"k = {k}: tau^2 cannot be estimated and is set to 0")
        return _Tau2Fit(0.0, 0.0, None, False)
    est = estimate_tau2(method, y, v, x, threshold=threshold, tol=tol)
    if est.truncated:
        notes.append(f"{method} estimate of tau^2 was negative ({est.raw:.6g}) and is truncated at 0")
    return _Tau2Fit(est.tau2, est.raw, est.se, est.truncated)


def _cochran_q(y: FloatArray, v: FloatArray, x: FloatArray) -> tuple[float, int, float | None]:
    """Residual heterogeneity Q (always with the equal-effect weights 1/vi), its df and p."""
    k, p = x.shape
    df_q = k - p
    if df_q == 0:  # saturated model (e.g. k = 1): metafor sets QE = 0, p = 1, I^2 = 0, H^2 = 1
        return 0.0, 0, 1.0
    if not np.all(v > 0):
        return float("nan"), df_q, None
    beta0, _, w0 = wls(y, v, x, 0.0)
    r0 = y - x @ beta0
    q = float(np.sum(w0 * r0 * r0))
    return q, df_q, float(stats.chi2.sf(q, df_q))


@dataclass(frozen=True)
class _Inference:
    beta: FloatArray
    vb: FloatArray
    w: FloatArray
    se: FloatArray
    crit: float
    df: int | None
    coefs: tuple[Coefficient, ...]


def _inference(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    names: list[str],
    tau2: float,
    test: str,
    level: float,
    notes: list[str],
) -> _Inference:
    """Coefficients with Wald-type (z) or Knapp-Hartung (t, scaled variance) inference."""
    k, p = x.shape
    beta, vb, w = wls(y, v, x, tau2)
    df: int | None = None
    if test == "knha":
        resid = y - x @ beta
        s2 = float(np.sum(w * resid * resid) / (k - p))
        if s2 == 0:
            notes.append(
                "Knapp-Hartung scale factor is 0 (studies fit exactly): SE = 0, as metafor; use test='z'"
            )
        vb = vb * s2
        df = k - p
        crit = float(stats.t.ppf(0.5 + level / 2, df))
    else:
        crit = float(stats.norm.ppf(0.5 + level / 2))
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    pvals = 2 * (stats.t.sf(np.abs(stat), df) if df is not None else stats.norm.sf(np.abs(stat)))
    coefs = tuple(
        Coefficient(n, float(b), float(s), float(b - crit * s), float(b + crit * s), float(pv), float(z))
        for n, b, s, pv, z in zip(names, beta, se, pvals, stat, strict=True)
    )
    return _Inference(beta, vb, w, se, crit, df, coefs)


@dataclass(frozen=True)
class _Heterogeneity:
    i2: float | None
    i2_ci: tuple[float, float] | None
    h2: float | None
    h2_ci: tuple[float, float] | None
    tau2_ci: tuple[float, float]


def _heterogeneity(
    method: str, y: FloatArray, v: FloatArray, x: FloatArray, q: float, df_q: int, tau2: float, level: float
) -> _Heterogeneity:
    """I^2 and H^2 (metafor's typical within-study variance) with Q-profile intervals."""
    nan2 = (float("nan"), float("nan"))
    if df_q == 0:
        return _Heterogeneity(0.0, None, 1.0, None, nan2)
    if not np.all(v > 0):
        return _Heterogeneity(None, None, None, None, nan2)
    ci = q_profile_ci(y, v, x, level)
    if method == "EE":
        i2 = max(0.0, 100 * (q - df_q) / q) if q > 0 else 0.0
        return _Heterogeneity(i2, None, q / df_q, None, ci)
    vt = typical_variance(v, x)
    return _Heterogeneity(
        100 * tau2 / (vt + tau2),
        (100 * ci[0] / (vt + ci[0]), 100 * ci[1] / (vt + ci[1])),
        tau2 / vt + 1,
        (ci[0] / vt + 1, ci[1] / vt + 1),
        ci,
    )


@dataclass(frozen=True)
class _ModeratorTest:
    qm: float | None = None
    qm_df: tuple[int, int] | None = None
    qm_p: float | None = None
    r2: float | None = None


def _moderator_test(
    inf: _Inference,
    test: str,
    method: str,
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    tau2: float,
    threshold: float,
    tol: float,
) -> _ModeratorTest:
    """QM omnibus test of the moderators (chi^2, or F under knha) and pseudo-R^2."""
    k, p = x.shape
    if p == 1:
        return _ModeratorTest()
    idx = slice(1, p)
    bm = inf.beta[idx]
    qm = float(bm @ np.linalg.solve(inf.vb[idx, idx], bm))
    if test == "knha":
        qm = qm / (p - 1)
        qm_df, qm_p = (p - 1, k - p), float(stats.f.sf(qm, p - 1, k - p))
    else:
        qm_df, qm_p = (p - 1, 0), float(stats.chi2.sf(qm, p - 1))
    r2 = None
    if method != "EE":
        tau2_null = estimate_tau2(method, y, v, threshold=threshold, tol=tol).tau2 if k > 1 else 0.0
        r2 = max(0.0, 100 * (tau2_null - tau2) / tau2_null) if tau2_null > 0 else 0.0
    return _ModeratorTest(qm, qm_df, qm_p, r2)


def rma(
    es: EffectSizes,
    method: str = "REML",
    test: Test | str = "z",
    *,
    mods: Mapping[str, Sequence[Any]] | None = None,
    level: float = 0.95,
    threshold: float = METAFOR_THRESHOLD,
    tol: float = PM_TOL,
) -> MetaResult:
    """Fit metafor's ``rma.uni`` (equal-effect or random/mixed-effects) model.

    Parameters
    ----------
    es
        Effect sizes from :func:`lupuscell.evidence.effects.escalc`.
    method
        ``EE`` or a tau^2 estimator (``DL``, ``REML``, ``ML``, ``PM``, ``HE``, ``SJ``).
    test
        ``z`` (Wald) or ``knha`` (Knapp-Hartung).
    mods
        Moderators, ``{name: one value per study}``.
    level
        Confidence level of every interval.
    threshold
        ML/REML stopping rule (change in tau^2; metafor's 1e-5 by default).
    tol
        Absolute tolerance of the Paule-Mandel root (1e-12 by default: the exact root;
        :data:`lupuscell.evidence.tau2.METAFOR_UNIROOT_TOL` reproduces metafor's print-out).

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
    36(3):1-48. doi:10.18637/jss.v036.i03.
    """
    x, names = design_matrix(mods, es.k)
    _validate(method, test, es, x.shape[1])
    y, v = es.yi, es.vi
    notes: list[str] = []
    t2 = _fit_tau2(method, y, v, x, threshold, tol, notes)
    q = _cochran_q(y, v, x)
    inf = _inference(y, v, x, names, t2.tau2, test, level, notes)
    het = _heterogeneity(method, y, v, x, q[0], q[1], t2.tau2, level)
    mt = _moderator_test(inf, test, method, y, v, x, t2.tau2, threshold, tol)
    if x.shape[1] > 1:
        notes.append("with moderators, estimate/CI/prediction interval refer to the intercept")
    return _assemble(es, method, test, level, x, names, t2, q, inf, het, mt, notes)


def _assemble(
    es: EffectSizes,
    method: str,
    test: str,
    level: float,
    x: FloatArray,
    names: list[str],
    t2: _Tau2Fit,
    q: tuple[float, int, float | None],
    inf: _Inference,
    het: _Heterogeneity,
    mt: _ModeratorTest,
    notes: list[str],
) -> MetaResult:
    """The :class:`MetaResult` of :func:`rma`: the intercept with its CI and prediction interval
    (at moderators = 0 with mods) on the model and the natural scale."""
    k, p = x.shape
    b0, se0 = float(inf.beta[0]), float(inf.se[0])
    pred_se = float(np.sqrt(se0**2 + t2.tau2))
    pred_low, pred_high = b0 - inf.crit * pred_se, b0 + inf.crit * pred_se
    c0 = inf.coefs[0]
    bt = back_transform(es.measure, np.array([b0, c0.ci_low, c0.ci_high, pred_low, pred_high]), es.ni)
    return MetaResult(
        measure=es.measure,
        method=method,
        test=test,
        level=level,
        k=k,
        estimate=b0,
        se=se0,
        stat=c0.stat,
        pval=c0.p,
        ci_low=c0.ci_low,
        ci_high=c0.ci_high,
        pred_low=pred_low,
        pred_high=pred_high,
        tau2=t2.tau2,
        tau2_raw=t2.raw,
        tau2_truncated=t2.truncated,
        se_tau2=t2.se,
        tau2_ci=het.tau2_ci,
        i2=het.i2,
        i2_ci=het.i2_ci,
        h2=het.h2,
        h2_ci=het.h2_ci,
        q=q[0],
        q_df=q[1],
        q_p=q[2],
        back=BackTransformed(*(float(b) for b in bt)),
        ids=es.ids,
        yi=es.yi,
        vi=es.vi,
        ni=es.ni,
        weights=100 * inf.w / np.sum(inf.w),
        coefficients=inf.coefs if p > 1 else (),
        mods={n: x[:, j] for j, n in enumerate(names) if j > 0},
        qm=mt.qm,
        qm_df=mt.qm_df,
        qm_p=mt.qm_p,
        r2=mt.r2,
        df=inf.df,
        notes=tuple(notes),
        corrected=tuple(bool(c) for c in es.corrected),
    )


# ------------------------------------------------------------------ Mantel-Haenszel


def _mh_estimate(
    measure: str, a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray
) -> tuple[float, float, FloatArray]:
    """MH estimate (log scale for OR/RR), its variance and the raw MH weights per study."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        p_i, q_i = (a + d) / n, (b + c) / n
        r, s = r_i.sum(), s_i.sum()
        if r == 0 or s == 0:
            raise ValidationError.single("", "ai", "MH odds ratio undefined (no discordant information)")
        var = float(
            np.sum(p_i * r_i) / (2 * r**2)
            + np.sum(p_i * s_i + q_i * r_i) / (2 * r * s)
            + np.sum(q_i * s_i) / (2 * s**2)
        )
        return float(np.log(r / s)), var, s_i
    if measure == "RR":
        r, s = np.sum(a * n2 / n), np.sum(c * n1 / n)
        if r == 0 or s == 0:
            raise ValidationError.single("", "ai", "MH risk ratio undefined (no events in one group)")
        pp = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2)
        return float(np.log(r / s)), float(pp / (r * s)), a * n2 / n
    wsum = np.sum(n1 * n2 / n)
    est = float(np.sum((a * n2 - c * n1) / n) / wsum)
    pp = np.sum((n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2)
    qq = np.sum((a * (n2 - c) + c * (n1 - a)) / (2 * n))
    return est, float((est * pp + qq) / wsum**2), n1 * n2 / n


def double_zero(es: EffectSizes) -> NDArray[np.bool_]:
    """Studies with no events in both groups, or only events in both (metafor ``drop00``)."""
    a, b, c, d = (es.raw[n] for n in ("ai", "bi", "ci", "di"))
    return np.asarray(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)), dtype=bool)


def _mh_heterogeneity(
    es: EffectSizes, est: float, keep: NDArray[np.bool_]
) -> tuple[float, int, float, float, float]:
    """Cochran's Q of the study estimates around the MH estimate: (Q, df, p, I^2, H^2)."""
    df_q = int(keep.sum()) - 1
    if df_q <= 0:  # as metafor: QE = 0, p = 1, I^2 = 0, H^2 = 1
        return 0.0, max(df_q, 0), 1.0, 0.0, 1.0
    w = 1 / es.vi[keep]
    q = float(max(0.0, np.sum(w * (es.yi[keep] - est) ** 2)))
    i2 = max(0.0, 100 * (q - df_q) / q) if q > 0 else 0.0
    return q, df_q, float(stats.chi2.sf(q, df_q)), i2, q / df_q


def rma_mh(es: EffectSizes, level: float = 0.95, *, drop00: bool = True) -> MetaResult:
    """Mantel-Haenszel common-effect model for ``RR``, ``OR``, ``RD`` (metafor ``rma.mh``).

    The pooled estimate uses the raw 2x2 counts of every study (no continuity correction).
    Q, I^2 and H^2 use the individual ``yi``/``vi`` (with their correction) around the MH
    estimate; with ``drop00=True`` (metafor's default) studies with no events in both groups or
    only events in both ("double-zero" studies, which carry no information on the contrast) are
    left out of Q, I^2 and H^2 and named in the notes; ``drop00=False`` keeps them. Variances:
    log RR Greenland & Robins (1985); log OR Robins, Breslow & Greenland (1986); RD Sato,
    Greenland & Robins (1989).

    References
    ----------
    metafor reference manual, ``rma.mh`` (argument ``drop00``) and ``escalc``.
    """
    if es.measure not in ("RR", "OR", "RD"):
        raise ValidationError.single("", "measure", f"Mantel-Haenszel needs RR, OR or RD, not {es.measure}")
    a, b, c, d = (es.raw[n] for n in ("ai", "bi", "ci", "di"))
    est, var, weights_raw = _mh_estimate(es.measure, a, b, c, d)
    se = float(np.sqrt(var))
    crit = float(stats.norm.ppf(0.5 + level / 2))
    dz = double_zero(es) if drop00 else np.zeros(es.k, dtype=bool)
    q, df_q, q_p, i2, h2 = _mh_heterogeneity(es, est, ~dz)
    notes = ["Mantel-Haenszel common-effect model"]
    if dz.any():
        dropped = ", ".join(i for i, z in zip(es.ids, dz, strict=True) if z)
        notes.append(f"double-zero studies left out of Q, I^2 and H^2 (drop00, as metafor): {dropped}")
    lo, hi = est - crit * se, est + crit * se
    bt = back_transform(es.measure, np.array([est, lo, hi, lo, hi]), es.ni)
    z = est / se
    return MetaResult(
        measure=es.measure,
        method="MH",
        test="z",
        level=level,
        k=es.k,
        estimate=est,
        se=se,
        stat=z,
        pval=float(2 * stats.norm.sf(abs(z))),
        ci_low=lo,
        ci_high=hi,
        pred_low=lo,
        pred_high=hi,
        tau2=0.0,
        tau2_raw=0.0,
        tau2_truncated=False,
        se_tau2=None,
        tau2_ci=(float("nan"), float("nan")),
        i2=i2,
        i2_ci=None,
        h2=h2,
        h2_ci=None,
        q=q,
        q_df=df_q,
        q_p=q_p,
        back=BackTransformed(*(float(v) for v in bt)),
        ids=es.ids,
        yi=es.yi,
        vi=es.vi,
        ni=es.ni,
        weights=100 * weights_raw / np.sum(weights_raw),
        notes=tuple(notes),
        corrected=tuple(bool(c) for c in es.corrected),
    )


# ------------------------------------------------------------------ subgroups, influence, bias


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup fits, the overall fit and the test for subgroup differences."""

    groups: dict[str, MetaResult]
    overall: MetaResult
    q_between: float
    df: int
    p: float
    tau2_rule: str


def subgroup_analysis(
    es: EffectSizes,
    groups: Sequence[str],
    method: str = "REML",
    test: Test | str = "z",
    *,
    tau2: Literal["separate", "common"] = "separate",
    level: float = 0.95,
    threshold: float = METAFOR_THRESHOLD,
) -> SubgroupResult:
    """Random-effects subgroup analysis with the test for subgroup differences.

    ``tau2="separate"`` fits one model per subgroup (own tau^2) and tests
    Q_between = sum_g (mu_g - mu_bar)^2 / SE_g^2 on G - 1 df (Borenstein et al. 2009, ch. 19;
    Cochrane Handbook 10.11.3, RevMan). ``tau2="common"`` is metafor's
    ``rma(yi, vi, mods = ~ factor(group))``: the QM omnibus test of the group dummies.
    """
    labels = [str(g) for g in groups]
    if len(labels) != es.k:
        raise ValidationError.single("subgroups", "groups", f"needs one label per study ({es.k})")
    overall = rma(es, method, test, level=level, threshold=threshold)
    fits: dict[str, MetaResult] = {}
    for g in sorted(set(labels)):
        mask = np.array([lab == g for lab in labels])
        sub = es.subset(mask)
        sub_test = test if sub.k > 1 else "z"
        fits[g] = rma(sub, method if sub.k > 1 else "EE", sub_test, level=level, threshold=threshold)
    if len(fits) < 2:
        raise ValidationError.single("subgroups", "groups", "needs at least two subgroups")
    if tau2 == "common":
        mr = rma(es, method, test, mods={"group": labels}, level=level, threshold=threshold)
        qb, dfb = float(mr.qm or 0.0), len(fits) - 1
        pb = float(mr.qm_p if mr.qm_p is not None else np.nan)
    else:
        mu = np.array([f.estimate for f in fits.values()])
        wg = 1 / np.array([f.se for f in fits.values()]) ** 2
        mbar = float(np.sum(wg * mu) / np.sum(wg))
        qb = float(np.sum(wg * (mu - mbar) ** 2))
        dfb = len(fits) - 1
        pb = float(stats.chi2.sf(qb, dfb))
    return SubgroupResult(fits, overall, qb, dfb, pb, tau2)


def leave_one_out(
    es: EffectSizes, method: str = "REML", test: Test | str = "z", level: float = 0.95
) -> pd.DataFrame:
    """metafor ``leave1out``: refit without each study in turn."""
    if es.k < 2:
        raise ValidationError.single("", "studies", "leave-one-out needs at least 2 studies")
    rows = []
    for i, sid in enumerate(es.ids):
        mask = np.ones(es.k, dtype=bool)
        mask[i] = False
        sub = es.subset(mask)
        fit = rma(sub, method if sub.k > 1 else "EE", test if sub.k > 1 else "z", level=level)
        rows.append(
            {
                "omitted": sid,
                "estimate": fit.estimate,
                "se": fit.se,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "pval": fit.pval,
                "tau2": fit.tau2,
                "i2": fit.i2,
                "q": fit.q,
                "back_estimate": fit.back.estimate,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel-plot asymmetry (Egger et al. 1997; metafor ``regtest``)."""

    model: str
    stat: float
    df: int | None
    p: float
    limit_estimate: float
    limit_ci: tuple[float, float]


EggerModel = Literal["rma", "lm"]


def egger_test(
    es: EffectSizes,
    method: str = "REML",
    test: Test | str = "z",
    *,
    model: EggerModel = "rma",
    level: float = 0.95,
) -> EggerResult:
    """Egger's regression test with the standard error as predictor.

    ``model="rma"`` is metafor's ``regtest`` default: a meta-regression of ``yi`` on
    ``sqrt(vi)`` with the same ``method``/``test``; ``model="lm"`` is the classic Egger test,
    a weighted least-squares regression (weights 1/vi, residual variance estimated) fitted with
    statsmodels ``WLS``. The intercept is the "limit estimate" as SE -> 0.
    """
    if model not in get_args(EggerModel):
        raise ValidationError.single("options", "model", f"must be one of {get_args(EggerModel)}, got {model!r}")
    if es.k < 3:
        raise ValidationError.single("", "studies", "Egger's test needs at least 3 studies")
    sei = np.sqrt(es.vi)
    if model == "lm":
        fit = sm.WLS(es.yi, sm.add_constant(sei), weights=1 / es.vi).fit()
        ci = fit.conf_int(alpha=1 - level)
        return EggerResult(
            "lm",
            float(fit.tvalues[1]),
            int(fit.df_resid),
            float(fit.pvalues[1]),
            float(fit.params[0]),
            (float(ci[0, 0]), float(ci[0, 1])),
        )
    res = rma(es, method, test, mods={"sei": sei.tolist()}, level=level)
    slope = res.coefficients[1]
    icpt = res.coefficients[0]
    return EggerResult("rma", slope.stat, res.df, slope.p, icpt.estimate, (icpt.ci_low, icpt.ci_high))
