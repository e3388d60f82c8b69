"""Plausibility rules at the registry boundary: the one place every write path asks.

The repository (one record), the import and the bulk loader (data frames) all call this
module, and a future web form goes through the repository, so a rule written here holds
everywhere. Each rule is an object with a code, a severity, a description and its source
(:data:`RULES`), evaluated on a data frame (a single record is a one-row frame, so there is
exactly one implementation of every rule):

``date_window`` (hard)
    Every date lies between :data:`EARLIEST_DATE` (1 January 1900, the earliest birth year
    the registry accepts) and today plus :data:`FUTURE_TOLERANCE_DAYS`. The tolerance of one
    day covers a site whose local date is ahead of the server's (time zones); a registry
    records what happened, so a later date is an entry error. A date past 2262 would also
    overflow pandas' nanosecond timestamps in the analyses.
``lab_range`` (hard)
    A lab value, converted to its canonical unit, lies within the analyte's ``plausible``
    range in ``data/units.yaml`` (each range with its source there). Non-finite numbers are
    refused by the schemas before this rule runs.
``after_death`` (hard)
    No dated record of a patient (visit, lab, adverse-event onset, drug, therapy course,
    clinical event) is later than the patient's recorded death. Records on the day of death
    are accepted. Checked in SQL inside the writing transaction (:func:`records_after_death`),
    after the rows are written and before commit, so it sees the patient's stored records
    and those of the same load alike.

``severity`` is ``"hard"`` (the write is refused) for every shipped rule. The field exists so
that a data-quality rule engine (soft rules that save and raise a query, rules written as
data) can add its rules to :data:`RULES` and be run by the same callers.

Analyses read only dates inside the window (:func:`analysable`): a record stored before these
rules existed (e.g. a visit dated 2300-01-01) is left out of summaries and reports instead of
crashing them, and :func:`out_of_window_counts` tells the user how many were left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell import units
from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import models
from lupuscell.schemas.frames import RowFlag
from lupuscell.schemas.rules import day_numbers, pair_codes

EARLIEST_DATE = dt.date(1900, 1, 1)
FUTURE_TOLERANCE_DAYS = 1
Severity = Literal["hard", "soft"]
_EPOCH = dt.date(1970, 1, 1)


def latest_date(today: dt.date | None = None) -> dt.date:
    """The latest acceptable date: today plus the tolerance."""
    return (today or dt.date.today()) + dt.timedelta(days=FUTURE_TOLERANCE_DAYS)


def date_columns(table: str) -> tuple[str, ...]:
    """The calendar-date columns of a registry table (read from the models)."""
    return tuple(c.name for c in models.Base.metadata.tables[table].columns if isinstance(c.type, sa.Date))


@dataclass(frozen=True)
class DateWindow:
    """Hard rule ``date_window``: dates between 1900-01-01 and today + tolerance."""

    code: str = "date_window"
    severity: Severity = "hard"
    description: str = "dates lie between 1900-01-01 and today (+1 day for time zones)"
    source: str = "registry convention (module docstring)"

    def flags(self, table: str, frame: pd.DataFrame, today: dt.date | None = None) -> list[RowFlag]:
        low = float((EARLIEST_DATE - _EPOCH).days)
        high = float((latest_date(today) - _EPOCH).days)
        out = []
        for column in date_columns(table):
            if column not in frame.columns:
                continue
            days = day_numbers(frame[column])
            with np.errstate(invalid="ignore"):
                early, late = days < low, days > high
            out.append(
                RowFlag(column, early, lambda row, c=column: f"{row.get(c)} is before {EARLIEST_DATE}")
            )
            out.append(
                RowFlag(
                    column,
                    late,
                    lambda row, c=column, h=latest_date(today): f"{row.get(c)} is in the future (after {h})",
                )
            )
        return [f for f in out if f.mask.any()]


@dataclass(frozen=True)
class LabRange:
    """Hard rule ``lab_range``: lab values within the analyte's plausible range."""

    code: str = "lab_range"
    severity: Severity = "hard"
    description: str = "lab values lie within the analyte's physiologically possible range"
    source: str = "data/units.yaml, `plausible` (a source per analyte)"

    def flags(self, table: str, frame: pd.DataFrame, today: dt.date | None = None) -> list[RowFlag]:
        if table != "lab_results" or not {"analyte", "unit", "value"} <= set(frame.columns) or frame.empty:
            return []
        codes, distinct = pair_codes(frame["analyte"], frame["unit"])
        factor = np.full(len(distinct), np.nan)
        low, high = np.full(len(distinct), -np.inf), np.full(len(distinct), np.inf)
        for i, (analyte, unit) in enumerate(distinct):
            rng = _range(analyte, unit)
            if rng is not None:
                factor[i], low[i], high[i] = rng
        values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float) * factor[codes]
        with np.errstate(invalid="ignore"):
            mask = (values < low[codes]) | (values > high[codes])
        return [RowFlag("value", np.asarray(mask, dtype=bool), _lab_message)] if mask.any() else []


