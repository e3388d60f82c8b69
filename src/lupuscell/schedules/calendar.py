"""A patient's visit calendar from a schedule template, and the status of every planned visit.

Vectorised over a cohort (pandas): one call plans and classifies the visits of 10,000 patients.

Planning
--------
Each visit of the template gets a **target date** = anchor date + ``day`` (the anchors of
:mod:`lupuscell.schedules.template`; day 0 is :func:`lupuscell.outcomes.timeline.day0_by_patient`,
the one definition every part of lupuscell uses) and a **window** ``[target - before, target +
after]``. A repeating visit is planned every ``every`` days up to its ``until`` day, and at
most up to ``today`` + :data:`HORIZON_DAYS` (a visit that does not repeat is always planned).
A visit whose anchor is unknown (no day 0, no discharge date, no relapse) is not planned. After
a death, visits whose target date is later than the death date are not planned.

Which recorded visit satisfies which planned one
-------------------------------------------------
The recorded visits are the patient's ``visits`` rows (the registry's clinical assessments).
Taking the planned visits in order of target date (ties: template order), each takes the
recorded visit **inside its window** that is **closest to its target date** (ties: the earlier
date) and that no earlier planned visit took. A recorded visit therefore satisfies at most one
planned visit, and a recorded visit outside every window satisfies none. This is the CIBMTR
rule for the date of contact of a follow-up time point ("report the date ... closest to the
actual time point" within the time windows; CIBMTR Forms Instruction Manual, Determining
Contact Dates).

Status of a planned visit on the date ``today``
-----------------------------------------------
``done``
    A recorded visit satisfies it (``visit_date`` is that visit's date).
``upcoming``
    Not done and ``today`` is before the window opens.
``due``
    Not done and ``today`` is inside the window.
``overdue``
    Not done, the window has closed, and the next planned visit's window has not opened yet
    (for the last planned visit: less than the template's ``missed_after_days`` after the
    window): the visit can still be chased.
``missed``
    Not done and the next planned visit's window has opened (or ``missed_after_days`` have
    passed after the last window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.outcomes.timeline import day0_by_patient, index_courses
from lupuscell.schedules.template import COURSE_ANCHORS, EVENT_ANCHORS, ScheduleTemplate, VisitSpec

STATUSES: tuple[str, ...] = ("done", "due", "overdue", "missed", "upcoming")
"""Every status a planned visit can have (see the module docstring for the rule)."""
HORIZON_DAYS = 365
"""Repeating visits are planned up to this many days after ``today``."""
CALENDAR_COLUMNS: tuple[str, ...] = (
    "key",
    "visit_id",
    "occurrence",
    "label",
    "anchor",
    "target_date",
    "window_start",
    "window_end",
    "status",
    "visit_date",
)
"""Columns of :func:`calendar_frame`'s result."""


@dataclass(frozen=True)
class PlannedVisit:
    """One planned visit of one patient, with its status on the chosen date."""

    visit_id: str
    occurrence: int
    label: str
    anchor: str
    target_date: dt.date
    window_start: dt.date
    window_end: dt.date
    status: str
    visit_date: dt.date | None
    """The recorded visit that satisfies it (``done`` only)."""


# --------------------------------------------------------------------------- anchors


def anchor_dates(courses: pd.DataFrame, events: pd.DataFrame, key: str = "patient_id") -> pd.DataFrame:
    """Every anchor date per patient (columns ``day0``, ``course:<column>``, ``event:<type>``).

    ``courses``: ``key``, ``infusion_date`` and the course date columns present; ``events``:
    ``key``, ``event_type``, ``event_date``. Day 0 and the index course come from
    :mod:`lupuscell.outcomes.timeline`; an event anchor is the first event of that type on or
    after day 0.
    """
    day0 = day0_by_patient(courses, key=key) if len(courses) else pd.Series(dtype="datetime64[ns]")
    out = pd.DataFrame({"day0": pd.to_datetime(day0)})
    index = index_courses(courses, key=key) if len(courses) else pd.DataFrame()
    for column in COURSE_ANCHORS:
        values = index[column] if column in index.columns else pd.Series(dtype="datetime64[ns]")
        out[f"course:{column}"] = pd.to_datetime(values).reindex(out.index)
    for event_type in EVENT_ANCHORS:
        chosen = events[events["event_type"].to_numpy() == event_type] if len(events) else events
        if len(chosen):
            dates = pd.to_datetime(chosen["event_date"])
            after = dates.to_numpy() >= out["day0"].reindex(chosen[key]).to_numpy()
            first = dates[after].groupby(chosen[key].to_numpy()[after]).min()
        else:
            first = pd.Series(dtype="datetime64[ns]")
        out[f"event:{event_type}"] = first.reindex(out.index)
    return out


# --------------------------------------------------------------------------- planning


