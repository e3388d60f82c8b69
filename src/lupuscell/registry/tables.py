"""Read the registry for the outcomes engine and for follow-up (SQLAlchemy Core selects only).

* :func:`read_registry_tables` / :func:`from_registry`: the tables the outcomes engine reads,
  as DataFrames with ``patient_code``, converted by :func:`lupuscell.outcomes.inputs.from_tables`.
* :func:`read_alive_dates` / :func:`read_follow_up`: day 0, death and the end of follow-up of
  every patient (or of a list of patients) with grouped queries, for the patient list and the
  cohort summary. The dates read are exactly
  :data:`lupuscell.outcomes.timeline.ALIVE_SOURCES`, and the reduction is
  :func:`lupuscell.outcomes.timeline.follow_up`, so the patient list, the cohort summary and
  ADSL agree for every patient.

Only portable ``select``, ``join`` and ``GROUP BY`` are used, so SQLite and PostgreSQL give the
same frames.

Rows with a stored date outside the plausibility window (before 1900 or in the future, e.g. a
visit dated 2300 stored before the write-path rules existed) are left out of everything read
here (:func:`lupuscell.registry.plausibility.analysable`; a patient's out-of-window diagnosis
date reads as empty), so a bad date can never crash an analysis; ``lupuscell summary`` tells
the user how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell.outcomes import timeline
from lupuscell.outcomes.cohort import CohortData, engraftment_analyte_names
from lupuscell.outcomes.inputs import ALIVE_DATES, from_tables
from lupuscell.registry import models as m
from lupuscell.registry.plausibility import analysable, windowed

#: Patients per ``IN (...)`` list when a caller asks for some patients only.
CHUNK = 5000


def _frame(conn: Connection, stmt: Any) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _patient_id_column(table: sa.Table) -> tuple[Any, Any]:
    """(``patient_id`` column, FROM clause) of a table; drugs reach the patient via their course."""
    if "patient_id" in table.c:
        return table.c.patient_id, table
    courses = m.TherapyCourse.__table__
    return courses.c.patient_id, table.join(courses, table.c.course_id == courses.c.id)


def _alive_rows(source: timeline.AliveSource, patient_ids: Sequence[int] | None) -> sa.Select[Any]:
    """``patient_id, date`` rows of one :data:`~lupuscell.outcomes.timeline.ALIVE_SOURCES` column."""
    table = m.Base.metadata.tables[source.table]
    pid, from_clause = _patient_id_column(table)
    column = table.c[source.column]
    stmt = (
        sa.select(pid.label("patient_id"), column.label("date"))
        .select_from(from_clause)
        .where(analysable(table))
    )
    if source.exclude_event_types:
        stmt = stmt.where(table.c.event_type.not_in(source.exclude_event_types))
    return stmt if patient_ids is None else stmt.where(pid.in_(patient_ids))


def _chunks(ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)] or [ids]


def read_alive_dates(conn: Connection, patient_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """``patient_id, date``: the last date each patient is known alive (all patients, or ``patient_ids``).

    One query: the dates of every :data:`~lupuscell.outcomes.timeline.ALIVE_SOURCES` column
    (``UNION ALL``), reduced by ``MAX ... GROUP BY patient_id`` in the database (``MAX`` skips
    empty dates). Patients without any dated record have no row.
    """
    parts = []
    for chunk in _chunks(patient_ids):
        union = sa.union_all(*(_alive_rows(source, chunk) for source in timeline.ALIVE_SOURCES)).subquery()
        stmt = sa.select(union.c.patient_id, sa.func.max(union.c.date).label("date")).group_by(
            union.c.patient_id
        )
        parts.append(_frame(conn, stmt))
    out = pd.concat([p for p in parts if len(p)] or [parts[0]], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def _courses_and_deaths(
    conn: Connection, patient_ids: Sequence[int] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    c, e = m.TherapyCourse.__table__, m.ClinicalEvent.__table__
    course_stmt = (
        sa.select(c.c.patient_id, c.c.therapy, c.c.infusion_date)
        .where(analysable(c))
        .order_by(c.c.patient_id, c.c.id)
    )
    death_stmt = (
        sa.select(e.c.patient_id, e.c.event_type, e.c.event_date, e.c.cause, e.c.treatment_related)
        .where(e.c.event_type == timeline.DEATH_EVENT, analysable(e))
        .order_by(e.c.patient_id, e.c.id)
    )
    courses, deaths = [], []
    for chunk in _chunks(patient_ids):
        courses.append(
            _frame(conn, course_stmt if chunk is None else course_stmt.where(c.c.patient_id.in_(chunk)))
        )
        deaths.append(
            _frame(conn, death_stmt if chunk is None else death_stmt.where(e.c.patient_id.in_(chunk)))
        )
    return pd.concat(courses, ignore_index=True), pd.concat(deaths, ignore_index=True)


def read_follow_up(conn: Connection, patient_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Day 0, therapy, death and end of follow-up of every patient (or of ``patient_ids``).

    Returns :func:`lupuscell.outcomes.timeline.follow_up` indexed by the registry
    ``patient_id`` plus the index course's ``therapy`` and the first death's ``death_cause``
    and ``treatment_related``.
    """
    if patient_ids is None:
        pt = m.Patient.__table__
        ids = pd.Index(_frame(conn, sa.select(pt.c.id).order_by(pt.c.id))["id"], name="patient_id")
    else:
        ids = pd.Index(list(patient_ids), name="patient_id")
    courses, deaths = _courses_and_deaths(conn, patient_ids)
    index = timeline.index_courses(courses)
    first = timeline.first_deaths(deaths)
    out = timeline.follow_up(
        ids, index["infusion_date"], first["event_date"], read_alive_dates(conn, patient_ids)
    )
    out["therapy"] = index["therapy"].reindex(ids)
    out["death_cause"] = first["cause"].reindex(ids)
    out["treatment_related"] = first["treatment_related"].reindex(ids)
    return out


