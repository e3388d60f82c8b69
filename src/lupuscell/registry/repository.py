"""Create / read / update / delete of registry records, validated and audited.

One class, :class:`Registry`, over an engine; every entity is addressed by name
(:data:`ENTITIES`: ``site``, ``patient``, ``therapy_course``, ``drug_administration``,
``visit``, ``lab_result``, ``adverse_event``, ``clinical_event``) and described by one row of
a table (:data:`SPECS`: ORM model, pydantic schema, date fields), so the rules are the same
for every entity and there is no per-entity copy of the plumbing.

Contract of every write
-----------------------
* The input is validated with the entity's schema (:mod:`lupuscell.schemas`: fields and the
  cross-field ``RULES`` - the same rules the import and the bulk loader apply); then, inside
  the writing transaction, the plausibility rules (:mod:`lupuscell.registry.plausibility`:
  dates in the window, lab values in their physiological range, nothing after a recorded
  death) and the cross-record rules that need the database (:func:`cross_record_problems`):
  unknown or duplicate patient / site code (regardless of case), a dated record before the
  patient's birth year, a second visit on the same date, a second death, an adverse event
  attributed to another patient's course, a birth year moved after existing records.
* ``actor`` is required (at most 100 characters, no NUL); ``update`` and ``delete`` also
  require a ``reason``.
* The change and its audit rows (:mod:`lupuscell.registry.audit`) are written in one
  transaction. A rejected record raises :class:`lupuscell.errors.ValidationError` naming
  record, field and reason, and nothing is written (no row, no audit row). A write that a
  concurrent writer beat to a unique row (the database constraint refuses it) is checked
  again, so it is reported the same way - never as an ``IntegrityError`` traceback.
* Data management (marked ``# data management`` below): an update or delete of a signed,
  locked record (:mod:`lupuscell.registry.locking`) raises
  :class:`~lupuscell.registry.locking.RecordLockedError`; an update that changes a form's data
  resets its source-data verification (:func:`lupuscell.registry.sdv.reset_on_change`), in the
  same transaction. The data-quality rules (:mod:`lupuscell.registry.dq`) run on the written
  row: a hard rule refuses the write, a soft rule raises (and later closes) a query.

Reads return plain dicts (column values plus ``patient_code`` / ``site_code``); lab results
also carry ``value_canonical`` / ``unit_canonical`` (normalised on read with
:func:`lupuscell.units.normalise`; a stored unit that is not accepted raises).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lupuscell import units
from lupuscell.errors import ConflictError, NotFoundError, Problem, ValidationError
from lupuscell.registry import audit, locking, plausibility, pro_checks, sdv
from lupuscell.registry.dq import check as dq
from lupuscell.registry.integrity import integrity_problem
from lupuscell.registry.models import (
    AdverseEvent,
    Base,
    ClinicalEvent,
    DrugAdministration,
    LabResult,
    Patient,
    Site,
    TherapyCourse,
    Visit,
)
from lupuscell.registry.pro_models import ProAssessment
from lupuscell.registry.session import make_engine, transaction
from lupuscell.schemas.base import MAX_ROW_ID, RecordIn
from lupuscell.schemas.errors import validate
from lupuscell.schemas.events import AdverseEventIn, ClinicalEventIn
from lupuscell.schemas.patient import PatientIn, SiteIn
from lupuscell.schemas.pro import ProAssessmentIn
from lupuscell.schemas.therapy import DrugAdministrationIn, TherapyCourseIn
from lupuscell.schemas.visit import LabResultIn, VisitIn

_T = TypeVar("_T")

RACE_ATTEMPTS = 3
"""Writes re-run after losing a race to a concurrent writer (see :meth:`Registry._write`)."""
CREATE_REASON = "initial entry"
"""Reason recorded for a create when none is given (updates and deletes must give one)."""


@dataclass(frozen=True)
class EntitySpec:
    """How one entity maps between its schema and its table."""

    name: str
    model: type[Base]
    schema: type[RecordIn]
    date_fields: tuple[str, ...] = ()
    """Dates that may not precede the patient's birth year."""
    checks: Callable[[Session, dict[str, Any], int | None, str], list[Problem]] | None = None
    """Further cross-record rules of the entity (row with ids resolved, row id, label)."""


SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("site", Site, SiteIn),
        EntitySpec("patient", Patient, PatientIn, ("sle_diagnosis_date",)),
        EntitySpec(
            "therapy_course",
            TherapyCourse,
            TherapyCourseIn,
            (
                "mobilisation_date",
                "harvest_date",
                "conditioning_start_date",
                "infusion_date",
                "discharge_date",
            ),
        ),
        EntitySpec("drug_administration", DrugAdministration, DrugAdministrationIn, ("admin_date",)),
        EntitySpec("visit", Visit, VisitIn, ("visit_date",)),
        EntitySpec("lab_result", LabResult, LabResultIn, ("result_date",)),
        EntitySpec("adverse_event", AdverseEvent, AdverseEventIn, ("onset_date", "resolution_date")),
        EntitySpec("clinical_event", ClinicalEvent, ClinicalEventIn, ("event_date",)),
    )
}
ENTITIES: tuple[str, ...] = tuple(SPECS)
OWN_ROUTE_SPECS: dict[str, EntitySpec] = {
    "pro_assessment": EntitySpec(
        "pro_assessment", ProAssessment, ProAssessmentIn, ("assessment_date",), pro_checks.record_problems
    ),
}
"""Entities with the same contract that have their own API and web routes (not the generic ones
built from :data:`SPECS`): patient-reported outcomes (:mod:`lupuscell.registry.pro_checks`)."""

# Dated clinical tables checked when a patient's birth year changes: (model, date column).
_PATIENT_DATES: tuple[tuple[type[Base], str], ...] = (
    (TherapyCourse, "infusion_date"),
    (Visit, "visit_date"),
    (LabResult, "result_date"),
    (AdverseEvent, "onset_date"),
    (ClinicalEvent, "event_date"),
)


def spec_of(entity: str) -> EntitySpec:
    """The :class:`EntitySpec` of ``entity``; ValidationError listing the entities if unknown."""
    try:
        return SPECS[entity] if entity in SPECS else OWN_ROUTE_SPECS[entity]
    except KeyError:
        known = ", ".join((*ENTITIES, *OWN_ROUTE_SPECS))
        raise ValidationError(
            Problem("", "entity", f"unknown entity {entity!r}; known entities: {known}")
        ) from None


# --------------------------------------------------------------------------- lookups


def _patient(session: Session, code: str) -> Patient | None:
    return session.scalars(sa.select(Patient).where(Patient.code == code)).one_or_none()


def _site(session: Session, code: str) -> Site | None:
    return session.scalars(sa.select(Site).where(Site.code == code)).one_or_none()


def _case_variant(session: Session, model: Any, code: str, row_id: int | None = None) -> str | None:
    """A stored code equal to ``code`` regardless of case (codes differing only in case are one)."""
    query = sa.select(model.code).where(sa.func.lower(model.code) == code.lower(), model.id != (row_id or -1))
    return session.scalars(query).first()


def _unknown(session: Session, model: Any, what: str, code: str) -> str:
    variant = _case_variant(session, model, code)
    hint = f" (codes differing only in case are one code: did you mean {variant!r}?)" if variant else ""
    return f"unknown {what} {code!r}{hint}"


def _load(session: Session, spec: EntitySpec, key: int | str) -> Any:
    """The ORM object for an id (any entity) or a code (site, patient)."""
    obj: Any = None
    if isinstance(key, str) and spec.name in ("site", "patient"):
        obj = (_site if spec.name == "site" else _patient)(session, key)
    if obj is None and (isinstance(key, int) or (isinstance(key, str) and key.isdigit())):
        row_id = int(key)
        obj = session.get(spec.model, row_id) if 1 <= row_id <= MAX_ROW_ID else None
    if obj is None:
        raise NotFoundError(f"{spec.name} {key!r} does not exist")
    return obj


