"""Registry reads for visit schedules: a patient's calendar and the overdue visits of the sites.

The calendar logic is pure (:mod:`lupuscell.schedules`); this module reads what it needs in a
few set-based queries (patients with their site, therapy courses, clinical events, visit dates),
never one query per patient, so :func:`overdue_visits` over 10,000 patients is one call of well
under a second (``benchmarks/schedule_overdue.py``).

Which template applies to a patient: the one named by ``template``; with ``template=None`` (or
``"auto"``), the template whose ``protocol`` is the index course's ``protocol_id``, else
:data:`lupuscell.schedules.DEFAULT_TEMPLATE` (:func:`lupuscell.schedules.choose_template`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell.errors import NotFoundError
from lupuscell.outcomes.timeline import DEATH_EVENT, first_deaths, index_courses
from lupuscell.registry.models import ClinicalEvent, Patient, Site, TherapyCourse, Visit
from lupuscell.schedules import anchor_dates, calendar_frame, choose_template, load_template
from lupuscell.schedules.template import COURSE_ANCHORS

AUTO = "auto"
OVERDUE_COLUMNS = (
    "site_code",
    "patient_code",
    "template",
    "visit_id",
    "label",
    "target_date",
    "window_start",
    "window_end",
    "days_overdue",
    "status",
)
"""Keys of each row of :func:`overdue_visits`."""


@dataclass(frozen=True)
class ScheduleInputs:
    """What the calendars need, read from the registry (frames keyed by ``patient_id``)."""

    patients: pd.DataFrame
    """``patient_id``, ``code``, ``site_code``."""
    courses: pd.DataFrame
    events: pd.DataFrame
    visits: pd.DataFrame
    """``key`` (patient id) and ``date``."""


def _frame(conn: Connection, query: Any) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def read_inputs(
    engine: Engine, *, sites: Iterable[str] | None = None, patient_code: str | None = None
) -> ScheduleInputs:
    """Patients (optionally of some sites, or one patient) with their courses, events and visits."""
    chosen = sa.select(Patient.id).join(Site, Site.id == Patient.site_id)
    site_list = sorted(set(sites)) if sites is not None else None
    if site_list is not None:
        chosen = chosen.where(Site.code.in_(site_list))
    if patient_code is not None:
        chosen = chosen.where(Patient.code == patient_code)
    filtered = site_list is not None or patient_code is not None

    def among(column: Any) -> Any:
        return column.in_(chosen) if filtered else sa.true()

    course_columns = [TherapyCourse.patient_id, TherapyCourse.protocol_id, TherapyCourse.therapy]
    course_columns += [getattr(TherapyCourse, c) for c in COURSE_ANCHORS]
    with engine.connect() as conn:
        patients = _frame(
            conn,
            sa.select(Patient.id.label("patient_id"), Patient.code, Site.code.label("site_code"))
            .join(Site, Site.id == Patient.site_id)
            .where(among(Patient.id))
            .order_by(Patient.id),
        )
        courses = _frame(
            conn, sa.select(*course_columns).where(among(TherapyCourse.patient_id)).order_by(TherapyCourse.id)
        )
        events = _frame(
            conn,
            sa.select(ClinicalEvent.patient_id, ClinicalEvent.event_type, ClinicalEvent.event_date)
            .where(among(ClinicalEvent.patient_id))
            .order_by(ClinicalEvent.id),
        )
        visits = _frame(
            conn,
            sa.select(Visit.patient_id.label("key"), Visit.visit_date.label("date")).where(among(Visit.patient_id)),
        )
    return ScheduleInputs(patients, courses, events, visits)


def _template_of(inputs: ScheduleInputs, template: str | None) -> pd.Series:
    """Template name per patient id."""
    ids = inputs.patients["patient_id"]
    if template not in (None, AUTO):
        load_template(str(template))  # unknown name: a readable ValidationError
        return pd.Series(str(template), index=ids.to_numpy())
    protocol = pd.Series(dtype=object)
    if len(inputs.courses):
        protocol = index_courses(inputs.courses, key="patient_id")["protocol_id"]
    names = {p: choose_template(p) for p in protocol.dropna().unique()}
    chosen = protocol.map(names).reindex(ids.to_numpy())
    return chosen.fillna(choose_template(None))


def calendars(inputs: ScheduleInputs, template: str | None, today: dt.date) -> pd.DataFrame:
    """Every patient's calendar (one vectorised pass per template), with codes and template names."""
    anchors = anchor_dates(inputs.courses, inputs.events, key="patient_id")
    anchors = anchors.reindex(inputs.patients["patient_id"].to_numpy())
    death = pd.Series(dtype="datetime64[ns]")
    if len(inputs.events) and (inputs.events["event_type"] == DEATH_EVENT).any():
        death = first_deaths(inputs.events, key="patient_id")["event_date"]
    which = _template_of(inputs, template)
    parts = []
    for name, keys in which.groupby(which, sort=True).groups.items():
        visits = inputs.visits[inputs.visits["key"].isin(keys)]
        frame = calendar_frame(load_template(str(name)), anchors.loc[list(keys)], visits, today, death)
        parts.append(frame.assign(template=str(name)))
    if not parts:
        return pd.DataFrame(columns=["key", "template"])
    out = pd.concat(parts, ignore_index=True)
    codes = inputs.patients.set_index("patient_id")
    return out.assign(patient_code=out["key"].map(codes["code"]), site_code=out["key"].map(codes["site_code"]))


