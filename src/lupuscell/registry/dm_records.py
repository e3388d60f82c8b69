"""Addressing a clinical record for data management: ``(record_type, record_id)`` -> the stored
row, its patient and site, and the fields a query may name.

Shared by :mod:`.queries`, :mod:`.sdv` and :mod:`.locking`; depends only on the models (not on
the repository, which calls the locking and verification hooks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.audit_chain import lock_head
from lupuscell.registry.models import (
    AdverseEvent,
    Base,
    ClinicalEvent,
    DrugAdministration,
    LabResult,
    Patient,
    TherapyCourse,
    Visit,
)

RECORD_MODELS: dict[str, type[Base]] = {
    "patient": Patient,
    "therapy_course": TherapyCourse,
    "drug_administration": DrugAdministration,
    "visit": Visit,
    "lab_result": LabResult,
    "adverse_event": AdverseEvent,
    "clinical_event": ClinicalEvent,
}
"""Entities (names of :data:`lupuscell.registry.repository.ENTITIES`) that data management
addresses: every clinical record (sites are not clinical data)."""
TABLE_ENTITY: dict[str, str] = {model.__tablename__: name for name, model in RECORD_MODELS.items()}
"""Table name -> entity name (``visits`` -> ``visit``)."""
NOT_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "import_batch_id", "version", "patient_id", "site_id"}
)
"""Bookkeeping and key columns, which a query cannot be about."""


@dataclass(frozen=True)
class RecordRef:
    """A located record: its entity name, id, row, patient and site."""

    record_type: str
    record_id: int
    obj: Any
    patient_id: int
    site_id: int
    patient_code: str
    site_code: str

    @property
    def label(self) -> str:
        return f"{self.record_type} {self.record_id}"


def fields_of(record_type: str) -> tuple[str, ...]:
    """The data fields of an entity (its columns without bookkeeping and key columns)."""
    model = _model(record_type, f"{record_type}")
    return tuple(c.key for c in model.__table__.columns if c.key not in NOT_FIELDS)


def _model(record_type: str, label: str) -> type[Base]:
    try:
        return RECORD_MODELS[record_type]
    except KeyError:
        raise ValidationError(
            Problem(
                label,
                "record_type",
                f"unknown record type {record_type!r}; known: {', '.join(RECORD_MODELS)}",
            )
        ) from None


def locate(session: Session, record_type: str, record_id: int | str) -> RecordRef:
    """The record ``record_type`` ``record_id`` (a patient also by code); ValidationError naming it
    when it does not exist."""
    label = f"{record_type} {record_id}"
    model = _model(record_type, label)
    if model is Patient and isinstance(record_id, str) and not record_id.isdigit():
        code_match = session.scalars(sa.select(Patient.id).where(Patient.code == record_id)).one_or_none()
        if code_match is None:
            raise ValidationError(Problem(label, "record_id", f"patient {record_id!r} does not exist"))
        record_id = code_match
    try:
        key = int(record_id)
    except (TypeError, ValueError):
        raise ValidationError(Problem(label, "record_id", f"{record_id!r} is not a record id")) from None
    obj: Any = session.get(model, key)
    if obj is None:
        raise ValidationError(Problem(label, "record_id", f"{record_type} {key} does not exist"))
    patient = (
        obj
        if isinstance(obj, Patient)
        else obj.course.patient
        if isinstance(obj, DrugAdministration)
        else obj.patient
    )
    return RecordRef(
        record_type,
        key,
        obj,
        int(patient.id),
        int(patient.site_id),
        str(patient.code),
        str(patient.site.code),
    )


def check_field(record_type: str, field: str, label: str) -> str:
    """``field`` if it is a data field of ``record_type``; ValidationError naming it otherwise."""
    known = fields_of(record_type)
    if field not in known:
        raise ValidationError(
            Problem(label, "field", f"{record_type} has no field {field!r}; its fields: {', '.join(known)}")
        )
    return field


def begin_write(session: Session) -> None:
    """Take the audit chain head first, as every registry writer does (one lock order)."""
    lock_head(session.connection())


def require_text(text: str | None, label: str, field: str = "text", limit: int = 4000) -> str:
    """Non-blank text without NUL, at most ``limit`` characters; ValidationError otherwise."""
    if text is None or not text.strip():
        raise ValidationError(Problem(label, field, "a text is required"))
    value = text.strip()
    if "\x00" in value:
        raise ValidationError(
            Problem(label, field, "contains a NUL character (\\x00), which text cannot hold")
        )
    if len(value) > limit:
        raise ValidationError(Problem(label, field, f"is longer than {limit} characters ({len(value)})"))
    return value
