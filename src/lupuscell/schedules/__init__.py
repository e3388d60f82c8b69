"""Visit schedules: templates as data and a patient's calendar of planned visits.

Pure (no database, no files written): the registry reads the records
(:mod:`lupuscell.registry.schedule_read`), this package plans and classifies.

A schedule template (``lupuscell/data/schedules/<name>.yaml``) lists planned visits with a
target day from an anchor (day 0, a date of the index course, a clinical event, or another
planned visit) and a window; shipped: ``ebmt`` (day +100, then yearly), ``cibmtr`` (day +100,
6 months, yearly to 6 years, then biennially) and one per shipped protocol. A patient's
calendar plans the template from their anchors and gives each planned visit a status: done,
due, overdue, missed or upcoming, by the rule documented in :mod:`lupuscell.schedules.calendar`.

Public API
----------
ScheduleTemplate, VisitSpec, Window, Repeat, Source
    The template model (pydantic): visits with target day, window, anchor, repeat and source.
load_template, parse_template, shipped_template_names, choose_template
    A shipped template by name, a template from YAML text, the shipped names, and the template
    for a patient's index-course protocol.
ANCHORS, DEFAULT_TEMPLATE
    The anchors a visit may be counted from (besides ``visit:<id>``); the default template.
anchor_dates
    Every anchor date per patient from their courses and clinical events.
calendar_frame, patient_calendar, PlannedVisit
    The calendar of a cohort (one vectorised call) or of one patient, each planned visit with
    its window, status and the recorded visit that satisfies it.
STATUSES, CALENDAR_COLUMNS, HORIZON_DAYS
    The statuses, the columns of a calendar frame, and how far ahead repeating visits are planned.
"""

from __future__ import annotations

from lupuscell.schedules.calendar import (
    CALENDAR_COLUMNS,
    HORIZON_DAYS,
    STATUSES,
    PlannedVisit,
    anchor_dates,
    calendar_frame,
    patient_calendar,
)
from lupuscell.schedules.template import (
    ANCHORS,
    DEFAULT_TEMPLATE,
    Repeat,
    ScheduleTemplate,
    Source,
    VisitSpec,
    Window,
    choose_template,
    load_template,
    parse_template,
    shipped_template_names,
)

__all__ = [
    "ANCHORS",
    "CALENDAR_COLUMNS",
    "DEFAULT_TEMPLATE",
    "HORIZON_DAYS",
    "STATUSES",
    "PlannedVisit",
    "Repeat",
    "ScheduleTemplate",
    "Source",
    "VisitSpec",
    "Window",
    "anchor_dates",
    "calendar_frame",
    "choose_template",
    "load_template",
    "parse_template",
    "patient_calendar",
    "shipped_template_names",
]
