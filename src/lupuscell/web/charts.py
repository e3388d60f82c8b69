"""Figures of the web pages: matplotlib drawn server-side (Agg canvas, no global backend),
embedded as SVG ``data:`` images (the CSP allows ``img-src data:``; no inline script or style
reaches the page). Cohort figures reuse :mod:`lupuscell.reports.plots`; the patient timeline
is drawn here (one shared study-day axis for course phases, adverse events, activity scores,
steroid dose and labs).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

KEY_LABS: dict[str, tuple[float | None, float | None]] = {
    # analyte: (lower reference, upper reference) in the canonical unit of data/units.yaml
    "anc": (1.5, None),
    "platelets": (150.0, None),
    "anti_dsdna": (None, 30.0),
    "c3": (0.9, None),
    "c4": (0.1, None),
    "creatinine": (None, 1.2),
    "upcr": (None, 0.5),
}
"""Reference lines of the lab panels: typical adult limits (ANC >= 1.5 and platelets >= 150
x10^9/L; C3 >= 0.9 and C4 >= 0.1 g/L; anti-dsDNA < 30 IU/mL; creatinine <= 1.2 mg/dL; UPCR
< 0.5 g/g, the EULAR/ERA-EDTA 2019 renal-response cut-off). Drawn for orientation only: a
site's own laboratory ranges apply, and no endpoint uses these lines."""


def lab_label(analyte: str) -> str:
    """``Label (canonical unit)`` from data/units.yaml."""
    from lupuscell import units

    info = units.get_analyte(analyte)
    return f"{info.label} ({units.canonical_unit(analyte)})"


PHASE_COLOURS = {
    "mobilisation": "#8c564b",
    "harvest": "#e377c2",
    "conditioning": "#ff7f0e",
    "infusion": "#d62728",
    "engraftment": "#2ca02c",
    "discharge": "#1f77b4",
}
GRADE_COLOURS = {1: "#9ecae1", 2: "#4292c6", 3: "#fd8d3c", 4: "#e6550d", 5: "#000000"}


def svg_data_uri(fig: Figure) -> str:
    """The figure as an SVG data URI (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    _close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def phase_events(course: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(phase label, study day) of the dated phases of one course."""
    day0 = course["infusion_date"]
    names = (
        ("mobilisation_date", "mobilisation"),
        ("harvest_date", "harvest"),
        ("conditioning_start_date", "conditioning"),
        ("infusion_date", "infusion"),
        ("discharge_date", "discharge"),
    )
    offset = course.get("study_day") or 0
    return [
        (label, offset + (course[field] - day0).days)
        for field, label in names
        if course.get(field) is not None
    ]


def _therapy_phase_label(course: Mapping[str, Any], label: str) -> str:
    if course.get("therapy") == "car_t" and label == "conditioning":
        return "lymphodepletion"
    if course.get("therapy") == "car_t" and label == "harvest":
        return "apheresis"
    return label


def treatment_window(timeline: Mapping[str, Any], engraftment: Mapping[str, int | None]) -> tuple[int, int]:
    """Study-day range of the treatment phase: first phase date - 7 to last phase / engraftment + 21."""
    days: list[int] = [d for course in timeline["courses"] for _, d in phase_events(course)]
    days += [int(d) for d in engraftment.values() if d is not None]
    return (min(days) - 7, max(max(days), 0) + 21) if days else (-30, 60)


def _course_panel(ax: Any, timeline: Mapping[str, Any], engraftment: Mapping[str, int | None]) -> None:
    """Phases of every course, conditioning drugs, engraftment and adverse events in the treatment window."""
    low, high = treatment_window(timeline, engraftment)
    rows: list[str] = []
    for course in timeline["courses"]:
        y = len(rows)
        rows.append(f"Course {course['course_no']}: {course['therapy'].replace('_', ' ')}")
        events = phase_events(course)
        days = [d for _, d in events]
        ax.hlines(y, min(days), max(days), color="#bbbbbb", lw=6, zorder=1)
        for label, day in events:
            ax.plot(
                day,
                y,
                "o",
                ms=9,
                color=PHASE_COLOURS.get(label, "#333333"),
                zorder=3,
                label=_therapy_phase_label(course, label),
            )
        for drug in course["drugs"]:
            if drug.get("purpose") in ("mobilisation", "conditioning", "lymphodepletion"):
                ax.plot(
                    drug["study_day"],
                    y + 0.3,
                    "|",
                    ms=8,
                    color="#555555",
                    zorder=2,
                    label=f"{drug['purpose']} drug",
                )
    for name, engrafted in engraftment.items():
        if engrafted is not None:
            ax.plot(
                engrafted,
                0,
                "D",
                ms=8,
                color=PHASE_COLOURS["engraftment"],
                zorder=4,
                label=f"{name} engraftment",
            )
    y_ae = len(rows)
    rows.append("Adverse events")
    for ae in timeline["adverse_events"]:
        if low <= ae["study_day"] <= high:
            grade = int(ae["grade"])
            ax.plot(
                ae["study_day"],
                y_ae,
                "v",
                ms=6 + grade,
                color=GRADE_COLOURS[grade],
                zorder=3,
                label=f"AE grade {grade}",
            )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(low, high)
    ax.set_xlabel("Study day (day 0 = infusion)")
    ax.set_title(f"Treatment phase: study days {low} to {high}", loc="left")
    _dedup_legend(ax)


