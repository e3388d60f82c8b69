"""The patient-reported outcomes block of the cohort report: mean RAND-36 scale scores by time
point and therapy, as a table and a figure (one panel per scale).

Input: one row per assessment (:func:`lupuscell.registry.pro_read.cohort_frame`: patient,
therapy and day 0 of the first course, the date and the eight scales, each 0-100 or missing).
Each patient contributes at most one assessment per time point: the one nearest the target day
within the window of :data:`TIME_POINTS` (ties: the earlier); a scale a patient did not answer
is left out of that scale's mean, so the number of patients per scale is shown beside the mean.
Patients without a therapy course (no day 0) are left out.

Scales: RAND 36-Item Health Survey 1.0 scoring (Hays RD, Sherbourne CD, Mazel RM. Health Econ
1993;2(3):217-227), 0-100, higher = better health.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupuscell.instruments.rand36 import SCALES
from lupuscell.reports import plots

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class TimePoint:
    """A report time point: target month after day 0 and the window (days) around its target day."""

    label: str
    month: int
    before_days: int
    after_days: int

    @property
    def target_day(self) -> int:
        return round(self.month * DAYS_PER_MONTH)


TIME_POINTS: tuple[TimePoint, ...] = (
    TimePoint("Baseline", 0, 90, 0),  # the last assessment in the 90 days up to day 0
    TimePoint("Month 3", 3, 30, 30),
    TimePoint("Month 6", 6, 45, 45),
    TimePoint("Month 12", 12, 60, 60),
    TimePoint("Month 24", 24, 90, 90),
)
"""Programme convention (docs/data_management/patient_reported_outcomes.md)."""
SCALE_TITLES = {
    "physical_functioning": "Physical functioning",
    "role_physical": "Role physical",
    "role_emotional": "Role emotional",
    "energy_fatigue": "Energy/fatigue",
    "emotional_wellbeing": "Emotional well-being",
    "social_functioning": "Social functioning",
    "pain": "Pain",
    "general_health": "General health",
}


@dataclass(frozen=True)
class ProBlock:
    """The block: the summary rows (JSON-ready), the display table and the figure."""

    rows: list[dict[str, Any]]
    table: pd.DataFrame
    figure: Figure
    title: str = "RAND-36 scales by time point and therapy"
    caption: str = (
        "Mean RAND-36 scale score (0-100, higher = better health) per time point after day 0, by "
        "therapy; one assessment per patient and time point (nearest the target day within its window)."
    )


def at_time_points(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and time point: the assessment nearest the target day in the window."""
    dated = frame.dropna(subset=["day0"]).copy()
    if dated.empty:
        return dated.assign(time_point=pd.Series(dtype=str), month=pd.Series(dtype=int))
    dated["study_day"] = [(a - d).days for a, d in zip(dated["assessment_date"], dated["day0"], strict=True)]
    picked = []
    for tp in TIME_POINTS:
        lo, hi = tp.target_day - tp.before_days, tp.target_day + tp.after_days
        inside = dated[(dated["study_day"] >= lo) & (dated["study_day"] <= hi)].copy()
        inside["distance"] = (inside["study_day"] - tp.target_day).abs()
        nearest = (
            inside.sort_values(["patient_code", "distance", "study_day"]).groupby("patient_code").head(1)
        )
        picked.append(nearest.assign(time_point=tp.label, month=tp.month))
    return pd.concat(picked, ignore_index=True)


def summary_rows(points: pd.DataFrame) -> list[dict[str, Any]]:
    """Mean, SD and number of patients of every scale, by therapy and time point (JSON-ready)."""
    order = {tp.label: i for i, tp in enumerate(TIME_POINTS)}
    rows = []
    for (therapy, label), group in points.groupby(["therapy", "time_point"], sort=False):
        row: dict[str, Any] = {"therapy": therapy, "time_point": label, "month": int(group["month"].iloc[0])}
        row["n_patients"] = int(group["patient_code"].nunique())
        for scale in SCALES:
            values = group[scale].dropna().astype(float)
            row[scale] = {
                "mean": float(values.mean()) if len(values) else None,
                "sd": float(values.std(ddof=1)) if len(values) > 1 else None,
                "n": len(values),
            }
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["therapy"]), order[r["time_point"]]))


def display_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Therapy, time point, n and "mean (n)" per scale, for HTML and PDF."""

    def cell(stat: dict[str, Any]) -> str:
        return "–" if stat["mean"] is None else f"{stat['mean']:.1f} ({stat['n']})"

    records = [
        {
            "Therapy": plots.THERAPY_LABELS.get(r["therapy"], r["therapy"]),
            "Time point": r["time_point"],
            "Patients": r["n_patients"],
            **{SCALE_TITLES[s]: cell(r[s]) for s in SCALES},
        }
        for r in rows
    ]
    return pd.DataFrame(records, columns=["Therapy", "Time point", "Patients", *SCALE_TITLES.values()])


def scales_figure(rows: list[dict[str, Any]]) -> Figure:
    """Eight panels (one per scale): mean score by month after day 0, one line per therapy."""
    fig = Figure(figsize=(11, 5.6), layout="constrained")
    axes = fig.subplots(2, 4, sharex=True, sharey=True)
    therapies = sorted({str(r["therapy"]) for r in rows})
    for ax, scale in zip(axes.flat, SCALES, strict=True):
        for i, therapy in enumerate(therapies):
            mine = [r for r in rows if r["therapy"] == therapy and r[scale]["mean"] is not None]
            months = np.array([r["month"] for r in mine], dtype=float)
            means = np.array([r[scale]["mean"] for r in mine], dtype=float)
            ax.plot(
                months,
                means,
                "o-",
                ms=4,
                color=plots.THERAPY_COLOURS.get(therapy, f"C{i % 10}"),
                label=plots.THERAPY_LABELS.get(therapy, therapy),
            )
        ax.set_title(SCALE_TITLES[scale], fontsize=10)
        ax.set_ylim(0, 100)
        ax.set_xticks([tp.month for tp in TIME_POINTS])
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("Months after day 0")
    for ax in axes[:, 0]:
        ax.set_ylabel("Mean score (0-100)")
    legend: dict[str, Any] = {}  # one entry per therapy, from whichever panel drew it
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    handles, labels = list(legend.values()), list(legend)
    fig.legend(handles, labels, loc="outside lower center", ncol=max(1, len(labels)), frameon=False)
    fig.suptitle("RAND-36 scales by time point and therapy (higher = better health)")
    return fig


def pro_block(frame: pd.DataFrame | None) -> ProBlock | None:
    """The report block, or None when there is no assessment at any time point."""
    if frame is None or frame.empty:
        return None
    rows = summary_rows(at_time_points(frame))
    if not rows:
        return None
    return ProBlock(rows=rows, table=display_table(rows), figure=scales_figure(rows))
