"""Source-data verification (SDV): a monitor's status of one form against the source documents.

Forms verified: visits, therapy courses and adverse events
(:data:`~lupuscell.registry.dm_models.SDV_FORMS`). A form is ``not_verified`` until a monitor
sets ``verified`` or ``verified_with_findings`` (the findings written down); who and when are
kept. When the form's data change afterwards the status goes back to ``not_verified``
automatically (:func:`reset_on_change`, called by
:meth:`lupuscell.registry.repository.Registry.update` inside the writing transaction, so the
command line, the imports and the web alike reset it). Every change of status is audited
(entity ``sdv_status``).

The report (:func:`report`) follows the usual monitoring-report layout (counts and percentages
per form and status, then the forms still to verify): ICH E6(R3) 3.11.4 (monitoring) and the
risk-based monitoring practice of TransCelerate's position paper (2013) on targeted SDV.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit
from lupuscell.registry.dm_models import SDV_FORMS, SDV_STATUSES, SdvStatus
from lupuscell.registry.dm_records import RECORD_MODELS, begin_write, locate, require_text
from lupuscell.registry.models import AdverseEvent, Patient, Site, TherapyCourse, Visit, _utcnow

FORM_DATES: dict[str, Any] = {
    "visit": Visit.visit_date,
    "therapy_course": TherapyCourse.infusion_date,
    "adverse_event": AdverseEvent.onset_date,
}
"""The date that names a form in the report's list of unverified forms."""


def _row(session: Session, record_type: str, record_id: int) -> SdvStatus | None:
    return session.scalars(
        sa.select(SdvStatus).where(SdvStatus.record_type == record_type, SdvStatus.record_id == record_id)
    ).one_or_none()


def set_status(
    session: Session,
    record_type: str,
    record_id: int,
    *,
    status: str,
    actor: str,
    findings: str | None = None,
) -> dict[str, Any]:
    """Set the SDV status of a form (in the caller's transaction); return it."""
    label = f"{record_type} {record_id}"
    who = audit.require_actor(actor, label)
    if record_type not in SDV_FORMS:
        raise ValidationError(
            Problem(label, "record_type", f"source-data verification is per {', '.join(SDV_FORMS)} form")
        )
    if status not in SDV_STATUSES:
        raise ValidationError(
            Problem(label, "status", f"unknown SDV status {status!r}; one of {', '.join(SDV_STATUSES)}")
        )
    notes = None
    if status == "verified_with_findings":
        notes = require_text(findings, label, "findings")
    elif findings and findings.strip():
        raise ValidationError(
            Problem(label, "findings", f"findings are written only with verified_with_findings, not {status}")
        )
    ref = locate(session, record_type, record_id)
    begin_write(session)
    _write(
        session,
        ref.record_type,
        ref.record_id,
        ref.patient_id,
        ref.site_id,
        status,
        notes,
        who,
        "source-data verification",
    )
    return get_status(session, record_type, ref.record_id)


def _write(
    session: Session,
    record_type: str,
    record_id: int,
    patient_id: int,
    site_id: int,
    status: str,
    findings: str | None,
    actor: str,
    reason: str,
) -> None:
    row = _row(session, record_type, record_id)
    if row is None:
        row = SdvStatus(record_type=record_type, record_id=record_id, patient_id=patient_id, site_id=site_id)
        row.status, row.findings, row.set_by = status, findings, actor
        session.add(row)
        session.flush()
        audit.log_create(session, row, actor=actor, reason=reason)
        return
    before = {"status": row.status, "findings": row.findings, "set_by": row.set_by, "set_at": row.set_at}
    row.status, row.findings, row.set_by = status, findings, actor
    row.set_at = _utcnow()
    changes = {k: (v, getattr(row, k)) for k, v in before.items() if v != getattr(row, k)}
    session.flush()
    audit.log_update(session, row, changes, actor=actor, reason=reason)


def reset_on_change(session: Session, record_type: str, record_id: int, *, actor: str, reason: str) -> bool:
    """Repository hook: a verified form whose data just changed goes back to ``not_verified``.

    Returns whether a status was reset. Runs in the updating transaction.
    """
    row = _row(session, record_type, record_id)
    if row is None or row.status == "not_verified":
        return False
    _write(
        session,
        record_type,
        record_id,
        row.patient_id,
        row.site_id,
        "not_verified",
        None,
        actor,
        f"data changed after source-data verification ({reason})",
    )
    return True


def get_status(session: Session, record_type: str, record_id: int) -> dict[str, Any]:
    """The SDV status of a form (``not_verified`` with no one and no time when never set)."""
    row = _row(session, record_type, record_id)
    if row is None:
        return {
            "record_type": record_type,
            "record_id": record_id,
            "status": "not_verified",
            "findings": None,
            "set_by": None,
            "set_at": None,
        }
    return {
        "record_type": record_type,
        "record_id": record_id,
        "status": row.status,
        "findings": row.findings,
        "set_by": row.set_by,
        "set_at": row.set_at,
    }


def report(
    session: Session, *, sites: Collection[str] | None = None, site: str | None = None
) -> dict[str, Any]:
    """Counts and percentages per form type and status, and the forms not verified, per site."""
    forms: dict[str, dict[str, Any]] = {}
    unverified: list[dict[str, Any]] = []
    for form in SDV_FORMS:
        rows = _form_rows(session, form, sites, site)
        counts = dict.fromkeys(SDV_STATUSES, 0)
        for row in rows:
            counts[row["status"]] += 1
        total = len(rows)
        forms[form] = {
            "total": total,
            "counts": counts,
            "percent": {k: (round(100.0 * v / total, 1) if total else 0.0) for k, v in counts.items()},
        }
        unverified += [r for r in rows if r["status"] == "not_verified"]
    return {"site": site, "forms": forms, "unverified": unverified}


def _form_rows(
    session: Session, form: str, sites: Collection[str] | None, site: str | None
) -> list[dict[str, Any]]:
    model: Any = RECORD_MODELS[form]
    stmt = (
        sa.select(model.id, Patient.code, Site.code, FORM_DATES[form], SdvStatus.status)
        .join(Patient, Patient.id == model.patient_id)
        .join(Site, Site.id == Patient.site_id)
        .outerjoin(SdvStatus, sa.and_(SdvStatus.record_type == form, SdvStatus.record_id == model.id))
        .order_by(Site.code, Patient.code, model.id)
    )
    if sites is not None:
        stmt = stmt.where(Site.code.in_(list(sites)))
    if site is not None:
        stmt = stmt.where(Site.code == site)
    return [
        {
            "record_type": form,
            "record_id": rid,
            "patient_code": p,
            "site_code": s,
            "date": d,
            "status": st or "not_verified",
        }
        for rid, p, s, d, st in session.execute(stmt)
    ]