def _label(spec: EntitySpec, key: Any) -> str:
    return f"{spec.name} {key}"


# --------------------------------------------------------------------------- conversions


def _as_input(spec: EntitySpec, obj: Any) -> dict[str, Any]:
    """The schema-shaped dict of a stored record (codes instead of foreign-key ids)."""
    data: dict[str, Any] = {}
    for name in spec.schema.model_fields:
        if name == "patient_code":
            data[name] = obj.patient.code
        elif name == "site_code":
            data[name] = obj.site.code
        else:
            data[name] = getattr(obj, name)
    return data


def as_dict(obj: Any) -> dict[str, Any]:
    """Plain dict of a stored record for readers (columns + codes + canonical lab values)."""
    data = {column.key: getattr(obj, column.key) for column in obj.__table__.columns}
    if isinstance(obj, Patient):
        data["site_code"] = obj.site.code
    if hasattr(obj, "patient") and not isinstance(obj, Patient):
        data["patient_code"] = obj.patient.code
    if isinstance(obj, DrugAdministration):
        data["patient_code"] = obj.course.patient.code
    if isinstance(obj, LabResult):
        value, unit = units.normalise(obj.analyte, obj.value, obj.unit, record=f"lab_result {obj.id}")
        data["value_canonical"], data["unit_canonical"] = value, unit
    return data


# --------------------------------------------------------------------------- cross-record rules


def dates_before_birth(
    record: RecordIn, date_fields: Iterable[str], birth_year: int, record_label: str
) -> list[Problem]:
    """Problems for every date in ``date_fields`` that falls before 1 January of ``birth_year``."""
    problems = []
    for name in date_fields:
        value: dt.date | None = getattr(record, name, None)
        if value is not None and value.year < birth_year:
            problems.append(
                Problem(record_label, name, f"{name} {value} is before the patient's birth year {birth_year}")
            )
    return problems


def _resolve(
    session: Session, spec: EntitySpec, row: dict[str, Any], label: str
) -> tuple[int | None, list[Problem]]:
    """Replace site / patient codes by ids in ``row``; check the course reference.

    Returns the birth year that dates of the record must not precede, and the problems.
    """
    problems: list[Problem] = []
    birth_year: int | None = None
    patient_id: int | None = None
    if "site_code" in row:
        site_code = row.pop("site_code")
        site = _site(session, site_code)
        if site is None:
            problems.append(Problem(label, "site_code", _unknown(session, Site, "site", site_code)))
        else:
            row["site_id"] = site.id
    if "patient_code" in row:
        patient_code = row.pop("patient_code")
        patient = _patient(session, patient_code)
        if patient is None:
            problems.append(
                Problem(label, "patient_code", _unknown(session, Patient, "patient", patient_code))
            )
        else:
            row["patient_id"], birth_year, patient_id = patient.id, patient.birth_year, patient.id
    if row.get("course_id") is not None:
        course = session.get(TherapyCourse, row["course_id"])
        if course is None:
            problems.append(Problem(label, "course_id", f"unknown therapy course {row['course_id']}"))
        elif patient_id is not None and course.patient_id != patient_id:
            problems.append(
                Problem(label, "course_id", f"therapy course {course.id} belongs to another patient")
            )
        elif spec.name == "drug_administration":
            birth_year = course.patient.birth_year
    return birth_year, problems