def _occurrences(spec: VisitSpec, anchor: pd.Series, limit: pd.Timestamp, order: int) -> pd.DataFrame:
    """Planned occurrences of one visit spec for every patient with a known anchor."""
    anchor = anchor.dropna()
    first = anchor + pd.Timedelta(days=spec.day)
    if spec.repeat is None:
        counts = np.ones(len(anchor), dtype=int)
    else:
        span = (np.datetime64(limit, "ns") - first.to_numpy()) / np.timedelta64(1, "D")
        counts = np.maximum(np.floor(span / spec.repeat.every).astype(int) + 1, 0)
        if spec.repeat.until is not None:
            counts = np.minimum(counts, (spec.repeat.until - spec.day) // spec.repeat.every + 1)
    keys = np.repeat(anchor.index.to_numpy(), counts)
    occurrence = np.concatenate([np.arange(1, c + 1) for c in counts]) if len(counts) else np.array([], int)
    every = spec.repeat.every if spec.repeat is not None else 0
    days = spec.day + (occurrence - 1) * every
    target = np.repeat(anchor.to_numpy(), counts) + pd.to_timedelta(days, unit="D").to_numpy()
    labels = {d: spec.label_for(n, d) for n, d in set(zip(occurrence.tolist(), days.tolist(), strict=True))}
    if not len(keys):
        return _empty_plan()
    return pd.DataFrame(
        {
            "key": keys,
            "visit_id": spec.id,
            "occurrence": occurrence,
            "label": [labels[d] for d in days.tolist()],
            "anchor": spec.anchor,
            "target_date": target,
            "window_start": target - np.timedelta64(spec.window.before, "D"),
            "window_end": target + np.timedelta64(spec.window.after, "D"),
            "order": order,
        }
    )


def _plan(specs: list[tuple[int, VisitSpec]], anchors: pd.DataFrame, limit: pd.Timestamp) -> pd.DataFrame:
    parts = [_occurrences(spec, anchors[spec.anchor], limit, order) for order, spec in specs]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_plan()
    return pd.concat(parts, ignore_index=True)


def _empty_plan() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ("key", "visit_id", "label", "anchor")})
    for column in ("target_date", "window_start", "window_end"):
        frame[column] = pd.Series(dtype="datetime64[ns]")
    frame["occurrence"] = pd.Series(dtype=int)
    frame["order"] = pd.Series(dtype=int)
    return frame


# --------------------------------------------------------------------------- matching


def _match(planned: pd.DataFrame, recorded: pd.DataFrame) -> pd.Series:
    """The recorded visit (row label in ``recorded``) satisfying each planned visit, or -1."""
    result = pd.Series(-1, index=planned.index, dtype="int64")
    if planned.empty or recorded.empty:
        return result
    left = planned[["key", "target_date", "window_start", "window_end", "order"]].reset_index(names="plan")
    right = recorded.reset_index(names="rec")[["rec", "key", "date"]]
    cand = left.merge(right, on="key")
    inside = (cand["date"] >= cand["window_start"]) & (cand["date"] <= cand["window_end"])
    cand = cand[inside.to_numpy()]
    if cand.empty:
        return result
    cand = cand.assign(dist=(cand["date"] - cand["target_date"]).abs())
    cand = cand.sort_values(["key", "target_date", "order", "plan", "dist", "date"], kind="stable")
    best = cand.drop_duplicates("plan")
    clash = best["rec"].duplicated(keep=False).to_numpy()
    result.loc[best["plan"].to_numpy()] = best["rec"].to_numpy()
    if clash.any():  # a recorded visit wanted by two planned ones: the exact greedy rule for those patients
        for key in best.loc[clash, "key"].unique():
            mine = cand[cand["key"].to_numpy() == key]
            result.loc[mine["plan"].unique()] = -1
            taken: set[int] = set()
            for plan, options in mine.groupby("plan", sort=False):
                free = options[~options["rec"].isin(taken)]
                if len(free):
                    rec = int(free["rec"].iloc[0])
                    result.loc[plan] = rec
                    taken.add(rec)
    return result


# --------------------------------------------------------------------------- the calendar


