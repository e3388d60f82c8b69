"""The outcomes report: statistics from the analysis datasets, figures, HTML, PDF, summary.json.

``compute_summary`` turns ADSL / ADTTE / ADRS (contract in docs/outcomes/datasets.md) into one
JSON-ready dictionary holding every number the report shows; ``write_report`` renders it as a
self-contained HTML page (figures embedded as PNG), a PDF (matplotlib ``PdfPages``: text,
tables and figures, no system libraries needed) and ``summary.json``, and writes the datasets
beside them. The PDF is drawn with matplotlib rather than an HTML-to-PDF engine so the report
builds on any machine with the Python dependencies alone.
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from lupuscell import __version__
from lupuscell.analysis.competing import CIFResult, cumulative_incidence
from lupuscell.analysis.conventions import json_safe
from lupuscell.analysis.regression import CoxResult, cox_model
from lupuscell.analysis.survival import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    KMResult,
    kaplan_meier,
    median_follow_up,
)
from lupuscell.analysis.tables import response_rates, table_one, trajectory
from lupuscell.errors import LupuscellError, ValidationError
from lupuscell.evidence.benchmark import comparison_plot
from lupuscell.reports import plots, pro_section
from lupuscell.reports.competing_section import build_competing_section
from lupuscell.reports.literature import CAVEAT, compare_with_literature
from lupuscell.reports.prediction_section import DEFAULT_BOOTSTRAP, MIN_BOOTSTRAP, build_prediction_section
from lupuscell.reports.sections import Section

LANDMARK_DAYS = (DAYS_PER_YEAR, 3 * DAYS_PER_YEAR, 5 * DAYS_PER_YEAR)
CIF_LANDMARK_DAYS = (100.0, 365.0)
RESPONSE_LABELS = {
    "doris_m6": "DORIS remission, month 6",
    "doris_m12": "DORIS remission, month 12",
    "lldas_m6": "LLDAS, month 6",
    "lldas_m12": "LLDAS, month 12",
    "sri4_m6": "SRI-4, month 6",
    "sri4_m12": "SRI-4, month 12",
    "steroid_free_m6": "Steroid-free, month 6",
    "steroid_free_m12": "Steroid-free, month 12",
}
RESPONSE_COLUMNS = (
    "doris_m6",
    "doris_m12",
    "lldas_m6",
    "lldas_m12",
    "sri4_m6",
    "sri4_m12",
    "steroid_free_m6",
    "steroid_free_m12",
)
COX_COVARIATES = ("THERAPY", "BSLEDAI", "NEPHRITIS", "BDSDNA", "AGE")
AE_COLUMNS = {
    "max_infection_grade": "Infection",
    "max_gvhd_grade": "GVHD",
    "max_crs_grade": "CRS (ASTCT)",
    "max_icans_grade": "ICANS (ASTCT)",
}


@dataclass
class ReportData:
    """The three analysis datasets plus provenance."""

    adsl: pd.DataFrame
    adtte: pd.DataFrame
    adrs: pd.DataFrame
    definitions: Mapping[str, str]
    snapshot: Mapping[str, Any]
    pro: pd.DataFrame | None = None
    """RAND-36 assessments (:func:`lupuscell.registry.pro_read.cohort_frame`); None = no PRO block."""


def _tte(adtte: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    sub = adtte[adtte["PARAMCD"] == paramcd]
    if sub.empty:
        raise ValidationError.single("ADTTE", "PARAMCD", f"no rows for parameter {paramcd}")
    return sub


def _km_by_therapy(adtte: pd.DataFrame, paramcd: str) -> dict[str, KMResult]:
    sub = _tte(adtte, paramcd)
    out = {"all": kaplan_meier(sub["AVAL"], sub["CNSR"] == 0, label="all", landmark_times=LANDMARK_DAYS)}
    for therapy, g in sorted(sub.groupby("THERAPY", observed=True), key=lambda kv: str(kv[0])):
        out[str(therapy)] = kaplan_meier(
            g["AVAL"], g["CNSR"] == 0, label=str(therapy), landmark_times=LANDMARK_DAYS
        )
    return out


def cif_by_therapy(adtte: pd.DataFrame) -> dict[str, CIFResult]:
    """Cumulative incidence of relapse and of non-relapse mortality (Aalen-Johansen, each
    competing with the other) from ADTTE's ``REL`` rows, for all patients and per therapy,
    with the report's landmarks (the report, and the web app's evidence page, put it beside
    the literature with :func:`lupuscell.reports.literature.compare_with_literature`)."""
    sub = _tte(adtte, "REL")
    causes = {1: "relapse", 2: "non-relapse mortality"}
    out = {
        "all": cumulative_incidence(
            sub["AVAL"], sub["EVCODE"], causes=causes, label="all", landmark_times=CIF_LANDMARK_DAYS
        )
    }
    for therapy, g in sorted(sub.groupby("THERAPY", observed=True), key=lambda kv: str(kv[0])):
        out[str(therapy)] = cumulative_incidence(
            g["AVAL"], g["EVCODE"], causes=causes, label=str(therapy), landmark_times=CIF_LANDMARK_DAYS
        )
    return out


def _cox(adsl: pd.DataFrame, adtte: pd.DataFrame) -> CoxResult:
    rfs = _tte(adtte, "RFS")[["USUBJID", "AVAL", "CNSR"]]
    data = adsl.merge(rfs, on="USUBJID", how="inner")
    data["EVENT"] = data["CNSR"] == 0
    covs = [c for c in COX_COVARIATES if c in data and data[c].notna().any()]
    for c in ("NEPHRITIS", "BDSDNA"):
        if c in covs:
            data[c] = data[c].astype(float)
    refs = {}
    if "THERAPY" in covs:
        levels = sorted(data["THERAPY"].astype(str).unique())
        refs["THERAPY"] = "autologous_hsct" if "autologous_hsct" in levels else levels[0]
    cox = cox_model(data, duration_col="AVAL", event_col="EVENT", covariates=covs, categorical=refs)
    if cox.coefficients.empty:  # e.g. one patient: every term is constant and dropped
        raise LupuscellError(f"no covariate varies among these {len(data)} patients")
    return cox


def _ae_table(adsl: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for col, label in AE_COLUMNS.items():
        if col not in adsl:
            continue
        grades = pd.to_numeric(adsl[col], errors="coerce").fillna(0).astype(int)
        row: dict[str, Any] = {"Event": label}
        for g in range(1, 6):
            row[f"Grade {g}"] = int((grades == g).sum())
        row["Any grade, n (%)"] = f"{int((grades >= 1).sum())} ({100 * (grades >= 1).mean():.0f}%)"
        row["Grade >=3, n (%)"] = f"{int((grades >= 3).sum())} ({100 * (grades >= 3).mean():.0f}%)"
        rows.append(row)
    return pd.DataFrame(rows)


def month_responses(
    adsl: pd.DataFrame, adrs: pd.DataFrame, months: tuple[int, ...] = (6, 12)
) -> pd.DataFrame:
    """ADSL with ``doris_m<m>`` and ``lldas_m<m>`` taken from the month-m ADRS visit
    (null = no visit in the window, i.e. not evaluable)."""
    out = adsl.copy()
    for m in months:
        visit = adrs[adrs["AVISITN"] == m].drop_duplicates("USUBJID").set_index("USUBJID")
        for src, dst in (("DORIS", f"doris_m{m}"), ("LLDAS", f"lldas_m{m}")):
            if src in visit:
                values = out["USUBJID"].map(visit[src])
                out[dst] = values.astype(object).where(values.notna(), None)
    return out


def compute_summary(data: ReportData) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every number of the report (JSON-ready) and the fitted objects for the figures."""
    adsl, adtte, adrs = data.adsl, data.adtte, data.adrs
    if adsl.empty:
        raise LupuscellError("no patients match the report filters")
    import lifelines
    import statsmodels

    os_km = _km_by_therapy(adtte, "OS")
    rfs_km = _km_by_therapy(adtte, "RFS")
    os_rows = _tte(adtte, "OS")
    follow = {"all": median_follow_up(os_rows["AVAL"], os_rows["CNSR"] == 0)}
    for therapy, g in os_rows.groupby("THERAPY", observed=True):
        follow[str(therapy)] = median_follow_up(g["AVAL"], g["CNSR"] == 0)
    cif = cif_by_therapy(adtte)
    cox_error: str | None = None
    cox: CoxResult | None = None
    try:
        cox = _cox(adsl, adtte)
    except (LupuscellError, ValueError, np.linalg.LinAlgError) as exc:
        cox_error = f"Cox model not estimable: {exc}"
    with_months = month_responses(adsl, adrs)
    rates = response_rates(with_months, [c for c in RESPONSE_COLUMNS if c in with_months])
    t1 = table_one(adsl)
    t1.columns = [_therapy_column(c) for c in t1.columns]
    traj_sledai = trajectory(adrs, "SLEDAI2K")
    traj_pred = trajectory(adrs, "PRED")
    ae = _ae_table(adsl)
    deaths_nrm = 0
    if "REL" in set(adtte["PARAMCD"]):
        deaths_nrm = int((_tte(adtte, "REL")["EVCODE"] == 2).sum())
    summary: dict[str, Any] = {
        "software": {
            "name": "lupuscell",
            "version": __version__,
            "lifelines": lifelines.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "snapshot": dict(data.snapshot),
        "filters": dict(data.snapshot.get("filters", {})),
        "definitions": dict(data.definitions),
        "n_patients": len(adsl),
        "by_therapy": {str(k): int(v) for k, v in adsl["THERAPY"].value_counts().sort_index().items()},
        "deaths": {
            "total": int(adsl["DTHFL"].fillna(False).astype(bool).sum()),
            "non_relapse": deaths_nrm,
        },
        "table1": {col: t1[col].to_dict() for col in t1.columns},
        "response_rates": rates.to_dict(orient="records"),
        "km": {
            "OS": {k: v.to_dict() for k, v in os_km.items()},
            "RFS": {k: v.to_dict() for k, v in rfs_km.items()},
        },
        "median_follow_up": {
            k: {"median": v.median, "median_ci": list(v.median_ci), "unit": "days"} for k, v in follow.items()
        },
        "cumulative_incidence": {k: v.to_dict() for k, v in cif.items()},
        "cox": cox.to_dict() if cox is not None else {"error": cox_error},
        "adverse_events": ae.to_dict(orient="records"),
        "trajectories": {
            "SLEDAI2K": traj_sledai.to_dict(orient="records"),
            "PRED": traj_pred.to_dict(orient="records"),
        },
    }
    literature, literature_comparisons = compare_with_literature(cif)
    summary["literature"] = literature
    fitted = {
        "literature_comparisons": literature_comparisons,
        "os_km": os_km,
        "rfs_km": rfs_km,
        "cif": cif,
        "cox": cox,
        "table1": t1,
        "rates": rates,
        "traj_sledai": traj_sledai,
        "traj_pred": traj_pred,
        "ae": ae,
    }
    return json_safe(summary), fitted


def _therapy_column(col: str) -> str:
    code, _, rest = col.partition(" (")
    return f"{plots.THERAPY_LABELS.get(code, code)} ({rest}" if rest else col


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _rates_display(rates: pd.DataFrame) -> pd.DataFrame:
    if rates.empty:
        return pd.DataFrame({"Endpoint": [], "Group": []})

    def pct(x: Any) -> str:
        return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.0f}%"

    return pd.DataFrame(
        {
            "Endpoint": rates["endpoint"].map(lambda e: RESPONSE_LABELS.get(e, e)),
            "Group": rates["group"].map(lambda g: plots.THERAPY_LABELS.get(g, g)),
            "Responders / evaluable": [
                f"{s} / {t}" for s, t in zip(rates["successes"], rates["total"], strict=True)
            ],
            "Rate": rates["rate"].map(pct),
            "Exact 95% CI": [
                f"{pct(a)}–{pct(b)}" for a, b in zip(rates["exact_low"], rates["exact_high"], strict=True)
            ],
            "Wilson 95% CI": [
                f"{pct(a)}–{pct(b)}" for a, b in zip(rates["wilson_low"], rates["wilson_high"], strict=True)
            ],
            "Not evaluable": rates["not_evaluable"],
        }
    )


