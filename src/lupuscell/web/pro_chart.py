"""The RAND-36 panel of the patient page: the eight scales over time (chart and table).

Drawn like the patient timeline (:mod:`lupuscell.web.charts`): matplotlib, server-side, embedded
as an SVG ``data:`` image. The x axis is the study day (day 0 = infusion of the first course)
when the patient has a course, else the assessment date; the y axis is the RAND score, 0-100
(higher = better health), one line per scale with a legend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lupuscell.instruments.rand36 import SCALES
from lupuscell.registry import pro_read
from lupuscell.web.charts import svg_data_uri
from lupuscell.web.pro_form import SCALE_LABELS

MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def scales_figure(assessments: Sequence[Mapping[str, Any]], day0: dt.date | None) -> Figure:
    """Eight lines (one per RAND-36 scale) over study days (or dates without day 0), 0-100."""
    fig = Figure(figsize=(9.5, 3.6), layout="constrained")
    ax = fig.subplots()
    dates = [a["assessment_date"] for a in assessments]
    x: Any = [(d - day0).days for d in dates] if day0 is not None else dates
    for i, scale in enumerate(SCALES):
        values = np.array([np.nan if a["scores"][scale] is None else a["scores"][scale] for a in assessments])
        ax.plot(x, values, marker=MARKERS[i], linestyle="-", ms=5, color=f"C{i}", label=SCALE_LABELS[scale])
    ax.set_ylim(0, 100)
    ax.set_ylabel("RAND-36 score (0-100, higher = better)")
    ax.set_xlabel("Study day (day 0 = infusion)" if day0 is not None else "Assessment date")
    if day0 is not None:
        if min(x) <= 0 <= max(x):  # day 0 inside the assessments' span: mark it
            ax.axvline(0, color="#d62728", lw=1, ls=":", label="Day 0 (infusion)")
    else:
        fig.autofmt_xdate()
    ax.grid(alpha=0.3)
    ax.set_title("Patient-reported outcomes: RAND 36-Item Health Survey 1.0", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def patient_panel(engine: Any, code: str, sites: Sequence[str], day0: dt.date | None) -> dict[str, Any]:
    """The assessments of a visible patient (with scores) and their chart (None without any)."""
    items = pro_read.patient_assessments(engine, code, sites)
    chart = svg_data_uri(scales_figure(items, day0)) if items else None
    return {"items": items, "chart": chart, "scales": [(s, SCALE_LABELS[s]) for s in SCALES]}
