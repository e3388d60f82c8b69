"""Read-only views of the registry for people: the patient list and one patient's timeline.

Day 0 is the infusion date of the patient's *first* therapy course (ARCHITECTURE.md,
"Time"); the study day of a date is ``date - day 0`` in days (day 0 itself is 0, days before
infusion are negative, there is no "day -0" gap). A patient without a course has no day 0
and study days are left empty. Lab values come with their canonical value and unit
(normalised on read, :mod:`lupuscell.units`).

The list is computed with a handful of grouped queries (not one query per patient), so it
stays quick on a 100,000-patient registry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError
from lupuscell.registry.models import ClinicalEvent, Patient, Site, TherapyCourse, Visit
from lupuscell.registry.repository import as_dict


def study_day(date: dt.date | None, day0: dt.date | None) -> int | None:
    """Days from day 0 (infusion) to ``date``; None when either is unknown."""
    if date is None or day0 is None:
        return None
    return (date - day0).days


def patient_summaries(
    engine: Engine,
    *,
    therapy: str | None = None,
    site: str | None = None,
    limit: int | None = None,
    codes: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per patient: code, site, sex, birth year, therapies, day 0, visits, last date, status.

    ``therapy`` keeps patients with at least one course of that therapy; ``site`` keeps one
    site code; ``codes`` keeps only these patient codes (a page of the web patient list).
    Ordered by patient code.
    """
    query = (
        sa.select(Patient.id, Patient.code, Site.code.label("site"), Patient.sex, Patient.birth_year)
        .join(Site)
        .order_by(Patient.code)
    )
    if site is not None:
        query = query.where(Site.code == site)
    if therapy is not None:
        query = query.where(
            Patient.id.in_(sa.select(TherapyCourse.patient_id).where(TherapyCourse.therapy == therapy))
        )
    if codes is not None:
        query = query.where(Patient.code.in_(list(codes)))
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        patients = session.execute(query).all()
        ids = [row.id for row in patients]
        therapies: dict[int, list[str]] = defaultdict(list)
        day0: dict[int, dt.date] = {}
        visits: dict[int, tuple[int, dt.date | None]] = {}
        last_event: dict[int, dt.date] = {}
        deaths: set[int] = set()
        for chunk in _chunks(ids, 5000):
            for pid, ther, inf in session.execute(
                sa.select(TherapyCourse.patient_id, TherapyCourse.therapy, TherapyCourse.infusion_date)
                .where(TherapyCourse.patient_id.in_(chunk))
                .order_by(TherapyCourse.patient_id, TherapyCourse.infusion_date, TherapyCourse.id)
            ):
                therapies[pid].append(ther)
                day0.setdefault(pid, inf)
            for pid, count, latest in session.execute(
                sa.select(Visit.patient_id, sa.func.count(), sa.func.max(Visit.visit_date))
                .where(Visit.patient_id.in_(chunk))
                .group_by(Visit.patient_id)
            ):
                visits[pid] = (int(count), latest)
            for pid, etype, event_date in session.execute(
                sa.select(
                    ClinicalEvent.patient_id, ClinicalEvent.event_type, sa.func.max(ClinicalEvent.event_date)
                )
                .where(ClinicalEvent.patient_id.in_(chunk))
                .group_by(ClinicalEvent.patient_id, ClinicalEvent.event_type)
            ):
                last_event[pid] = max(event_date, last_event.get(pid, event_date))
                if etype == "death":
                    deaths.add(pid)
    rows = []
    for p in patients:
        n_visits, last_visit = visits.get(p.id, (0, None))
        last_dates = [d for d in (last_visit, last_event.get(p.id), day0.get(p.id)) if d is not None]
        last: dt.date | None = max(last_dates) if last_dates else None
        rows.append(
            {
                "code": p.code,
                "site": p.site,
                "sex": p.sex,
                "birth_year": p.birth_year,
                "therapies": list(dict.fromkeys(therapies.get(p.id, []))),
                "day0": day0.get(p.id),
                "visits": n_visits,
                "last_date": last,
                "follow_up_days": study_day(last, day0.get(p.id)),
                "status": "dead" if p.id in deaths else "alive",
            }
        )
    return rows


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def patient_timeline(engine: Engine, code: str) -> dict[str, Any]:
    """Everything recorded for one patient, dated and placed on the study-day axis.

    Returns a dict with ``patient``, ``day0`` and the lists ``courses`` (each with
    ``drugs``), ``visits``, ``labs`` (with canonical values), ``adverse_events`` and
    ``clinical_events``; every item carries ``study_day``.
    """
    with Session(engine) as session:
        patient = session.scalars(sa.select(Patient).where(Patient.code == code)).one_or_none()
        if patient is None:
            raise NotFoundError(f"patient {code!r} does not exist")
        courses = sorted(patient.courses, key=lambda c: (c.infusion_date, c.id))
        day0 = courses[0].infusion_date if courses else None

        def dated(obj: Any, field: str) -> dict[str, Any]:
            item = as_dict(obj)
            item["study_day"] = study_day(item[field], day0)
            return item

        course_items = []
        for number, course in enumerate(courses, start=1):
            item = dated(course, "infusion_date")
            item["course_no"] = number
            item["drugs"] = [dated(d, "admin_date") for d in course.drugs]
            course_items.append(item)
        return {
            "patient": as_dict(patient),
            "day0": day0,
            "courses": course_items,
            "visits": [dated(v, "visit_date") for v in patient.visits],
            "labs": [dated(lab, "result_date") for lab in _sorted(patient.labs, "result_date")],
            "adverse_events": [
                dated(ae, "onset_date") for ae in _sorted(patient.adverse_events, "onset_date")
            ],
            "clinical_events": [dated(ev, "event_date") for ev in patient.clinical_events],
        }


def _sorted(items: list[Any], field: str) -> list[Any]:
    return sorted(items, key=lambda obj: (getattr(obj, field), obj.id))
