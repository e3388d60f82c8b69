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
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell import units
from lupuscell.errors import NotFoundError
from lupuscell.outcomes.timeline import day0_of, study_day
from lupuscell.registry.models import (
    AdverseEvent,
    ClinicalEvent,
    DrugAdministration,
    LabResult,
    Patient,
    Site,
    TherapyCourse,
    Visit,
)
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
    codes: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per patient: code, site, sex, birth year, therapies, day 0, visits, last date, status.

    ``last_date`` is the end of follow-up and ``follow_up_days`` its study day
    (:mod:`lupuscell.outcomes.timeline`: death, else the last date a record shows the patient
    alive), the same numbers as the cohort summary and ADSL. ``therapy`` keeps patients with at
    least one course of that therapy; ``site`` keeps one site code; ``codes`` keeps only these
    patient codes (a page of the web patient list). Ordered by patient code.
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
        therapies = _therapies(session, ids)
        visits = _visit_counts(session, ids)
        whole = therapy is None and site is None and limit is None and codes is None
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


_TIMELINE_TABLES: tuple[tuple[str, Any, str], ...] = (
    ("visits", Visit, "visit_date"),
    ("labs", LabResult, "result_date"),
    ("adverse_events", AdverseEvent, "onset_date"),
    ("clinical_events", ClinicalEvent, "event_date"),
)


def patient_timeline(engine: Engine, code: str, sites: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything recorded for one patient, dated and placed on the study-day axis.

    Returns a dict with ``patient``, ``day0`` and the lists ``courses`` (each with ``drugs``),
    ``visits``, ``labs`` (with canonical values), ``adverse_events`` and ``clinical_events``;
    every item carries ``study_day``. Records are the columns as
    :func:`lupuscell.registry.repository.as_dict` gives them (``version`` included, for
    optimistic locking), each list ordered by its date, then id.

    Day 0 is :func:`lupuscell.outcomes.timeline.day0_of` of the courses (the index course's
    infusion) and every study day :func:`lupuscell.outcomes.timeline.study_day`. ``sites``
    (the web application) limits the patients visible: a patient of another site reads as
    not found (:class:`~lupuscell.errors.NotFoundError`), as an unknown code does.

    Read with a handful of Core selects, not ORM objects: the web API serves it under load
    (``benchmarks/web_load.py``), about 5x faster on a 150-record patient.
    """
    p, s = Patient.__table__, Site.__table__
    with engine.connect() as conn:
        head = (
            conn.execute(
                sa.select(p, s.c.code.label("site_code"))
                .join(s, p.c.site_id == s.c.id)
                .where(p.c.code == code)
            )
            .mappings()
            .one_or_none()
        )
        if head is None or (sites is not None and head["site_code"] not in sites):
            raise NotFoundError(f"patient {code!r} does not exist")
        pid = head["id"]

        def rows(model: Any, where: Any, order: tuple[str, ...]) -> list[dict[str, Any]]:
            table = model.__table__
            query = sa.select(table).where(where).order_by(*(table.c[o] for o in order))
            return [dict(r) for r in conn.execute(query).mappings().all()]

        c, d = TherapyCourse.__table__, DrugAdministration.__table__
        courses = rows(TherapyCourse, c.c.patient_id == pid, ("infusion_date", "id"))
        course_ids = [course["id"] for course in courses]
        drugs = (
            rows(DrugAdministration, d.c.course_id.in_(course_ids), ("admin_date", "id"))
            if course_ids
            else []
        )
        lists = {
            name: rows(model, model.__table__.c.patient_id == pid, (field, "id"))
            for name, model, field in _TIMELINE_TABLES
        }
    day0 = day0_of([course["infusion_date"] for course in courses])

    def dated(item: dict[str, Any], field: str) -> dict[str, Any]:
        item["patient_code"] = code
        item["study_day"] = study_day(item[field], day0)
        return item

    _canonical_labs(lists["labs"])
    course_items = []
    for number, course in enumerate(courses, start=1):
        item = dated(course, "infusion_date")
        item["course_no"] = number
        item["drugs"] = [dated(drug, "admin_date") for drug in drugs if drug["course_id"] == course["id"]]
        course_items.append(item)
    return {
        "patient": dict(head),
        "day0": day0,
        "courses": course_items,
        **{name: [dated(item, field) for item in lists[name]] for name, _, field in _TIMELINE_TABLES},
    }


def _canonical_labs(labs: list[dict[str, Any]]) -> None:
    """``value_canonical``/``unit_canonical`` of each lab row (:func:`lupuscell.units.normalise`),
    one unit lookup per (analyte, unit): normalise is value * factor."""
    rules: dict[tuple[str, str], tuple[float, str]] = {}
    for lab in labs:
        key = (lab["analyte"], lab["unit"])
        if key not in rules:
            rules[key] = units.normalise(key[0], 1.0, key[1], record=f"lab_result {lab['id']}")
        factor, canonical = rules[key]
        if not math.isfinite(lab["value"]):  # as normalise would: a stored value must be finite
            units.normalise(key[0], lab["value"], key[1], record=f"lab_result {lab['id']}")
        lab["value_canonical"], lab["unit_canonical"] = lab["value"] * factor, canonical