# ----------------------------------------------------------------------- outcomes engine input


def _statements() -> dict[str, Any]:
    pt = m.Patient.__table__
    code = pt.c.code.label("patient_code")

    def by_patient(table: Any) -> Any:
        return (
            sa.select(*table.c, code)
            .join_from(table, pt, table.c.patient_id == pt.c.id)
            .where(analysable(table))
            .order_by(table.c.id)
        )

    courses = m.TherapyCourse.__table__
    drugs = m.DrugAdministration.__table__
    labs = m.LabResult.__table__
    site = m.Site.__table__
    return {
        "patients": sa.select(
            *(windowed(c) if c.name == "sle_diagnosis_date" else c for c in pt.c),
            code,
            site.c.code.label("site_code"),
        )
        .join_from(pt, site, pt.c.site_id == site.c.id)
        .order_by(pt.c.id),
        "therapy_courses": by_patient(courses),
        "visits": by_patient(m.Visit.__table__),
        "lab_results": by_patient(labs).where(
            sa.func.lower(labs.c.analyte).in_(sorted(engraftment_analyte_names()))
        ),
        "adverse_events": by_patient(m.AdverseEvent.__table__),
        "clinical_events": by_patient(m.ClinicalEvent.__table__),
        "drug_administrations": sa.select(*drugs.c, code)
        .join_from(drugs, courses, drugs.c.course_id == courses.c.id)
        .join(pt, courses.c.patient_id == pt.c.id)
        .where(analysable(drugs))
        .order_by(drugs.c.id),
    }


def read_registry_tables(engine: Engine) -> dict[str, pd.DataFrame]:
    """Read the registry tables the outcomes engine needs, each with ``patient_code``.

    Laboratory rows are read for the engraftment analytes only (the engine reads no other
    values); the latest date of every record, laboratory values of any analyte included, comes
    as the ``alive_dates`` frame (:func:`read_alive_dates`), so follow-up sees every date.
    """
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for name, stmt in _statements().items():
            frames[name] = _frame(conn, stmt)
        alive = read_alive_dates(conn)
    codes = frames["patients"].set_index("id")["code"]
    frames[ALIVE_DATES] = pd.DataFrame(
        {"patient_code": alive["patient_id"].map(codes), "date": alive["date"]}
    )
    return frames


def from_registry(engine: Engine) -> CohortData:
    """Load the whole registry behind ``engine`` into a :class:`~lupuscell.outcomes.cohort.CohortData`."""
    return from_tables(read_registry_tables(engine))
