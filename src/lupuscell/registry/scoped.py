"""Site-scoped reads for the web application: a user sees only the patients of their sites.

Every function takes ``sites`` (the site codes the caller may see) and never returns a record
of another site; a record outside them reads as *not found*, so guessing ids reveals nothing.
Records come back as :func:`lupuscell.registry.repository.as_dict` gives them (plus
``version`` for optimistic locking), so the API shows what the CLI shows.

The patient search filters and sorts in SQL and returns one page of codes; the display
columns of that page come from :func:`lupuscell.registry.views.patient_summaries`, and a
patient's timeline is :func:`lupuscell.registry.views.patient_timeline` with ``sites``.
Nephritis means an ISN/RPS class recorded or ``renal`` in the organ involvement, as in
:func:`lupuscell.outcomes.inputs.from_tables`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError
from lupuscell.registry.layout import TABLES
from lupuscell.registry.models import (
    AdverseEvent,
    AuditLog,
    ClinicalEvent,
    DrugAdministration,
    Patient,
    Site,
    TherapyCourse,
)
from lupuscell.registry.repository import as_dict, spec_of
from lupuscell.schemas.base import MAX_ROW_ID

SORT_KEYS = ("code", "site", "sex", "birth_year", "day0", "status")
PATIENT_TABLES: tuple[str, ...] = (*(t.name for t in TABLES if t.name != "sites"), "pro_assessments")
"""The clinical tables: a patient's own records (the exchange layout's tables but ``sites``, and
the patient-reported outcome assessments)."""


@dataclass(frozen=True)
class Page:
    """One page of a listing: ``total`` rows match, ``items`` are rows offset..offset+limit."""

    total: int
    offset: int
    limit: int
    items: list[Any]


def _patient_filter(model: Any, entity: str, sites: Sequence[str]) -> Any:
    visible = sa.select(Patient.id).join(Site).where(Site.code.in_(list(sites)))
    if entity == "site":
        return model.code.in_(list(sites))
    if entity == "patient":
        return model.id.in_(visible)
    if entity == "drug_administration":
        return model.course_id.in_(sa.select(TherapyCourse.id).where(TherapyCourse.patient_id.in_(visible)))
    return model.patient_id.in_(visible)


def get_record(engine: Engine, entity: str, key: int | str, sites: Sequence[str]) -> dict[str, Any]:
    """One record of a visible patient (NotFoundError otherwise, as if it did not exist)."""
    spec = spec_of(entity)
    model: Any = spec.model
    query = sa.select(model).where(_patient_filter(model, spec.name, sites))
    if spec.name in ("site", "patient") and isinstance(key, str) and not key.isdigit():
        query = query.where(model.code == key)
    else:
        try:
            row_id = int(key)
        except ValueError:
            row_id = 0
        if not 1 <= row_id <= MAX_ROW_ID:  # no such id can exist (and the database would refuse it)
            raise NotFoundError(f"{spec.name} {key!r} does not exist")
        query = query.where(model.id == row_id)
    with Session(engine) as session:
        obj = session.scalars(query).one_or_none()
        if obj is None:
            raise NotFoundError(f"{spec.name} {key!r} does not exist")
        return as_dict(obj)


def list_records(
    engine: Engine,
    entity: str,
    sites: Sequence[str],
    *,
    patient_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """Records of an entity for the visible sites (optionally one patient), in id order."""
    spec = spec_of(entity)
    model: Any = spec.model
    query = sa.select(model).where(_patient_filter(model, spec.name, sites))
    if patient_code is not None:
        if spec.name == "patient":
            query = query.where(Patient.code == patient_code)
        elif spec.name == "drug_administration":
            query = query.where(
                model.course_id.in_(
                    sa.select(TherapyCourse.id).join(Patient).where(Patient.code == patient_code)
                )
            )
        elif spec.name != "site":
            query = query.where(
                model.patient_id.in_(sa.select(Patient.id).where(Patient.code == patient_code))
            )
    with Session(engine) as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        found: list[Any] = list(session.scalars(query.order_by(model.id).offset(offset).limit(limit)))
        return Page(int(total), offset, limit, [as_dict(r) for r in found])


def patient_site(engine: Engine, code: str) -> str | None:
    """Site code of a patient (None when the patient does not exist)."""
    with Session(engine) as session:
        return session.scalar(sa.select(Site.code).join(Patient).where(Patient.code == code))


def search_patients(
    engine: Engine,
    sites: Sequence[str],
    *,
    q: str | None = None,
    therapy: str | None = None,
    site: str | None = None,
    status: str | None = None,
    nephritis: bool | None = None,
    sort: str = "code",
    descending: bool = False,
    offset: int = 0,
    limit: int = 25,
) -> Page:
    """One page of patient codes of the visible sites matching the filters, sorted.

    ``q`` matches the patient code (case-insensitive substring); ``status`` is ``alive`` or
    ``dead`` (a recorded death); ``sort`` is one of :data:`SORT_KEYS`.
    """
    dead = sa.exists().where(ClinicalEvent.patient_id == Patient.id, ClinicalEvent.event_type == "death")
    day0 = (
        sa.select(sa.func.min(TherapyCourse.infusion_date))
        .where(TherapyCourse.patient_id == Patient.id)
        .scalar_subquery()
    )
    query = sa.select(Patient.code).join(Site).where(Site.code.in_(list(sites)))
    if q:
        query = query.where(sa.func.lower(Patient.code).contains(q.strip().lower(), autoescape=True))
    if therapy:
        query = query.where(
            Patient.id.in_(sa.select(TherapyCourse.patient_id).where(TherapyCourse.therapy == therapy))
        )
    if site:
        query = query.where(Site.code == site)
    if status in ("alive", "dead"):
        query = query.where(dead if status == "dead" else ~dead)
    if nephritis is not None:
        renal = sa.or_(
            Patient.nephritis_class.is_not(None),
            sa.cast(Patient.organ_involvement, sa.String).contains('"renal"'),
        )
        query = query.where(renal if nephritis else ~renal)
    column: Any = {
        "code": Patient.code,
        "site": Site.code,
        "sex": Patient.sex,
        "birth_year": Patient.birth_year,
        "day0": day0,
        "status": sa.case((dead, 1), else_=0),
    }.get(sort, Patient.code)
    order = column.desc() if descending else column.asc()
    with Session(engine) as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        codes = list(session.scalars(query.order_by(order, Patient.code).offset(offset).limit(limit)))
    return Page(int(total), offset, limit, codes)


def recent_serious_adverse_events(
    engine: Engine, sites: Sequence[str], limit: int = 10
) -> list[dict[str, Any]]:
    """The newest serious adverse events (or grade >= 3) of the visible sites."""
    query = (
        sa.select(AdverseEvent)
        .where(_patient_filter(AdverseEvent, "adverse_event", sites))
        .where(sa.or_(AdverseEvent.serious.is_(True), AdverseEvent.grade >= 3))
        .order_by(AdverseEvent.onset_date.desc(), AdverseEvent.id.desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return [as_dict(ae) for ae in session.scalars(query)]


# --------------------------------------------------------------------------- audit trail


def _owner(row: AuditLog, live: dict[tuple[str, str], int], courses: dict[int, int]) -> int | None:
    """Patient id an audit row is about (from the live record, else from its JSON snapshot)."""
    if row.entity == "patients":
        return int(row.entity_id) if row.entity_id and row.entity_id.isdigit() else None
    key = (row.entity, row.entity_id or "")
    if key in live:
        return live[key]
    text = row.new_value if row.action == "create" else row.old_value
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if "patient_id" in data:
        return int(data["patient_id"])
    if "course_id" in data and data["course_id"] in courses:
        return courses[data["course_id"]]
    return None


def _live_owners(session: Session, rows: list[AuditLog]) -> tuple[dict[tuple[str, str], int], dict[int, int]]:
    live: dict[tuple[str, str], int] = {}
    courses = {
        cid: pid for cid, pid in session.execute(sa.select(TherapyCourse.id, TherapyCourse.patient_id))
    }
    by_table: dict[str, set[int]] = {}
    for row in rows:
        if row.entity_id and row.entity_id.isdigit():
            by_table.setdefault(row.entity, set()).add(int(row.entity_id))
    for table, ids in by_table.items():
        if table in ("patients", "users", "sites") or table not in PATIENT_TABLES:
            continue
        model: Any = next(m for m in (spec_of(e).model for e in _ENTITIES) if m.__tablename__ == table)
        if model is DrugAdministration:
            pairs = session.execute(
                sa.select(model.id, TherapyCourse.patient_id).join(TherapyCourse).where(model.id.in_(ids))
            )
        else:
            pairs = session.execute(sa.select(model.id, model.patient_id).where(model.id.in_(ids)))
        for rid, pid in pairs:
            live[(table, str(rid))] = pid
    return live, courses


_ENTITIES = (
    "patient",
    "therapy_course",
    "drug_administration",
    "visit",
    "lab_result",
    "adverse_event",
    "clinical_event",
    "pro_assessment",
)


def audit_trail(
    engine: Engine,
    sites: Sequence[str],
    *,
    patient_code: str | None = None,
    site: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """Audit rows (newest first) about the patients of the visible sites.

    With ``patient_code`` only that patient's rows (its own record and every record that is or
    was attached to it, deletions included); with ``site`` one site. Each row carries
    ``patient_code`` when the patient still exists.
    """
    with Session(engine) as session:
        pats = session.execute(
            sa.select(Patient.id, Patient.code, Site.code).join(Site).where(Site.code.in_(list(sites)))
        ).all()
        wanted = {
            pid: code for pid, code, s in pats if (site is None or s == site) and patient_code in (None, code)
        }
        if patient_code is not None and not wanted:
            raise NotFoundError(f"patient {patient_code!r} does not exist")
        rows = list(
            session.scalars(
                sa.select(AuditLog).where(AuditLog.entity.in_(PATIENT_TABLES)).order_by(AuditLog.id.desc())
            )
        )
        live, courses = _live_owners(session, rows)
        mine = []
        for row in rows:
            pid = _owner(row, live, courses)
            if pid in wanted:
                item = {c.key: getattr(row, c.key) for c in AuditLog.__table__.columns}
                item["patient_code"] = wanted[pid]
                mine.append(item)
    return Page(len(mine), offset, limit, mine[offset : offset + limit])


def data_version(engine: Engine) -> tuple[int, int]:
    """(newest audit row id, number of patients): changes whenever the registry's data change
    through the audited paths, so derived pages can be cached on it."""
    with Session(engine) as session:
        newest = session.scalar(sa.select(sa.func.max(AuditLog.id))) or 0
        patients = session.scalar(sa.select(sa.func.count()).select_from(Patient)) or 0
        return int(newest), int(patients)


def record_export(engine: Engine, *, actor: str, what: str, sites: Sequence[str], detail: Any) -> None:
    """Audit an export or report built through the web application (one ``export`` row)."""
    from lupuscell.registry import audit
    from lupuscell.registry.session import transaction

    with transaction(engine) as session:
        audit.log_event(
            session,
            action="export",
            entity=what,
            actor=actor,
            reason=f"web export for sites {', '.join(sites)}",
            new_value=detail,
        )