def _unique_problems(
    session: Session, spec: EntitySpec, row: dict[str, Any], row_id: int | None, label: str
) -> list[Problem]:
    """A code that exists (regardless of case), a second visit on a date, a second death."""
    problems: list[Problem] = []
    if spec.name in ("site", "patient"):
        existing = _case_variant(session, spec.model, row["code"], row_id)
        if existing is not None:
            message = (
                f"{spec.name} code {row['code']!r} already exists"
                if existing == row["code"]
                else f"{spec.name} code {row['code']!r} differs only in case from existing {existing!r}"
            )
            problems.append(Problem(label, "code", message))
    patient_id = row.get("patient_id")
    if spec.name == "visit" and patient_id is not None:
        clash = session.scalars(
            sa.select(Visit.id).where(
                Visit.patient_id == patient_id,
                Visit.visit_date == row["visit_date"],
                Visit.id != (row_id or -1),
            )
        ).first()
        if clash is not None:
            problems.append(
                Problem(label, "visit_date", f"the patient already has a visit on {row['visit_date']}")
            )
    if spec.name == "clinical_event" and patient_id is not None and row["event_type"] == "death":
        clash = session.scalars(
            sa.select(ClinicalEvent.id).where(
                ClinicalEvent.patient_id == patient_id,
                ClinicalEvent.event_type == "death",
                ClinicalEvent.id != (row_id or -1),
            )
        ).first()
        if clash is not None:
            problems.append(Problem(label, "event_type", "the patient already has a recorded death"))
    return problems


def cross_record_problems(
    session: Session, spec: EntitySpec, record: RecordIn, row_id: int | None, label: str
) -> tuple[dict[str, Any], list[Problem]]:
    """Resolve codes to ids and check the rules that need the database.

    Returns the column values to store and the problems found (empty = acceptable).
    """
    row = record.model_dump()
    birth_year, problems = _resolve(session, spec, row, label)
    problems += _unique_problems(session, spec, row, row_id, label)
    if spec.checks is not None:
        problems += spec.checks(session, row, row_id, label)
    if spec.name == "patient":
        birth_year = row["birth_year"]
        if row_id is not None:
            problems += _records_before_birth(session, row_id, row["birth_year"], label)
    if birth_year is not None:
        problems += dates_before_birth(record, spec.date_fields, birth_year, label)
    return row, problems


def _records_before_birth(session: Session, patient_id: int, birth_year: int, label: str) -> list[Problem]:
    first = dt.date(birth_year, 1, 1)
    problems = []
    for model, column in _PATIENT_DATES:
        col = getattr(model, column)
        earliest = session.scalar(
            sa.select(sa.func.min(col)).where(model.patient_id == patient_id)  # type: ignore[attr-defined]
        )
        if earliest is not None and earliest < first:
            problems.append(
                Problem(
                    label,
                    "birth_year",
                    f"birth year {birth_year} is after the {model.__tablename__}.{column} {earliest}",
                )
            )
    return problems


# --------------------------------------------------------------------------- optimistic locking


def _check_version(obj: Any, expected_version: int | None, label: str) -> None:
    """ConflictError when the caller read an older version of ``obj`` (optimistic locking)."""
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(label, expected_version, obj.version, as_dict(obj))


# --------------------------------------------------------------------------- the API