def _landmark_display(summary: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for param in ("OS", "RFS"):
        for group, res in summary["km"][param].items():
            row: dict[str, Any] = {
                "Endpoint": param,
                "Group": plots.THERAPY_LABELS.get(group, group),
                "n": res["n"],
                "Events": res["events"],
            }
            med = res["median"]
            row["Median, months"] = "not reached" if med is None else f"{med / DAYS_PER_MONTH:.1f}"
            for lm in res["landmarks"]:
                yrs = round(lm["time"] / DAYS_PER_YEAR)
                s = lm["survival"]
                row[f"{yrs}-year, % (95% CI)"] = (
                    "–"
                    if s is None
                    else f"{100 * s:.0f} ({100 * lm['ci_low']:.0f}–{100 * lm['ci_high']:.0f})"
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _cif_display(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Landmark cumulative incidences; "–" past the longest follow-up (null), as for Kaplan-Meier."""
    rows = []
    for group, res in summary["cumulative_incidence"].items():
        for lm in res["landmarks"]:
            rows.append(
                {
                    "Group": plots.THERAPY_LABELS.get(group, group),
                    "Day": int(lm["time"]),
                    "Event": lm["cause"],
                    "Cumulative incidence, % (95% CI)": (
                        "– (after the last follow-up)"
                        if lm["cif"] is None
                        else f"{100 * lm['cif']:.1f} ({100 * lm['ci_low']:.1f}–{100 * lm['ci_high']:.1f})"
                    ),
                }
            )
    return pd.DataFrame(rows)


def _cox_display(cox: CoxResult) -> pd.DataFrame:
    c = cox.coefficients
    return pd.DataFrame(
        {
            "Term": c["term"].map(plots.term_label),
            "HR (95% CI)": [
                f"{h:.2f} ({lo:.2f}–{hi:.2f})"
                for h, lo, hi in zip(c["hr"], c["hr_low"], c["hr_high"], strict=True)
            ],
            "p": c["p"].map(lambda p: "<0.001" if p < 0.001 else f"{p:.3f}"),
            "PH test p": c["ph_p"].map(lambda p: "–" if pd.isna(p) else f"{p:.3f}"),
        }
    )


def _text_page(title: str, lines: list[str]) -> Figure:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.07, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.91
    for line in lines:
        for wrapped in textwrap.wrap(line, 88) or [""]:
            fig.text(0.07, y, wrapped, fontsize=10, va="top", family="DejaVu Sans")
            y -= 0.02
            if y < 0.04:
                return fig
    return fig


class _Figures:
    """The report's figures: base64 PNGs by HTML section, and the same figures for the PDF."""

    SECTIONS = ("survival", "cif", "cox", "traj", "swimmer", "literature", "pro")

    def __init__(self) -> None:
        self.html: dict[str, list[dict[str, str]]] = {k: [] for k in self.SECTIONS}
        self.pdf: list[Figure] = []

    def keep(self, section: str, fig: Figure, fig_title: str, caption: str) -> None:
        self.html[section].append({"title": fig_title, "png": _png(fig), "caption": caption})
        self.pdf.append(fig)


def _durations(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Follow-up times of all patients and by therapy (for the numbers-at-risk tables)."""
    d = {"all": rows["AVAL"].to_numpy(float)}
    for k, g in rows.groupby("THERAPY", observed=True):
        d[str(k)] = g["AVAL"].to_numpy(float)
    return d


def _by_therapy(fits: dict[str, Any]) -> dict[str, Any]:
    """The per-therapy fits, or the overall one when there is a single group."""
    return {k: v for k, v in fits.items() if k != "all"} or fits


def _survival_figures(figs: _Figures, data: ReportData, fitted: Mapping[str, Any]) -> None:
    fig, _ = plots.km_plot(
        _by_therapy(fitted["os_km"]),
        title="Overall survival by therapy",
        durations_by_group=_durations(_tte(data.adtte, "OS")),
    )
    figs.keep(
        "survival",
        fig,
        "Overall survival",
        "Kaplan-Meier estimate from day 0 to death, censored at last contact; "
        "shaded: 95% CI (log-log); numbers at risk below.",
    )
    fig, _ = plots.km_plot(
        _by_therapy(fitted["rfs_km"]),
        title="Relapse-free survival by therapy",
        durations_by_group=_durations(_tte(data.adtte, "RFS")),
    )
    figs.keep("survival", fig, "Relapse-free survival", "Kaplan-Meier estimate from day 0 to flare or death.")
    fig, _ = plots.cif_plot(
        _by_therapy(fitted["cif"]),
        title="Cumulative incidence of relapse (solid) and non-relapse mortality (dashed)",
    )
    figs.keep(
        "cif",
        fig,
        "Cumulative incidence",
        "Aalen-Johansen estimates; relapse and non-relapse mortality compete.",
    )
    if fitted["cox"] is not None:
        fig, _ = plots.forest_plot_cox(fitted["cox"], title="Cox model of relapse-free survival")
        figs.keep("cox", fig, "Cox forest plot", "Hazard ratios with 95% CIs (Efron ties).")


def _course_figures(figs: _Figures, data: ReportData, fitted: Mapping[str, Any]) -> None:
    fig, _ = plots.spaghetti_plot(data.adrs, fitted["traj_sledai"], value="SLEDAI2K", ylabel="SLEDAI-2K")
    figs.keep(
        "traj",
        fig,
        "SLEDAI-2K trajectories",
        "SLEDAI-2K at each visit; thick line: mean per scheduled visit with 95% CI.",
    )
    fig, _ = plots.spaghetti_plot(data.adrs, fitted["traj_pred"], value="PRED", ylabel="Prednisone, mg/day")
    figs.keep("traj", fig, "Prednisone trajectories", "Prednisone-equivalent dose (mg/day) at each visit.")
    fig, _ = plots.swimmer_plot(data.adsl)
    figs.keep(
        "swimmer",
        fig,
        "Swimmer plot",
        "Bars: follow-up from day 0; circle: first DORIS remission; triangle: flare; cross: death.",
    )
    for cmp in fitted["literature_comparisons"]:
        fig, _ = comparison_plot(cmp, title="This programme vs the published literature")
        figs.keep("literature", fig, "Compared with the literature", CAVEAT)


@dataclass
class _Tables:
    """The display tables shared by the HTML page and the PDF."""

    landmarks: pd.DataFrame
    cif: pd.DataFrame
    rates: pd.DataFrame
    cox: pd.DataFrame | None
    pro: pd.DataFrame | None = None


def _display_tables(summary: Mapping[str, Any], fitted: Mapping[str, Any]) -> _Tables:
    return _Tables(
        landmarks=_landmark_display(summary),
        cif=_cif_display(summary),
        rates=_rates_display(fitted["rates"]),
        cox=_cox_display(fitted["cox"]) if fitted["cox"] is not None else None,
    )


def _render_html(
    title: str,
    summary: Mapping[str, Any],
    fitted: Mapping[str, Any],
    tables: _Tables,
    figs: _Figures,
    sections: tuple[Section, ...] = (),
) -> str:
    def html_table(df: pd.DataFrame, index: bool = False) -> str:
        return df.to_html(index=index, border=0, na_rep="–", escape=True)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lupuscell.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    return env.get_template("report.html.j2").render(
        title=title,
        summary=summary,
        labels=plots.THERAPY_LABELS,
        fmt_months=lambda d: "–" if d is None else f"{d / DAYS_PER_MONTH:.1f}",
        table1_html=html_table(fitted["table1"], index=True),
        rates_html=html_table(tables.rates),
        landmarks_html=html_table(tables.landmarks),
        cif_html=html_table(tables.cif),
        cox_html=html_table(tables.cox) if tables.cox is not None else "",
        ae_html=html_table(fitted["ae"]),
        sections_html="\n".join(s.html for s in sections),
        pro_html=html_table(tables.pro) if tables.pro is not None else "",
        **{f"figures_{section}": figs.html[section] for section in _Figures.SECTIONS},
    )


def _cover_lines(summary: Mapping[str, Any]) -> list[str]:
    """The PDF's first page: provenance, cohort, literature comparison, definitions."""
    snap = summary["snapshot"]
    follow_up = summary["median_follow_up"]["all"]["median"]
    return [
        f"lupuscell {summary['software']['version']} · generated {snap.get('generated_at', '')}",
        f"Data snapshot: {snap.get('source', '')} as of {snap.get('as_of', '')}",
        f"Filters: therapy = {summary['filters'].get('therapy') or 'all'}, "
        f"site = {summary['filters'].get('site') or 'all'}",
        "",
        f"Patients: {summary['n_patients']} ("
        + ", ".join(f"{plots.THERAPY_LABELS.get(k, k)} {v}" for k, v in summary["by_therapy"].items())
        + ")",
        f"Deaths: {summary['deaths']['total']} (non-relapse: {summary['deaths']['non_relapse']})",
        "Median follow-up (reverse Kaplan-Meier): "
        + ("–" if follow_up is None else f"{follow_up / DAYS_PER_MONTH:.1f} months"),
        "",
        "Compared with the published literature:",
        *[f"• {rec['sentence']}" for rec in summary.get("literature", [])],
        CAVEAT,
        "",
        "Endpoint definitions used:",
        *[f"• {k}: {v}" for k, v in summary["definitions"].items()],
        "",
        "Every number in this report is in summary.json beside it. "
        "Patient identifiers are pseudonymous codes.",
    ]


def _write_pdf(
    path: Path,
    title: str,
    summary: Mapping[str, Any],
    fitted: Mapping[str, Any],
    tables: _Tables,
    figs: _Figures,
    sections: tuple[Section, ...] = (),
) -> None:
    """Cover page, the tables, then every figure, one per page, then the pages of each section
    (each figure closed once saved)."""
    from lupuscell.reports.plots import close, table_figure

    with PdfPages(path) as pdf:
        meta = pdf.infodict()
        meta["Title"] = title
        meta["Creator"] = f"lupuscell {__version__}"
        page = _text_page(title, _cover_lines(summary))
        pdf.savefig(page)
        close(page)
        for tab_title, tab in (
            ("Table 1. Baseline characteristics by therapy", fitted["table1"]),
            ("Response and remission rates", tables.rates),
            ("Survival: medians and landmarks", tables.landmarks),
            ("Cumulative incidence at day 100 and 1 year", tables.cif),
            ("Adverse events by maximum grade (patients)", fitted["ae"]),
            ("Patient-reported outcomes: mean RAND-36 scale score (n patients)", tables.pro),
        ):
            if tab is not None and not tab.empty:
                tf = table_figure(tab, title=tab_title, fontsize=7 if tab.shape[1] > 6 else 8)
                pdf.savefig(tf)
                close(tf)
        if tables.cox is not None and not tables.cox.empty:
            tf = table_figure(tables.cox, title="Cox model of relapse-free survival")
            pdf.savefig(tf)
            close(tf)
        for f in [*figs.pdf, *(page for section in sections for page in section.pages())]:
            pdf.savefig(f)
            close(f)


def write_report(
    data: ReportData,
    out_dir: Path,
    *,
    title: str = "Cellular therapy in SLE: outcomes report",
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
) -> dict[str, Any]:
    """Write report.html, report.pdf and summary.json into ``out_dir`` (the datasets are written by
    :func:`lupuscell.reports.pipeline.report_from_cohort`); ``n_bootstrap``: resamples of the
    prediction models' optimism correction (at least 10)."""
    if n_bootstrap < MIN_BOOTSTRAP:
        raise ValidationError.single(
            "report", "bootstrap", f"{n_bootstrap} resamples; at least {MIN_BOOTSTRAP}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    summary, fitted = compute_summary(data)
    sections = (
        build_competing_section(data.adsl, data.adtte),
        build_prediction_section(data.adsl, data.adtte, n_bootstrap),
    )
    summary |= {s.key: s.summary for s in sections}
    figs = _Figures()
    _survival_figures(figs, data, fitted)
    _course_figures(figs, data, fitted)
    tables = _display_tables(summary, fitted)
    pro = pro_section.pro_block(data.pro)  # patient-reported outcomes (RAND-36), None without data
    if pro is not None:
        figs.keep("pro", pro.figure, pro.title, pro.caption)
        tables.pro, summary["patient_reported_outcomes"] = pro.table, pro.rows
    html = _render_html(title, summary, fitted, tables, figs, sections)
    (out_dir / "report.html").write_text(html, encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False), encoding="utf-8")
    _write_pdf(out_dir / "report.pdf", title, summary, fitted, tables, figs, sections)
    return summary
