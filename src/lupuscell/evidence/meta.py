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


def rma(
    es: EffectSizes,
    method: str = "REML",
    test: Test | str = "z",
    *,
    mods: Mapping[str, Sequence[Any]] | None = None,
    level: float = 0.95,
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
    """
    x, names = design_matrix(mods, es.k)
    k, p = x.shape
    _validate(method, test, es, p)
    y, v = es.yi, es.vi
    notes: list[str] = []

    if method == "EE" or k == p:
        tau2 = tau2_raw = 0.0
        se_tau2 = None
        truncated = False
        if method != "EE":
            notes.append(f"k = {k}: tau^2 cannot be estimated and is set to 0")
    else:
        est = estimate_tau2(method, y, v, x)
        tau2, tau2_raw, se_tau2, truncated = est.tau2, est.raw, est.se, est.truncated
        if truncated:
            notes.append(f"{method} estimate of tau^2 was negative ({tau2_raw:.6g}) and is truncated at 0")

    # Q (residual heterogeneity) always from the equal-effect weights 1/vi
    df_q = k - p
    if np.all(v > 0):
        beta0, _, w0 = wls(y, v, x, 0.0)
        r0 = y - x @ beta0
        q = float(np.sum(w0 * r0 * r0))
    else:
        q = float("nan")
    if df_q == 0:  # saturated model (e.g. k = 1): metafor sets QE = 0, p = 1, I^2 = 0, H^2 = 1
        q = 0.0
    q_p = (float(stats.chi2.sf(q, df_q)) if np.isfinite(q) else None) if df_q > 0 else 1.0

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

    # heterogeneity statistics
    if df_q > 0 and np.all(v > 0):
        vt = typical_variance(v, x)
        if method == "EE":
            i2 = max(0.0, 100 * (q - df_q) / q) if q > 0 else 0.0
            h2 = q / df_q
            tau2_ci: tuple[float, float] = q_profile_ci(y, v, x, level)
            i2_ci = h2_ci = None
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
            tau2_ci = q_profile_ci(y, v, x, level)
            i2_ci = (100 * tau2_ci[0] / (vt + tau2_ci[0]), 100 * tau2_ci[1] / (vt + tau2_ci[1]))
            h2_ci = (tau2_ci[0] / vt + 1, tau2_ci[1] / vt + 1)
    elif df_q == 0:
        i2, h2 = 0.0, 1.0
        i2_ci = h2_ci = None
        tau2_ci = (float("nan"), float("nan"))
    else:
        i2 = h2 = None
        i2_ci = h2_ci = None
        tau2_ci = (float("nan"), float("nan"))

    # the pooled estimate / intercept and its prediction interval (at moderators = 0 with mods)
    b0, se0 = float(beta[0]), float(se[0])
    pred_se = float(np.sqrt(se0**2 + tau2))
    pred_low, pred_high = b0 - crit * pred_se, b0 + crit * pred_se
    ci_low, ci_high = coefs[0].ci_low, coefs[0].ci_high
    bt = back_transform(es.measure, np.array([b0, ci_low, ci_high, pred_low, pred_high]), es.ni)
    back = BackTransformed(*(float(b) for b in bt))

    r2 = qm = qm_p = None
    qm_df = None
    if p > 1:
        idx = slice(1, p)
        bm = beta[idx]
        qm = float(bm @ np.linalg.solve(vb[idx, idx], bm))
        if test == "knha":
            qm = qm / (p - 1)
            qm_df = (p - 1, k - p)
            qm_p = float(stats.f.sf(qm, p - 1, k - p))
        else:
            qm_df = (p - 1, 0)
            qm_p = float(stats.chi2.sf(qm, p - 1))
        if method != "EE":
            tau2_null = estimate_tau2(method, y, v).tau2 if k > 1 else 0.0
            r2 = max(0.0, 100 * (tau2_null - tau2) / tau2_null) if tau2_null > 0 else 0.0
        notes.append("with moderators, estimate/CI/prediction interval refer to the intercept")

    weights = 100 * w / np.sum(w)
    mod_arrays = {n: x[:, j] for j, n in enumerate(names) if j > 0}
    return MetaResult(
        measure=es.measure,
        method=method,
        test=test,
        level=level,
        k=k,
        estimate=b0,
        se=se0,
        stat=coefs[0].stat,
        pval=coefs[0].p,
        ci_low=ci_low,
        ci_high=ci_high,
        pred_low=pred_low,
        pred_high=pred_high,
        tau2=tau2,
        tau2_raw=tau2_raw,
        tau2_truncated=truncated,
        se_tau2=se_tau2,
        tau2_ci=tau2_ci,
        i2=i2,
        i2_ci=i2_ci,
        h2=h2,
        h2_ci=h2_ci,
        q=q,
        q_df=df_q,
        q_p=q_p,
        back=back,
        ids=es.ids,
        yi=y,
        vi=v,
        ni=es.ni,
        weights=weights,
        coefficients=coefs if p > 1 else (),
        mods=mod_arrays,
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        r2=r2,
        df=df,
        notes=tuple(notes),
        corrected=tuple(bool(c) for c in es.corrected),
    )


# ------------------------------------------------------------------ Mantel-Haenszel


def rma_mh(es: EffectSizes, level: float = 0.95) -> MetaResult:
    """Mantel-Haenszel common-effect model for ``RR``, ``OR``, ``RD`` (metafor ``rma.mh``).

    The pooled estimate uses the raw 2x2 counts (no continuity correction); Q, I^2 and H^2 use
    the individual ``yi``/``vi`` (with their correction) around the MH estimate, as metafor 4.
    Variances: log RR Greenland & Robins (1985); log OR Robins, Breslow & Greenland (1986);
    RD Sato, Greenland & Robins (1989).
    """
    if es.measure not in ("RR", "OR", "RD"):
        raise ValidationError.single("", "measure", f"Mantel-Haenszel needs RR, OR or RD, not {es.measure}")
    a, b, c, d = (es.raw[n] for n in ("ai", "bi", "ci", "di"))
    n1, n2 = a + b, c + d
    n = n1 + n2
    if es.measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        p_i, q_i = (a + d) / n, (b + c) / n
        r, s = r_i.sum(), s_i.sum()
        if r == 0 or s == 0:
            raise ValidationError.single("", "ai", "MH odds ratio undefined (no discordant information)")
        est = float(np.log(r / s))
        var = float(
            np.sum(p_i * r_i) / (2 * r**2)
            + np.sum(p_i * s_i + q_i * r_i) / (2 * r * s)
            + np.sum(q_i * s_i) / (2 * s**2)
        )
    elif es.measure == "RR":
        r, s = np.sum(a * n2 / n), np.sum(c * n1 / n)
        if r == 0 or s == 0:
            raise ValidationError.single("", "ai", "MH risk ratio undefined (no events in one group)")
        est = float(np.log(r / s))
        pp = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2)
        var = float(pp / (r * s))
    else:
        wsum = np.sum(n1 * n2 / n)
        est = float(np.sum((a * n2 - c * n1) / n) / wsum)
        pp = np.sum((n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2)
        qq = np.sum((a * (n2 - c) + c * (n1 - a)) / (2 * n))
        var = float((est * pp + qq) / wsum**2)
    se = float(np.sqrt(var))
    crit = float(stats.norm.ppf(0.5 + level / 2))
    k = es.k
    # heterogeneity: Cochran's Q of the (corrected) study estimates around the MH estimate (metafor)
    w = 1 / es.vi
    q = float(np.sum(w * (es.yi - est) ** 2))
    df_q = k - 1
    if df_q == 0:  # k = 1, as metafor: QE = 0, p = 1, I^2 = 0, H^2 = 1
        q = 0.0
    q_p = float(stats.chi2.sf(q, df_q)) if df_q > 0 else 1.0
    i2 = max(0.0, 100 * (q - df_q) / q) if df_q > 0 and q > 0 else 0.0
    h2 = q / df_q if df_q > 0 else 1.0
    lo, hi = est - crit * se, est + crit * se
    bt = back_transform(es.measure, np.array([est, lo, hi, lo, hi]), es.ni)
    weights_raw = (a * n2 / n) if es.measure == "RR" else ((b * c / n) if es.measure == "OR" else n1 * n2 / n)
    z = est / se
    return MetaResult(
        measure=es.measure,
        method="MH",
        test="z",
        level=level,
        k=k,
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
        notes=("Mantel-Haenszel common-effect model",),
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
    overall = rma(es, method, test, level=level)
    fits: dict[str, MetaResult] = {}
    for g in sorted(set(labels)):
        mask = np.array([lab == g for lab in labels])
        sub = es.subset(mask)
        sub_test = test if sub.k > 1 else "z"
        fits[g] = rma(sub, method if sub.k > 1 else "EE", sub_test, level=level)
    if len(fits) < 2:
        raise ValidationError.single("subgroups", "groups", "needs at least two subgroups")
    if tau2 == "common":
        mr = rma(es, method, test, mods={"group": labels}, level=level)
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