def _range(analyte: Any, unit: Any) -> tuple[float, float, float] | None:
    """(factor to canonical, low, high) of a known analyte/unit pair with a tabulated range."""
    if not isinstance(analyte, str) or not isinstance(unit, str):
        return None
    try:
        rule = units.unit_rule(analyte, unit)
        plausible = units.plausible_range(analyte)
    except ValidationError:
        return None  # unknown analyte or unit: the schema reports it
    if plausible is None:
        return None
    return rule.factor, plausible.low, plausible.high


def _lab_message(row: Mapping[str, Any]) -> str:
    analyte, unit, value = row.get("analyte"), row.get("unit"), row.get("value")
    entry = units.get_analyte(str(analyte))
    plausible = entry.plausible
    assert plausible is not None
    canonical = float(str(value)) * units.unit_rule(str(analyte), str(unit)).factor
    shown = f"{value:g} {unit}" + (
        "" if unit == entry.canonical_unit else f" = {canonical:.4g} {entry.canonical_unit}"
    )
    return (
        f"{shown} is outside the possible range for {entry.code} "
        f"({plausible.low:g}-{plausible.high:g} {entry.canonical_unit}); check the value and the unit"
    )


RULES: tuple[DateWindow | LabRange, ...] = (DateWindow(), LabRange())
"""The frame rules run on every write (``after_death`` runs in SQL, see the module docstring)."""


def frame_flags(table: str, frame: pd.DataFrame, today: dt.date | None = None) -> list[RowFlag]:
    """Rows of ``frame`` (a registry table's rows) that break a hard plausibility rule."""
    return [f for rule in RULES if rule.severity == "hard" for f in rule.flags(table, frame, today)]


def record_problems(table: str, values: Mapping[str, Any], record: str) -> list[Problem]:
    """Problems of one record (its column values) under the hard rules."""
    row = dict(values)
    frame = pd.DataFrame([row])
    return [Problem(record, flag.field, flag.message(row)) for flag in frame_flags(table, frame)]


# --------------------------------------------------------------------------- after death

# Dated records a death must not precede: (table, date column); drugs reach the patient
# through their course (_drugs_after_death_query).
_AFTER_DEATH: tuple[tuple[str, str], ...] = (
    ("visits", "visit_date"),
    ("lab_results", "result_date"),
    ("adverse_events", "onset_date"),
    ("therapy_courses", "infusion_date"),
    ("clinical_events", "event_date"),
)


def _after_death_query(table: str, column: str) -> sa.Select[Any]:
    t = models.Base.metadata.tables[table]
    death = models.ClinicalEvent.__table__.alias("death")
    patients = models.Patient.__table__
    query = (
        sa.select(
            patients.c.id.label("pid"),
            patients.c.code,
            t.c.id.label("rid"),
            death.c.id.label("death_id"),
            t.c[column].label("date"),
            death.c.event_date.label("death_date"),
            t.c.import_batch_id,
            death.c.import_batch_id.label("death_batch"),
        )
        .join_from(t, death, sa.and_(death.c.patient_id == t.c.patient_id, death.c.event_type == "death"))
        .join(patients, patients.c.id == t.c.patient_id)
        .where(t.c[column] > death.c.event_date)
    )
    if table == "clinical_events":
        query = query.where(t.c.id != death.c.id)
    return query


