"""Completeness of the minimum essential data: per record and field, a value, a state or empty.

For every visit and therapy course of a patient, each minimum-data field
(``data/minimum_data.yaml``, :func:`lupuscell.schemas.missing.minimum_data`) is in exactly one
state:

* ``value`` - the field holds a value (for a minimum-data laboratory value: a lab_results row
  of that analyte, any alias of data/units.yaml, dated within the visit's SLEDAI window
  ``visit_date - sledai_window_days .. visit_date``, Gladman 2002);
* ``not_done`` / ``unknown`` - the explicit state recorded in the record's ``missing`` column;
* ``empty`` - neither: what the data manager must chase (``lupuscell missing``).

A laboratory value that is both present in the window and given a state on the visit is
reported as ``value`` with the state kept in ``recorded_state`` (the lab row is a separate
record, so the schemas cannot refuse the pair; the report shows it to be resolved).

Fields that do not apply (``therapies`` of a course field) are left out. Reads only; users see
only their sites: callers pass the sites they may read (:func:`empty_fields` ``sites``).
Docs: docs/data_management/missing_values.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell import units
from lupuscell.errors import LupuscellError
from lupuscell.registry.models import LabResult, Patient, Site, TherapyCourse, Visit
from lupuscell.schemas.missing import MinimumField, minimum_data, parse_missing

STATES: tuple[str, ...] = ("value", "not_done", "unknown", "empty")
"""States of a minimum-data field in the completeness table."""

_DATE_FIELD = {"visit": "visit_date", "therapy_course": "infusion_date"}


@dataclass(frozen=True)
class FieldState:
    """One minimum-data field of one record and its state."""

    patient_code: str
    entity: str
    record_id: int
    record_date: dt.date
    field: str
    """The field's key (``pga``, ``lab.c3``)."""
    label: str
    state: str
    """``value``, ``not_done``, ``unknown`` or ``empty``."""
    recorded_state: str | None = None
    """The state stored on the record when the field also has a value (laboratory values)."""

    @property
    def record(self) -> str:
        """``visit 12`` - the record as errors and reports name it."""
        return f"{self.entity} {self.record_id}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row (the record label included)."""
        return {**asdict(self), "record": self.record, "record_date": self.record_date.isoformat()}


def _lab_code(analyte: str) -> str | None:
    try:
        return units.get_analyte(analyte).code
    except LupuscellError:
        return None


def _lab_present(field: MinimumField, record: Mapping[str, Any], labs: Sequence[tuple[str, dt.date]]) -> bool:
    end = record["visit_date"]
    start = end - dt.timedelta(days=int(record.get("sledai_window_days") or 10))
    return any(code == field.name and start <= day <= end for code, day in labs)


def record_states(
    entity: str,
    record: Mapping[str, Any],
    labs: Sequence[tuple[str, dt.date]] = (),
    *,
    patient_code: str | None = None,
) -> list[FieldState]:
    """The state of every applicable minimum-data field of one visit or course.

    ``record`` is a stored record as a mapping (``Registry.get``); ``labs`` the patient's
    (canonical analyte code, result date) pairs, read for the visits' laboratory fields.
    """
    states = parse_missing(record.get("missing")) or {}
    out = []
    for field in minimum_data().fields(entity):
        if not field.applies_to(record.get("therapy")):
            continue
        recorded = states.get(field.key)
        has_value = _lab_present(field, record, labs) if field.lab else record.get(field.name) is not None
        state = "value" if has_value else (recorded or "empty")
        out.append(
            FieldState(
                patient_code=patient_code or str(record.get("patient_code")),
                entity=entity,
                record_id=int(record["id"]),
                record_date=record[_DATE_FIELD[entity]],
                field=field.key,
                label=field.label,
                state=state,
                recorded_state=recorded if has_value else None,
            )
        )
    return out


def _rows(session: Session, model: Any, patients: sa.Select[Any]) -> list[dict[str, Any]]:
    query = (
        sa.select(model, Patient.code)
        .join(Patient, Patient.id == model.patient_id)
        .where(Patient.id.in_(patients))
        .order_by(Patient.code, model.id)
    )
    return [
        {**{c.key: getattr(obj, c.key) for c in model.__table__.columns}, "patient_code": code}
        for obj, code in session.execute(query)
    ]


def _labs(session: Session, patients: sa.Select[Any]) -> dict[str, list[tuple[str, dt.date]]]:
    query = (
        sa.select(Patient.code, LabResult.analyte, LabResult.result_date)
        .join(Patient, Patient.id == LabResult.patient_id)
        .where(Patient.id.in_(patients))
    )
    out: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
    wanted = {f.name for f in minimum_data().fields("visit") if f.lab}
    for code, analyte, day in session.execute(query):
        canonical = _lab_code(analyte)
        if canonical in wanted:
            out[code].append((canonical, day))
    return out


def _patient_ids(sites: Iterable[str] | None, patient_codes: Iterable[str] | None) -> sa.Select[Any]:
    query = sa.select(Patient.id).join(Site, Site.id == Patient.site_id)
    if sites is not None:
        query = query.where(Site.code.in_(list(sites)))
    if patient_codes is not None:
        query = query.where(Patient.code.in_(list(patient_codes)))
    return query


def completeness(
    engine: Engine, *, sites: Iterable[str] | None = None, patient_codes: Iterable[str] | None = None
) -> dict[str, list[FieldState]]:
    """Patient code -> the state of every minimum-data field of their visits and courses.

    ``sites`` / ``patient_codes`` restrict the patients (None = all); patients without a visit
    or course have no rows. Courses come first, then visits, each in id order.
    """
    patients = _patient_ids(sites, patient_codes)
    out: dict[str, list[FieldState]] = defaultdict(list)
    with Session(engine) as session:
        labs = _labs(session, patients)
        for entity, model in (("therapy_course", TherapyCourse), ("visit", Visit)):
            for row in _rows(session, model, patients):
                code = row["patient_code"]
                out[code] += record_states(entity, row, labs.get(code, ()), patient_code=code)
    return dict(sorted(out.items()))


def empty_fields(
    engine: Engine, *, sites: Iterable[str] | None = None, patient_codes: Iterable[str] | None = None
) -> dict[str, list[FieldState]]:
    """Patient code -> the minimum-data fields left empty (neither value nor state); patients
    with nothing to chase are left out."""
    everything = completeness(engine, sites=sites, patient_codes=patient_codes)
    chase = {code: [s for s in rows if s.state == "empty"] for code, rows in everything.items()}
    return {code: rows for code, rows in chase.items() if rows}
