"""The open-questions report: HTML, PDF and JSON from :mod:`lupuscell.evidence.questions`.

One section per question (remission and treatment-related mortality by therapy, MSC by cell
source, dose, long-term safety), each with the question, a sentence on how much the evidence
supports, k, n and heterogeneity, a forest (or bubble) plot, the studies with their own
definitions and evidence levels, the caveats and every study left out with the reason.
:func:`build_questions_report` returns the pieces (HTML string, figures, JSON-ready summary) so
a web page can serve them; :func:`write_questions_report` writes ``questions.html`` (figures
embedded), ``questions.pdf`` (matplotlib ``PdfPages``: text pages and figures, no system
libraries) and ``questions.json``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from lupuscell import __version__
from lupuscell.analysis.conventions import json_safe
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import MetaResult, rma, subgroup_analysis
from lupuscell.evidence.plots import bubble_plot, forest_plot
from lupuscell.evidence.questions import (
    SAFETY_OUTCOMES,
    THRESHOLD,
    DoseAnswer,
    SafetyAnswer,
    SubgroupAnswer,
    answer_questions,
)
from lupuscell.evidence.studies import THERAPY_LABELS, dataset_version, study_label

TITLE = "Cell therapy for SLE: the open questions, answered from the published evidence"


@dataclass
class Section:
    """One question as shown: text, numbers, figures and tables."""

    key: str
    title: str
    question: str
    sentence: str
    stats: list[str]
    caveats: list[str]
    studies: pd.DataFrame
    excluded: list[tuple[str, str, str]]
    figures: list[tuple[Figure, str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _fit_line(label: str, fit: MetaResult, scale: float = 1.0, unit: str = "") -> str:
    b = fit.back
    i2 = "NA" if fit.i2 is None else f"{fit.i2:.0f}%"
    if unit:
        est = f"{scale * b.estimate:.1f} {unit} (95% CI {scale * b.ci_low:.1f} to {scale * b.ci_high:.1f})"
    else:
        est = f"{_pct(b.estimate)} (95% CI {_pct(b.ci_low)} to {_pct(b.ci_high)})"
    return f"{label}: k = {fit.k}, {est}; I² = {i2}, τ² = {fit.tau2:.3g}"


def _study_table(rows: pd.DataFrame, group: list[str] | None = None) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "Study": [study_label(r) for _, r in rows.iterrows()],
            "Therapy": [THERAPY_LABELS.get(str(t), str(t)) for t in rows["therapy"]],
            "Events/N": [f"{int(e)}/{int(t)}" for e, t in zip(rows["events"], rows["total"], strict=True)],
            "Definition (as published)": list(rows["definition"]),
            "Evidence level": list(rows["evidence_level"]),
        }
    )
    if group is not None:
        out.insert(2, "Subgroup", group)
    return out


def _subgroup_section(a: SubgroupAnswer) -> Section:
    sel = a.selection
    extra = {"Events/N": sel.counts(), "Level": sel.levels(short=True)}
    stats = [_fit_line("All studies", a.overall)]
    if a.subgroups is not None:
        fig, _ = forest_plot(a.subgroups, groups=a.groups, labels=sel.labels(), extra=extra, title=a.title)
        stats += [_fit_line(g, f) for g, f in a.subgroups.groups.items()]
        stats.append(
            f"Test for subgroup differences (separate τ²): Q = {a.subgroups.q_between:.2f}, "
            f"df = {a.subgroups.df}, p = {a.subgroups.p:.2g}"
        )
        if a.common_tau2 is not None and a.common_tau2.qm_p is not None:
            stats.append(
                f"With a common τ² (metafor mods = ~ subgroup): QM = {a.common_tau2.qm:.2f}, "
                f"p = {a.common_tau2.qm_p:.2g}"
            )
    else:
        fig, _ = forest_plot(a.overall, labels=sel.labels(), extra=extra, title=a.title)
    stats.insert(0, f"k = {a.k} studies, n = {a.n} patients")
    summary = {"k": a.k, "n": a.n, "overall": a.overall.summary()}
    if a.subgroups is not None:
        summary["subgroups"] = {g: f.summary() for g, f in a.subgroups.groups.items()}
        summary["q_between"] = {"q": a.subgroups.q_between, "df": a.subgroups.df, "p": a.subgroups.p}
    caption = "Logit proportions, REML, 95% CIs; grey diamonds: subgroups (own τ²); red dashes: prediction interval."
    return Section(
        a.key,
        a.title,
        a.question,
        a.sentence,
        stats,
        a.caveats,
        _study_table(sel.rows, a.groups),
        list(sel.excluded),
        [(fig, caption)],
        summary,
    )


def _dose_section(a: DoseAnswer) -> Section:
    figures, stats, tables, summary = [], [], [], {}
    for therapy, fit in a.fits.items():
        sel = a.selections[therapy]
        name = THERAPY_LABELS[therapy]
        fig, _ = bubble_plot(
            fit,
            "dose_per_kg",
            labels=sel.labels(),
            transform=True,
            title=f"{name}: efficacy by dose (k = {fit.k}, n = {int(sel.rows['total'].sum())})",
            xlabel="Dose (10^6 cells/kg)",
        )
        fig.axes[0].set_ylabel("Proportion responding (each study's definition)")
        figures.append(
            (
                fig,
                f"{name}: bubbles sized by weight; line, CI and prediction band from the REML meta-regression.",
            )
        )
        slope = fit.coefficients[1]
        stats.append(
            f"{name}: k = {fit.k}, n = {int(sel.rows['total'].sum())}; slope {slope.estimate:.2f} per 10^6 cells/kg "
            f"(logit scale, 95% CI {slope.ci_low:.2f} to {slope.ci_high:.2f}, p = {slope.p:.2g}); "
            f"residual τ² = {fit.tau2:.3g}"
        )
        tables.append(_study_table(sel.rows).assign(**{"Dose (10^6/kg)": a.doses[therapy]}))
        summary[therapy] = fit.summary() | {"doses": a.doses[therapy]}
    for therapy, why in a.not_estimable.items():
        stats.append(f"{THERAPY_LABELS[therapy]}: not estimable ({why})")
    no_dose = a.dose_table[a.dose_table["dose_per_kg"].isna()]
    excluded = [(str(r["study_id"]), "dose", str(r["reason"])) for _, r in no_dose.iterrows()]
    studies = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return Section(
        a.key, a.title, a.question, a.sentence, stats, a.caveats, studies, excluded, figures, summary
    )


def _safety_section(a: SafetyAnswer) -> Section:
    figures, stats, summary = [], [], {}
    for family, label in SAFETY_OUTCOMES.items():
        part = a.rows[a.rows["family"] == family] if len(a.rows) else a.rows
        if part.empty:
            stats.append(f"{label}: no study with follow-up reports them")
            continue
        recs = [{"id": r["study_id"], "xi": r["events"], "ti": r["person_years"]} for _, r in part.iterrows()]
        es = escalc("IRLN", recs)
        groups = [THERAPY_LABELS[str(t)] for t in part["therapy"]]
        labels = [study_label(r) for _, r in part.iterrows()]
        extra = {
            "Events/PY": [
                f"{int(e)}/{py:.0f}" for e, py in zip(part["events"], part["person_years"], strict=True)
            ]
        }
        xlabel = f"{label.split(' (')[0]} per patient-year"
        if len(set(groups)) > 1:
            sub = subgroup_analysis(es, groups, "REML", "z", threshold=THRESHOLD)
            fig, _ = forest_plot(
                sub, groups=groups, labels=labels, extra=extra, xlabel=xlabel, digits=3, title=label
            )
        else:
            fit = rma(es, "REML" if es.k > 1 else "EE", "z", threshold=THRESHOLD)
            fig, _ = forest_plot(
                fit, labels=labels, extra=extra, xlabel=xlabel, digits=3, title=f"{label}: {groups[0]}"
            )
        figures.append((fig, f"{label}: log incidence rates (IRLN), REML; 0.5 added to zero counts."))
        for (fam, therapy), fit in a.fits.items():
            if fam == family:
                stats.append(
                    _fit_line(f"{label}, {THERAPY_LABELS[therapy]}", fit, 100, "per 100 patient-years")
                )
                summary[f"{family}:{therapy}"] = fit.summary()
    studies = (
        pd.DataFrame(
            {
                "Study": [study_label(r) for _, r in a.rows.iterrows()],
                "Therapy": [THERAPY_LABELS[str(t)] for t in a.rows["therapy"]],
                "Outcome": list(a.rows["outcome"]),
                "Events/N": [
                    f"{int(e)}/{int(t)}" for e, t in zip(a.rows["events"], a.rows["total"], strict=True)
                ],
                "Follow-up (months)": [f"{m:g}" for m in a.rows["follow_up_months"]],
                "Patient-years": [f"{p:.0f}" for p in a.rows["person_years"]],
                "Evidence level": list(a.rows["evidence_level"]),
            }
        )
        if len(a.rows)
        else pd.DataFrame()
    )
    return Section(
        a.key, a.title, a.question, a.sentence, stats, a.caveats, studies, a.excluded, figures, summary
    )


def build_sections(df: pd.DataFrame) -> list[Section]:
    """Every question of :func:`lupuscell.evidence.questions.answer_questions` as a section."""
    answers = answer_questions(df)
    out = []
    for a in answers.values():
        if isinstance(a, SubgroupAnswer):
            out.append(_subgroup_section(a))
        elif isinstance(a, DoseAnswer):
            out.append(_dose_section(a))
        else:
            out.append(_safety_section(a))
    return out


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass(frozen=True)
class QuestionsReport:
    """The built report: HTML, the sections (with their figures) and the JSON summary."""

    html: str
    sections: list[Section]
    summary: dict[str, Any]


def build_questions_report(
    df: pd.DataFrame, *, filters: str = "", generated: str | None = None
) -> QuestionsReport:
    """Build the report from the (filtered) curated rows; nothing is written."""
    sections = build_sections(df)
    version = dataset_version(df)
    when = generated or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    local = int(df["local"].sum())
    meta = {
        "title": TITLE,
        "generated": when,
        "software": f"lupuscell {__version__}",
        "dataset": version.line(),
        "newest_publication": int(df["year"].max()),
        "local_rows": local,
        "filters": filters or "none",
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lupuscell.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    views = [
        {
            "s": s,
            "figures": [{"png": _png(f), "caption": c} for f, c in s.figures],
            "table": s.studies.to_html(index=False, border=0, na_rep="–", escape=True),
        }
        for s in sections
    ]
    html = env.get_template("evidence_questions.html.j2").render(meta=meta, sections=views)
    summary = {
        **meta,
        "questions": {
            s.key: {
                "title": s.title,
                "question": s.question,
                "sentence": s.sentence,
                "statistics": s.stats,
                "caveats": s.caveats,
                "excluded": [{"study_id": i, "outcome": o, "reason": w} for i, o, w in s.excluded],
                "results": s.summary,
            }
            for s in sections
        },
    }
    return QuestionsReport(html, sections, json_safe(summary))


def _text_pages(title: str, blocks: list[tuple[str, str]], width: int = 95) -> list[Figure]:
    """A4 pages of wrapped text; ``blocks`` are (style, text) with style h1, h2, p or li."""
    pages: list[Figure] = []
    fig, y = None, 0.0
    sizes = {
        "h1": (14, "bold", 0.03),
        "h2": (11.5, "bold", 0.025),
        "p": (9, "normal", 0.017),
        "li": (8.5, "normal", 0.016),
    }
    for style, text in [("h1", title), *blocks]:
        size, weight, step = sizes[style]
        wrap = {"h1": 55, "h2": 68}.get(style, width)  # DejaVu bold at 14 / 11.5 pt on A4
        lines = textwrap.wrap(
            text,
            wrap,
            initial_indent="• " if style == "li" else "",
            subsequent_indent="  " if style == "li" else "",
        ) or [""]
        for line in lines:
            if fig is None or y < 0.05:
                fig = Figure(figsize=(8.27, 11.69))
                pages.append(fig)
                y = 0.95
            fig.text(0.07, y, line, fontsize=size, weight=weight, va="top", family="DejaVu Sans")
            y -= step
        y -= 0.008
    return pages


def _pdf_blocks(meta: Mapping[str, Any], s: Section) -> list[tuple[str, str]]:
    blocks = [("h2", s.title), ("p", s.question), ("p", s.sentence), *[("li", t) for t in s.stats]]
    blocks += [("p", "Caveats:"), *[("li", c) for c in s.caveats]]
    if len(s.studies):
        blocks.append(("p", "Studies used:"))
        for _, r in s.studies.iterrows():
            blocks.append(("li", "; ".join(f"{k}: {v}" for k, v in r.items())))
    if s.excluded:
        blocks.append(("p", "Left out:"))
        blocks += [("li", f"{i} ({o}): {w}") for i, o, w in s.excluded]
    return blocks


def write_questions_report(df: pd.DataFrame, out_dir: Path, *, filters: str = "") -> dict[str, Any]:
    """Write questions.html, questions.pdf and questions.json into ``out_dir``; return the summary."""
    report = build_questions_report(df, filters=filters)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "questions.html").write_text(report.html, encoding="utf-8")
    (out_dir / "questions.json").write_text(
        json.dumps(report.summary, indent=2, allow_nan=False), encoding="utf-8"
    )
    meta = report.summary
    intro = [
        (
            "p",
            f"{meta['software']} · generated {meta['generated']} · {meta['dataset']} (publications up to "
            f"{meta['newest_publication']}); local rows: {meta['local_rows']}; filters: {meta['filters']}.",
        ),
        (
            "p",
            "Every number comes from the curated rows listed under each question; one row per study and one "
            "study per group of studies that share patients. Pooled estimates describe published series: "
            "most are small, single-arm and read from abstracts.",
        ),
    ]
    with PdfPages(out_dir / "questions.pdf") as pdf:
        info = pdf.infodict()
        info["Title"] = TITLE
        info["Creator"] = meta["software"]
        for page in _text_pages(TITLE, intro):
            pdf.savefig(page)
        for s in report.sections:
            for page in _text_pages(s.title, _pdf_blocks(meta, s)[1:]):
                pdf.savefig(page)
            for fig, _ in s.figures:
                pdf.savefig(fig, bbox_inches="tight")
    return report.summary
