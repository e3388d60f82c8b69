"""Read-only views of the registry for people: the patient list and one patient's timeline.

Day 0, study day and the end of follow-up are those of :mod:`lupuscell.outcomes.timeline`
(day 0 = infusion date of the index course, the first by infusion date; study day = date -
day 0, day 0 itself is 0, days before infusion are negative). A patient without a course has
no day 0 and study days are left empty. Lab values come with their canonical value and unit
(normalised on read, :mod:`lupuscell.units`).

The list is computed with a handful of grouped queries (not one query per patient); the
follow-up reads every dated table once (benchmarks/follow_up_paths.py: about 1.5 s for the
whole list of a 10,000-patient SQLite registry, a few hundredths of a second with ``--limit``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError
from lupuscell.outcomes.timeline import study_day
from lupuscell.registry.models import Patient, Site, TherapyCourse, Visit
from lupuscell.registry.repository import as_dict
from lupuscell.registry.tables import CHUNK, read_follow_up

__all__ = ["patient_summaries", "patient_timeline", "study_day"]


def _visit_counts(session: Session, ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in _chunks(ids, CHUNK):
        for pid, count in session.execute(
            sa.select(Visit.patient_id, sa.func.count())
            .where(Visit.patient_id.in_(chunk))
            .group_by(Visit.patient_id)
        ):
            counts[pid] = int(count)
    return counts


def _therapies(session: Session, ids: list[int]) -> dict[int, list[str]]:
    therapies: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids, CHUNK):
        for pid, ther in session.execute(
            sa.select(TherapyCourse.patient_id, TherapyCourse.therapy)
            .where(TherapyCourse.patient_id.in_(chunk))
            .order_by(TherapyCourse.patient_id, TherapyCourse.infusion_date, TherapyCourse.id)
        ):
            therapies[pid].append(ther)
    return therapies


def _dates(values: pd.Series) -> list[dt.date | None]:
    return [None if pd.isna(v) else v.date() for v in values]


def patient_summaries(
    engine: Engine,
    *,
    therapy: str | None = None,
    site: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """One row per patient: code, site, sex, birth year, therapies, day 0, visits, last date, status.

    ``last_date`` is the end of follow-up and ``follow_up_days`` its study day
    (:mod:`lupuscell.outcomes.timeline`: death, else the last date a record shows the patient
    alive), the same numbers as the cohort summary and ADSL. ``therapy`` keeps patients with at
    least one course of that therapy; ``site`` keeps one site code. Ordered by patient code.
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
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        patients = session.execute(query).all()
        ids = [row.id for row in patients]
        therapies = _therapies(session, ids)
        visits = _visit_counts(session, ids)
        whole = therapy is None and site is None and limit is None
        follow = read_follow_up(session.connection(), None if whole else ids)  # no IN list for all
    day0 = dict(zip(follow.index, _dates(follow["day0"]), strict=True))
    end = dict(zip(follow.index, _dates(follow["end_date"]), strict=True))
    days = dict(zip(follow.index, follow["end_day"].tolist(), strict=True))
    dead = dict(zip(follow.index, follow["dead"].tolist(), strict=True))
    return [
        {
            "code": p.code,
            "site": p.site,
            "sex": p.sex,
            "birth_year": p.birth_year,
            "therapies": list(dict.fromkeys(therapies.get(p.id, []))),
            "day0": day0[p.id],
            "visits": visits.get(p.id, 0),
            "last_date": end[p.id],
            "follow_up_days": None if np.isnan(days[p.id]) else int(days[p.id]),
            "status": "dead" if dead[p.id] else "alive",
        }
        for p in patients
    ]


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
        day0 = courses[0].infusion_date if courses else None  # the index course (timeline)

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