def calendar_frame(
    template: ScheduleTemplate,
    anchors: pd.DataFrame,
    visits: pd.DataFrame,
    today: dt.date,
    death: pd.Series | None = None,
    horizon_days: int = HORIZON_DAYS,
) -> pd.DataFrame:
    """Plan ``template`` for every patient of ``anchors`` and classify each planned visit.

    Parameters
    ----------
    template
        The schedule.
    anchors
        :func:`anchor_dates` (indexed by patient key).
    visits
        Recorded visits: columns ``key`` and ``date``.
    today
        The date the statuses are computed for.
    death
        Death date per patient key (absent or NaT: alive).
    horizon_days
        Repeating visits are planned up to ``today + horizon_days``.

    Returns
    -------
    pandas.DataFrame
        :data:`CALENDAR_COLUMNS`, one row per planned visit, sorted by patient and target date;
        dates as ``datetime64``.
    """
    limit = pd.Timestamp(today) + pd.Timedelta(days=horizon_days)
    anchors = anchors.copy()
    specs = list(enumerate(template.visits))
    first = [(i, s) for i, s in specs if not s.anchor.startswith("visit:")]
    for _, spec in first:
        if spec.anchor not in anchors.columns:
            anchors[spec.anchor] = pd.NaT
    recorded = visits.assign(date=pd.to_datetime(visits["date"]))[["key", "date"]].reset_index(drop=True)
    planned = _truncate_at_death(_plan(first, anchors, limit), death)
    planned["rec"] = _match(planned, recorded)
    second = [(i, s) for i, s in specs if s.anchor.startswith("visit:")]
    if second:
        anchors = _visit_anchors(anchors, planned, recorded, second)
        more = _truncate_at_death(_plan(second, anchors, limit), death)
        unused = recorded.drop(index=list(planned["rec"][planned["rec"] >= 0]))
        more["rec"] = _match(more, unused)
        planned = pd.concat([planned, more], ignore_index=True)
    return _classify(planned, recorded, pd.Timestamp(today), template.missed_after_days)


def _truncate_at_death(planned: pd.DataFrame, death: pd.Series | None) -> pd.DataFrame:
    if death is None or planned.empty:
        return planned.reset_index(drop=True)
    died = pd.to_datetime(planned["key"].map(death))
    keep = died.isna().to_numpy() | (planned["target_date"] <= died).to_numpy()
    return planned[keep].reset_index(drop=True)


def _visit_anchors(
    anchors: pd.DataFrame, planned: pd.DataFrame, recorded: pd.DataFrame, specs: list[tuple[int, VisitSpec]]
) -> pd.DataFrame:
    """``visit:<id>`` anchors: the date the named visit was done, else its target date."""
    for _, spec in specs:
        named = planned[planned["visit_id"] == spec.anchor.removeprefix("visit:")]
        done = named["rec"].to_numpy() >= 0
        dates = named["target_date"].to_numpy().copy()
        dates[done] = recorded["date"].to_numpy()[named["rec"].to_numpy()[done]]
        anchors[spec.anchor] = pd.Series(dates, index=named["key"].to_numpy()).reindex(anchors.index)
    return anchors


def _classify(planned: pd.DataFrame, recorded: pd.DataFrame, today: pd.Timestamp, grace: int) -> pd.DataFrame:
    planned = planned.sort_values(["key", "target_date", "order"], kind="stable").reset_index(drop=True)
    rec = planned["rec"].to_numpy()
    done = rec >= 0
    visit_date = np.full(len(planned), np.datetime64("NaT"), dtype="datetime64[ns]")
    visit_date[done] = recorded["date"].to_numpy()[rec[done]]
    next_start = planned.groupby("key", sort=False)["window_start"].shift(-1)
    missed_from = next_start.fillna(planned["window_end"] + pd.Timedelta(days=grace + 1))
    status = np.select(
        [
            done,
            (today < planned["window_start"]).to_numpy(),
            (today <= planned["window_end"]).to_numpy(),
            (today < missed_from).to_numpy(),
        ],
        ["done", "upcoming", "due", "overdue"],
        default="missed",
    )
    return planned.assign(status=status, visit_date=visit_date).loc[:, list(CALENDAR_COLUMNS)]


def patient_calendar(
    template: ScheduleTemplate,
    anchors: Mapping[str, dt.date | None],
    visit_dates: Iterable[dt.date],
    today: dt.date,
    death_date: dt.date | None = None,
    horizon_days: int = HORIZON_DAYS,
) -> list[PlannedVisit]:
    """One patient's calendar (:func:`calendar_frame` for a single patient).

    ``anchors`` maps anchor names (``day0``, ``course:discharge_date``...) to dates.
    """
    frame = pd.DataFrame({name: [pd.Timestamp(value) if value else pd.NaT] for name, value in anchors.items()})
    frame.index = pd.Index([0])
    visits = pd.DataFrame({"key": 0, "date": pd.to_datetime(list(visit_dates))})
    death = pd.Series([pd.Timestamp(death_date) if death_date else pd.NaT], index=[0])
    rows: list[dict[Any, Any]] = calendar_frame(template, frame, visits, today, death, horizon_days).to_dict("records")
    return [
        PlannedVisit(
            visit_id=str(r["visit_id"]),
            occurrence=int(r["occurrence"]),
            label=str(r["label"]),
            anchor=str(r["anchor"]),
            target_date=r["target_date"].date(),
            window_start=r["window_start"].date(),
            window_end=r["window_end"].date(),
            status=str(r["status"]),
            visit_date=None if pd.isna(r["visit_date"]) else r["visit_date"].date(),
        )
        for r in rows
    ]
