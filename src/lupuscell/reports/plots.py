"""Figures of the outcomes report (matplotlib, Agg backend).

Every function takes analysis results or analysis datasets, draws one labelled figure with
units and n, and returns ``(figure, data)`` where ``data`` is the DataFrame actually drawn, so
the numbers behind a plot are always available (numbers at risk included, from
:func:`lupuscell.analysis.conventions.numbers_at_risk`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.patches
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupuscell import vocab
from lupuscell.analysis.competing import CIFResult
from lupuscell.analysis.regression import CoxResult
from lupuscell.analysis.survival import DAYS_PER_MONTH, KMResult, numbers_at_risk

THERAPY_LABELS = {**vocab.THERAPY_LABELS, "all": "All"}
THERAPY_COLOURS = {
    "autologous_hsct": "#1f77b4",
    "allogeneic_hsct": "#9467bd",
    "msc": "#2ca02c",
    "car_t": "#d62728",
    "other": "#7f7f7f",
    "all": "#000000",
}
TERM_LABELS = {
    "BSLEDAI": "Baseline SLEDAI-2K (per point)",
    "NEPHRITIS": "Lupus nephritis",
    "BDSDNA": "Raised anti-dsDNA at baseline",
    "AGE": "Age (per year)",
}


def term_label(term: str) -> str:
    """Readable label of a Cox model term (``THERAPY[msc]`` -> ``Therapy: MSC``)."""
    if term.startswith("THERAPY[") and term.endswith("]"):
        return f"Therapy: {_label(term[8:-1])}"
    return TERM_LABELS.get(term, term)


plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "axes.labelsize": 10, "legend.fontsize": 9})


def _label(key: str) -> str:
    return THERAPY_LABELS.get(key, key)


def _colour(key: str, i: int) -> str:
    return THERAPY_COLOURS.get(key, f"C{i % 10}")


def km_plot(
    curves: Mapping[str, KMResult],
    *,
    title: str,
    durations_by_group: Mapping[str, np.ndarray],
    risk_times_months: Sequence[float] = (0, 12, 24, 36, 48, 60),
) -> tuple[Figure, pd.DataFrame]:
    """Kaplan-Meier curves (months on x) with CI bands and a numbers-at-risk table below."""
    fig, (ax, ax_risk) = plt.subplots(
        2, 1, figsize=(8, 6), gridspec_kw={"height_ratios": [4, 1.2]}, sharex=True
    )
    risk_rows = []
    risk_days = [m * DAYS_PER_MONTH for m in risk_times_months]
    groups = list(curves)
    for i, key in enumerate(groups):
        km = curves[key]
        tab = km.table
        x = np.concatenate([[0.0], tab["time"].to_numpy()]) / DAYS_PER_MONTH
        y = np.concatenate([[1.0], tab["survival"].to_numpy()])
        lo = np.concatenate([[1.0], tab["ci_low"].to_numpy()])
        hi = np.concatenate([[1.0], tab["ci_high"].to_numpy()])
        c = _colour(key, i)
        ax.step(x, y, where="post", color=c, lw=1.8, label=f"{_label(key)} (n={km.n}, events={km.events})")
        ax.fill_between(x, lo, hi, step="post", color=c, alpha=0.12, lw=0)
        nar = (
            km.numbers_at_risk(risk_days)
            if km.exit_times is not None
            else numbers_at_risk(durations_by_group[key], risk_days)
        )
        risk_rows.append(
            {"group": _label(key), **{f"{m:g}": v for m, v in zip(risk_times_months, nar, strict=True)}}
        )
        for m, v in zip(risk_times_months, nar, strict=True):
            ax_risk.text(m, len(groups) - 1 - i, str(v), ha="center", va="center", color=c, fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Probability (95% CI, log-log)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax_risk.set_yticks(range(len(groups)))
    ax_risk.set_yticklabels([_label(g) for g in reversed(groups)])
    ax_risk.set_ylim(-0.6, len(groups) - 0.4)
    ax_risk.set_xlabel("Months since infusion (day 0)")
    ax_risk.set_title("Number at risk", fontsize=9, loc="left")
    ax_risk.tick_params(axis="y", length=0)
    for spine in ("top", "right", "left"):
        ax_risk.spines[spine].set_visible(False)
    ax_risk.set_xticks(list(risk_times_months))
    ax.set_xlim(-1, max(risk_times_months) + 1)
    fig.tight_layout()
    return fig, pd.DataFrame(risk_rows)


def cif_plot(
    results: Mapping[str, CIFResult], *, title: str, horizon_months: float = 60
) -> tuple[Figure, pd.DataFrame]:
    """Cumulative incidence of each cause (solid: cause 1, dashed: cause 2) per group."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    rows = []
    for i, (key, res) in enumerate(results.items()):
        tab = res.table
        x = np.concatenate([[0.0], tab["time"].to_numpy()]) / DAYS_PER_MONTH
        for k, style in ((1, "-"), (2, "--")):
            col = f"cif_{k}"
            if col not in tab:
                continue
            y = np.concatenate([[0.0], tab[col].to_numpy()])
            ax.step(
                x,
                y,
                where="post",
                ls=style,
                color=_colour(key, i),
                lw=1.8,
                label=f"{_label(key)}: {res.causes.get(k, k)} (n={res.n})",
            )
            rows.append(
                pd.DataFrame({"group": key, "cause": res.causes.get(k, str(k)), "month": x, "cif": y})
            )
    ax.set_xlim(0, horizon_months)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Months since infusion (day 0)")
    ax.set_ylabel("Cumulative incidence")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig, (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame())


