"""Planned follow-up visits for the dashboard: upcoming and overdue.

A stop-gap until protocol visit calendars exist (issue 16): the planned visits are the
analysis visits of :class:`lupuscell.outcomes.definitions.EndpointOptions` (``visit_months``
at ``target_day(m)`` with ``window_half_width(m)``), i.e. the very windows the endpoints use.
A planned visit is *done* when a visit falls in its window, *overdue* when its window has
closed without one, *upcoming* when its target day is within ``horizon_days``. Patients with a
recorded death are not scheduled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from lupuscell.outcomes.definitions import DEFAULT_OPTIONS, EndpointOptions, visit_label
from lupuscell.outcomes.inputs import CohortData


@dataclass(frozen=True)
class PlannedVisit:
    patient_code: str
    site: str
    visit: str
    target: dt.date
    window_end: dt.date
    status: str  # "overdue" or "upcoming"


def planned_visits(
    cohort: CohortData,
    today: dt.date,
    *,
    horizon_days: int = 30,
    options: EndpointOptions = DEFAULT_OPTIONS,
) -> list[PlannedVisit]:
    """Overdue (window closed, no visit) and upcoming (target within the horizon) visits."""
    pats = cohort.patients
    alive = pats[pats["death_day"].isna()] if "death_day" in pats else pats
    visits = cohort.visits[["patient_id", "day"]]
    out: list[PlannedVisit] = []
    for month in options.visit_months:
        target, half = options.target_day(month), options.window_half_width(month)
        in_window = visits[(visits["day"] - target).abs() <= half]["patient_id"].unique()
        todo = alive[~alive["patient_id"].isin(in_window)]
        day0 = pd.to_datetime(todo["day0"]).dt.date
        for code, site, d0 in zip(todo["patient_id"], todo["site"], day0, strict=True):
            due = d0 + dt.timedelta(days=int(target))
            end = d0 + dt.timedelta(days=int(target + half))
            if end < today and (today - end).days <= 365:
                out.append(PlannedVisit(str(code), str(site), visit_label(month), due, end, "overdue"))
            elif today <= due <= today + dt.timedelta(days=horizon_days):
                out.append(PlannedVisit(str(code), str(site), visit_label(month), due, end, "upcoming"))
    out.sort(key=lambda v: (v.status != "overdue", v.target))
    return out