def _date(value: Any) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def patient_schedule(
    engine: Engine, patient_code: str, *, template: str | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """One patient's calendar: the patient, the template, day 0 and every planned visit.

    Raises :class:`lupuscell.errors.NotFoundError` for an unknown code.
    """
    today = today or dt.date.today()
    inputs = read_inputs(engine, patient_code=patient_code)
    if inputs.patients.empty:
        raise NotFoundError(f"patient {patient_code!r} does not exist")
    frame = calendars(inputs, template, today)
    anchors = anchor_dates(inputs.courses, inputs.events, key="patient_id")
    patient_id = int(inputs.patients["patient_id"].to_numpy()[0])
    day0 = anchors["day0"].get(patient_id) if len(anchors) else None
    name = str(_template_of(inputs, template).iloc[0])
    records: list[dict[Any, Any]] = frame.to_dict("records") if "visit_id" in frame else []
    visits = [
        {
            "visit_id": r["visit_id"],
            "occurrence": int(r["occurrence"]),
            "label": r["label"],
            "anchor": r["anchor"],
            "target_date": _date(r["target_date"]),
            "window_start": _date(r["window_start"]),
            "window_end": _date(r["window_end"]),
            "status": r["status"],
            "visit_date": _date(r["visit_date"]),
        }
        for r in records
    ]
    template_obj = load_template(name)
    return {
        "patient_code": patient_code,
        "site_code": str(inputs.patients["site_code"].iloc[0]),
        "template": name,
        "template_title": template_obj.title,
        "today": today,
        "day0": None if day0 is None else _date(day0),
        "visits": visits,
    }


def overdue_visits(
    engine: Engine,
    *,
    sites: Iterable[str] | None = None,
    template: str | None = None,
    today: dt.date | None = None,
    statuses: Iterable[str] = ("overdue",),
) -> list[dict[str, Any]]:
    """Planned visits in ``statuses`` (default: overdue) of every patient of ``sites`` (all when None).

    One call for a dashboard: rows (:data:`OVERDUE_COLUMNS`) sorted by site, patient and
    target date; ``days_overdue`` = days since the window closed.
    """
    today = today or dt.date.today()
    inputs = read_inputs(engine, sites=sites)
    frame = calendars(inputs, template, today)
    if frame.empty or "status" not in frame:
        return []
    frame = frame[frame["status"].isin(list(statuses)).to_numpy()]
    frame = frame.sort_values(["site_code", "patient_code", "target_date"], kind="stable")
    frame = frame.assign(days_overdue=(pd.Timestamp(today) - frame["window_end"]).dt.days.clip(lower=0))
    records: list[dict[Any, Any]] = frame.to_dict("records")
    return [
        {
            **{k: r[k] for k in ("site_code", "patient_code", "template", "visit_id", "label", "status")},
            **{k: _date(r[k]) for k in ("target_date", "window_start", "window_end")},
            "days_overdue": int(r["days_overdue"]),
        }
        for r in records
    ]
