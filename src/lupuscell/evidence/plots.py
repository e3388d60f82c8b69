"""Publication-quality meta-analysis figures: forest, funnel and bubble plots (matplotlib).

Every function returns ``(figure, data)``: a :class:`matplotlib.figure.Figure` built without
pyplot (no global backend, no figure registry to leak into) and a pandas DataFrame of exactly
what was drawn (one row per study/summary row/point), because users of metafor/meta keep asking
for the numbers behind forest plots (meta issue #61, RoBMA #77). Writing a figure to a file is
the caller's job (:func:`lupuscell.reports.figures.save_figure`).

Layout follows metafor's ``forest.rma``/``funnel``/``regplot`` conventions: squares sized by
weight, summary diamonds, the prediction interval as a dashed bar under the overall diamond
(IntHout et al. 2016, BMJ Open 6:e010247), pseudo-confidence limits on the funnel plot
(Sterne & Egger 2001) and bubbles sized by weight with CI/PI bands on the bubble plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FormatStrFormatter, MaxNLocator
from scipy import stats

from lupuscell.evidence.effects import back_transform, transf_ipft
from lupuscell.evidence.meta import MetaResult, SubgroupResult

if TYPE_CHECKING:
    from lupuscell.evidence.pooling import PooledAnalysis

SCALE_LABELS: dict[str, str] = {
    "PR": "Proportion",
    "PLO": "Proportion",
    "PAS": "Proportion",
    "PFT": "Proportion",
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "RD": "Risk difference",
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "GEN": "Effect size",
}
MODEL_LABELS: dict[str, str] = {
    "EE": "Common effect (inverse variance)",
    "MH": "Common effect (Mantel-Haenszel)",
    "DL": "Random effects (DL)",
    "REML": "Random effects (REML)",
    "ML": "Random effects (ML)",
    "PM": "Random effects (PM)",
    "HE": "Random effects (HE)",
    "SJ": "Random effects (SJ)",
}
MODERATOR_LABELS: dict[str, str] = {
    "year": "Publication year",
    "median_followup_months": "Median follow-up (months)",
    "timepoint_months": "Timepoint (months)",
    "n": "Patients (n)",
}


def _study_ci(fit: MetaResult, idx: np.ndarray, transform: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = float(stats.norm.ppf(0.5 + fit.level / 2))
    y, se = fit.yi[idx], np.sqrt(fit.vi[idx])
    lo, hi = y - z * se, y + z * se
    if not transform:
        return y, lo, hi
    if fit.measure == "PFT":
        n = fit.ni[idx]
        return transf_ipft(y, n), transf_ipft(lo, n), transf_ipft(hi, n)
    if fit.measure == "PR":
        return y, np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    return (back_transform(fit.measure, y), back_transform(fit.measure, lo), back_transform(fit.measure, hi))


def _summary_values(fit: MetaResult, transform: bool) -> tuple[float, float, float, float, float]:
    if transform:
        b = fit.back
        return b.estimate, b.ci_low, b.ci_high, b.pred_low, b.pred_high
    return fit.estimate, fit.ci_low, fit.ci_high, fit.pred_low, fit.pred_high


def _fmt(v: float, digits: int) -> str:
    return f"{v:.{digits}f}" if np.isfinite(v) else "NA"


def _study_row(
    ypos: float,
    i: int,
    fit: MetaResult,
    labs: list[str],
    grp: list[str],
    corrected: list[bool],
    est: tuple[np.ndarray, np.ndarray, np.ndarray],
    extra: Mapping[str, Sequence[str]] | None,
) -> dict[str, object]:
    y_all, lo_all, hi_all = est
    return {
        "row": ypos,
        "kind": "study",
        "label": labs[i] + (" †" if corrected[i] else ""),
        "study": fit.ids[i],
        "corrected": corrected[i],
        "group": grp[i],
        "estimate": y_all[i],
        "ci_low": lo_all[i],
        "ci_high": hi_all[i],
        "weight": fit.weights[i],
        **{h: list(v)[i] for h, v in (extra or {}).items()},
    }


def _summary_row(
    ypos: float, kind: str, label: str, values: tuple[float, ...], weight: float
) -> dict[str, object]:
    est, lo, hi, plo, phi = values
    return {
        "row": ypos,
        "kind": kind,
        "label": label,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "pred_low": plo,
        "pred_high": phi,
        "weight": weight,
    }


def forest_data(
    fit: MetaResult | SubgroupResult,
    *,
    labels: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    extra: Mapping[str, Sequence[str]] | None = None,
    transform: bool = True,
    prediction: bool = True,
) -> pd.DataFrame:
    """The rows a forest plot draws (see :func:`forest_plot`), top to bottom, with their y."""
    sub = fit if isinstance(fit, SubgroupResult) else None
    overall = sub.overall if sub is not None else fit
    assert isinstance(overall, MetaResult)
    if overall.coefficients:
        raise ValueError("forest_plot draws intercept-only models; use bubble_plot for meta-regression")
    k = overall.k
    labs = list(labels) if labels is not None else list(overall.ids)
    if sub is not None and groups is None:
        raise ValueError("pass groups= (one label per study) with a SubgroupResult")
    grp = list(groups) if groups is not None else ["" for _ in range(k)]
    corrected = list(overall.corrected) if len(overall.corrected) == k else [False] * k
    est = _study_ci(overall, np.arange(k), transform)
    rows: list[dict[str, object]] = []
    ypos = 0.0
    for g in sorted(set(grp)) if groups is not None else [""]:
        if g:
            rows.append({"row": ypos, "kind": "header", "label": g})
            ypos -= 1
        for i in (i for i in range(k) if grp[i] == g):
            rows.append(_study_row(ypos, i, overall, labs, grp, corrected, est, extra))
            ypos -= 1
        if sub is not None and g in sub.groups:
            gf = sub.groups[g]
            i2 = _fmt(gf.i2 if gf.i2 is not None else np.nan, 0)
            label = f"{g}: {MODEL_LABELS.get(gf.method, gf.method)} (k = {gf.k}; I² = {i2}%)"
            rows.append(
                _summary_row(ypos, "subgroup", label, _summary_values(gf, transform), np.nan) | {"group": g}
            )
            ypos -= 1.5
    ypos -= 0.5
    values = _summary_values(overall, transform)
    i2txt = _fmt(overall.i2, 0) if overall.i2 is not None else "NA"
    label = f"{MODEL_LABELS.get(overall.method, overall.method)} (k = {k}; I² = {i2txt}%, τ² = {overall.tau2:.3g})"
    rows.append(_summary_row(ypos, "overall", label, values, 100.0))
    if prediction and overall.method not in ("EE", "MH") and k > 1:
        ypos -= 1
        pi = (values[0], values[3], values[4], np.nan, np.nan)
        rows.append(
            _summary_row(ypos, "prediction", f"{int(overall.level * 100)}% prediction interval", pi, np.nan)
        )
    return pd.DataFrame(rows)


def _draw_marks(ax: Axes, data: pd.DataFrame) -> None:
    """Squares sized by weight with CI lines, diamonds, the dashed prediction interval."""
    for _, r in data.iterrows():
        yy = float(r["row"])
        if r["kind"] == "study":
            ax.plot([r["ci_low"], r["ci_high"]], [yy, yy], color="black", lw=1)
            size = 4 + 10 * np.sqrt(float(r["weight"]) / 100)
            ax.plot(r["estimate"], yy, marker="s", ms=size, color="#1f4e79", mec="black", mew=0.5)
        elif r["kind"] in ("subgroup", "overall"):
            color = "#7f7f7f" if r["kind"] == "subgroup" else "#1f1f1f"
            corners = [
                (r["ci_low"], yy),
                (r["estimate"], yy + 0.35),
                (r["ci_high"], yy),
                (r["estimate"], yy - 0.35),
            ]
            ax.add_patch(Polygon(corners, closed=True, color=color))
        elif r["kind"] == "prediction":
            ax.plot([r["ci_low"], r["ci_high"]], [yy, yy], color="#c00000", lw=2, ls="--")
            ax.plot([r["ci_low"], r["ci_high"]], [yy, yy], ls="none", marker="|", ms=8, color="#c00000")


def _extra_x(j: int, n: int) -> float:
    return -0.40 + 0.24 * j - 0.24 * (n - 1)


def _row_text(r: pd.Series, digits: int) -> str:
    lo, hi = _fmt(float(r["ci_low"]), digits), _fmt(float(r["ci_high"]), digits)
    if r["kind"] == "prediction":
        return f"[{lo}, {hi}]"
    return f"{_fmt(float(r['estimate']), digits)} [{lo}, {hi}]"


def _draw_columns(ax: Axes, data: pd.DataFrame, headers: list[str], level: float, digits: int) -> None:
    """The text columns: labels left, extra columns, estimate [CI] and weight right."""
    trans = ax.get_yaxis_transform()
    bold: dict[str, Any] = {"transform": trans, "va": "center", "fontweight": "bold"}
    ax.text(-1.18, 1, "Study", ha="left", **bold)
    for j, h in enumerate(headers):
        ax.text(_extra_x(j, len(headers)), 1, h, ha="center", **bold)
    ax.text(1.05, 1, f"Estimate [{int(level * 100)}% CI]", ha="left", **bold)
    ax.text(1.62, 1, "Weight", ha="right", **bold)
    small: dict[str, Any] = {"transform": trans, "va": "center", "fontsize": 9}
    for _, r in data.iterrows():
        yy = float(r["row"])
        strong = r["kind"] in ("header", "overall")
        style = "italic" if r["kind"] in ("subgroup", "prediction") else "normal"
        ax.text(
            -1.18,
            yy,
            str(r["label"]),
            ha="left",
            fontweight="bold" if strong else "normal",
            fontstyle=style,
            **small,
        )
        if r["kind"] == "header":
            continue
        if r["kind"] == "study":
            for j, h in enumerate(headers):
                ax.text(_extra_x(j, len(headers)), yy, str(r[h]), ha="center", **small)
            ax.text(1.62, yy, f"{float(r['weight']):.1f}%", ha="right", **small)
        ax.text(1.05, yy, _row_text(r, digits), ha="left", fontweight="bold" if strong else "normal", **small)


def _footer(overall: MetaResult, sub: SubgroupResult | None, corrected: bool) -> list[str]:
    q_p = f", p = {overall.q_p:.3g}" if overall.q_p is not None else ""
    foot = [f"Heterogeneity: Q = {overall.q:.2f}, df = {overall.q_df}{q_p}"]
    if sub is not None:
        foot.append(
            f"Test for subgroup differences ({sub.tau2_rule} τ²): Q = {sub.q_between:.2f}, "
            f"df = {sub.df}, p = {sub.p:.3g}"
        )
    if corrected:
        foot.append("† 0.5 added to the zero cells or counts of this study (metafor default)")
    if overall.test == "knha":
        foot.append("Knapp-Hartung adjusted CI (t distribution)")
    return foot


def _set_axis(
    ax: Axes,
    overall: MetaResult,
    data: pd.DataFrame,
    transform: bool,
    xlabel: str | None,
    refline: float | None,
) -> None:
    est = float(data.loc[data["kind"] == "overall", "estimate"].iloc[0])
    ax.axvline(est, color="#1f1f1f", lw=0.6, ls=":")
    if refline is not None:
        ax.axvline(refline, color="grey", lw=0.8)
    ax.set_ylim(float(data["row"].min()) - 1, 1.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if transform and overall.measure in ("RR", "OR", "IRLN"):
        ax.set_xscale("log")
    if transform and overall.measure in ("PR", "PLO", "PAS", "PFT"):
        ax.set_xlim(-0.02, 1.02)
    default = SCALE_LABELS.get(overall.measure, "Effect") if transform else f"{overall.measure} (model scale)"
    ax.set_xlabel(xlabel or default)


def forest_plot(
    fit: MetaResult | SubgroupResult,
    *,
    labels: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    extra: Mapping[str, Sequence[str]] | None = None,
    transform: bool = True,
    prediction: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    digits: int = 2,
    refline: float | None = None,
) -> tuple[Figure, pd.DataFrame]:
    """Forest plot: study rows with weights, subgroup diamonds, overall diamond and PI.

    Parameters
    ----------
    fit
        An intercept-only :class:`MetaResult`, or a :class:`SubgroupResult` (subgroup
        diamonds and the test for subgroup differences are then drawn).
    labels
        Study labels (default: study ids).
    groups
        Subgroup label per study (taken from ``fit`` when it is a SubgroupResult).
    extra
        Additional text columns drawn left of the plot, ``{header: one string per study}``
        (e.g. ``{"Events/N": ["4/4", ...], "Level": ["abstract", ...]}``).
    transform
        Draw on the natural scale (proportion, RR, OR, rate) instead of the model scale.

    References
    ----------
    metafor reference manual, ``forest.rma``; IntHout J et al. (2016) BMJ Open 6:e010247.
    """
    data = forest_data(
        fit, labels=labels, groups=groups, extra=extra, transform=transform, prediction=prediction
    )
    sub = fit if isinstance(fit, SubgroupResult) else None
    overall = sub.overall if sub is not None else fit
    assert isinstance(overall, MetaResult)
    n_rows = int(-float(data["row"].min())) + 3
    fig = Figure(figsize=(11, 1.2 + 0.32 * n_rows))
    ax = fig.add_axes((0.40, 0.10, 0.33, 0.82))
    _draw_marks(ax, data)
    _set_axis(ax, overall, data, transform, xlabel, refline)
    _draw_columns(ax, data, list((extra or {}).keys()), overall.level, digits)
    corrected = "corrected" in data and bool(data["corrected"].isin([True]).any())
    fig.text(0.02, 0.01, "\n".join(_footer(overall, sub, corrected)), fontsize=8, ha="left", va="bottom")
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig, data


def pooled_forest_plot(analysis: PooledAnalysis, *, title: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """The forest plot of a pooled analysis of the curated evidence
    (:func:`lupuscell.evidence.pooling.pool_curated`), as ``lupuscell evidence pool --plot`` and
    the web app's evidence page draw it: the fit without moderators, the study labels, the counts
    (or the compared summaries) and the evidence level of each study, titled with the outcome
    and the therapy unless ``title`` is given."""
    from lupuscell.evidence.studies import THERAPY_LABELS

    o = analysis.options
    therapy = THERAPY_LABELS.get(o.therapy, o.therapy) if o.therapy else "all therapies"
    return forest_plot(
        analysis.forest_fit,
        labels=analysis.labels(),
        extra=analysis.columns() | {"Level": analysis.selection_levels()},
        title=title or f"{o.outcome.replace('_', ' ').capitalize()}: {therapy}",
    )


def funnel_plot(
    fit: MetaResult, *, labels: Sequence[str] | None = None, title: str | None = None
) -> tuple[Figure, pd.DataFrame]:
    """Funnel plot on the model scale: yi against its SE (inverted), pseudo 95% limits."""
    se = np.sqrt(fit.vi)
    data = pd.DataFrame(
        {
            "study": list(labels) if labels is not None else list(fit.ids),
            "yi": fit.yi,
            "sei": se,
            "weight": fit.weights,
        }
    )
    top = float(se.max()) * 1.1 if se.size else 1.0
    grid = np.linspace(0, top, 50)
    z = float(stats.norm.ppf(0.5 + fit.level / 2))
    fig = Figure(figsize=(6.5, 5))
    ax = fig.add_subplot()
    ax.fill_betweenx(
        grid,
        fit.estimate - z * grid,
        fit.estimate + z * grid,
        color="#e8eef5",
        label=f"pseudo {int(fit.level * 100)}% limits",
    )
    ax.plot(fit.estimate - z * grid, grid, color="grey", lw=0.8, ls="--")
    ax.plot(fit.estimate + z * grid, grid, color="grey", lw=0.8, ls="--")
    ax.axvline(fit.estimate, color="black", lw=1, label=f"pooled estimate ({fit.method})")
    ax.scatter(fit.yi, se, s=36, color="#1f4e79", edgecolor="black", zorder=3, label=f"studies (k = {fit.k})")
    ax.set_ylim(top, 0)
    ax.set_xlabel(f"{fit.measure} (model scale)")
    ax.set_ylabel("Standard error")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig, data


def bubble_plot(
    fit: MetaResult,
    moderator: str,
    *,
    labels: Sequence[str] | None = None,
    transform: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
) -> tuple[Figure, pd.DataFrame]:
    """Bubble plot of a meta-regression on one moderator (metafor ``regplot``).

    Bubbles are sized by weight; the fitted line, its CI band and the prediction-interval band
    are drawn with the other moderators (if any) held at 0.
    """
    if moderator not in fit.mods:
        raise ValueError(f"moderator {moderator!r} not in the model ({', '.join(fit.mods) or 'none'})")
    xs = fit.mods[moderator]
    names = [c.name for c in fit.coefficients]
    j = names.index(moderator)
    b0, b1 = fit.coefficients[0].estimate, fit.coefficients[j].estimate
    grid = np.linspace(float(xs.min()), float(xs.max()), 100)
    # vcov of (intercept, slope) reconstructed from the CIs is not kept; refit-free variance:
    crit = float((fit.coefficients[0].ci_high - fit.coefficients[0].estimate) / fit.coefficients[0].se)
    cov = _vcov_pair(fit, j)
    var_line = cov[0, 0] + 2 * grid * cov[0, 1] + grid**2 * cov[1, 1]
    line = b0 + b1 * grid
    ci_lo, ci_hi = line - crit * np.sqrt(var_line), line + crit * np.sqrt(var_line)
    pi_lo, pi_hi = line - crit * np.sqrt(var_line + fit.tau2), line + crit * np.sqrt(var_line + fit.tau2)

    def tf(v: np.ndarray) -> np.ndarray:
        if not transform or fit.measure == "PFT":
            return v
        return back_transform(fit.measure, v)

    data = pd.DataFrame(
        {
            "study": list(labels) if labels is not None else list(fit.ids),
            moderator: xs,
            "yi": tf(fit.yi),
            "weight": fit.weights,
        }
    )
    fig = Figure(figsize=(6.5, 5))
    ax = fig.add_subplot()
    ax.fill_between(grid, tf(pi_lo), tf(pi_hi), color="#f2dcdb", label="prediction interval")
    ax.fill_between(grid, tf(ci_lo), tf(ci_hi), color="#c6d9ec", label=f"{int(fit.level * 100)}% CI")
    ax.plot(grid, tf(line), color="black", lw=1.2, label="fitted line")
    sizes = 20 + 600 * fit.weights / 100
    ax.scatter(
        xs,
        tf(fit.yi),
        s=sizes,
        color="#1f4e79",
        alpha=0.6,
        edgecolor="black",
        zorder=3,
        label=f"studies (k = {fit.k})",
    )
    if labels is not None:
        for x, y, lab in zip(xs, tf(fit.yi), labels, strict=True):
            ax.annotate(str(lab), (x, y), xytext=(6, 4), textcoords="offset points", fontsize=7)
    if np.all(xs == np.round(xs)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.set_xlabel(xlabel or MODERATOR_LABELS.get(moderator, moderator))
    ax.set_ylabel(SCALE_LABELS.get(fit.measure, "Effect") if transform else f"{fit.measure} (model scale)")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig, data


def _vcov_pair(fit: MetaResult, j: int) -> np.ndarray:
    """Covariance of (intercept, coefficient j), recomputed from the fit's weights."""
    x = np.column_stack([np.ones(fit.k), *[fit.mods[c.name] for c in fit.coefficients[1:]]])
    w = 1.0 / (fit.vi + fit.tau2)
    vb = np.linalg.inv((x.T * w) @ x)
    if fit.test == "knha":
        beta = np.array([c.estimate for c in fit.coefficients])
        r = fit.yi - x @ beta
        vb = vb * float(np.sum(w * r * r) / (fit.k - x.shape[1]))
    return np.asarray(vb[np.ix_([0, j], [0, j])], dtype=float)