class Registry:
    """Validated, audited CRUD over the registry (see the module docstring for the contract).

    Parameters
    ----------
    engine
        An engine, a database URL, or None for the default database.
    """

    def __init__(self, engine: Engine | str | None = None) -> None:
        self.engine = engine if isinstance(engine, Engine) else make_engine(engine)

    # -- writes
    def _write(self, label: str, work: Callable[[Session], _T]) -> _T:
        """Run ``work`` (checks and writes) in one transaction; re-run it when the database
        refuses a row because a concurrent writer won a race, so that the checks report it
        like any other problem; never an IntegrityError traceback."""
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                with transaction(self.engine) as session:
                    return work(session)
            except sa.exc.IntegrityError as exc:
                if attempt == RACE_ATTEMPTS:
                    raise integrity_problem(exc, label) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _checked(
        session: Session, spec: EntitySpec, record: RecordIn, row_id: int | None, label: str
    ) -> dict[str, Any]:
        """Column values of a valid record; ValidationError with every problem otherwise."""
        row, problems = cross_record_problems(session, spec, record, row_id, label)
        problems += plausibility.record_problems(spec.model.__tablename__, row, label)
        if problems:
            raise ValidationError(problems)
        return row

    @staticmethod
    def _after_death(session: Session, obj: Any) -> None:
        """Rule ``after_death`` on the row just written (flushed), inside the transaction."""
        late = plausibility.records_after_death(session.connection(), record=(obj.__tablename__, obj.id))
        if late:
            raise ValidationError(late)

    def create(
        self, entity: str, data: Mapping[str, Any], *, actor: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Validate and store a new record; return it as read back."""
        return self.create_together([(entity, data)], actor=actor, reason=reason)[0]

    def create_together(
        self, items: Sequence[tuple[str, Mapping[str, Any]]], *, actor: str, reason: str | None = None
    ) -> list[dict[str, Any]]:
        """Validate and store several new records in one transaction - all of them or none (a
        visit and the labs entered on its form); return them as read back, in order.

        Records later in ``items`` may refer to earlier ones (each is flushed before the next
        is checked), so the cross-record rules see the whole group.
        """
        specs = [spec_of(entity) for entity, _ in items]
        labels = [
            _label(spec, data.get("code") or data.get("patient_code") or "(new)")
            for spec, (_, data) in zip(specs, items, strict=True)
        ]
        who = audit.require_actor(actor, labels[0])
        why = (
            audit.require_reason(reason, labels[0], "create a record")
            if reason and reason.strip()
            else CREATE_REASON
        )
        records = [
            validate(spec.schema, data, label)
            for spec, (_, data), label in zip(specs, items, labels, strict=True)
        ]

        def work(session: Session) -> list[int]:
            ids = []
            for spec, record, label in zip(specs, records, labels, strict=True):
                obj = spec.model(**self._checked(session, spec, record, None, label))
                session.add(obj)
                session.flush()
                self._after_death(session, obj)
                audit.log_create(session, obj, actor=who, reason=why)
                dq.on_save(session, spec.name, obj, actor=who, label=label)  # data-quality rules
                ids.append(int(obj.id))  # type: ignore[attr-defined]
            return ids

        written = self._write(labels[0], work)
        return [self.get(entity, obj_id) for (entity, _), obj_id in zip(items, written, strict=True)]

    def update(
        self,
        entity: str,
        key: int | str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str | None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Change fields of a record; one audit row per changed field. ``reason`` is required.

        ``expected_version`` (optimistic locking): the ``version`` the caller read; when the
        stored record has moved on, :class:`~lupuscell.errors.ConflictError` is raised with the
        current record and nothing is written.
        """
        spec = spec_of(entity)
        label = _label(spec, key)
        who = audit.require_actor(actor, label)
        why = audit.require_reason(reason, label, "update a record")

        def work(session: Session) -> int:
            obj = _load(session, spec, key)
            _check_version(obj, expected_version, label)
            locking.check_unlocked(session, obj)  # data management: a signed record is locked
            record = validate(spec.schema, {**_as_input(spec, obj), **changes}, label)
            row = self._checked(session, spec, record, obj.id, label)
            diffs = {
                name: (getattr(obj, name), value)
                for name, value in row.items()
                if getattr(obj, name) != value
            }
            for name, (_, value) in diffs.items():
                setattr(obj, name, value)
            session.flush()
            self._after_death(session, obj)
            audit.log_update(session, obj, diffs, actor=who, reason=why)
            if diffs:  # data management: changed data are no longer source-verified
                sdv.reset_on_change(session, spec.name, obj.id, actor=who, reason=why)
            dq.on_save(session, spec.name, obj, actor=who, label=label)  # data-quality rules
            return int(obj.id)

        try:
            obj_id = self._write(label, work)
        except StaleDataError:
            raise self._conflict(entity, key, label, expected_version) from None
        return self.get(entity, obj_id)

    def _conflict(self, entity: str, key: int | str, label: str, expected: int | None) -> ConflictError:
        """The conflict of a write that lost a race inside its own flush (``StaleDataError``)."""
        current = self.get(entity, key)
        return ConflictError(label, expected or current["version"] - 1, current["version"], current)

    def delete(
        self,
        entity: str,
        key: int | str,
        *,
        actor: str,
        reason: str | None,
        expected_version: int | None = None,
    ) -> int:
        """Delete a record (a patient with all their clinical records, a course with its drugs).

        Every deleted row is audited with its last values. Returns the number of rows deleted.
        A site with patients, or a course that adverse events refer to, is not deleted.
        ``expected_version`` as in :meth:`update`.
        """
        spec = spec_of(entity)
        label = _label(spec, key)
        who = audit.require_actor(actor, label)
        why = audit.require_reason(reason, label, "delete a record")
        try:
            with transaction(self.engine) as session:
                obj = _load(session, spec, key)
                _check_version(obj, expected_version, label)
                dependants = self._dependants(session, spec, obj, label)
                for item in (obj, *dependants):  # data management: nothing locked is deleted
                    locking.check_unlocked(session, item)
                for item in dependants:
                    audit.log_delete(session, item, actor=who, reason=why)
                    session.delete(item)
                    session.flush()
                    session.expire_all()  # parents reload their (now shorter) collections
                audit.log_delete(session, obj, actor=who, reason=why)
                session.delete(obj)
        except StaleDataError:  # changed by another writer between the read and the DELETE
            raise self._conflict(entity, key, label, expected_version) from None
        return len(dependants) + 1

    @staticmethod
    def _dependants(session: Session, spec: EntitySpec, obj: Any, label: str) -> list[Any]:
        """Rows deleted with ``obj`` (children first), or ValidationError if it must stay."""
        pro = pro_checks.dependants(session, spec.name, obj, label)  # patient-reported outcomes
        if spec.name == "site" and obj.patients:
            raise ValidationError(
                Problem(label, "code", f"site {obj.code} still has {len(obj.patients)} patient(s)")
            )
        if spec.name == "therapy_course":
            n_ae = session.scalar(
                sa.select(sa.func.count()).select_from(AdverseEvent).where(AdverseEvent.course_id == obj.id)
            )
            if n_ae:
                raise ValidationError(
                    Problem(label, "course_id", f"{n_ae} adverse event(s) refer to this course")
                )
            return list(obj.drugs)
        if spec.name == "patient":
            children: list[Any] = pro
            for course in obj.courses:
                children += list(course.drugs)
            children += list(obj.adverse_events) + list(obj.labs) + list(obj.visits)
            children += list(obj.clinical_events) + list(obj.courses)
            return children
        return []

    # -- reads
    def get(self, entity: str, key: int | str) -> dict[str, Any]:
        """One record as a dict; NotFoundError if it does not exist."""
        spec = spec_of(entity)
        with Session(self.engine) as session:
            return as_dict(_load(session, spec, key))

    def list_records(
        self, entity: str, *, patient_code: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Records of an entity (optionally of one patient), in id order."""
        spec = spec_of(entity)
        model: Any = spec.model
        query = sa.select(model).order_by(model.id)
        if patient_code is not None:
            if spec.name == "patient":
                query = query.where(Patient.code == patient_code)
            elif spec.name == "drug_administration":
                query = query.join(TherapyCourse).join(Patient).where(Patient.code == patient_code)
            elif hasattr(model, "patient_id"):
                query = query.join(Patient, Patient.id == model.patient_id)
                query = query.where(Patient.code == patient_code)
        if limit is not None:
            query = query.limit(limit)
        with Session(self.engine) as session:
            items: list[Any] = list(session.scalars(query))
            return [as_dict(item) for item in items]

    def counts(self) -> dict[str, int]:
        """Row count of every registry table (audit log and import batches included)."""
        from lupuscell.registry.backup import row_counts

        with self.engine.connect() as conn:
            return row_counts(conn)

    def history(self, entity: str | None = None, key: int | str | None = None) -> list[dict[str, Any]]:
        """Audit rows, optionally of one entity (and record id)."""
        table = spec_of(entity).model.__tablename__ if entity else None
        return audit.history(self.engine, table, key)