def swimmer_plot(adsl: pd.DataFrame, *, max_patients: int = 40, seed: int = 0) -> tuple[Figure, pd.DataFrame]:
    """Patient journeys: one bar per patient (follow-up), markers for remission, flare, death.

    With more than ``max_patients`` patients a reproducible sample stratified by therapy is drawn
    (the figure says so).
    """
    data = adsl
    sampled = len(adsl) > max_patients
    if sampled:
        per = max(1, max_patients // max(1, adsl["THERAPY"].nunique()))
        data = pd.concat(
            [
                g.sample(n=min(per, len(g)), random_state=seed)
                for _, g in adsl.groupby("THERAPY", observed=True)
            ]
        )
    data = data.sort_values(["THERAPY", "FUPDY"]).reset_index(drop=True)
    height = max(4.0, 0.18 * len(data) + 1.5)
    fig, ax = plt.subplots(figsize=(8, height))
    months = data["FUPDY"].astype(float) / DAYS_PER_MONTH
    colours = [_colour(str(t), i) for i, t in enumerate(data["THERAPY"])]
    ax.barh(np.arange(len(data)), months, color=colours, alpha=0.55, height=0.7)
    for col, marker, colour, label in (
        ("first_remission_day", "o", "#2ca02c", "DORIS remission"),
        ("flare_day", "^", "#ff7f0e", "Flare"),
        ("DTHDY", "X", "#000000", "Death"),
    ):
        if col in data:
            v = pd.to_numeric(data[col], errors="coerce")
            ok = v.notna().to_numpy()
            ax.scatter(
                (v[ok] / DAYS_PER_MONTH).to_numpy(),
                np.arange(len(data))[ok],
                marker=marker,
                color=colour,
                s=28,
                zorder=3,
                label=label,
                edgecolor="white",
                linewidth=0.5,
            )
    handles, _labels = ax.get_legend_handles_labels()
    handles += [
        matplotlib.patches.Patch(color=_colour(str(t), 0), alpha=0.55, label=_label(str(t)))
        for t in data["THERAPY"].unique()
    ]
    ax.set_yticks(np.arange(len(data)))
    ax.set_yticklabels(data["USUBJID"].astype(str), fontsize=6)
    ax.set_xlabel("Months since infusion (day 0)")
    n_total = len(adsl)
    ax.set_title(
        f"Patient journeys ({len(data)} of {n_total} patients"
        + (", random sample by therapy)" if sampled else ")")
    )
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig, data


def spaghetti_plot(
    adrs: pd.DataFrame,
    trajectories: pd.DataFrame,
    *,
    value: str = "SLEDAI2K",
    ylabel: str = "SLEDAI-2K",
    max_lines: int = 60,
    seed: int = 0,
    min_n: int = 5,
) -> tuple[Figure, pd.DataFrame]:
    """Individual trajectories (thin, a reproducible sample) with the mean and 95% CI per
    scheduled visit and therapy (thick); visits with fewer than ``min_n`` patients get no mean."""
    groups = sorted(adrs["THERAPY"].dropna().unique())
    fig, axes = plt.subplots(
        1, max(1, len(groups)), figsize=(3.2 * max(1, len(groups)) + 1, 4), sharey=True, squeeze=False
    )
    for i, g in enumerate(groups):
        ax = axes[0, i]
        sub = adrs[(adrs["THERAPY"] == g)].dropna(subset=[value])
        ids = sub["USUBJID"].drop_duplicates()
        if len(ids) > max_lines:
            ids = ids.sample(n=max_lines, random_state=seed)
        for _pid, p in sub[sub["USUBJID"].isin(ids)].groupby("USUBJID"):
            ax.plot(p["ADY"] / DAYS_PER_MONTH, p[value], color="grey", alpha=0.25, lw=0.7)
        tr = trajectories[(trajectories["THERAPY"] == g) & (trajectories["n"] >= min_n)].sort_values(
            "AVISITN"
        )
        c = _colour(str(g), i)
        ax.plot(tr["AVISITN"], tr["mean"], color=c, lw=2.2, marker="o", ms=3, label="mean")
        ax.fill_between(tr["AVISITN"], tr["ci_low"], tr["ci_high"], color=c, alpha=0.2)
        ax.set_title(f"{_label(str(g))} (n={sub['USUBJID'].nunique()})")
        ax.set_xlabel("Months since infusion")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(ylabel)
    fig.suptitle(f"{ylabel} over time: individual patients (grey) and mean with 95% CI")
    fig.tight_layout()
    return fig, trajectories


def forest_plot_cox(cox: CoxResult, *, title: str) -> tuple[Figure, pd.DataFrame]:
    """Hazard ratios with 95% CIs on a log scale."""
    coefs = cox.coefficients
    finite = np.isfinite(coefs[["hr", "hr_low", "hr_high"]].to_numpy(dtype=float)).all(axis=1)
    tab = coefs[finite].iloc[::-1].reset_index(drop=True)
    omitted = [str(t) for t in coefs.loc[~finite, "term"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(tab) + 1.8))
    y = np.arange(len(tab))
    ax.errorbar(
        tab["hr"],
        y,
        xerr=[tab["hr"] - tab["hr_low"], tab["hr_high"] - tab["hr"]],
        fmt="s",
        color="#1f77b4",
        ecolor="#1f77b4",
        capsize=3,
    )
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    lo_lim = float(min(tab["hr_low"].min(), 1.0) if len(tab) else 1.0) / 1.2
    hi_lim = float(max(tab["hr_high"].max(), 1.0) if len(tab) else 1.0) * 1.2
    ax.set_xlim(lo_lim, hi_lim)
    ticks = [t for t in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0) if lo_lim <= t <= hi_lim]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(y)
    labels = [
        f"{term_label(t)}   HR {h:.2f} ({lo:.2f}–{hi:.2f})"
        for t, h, lo, hi in zip(tab["term"], tab["hr"], tab["hr_low"], tab["hr_high"], strict=True)
    ]
    ax.set_yticklabels(labels)
    ax.set_xlabel("Hazard ratio (95% CI, log scale)")
    refs = ", ".join(f"{k.lower()} vs {_label(v)}" for k, v in cox.reference_levels.items())
    note = f"; not estimable: {', '.join(term_label(t) for t in omitted)}" if omitted else ""
    ax.set_title(f"{title}\nn={cox.n}, events={cox.events}; reference: {refs or 'none'}{note}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig, cox.coefficients


def table_figure(table: pd.DataFrame, *, title: str, fontsize: int = 8) -> Figure:
    """A DataFrame drawn as an A4-wide table page (for the PDF); a non-default index becomes
    the first column."""
    if not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index().rename(columns={"index": ""})
    nrows = len(table) + 1
    fig, ax = plt.subplots(figsize=(8.27, 0.3 * nrows + 1.0))
    ax.axis("off")
    cell_text = [[str(v) for v in row] for row in table.itertuples(index=False)]
    tbl = ax.table(
        cellText=cell_text, colLabels=[str(c) for c in table.columns], loc="upper center", cellLoc="center"
    )
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(fontsize)
    tbl.auto_set_column_width(col=list(range(table.shape[1])))
    tbl.scale(1, 1.3)
    for (row, col), cell in tbl.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#eeeeee")
        if col == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.02
    ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)