def _events_panel(ax: Any, timeline: Mapping[str, Any]) -> None:
    """Adverse events by grade and flares / death over the whole follow-up."""
    for ae in timeline["adverse_events"]:
        grade = int(ae["grade"])
        ax.plot(
            ae["study_day"], grade, "v", ms=5 + grade, color=GRADE_COLOURS[grade], label=f"AE grade {grade}"
        )
    for ev in timeline["clinical_events"]:
        if ev["event_type"] in ("death", "flare", "relapse"):
            colour = "#000000" if ev["event_type"] == "death" else "#9467bd"
            ax.axvline(ev["study_day"], color=colour, ls="--", lw=1.2, label=ev["event_type"])
    ax.set_ylim(0.5, 5.5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_ylabel("AE grade")
    ax.set_title("Adverse events, flares and death over follow-up", loc="left")
    _dedup_legend(ax)


def _dedup_legend(ax: Any, ncol: int = 3) -> None:
    handles, labels = ax.get_legend_handles_labels()
    seen: dict[str, Any] = {}
    for h, label in zip(handles, labels, strict=True):
        seen.setdefault(label, h)
    if seen:
        ax.legend(
            seen.values(),
            seen.keys(),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
            ncol=1 if len(seen) < 9 else 2,
        )


def _activity_panel(ax: Any, visits: Sequence[Mapping[str, Any]]) -> None:
    days = np.array([v["study_day"] for v in visits], dtype=float)
    for key, label, style in (
        ("sledai_2k", "SLEDAI-2K", "o-"),
        ("clinical_sledai", "Clinical SLEDAI", "s--"),
    ):
        values = np.array([np.nan if v.get(key) is None else v[key] for v in visits], dtype=float)
        ax.plot(days, values, style, ms=4, label=label)
    ax.set_ylabel("Score (points)")
    ax.set_ylim(bottom=0)
    ax.set_title("Disease activity, PGA and prednisone", loc="left")
    twin = ax.twinx()
    pred = np.array(
        [np.nan if v.get("prednisone_mg_per_day") is None else v["prednisone_mg_per_day"] for v in visits]
    )
    pga = np.array([np.nan if v.get("pga") is None else v["pga"] for v in visits], dtype=float)
    twin.plot(days, pred, "^-", color="#7f7f7f", ms=4, label="Prednisone (mg/day)")
    twin.plot(days, pga * 10, "d:", color="#bcbd22", ms=4, label="PGA (0-3) x10")
    twin.set_ylabel("Prednisone mg/day; PGA x10")
    twin.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8, frameon=False)


def _lab_panel(ax: Any, labs: Sequence[Mapping[str, Any]], analyte: str) -> None:
    low, high = KEY_LABS[analyte]
    label = lab_label(analyte)
    rows = [lab for lab in labs if str(lab["analyte"]).lower() == analyte]
    ax.plot(
        [r["study_day"] for r in rows],
        [r["value_canonical"] for r in rows],
        "o-",
        ms=3,
        lw=1,
        color="#1f77b4",
        label=f"results, n={len(rows)}",
    )
    for ref, word in ((low, "lower"), (high, "upper")):
        if ref is not None:
            ax.axhline(ref, color="#d62728", ls=":", lw=1, label=f"{word} reference {ref:g}")
    from lupuscell import units

    ax.set_ylabel(units.canonical_unit(analyte), fontsize=8)
    ax.set_title(label, loc="left", fontsize=9)
    ax.legend(loc="best", fontsize=7, frameon=True, framealpha=0.8)
    if not rows:
        ax.text(0.5, 0.5, "no results", transform=ax.transAxes, ha="center", va="center", color="#555555")


def timeline_figure(
    timeline: Mapping[str, Any],
    visit_scores: Mapping[Any, Mapping[str, Any]],
    engraftment: Mapping[str, int | None],
) -> Figure:
    """The patient timeline: the treatment phase (zoomed), then on one follow-up axis the adverse
    events, activity scores with PGA and prednisone, and one panel per key lab."""
    visits = [
        {**v, **{k: visit_scores.get(v["visit_date"], {}).get(k) for k in ("sledai_2k", "clinical_sledai")}}
        for v in timeline["visits"]
    ]
    lab_names = [a for a in KEY_LABS if any(str(x["analyte"]).lower() == a for x in timeline["labs"])]
    n_lab_rows = (len(lab_names) + 1) // 2
    heights = [2.4, 1.6, 2.6] + [1.8] * n_lab_rows
    fig = _new_figure(12.5, sum(heights) + 0.6)
    grid = fig.add_gridspec(len(heights), 2, height_ratios=heights)
    _course_panel(fig.add_subplot(grid[0, :]), timeline, engraftment)
    ax_events = fig.add_subplot(grid[1, :])
    _events_panel(ax_events, timeline)
    ax_act = fig.add_subplot(grid[2, :], sharex=ax_events)
    _activity_panel(ax_act, visits)
    last_row = [ax_act]
    for i, analyte in enumerate(lab_names):
        ax = fig.add_subplot(grid[3 + i // 2, i % 2], sharex=ax_events)
        _lab_panel(ax, timeline["labs"], analyte)
        last_row = [ax] if i % 2 == 0 else [*last_row, ax]
    for ax in (*last_row, ax_act):
        ax.set_xlabel("Study day (day 0 = infusion)")
    for ax in fig.axes:
        ax.grid(alpha=0.3)
    return fig