def _drugs_after_death_query() -> sa.Select[Any]:
    drugs, courses = models.DrugAdministration.__table__, models.TherapyCourse.__table__
    death = models.ClinicalEvent.__table__.alias("death")
    patients = models.Patient.__table__
    return (
        sa.select(
            patients.c.id.label("pid"),
            patients.c.code,
            drugs.c.id.label("rid"),
            death.c.id.label("death_id"),
            drugs.c.admin_date.label("date"),
            death.c.event_date.label("death_date"),
            drugs.c.import_batch_id,
            death.c.import_batch_id.label("death_batch"),
        )
        .join_from(drugs, courses, courses.c.id == drugs.c.course_id)
        .join(death, sa.and_(death.c.patient_id == courses.c.patient_id, death.c.event_type == "death"))
        .join(patients, patients.c.id == courses.c.patient_id)
        .where(drugs.c.admin_date > death.c.event_date)
    )


def records_after_death(
    conn: Connection,
    *,
    record: tuple[str, int] | None = None,
    batch_id: int | None = None,
    limit: int = 50,
) -> list[Problem]:
    """Rule ``after_death``: records dated after their patient's recorded death.

    Restricted to the pairs that involve ``record`` (table, id: the repository passes the
    row it wrote, a record or a death) or the rows and deaths of import batch ``batch_id``
    (a load), so that records stored before the rule existed do not block other writes. Run
    inside the writing transaction, after the rows are written. At most ``limit`` problems.
    """
    queries = [(t, _after_death_query(t, c)) for t, c in _AFTER_DEATH]
    queries.append(("drug_administrations", _drugs_after_death_query()))
    problems: list[Problem] = []
    for table, query in queries:
        selected = query.subquery()
        stmt = sa.select(selected)
        if record is not None:
            written, row_id = record
            involved = selected.c.death_id == row_id if written == "clinical_events" else sa.false()
            if written == table:
                involved = sa.or_(involved, selected.c.rid == row_id)
            stmt = stmt.where(involved)
        if batch_id is not None:
            stmt = stmt.where(
                sa.or_(selected.c.import_batch_id == batch_id, selected.c.death_batch == batch_id)
            )
        for row in conn.execute(stmt.limit(limit - len(problems))):
            problems.append(
                Problem(
                    f"patient {row.code}",
                    table,
                    f"{table} row dated {row.date} is after the patient's death on {row.death_date}",
                )
            )
        if len(problems) >= limit:
            break
    return problems


# --------------------------------------------------------------------------- reading


def analysable(table: Any, today: dt.date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition keeping the rows of ``table`` whose dates are all inside the window."""
    conditions = [
        sa.or_(table.c[c].is_(None), table.c[c].between(EARLIEST_DATE, latest_date(today)))
        for c in date_columns(table.name)
    ]
    return sa.and_(sa.true(), *conditions)


def windowed(column: Any, today: dt.date | None = None) -> sa.ColumnElement[Any]:
    """``column`` (a date) as read for analysis: NULL when outside the window, same name."""
    inside = column.between(EARLIEST_DATE, latest_date(today))
    return sa.case((inside, column), else_=sa.null()).label(column.name)


def out_of_window_counts(engine: Engine, today: dt.date | None = None) -> dict[str, int]:
    """Rows per table with a date outside the window (left out of analyses); empty if none."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            if not date_columns(table.name):
                continue
            n = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(sa.not_(analysable(table, today)))
            ).scalar_one()
            if n:
                counts[table.name] = int(n)
    return counts


def out_of_window_records(
    engine: Engine,
    entity: str,
    *,
    patient_code: str | None = None,
    limit: int | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Records of ``entity`` with a date outside the window (the ones to correct), as the
    repository reads them."""
    from sqlalchemy.orm import Session

    from lupuscell.registry.repository import as_dict, spec_of

    model: Any = spec_of(entity).model
    query = sa.select(model).where(sa.not_(analysable(model.__table__, today))).order_by(model.id)
    if patient_code is not None and hasattr(model, "patient_id"):
        query = query.join(models.Patient, models.Patient.id == model.patient_id)
        query = query.where(models.Patient.code == patient_code)
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        found: list[Any] = list(session.scalars(query))
        return [as_dict(obj) for obj in found]
