"""Electronic signatures and record locks (21 CFR Part 11 style).

An investigator signs a patient's record or a visit by re-entering their password (checked
against the stored argon2 hash with :mod:`argon2`, the library the web login uses). The
signature keeps what 21 CFR Part 11 §11.50 asks a signature to show - the signer's printed
name, the date and time (UTC) and the meaning of the signature - and is linked to its record
(§11.70: it cannot be moved to another record; it is never edited, only ended by an unlock).

A signed record is **locked**: while a signature on it (or on its patient) is active,
:meth:`lupuscell.registry.repository.Registry.update` and ``delete`` refuse it, on every path
(command line, import, web, API), with :class:`RecordLockedError` naming the record, the signer
and the date. An admin unlocks it with a reason (:func:`unlock`), which ends the signatures'
locks and keeps them as history. Every signature and unlock is audited (entity ``signatures``).

Creating new records for a signed patient stays possible (follow-up goes on after a record is
signed); the new record is not covered by the earlier signature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit
from lupuscell.registry.account_models import User
from lupuscell.registry.dm_models import SIGNABLE, Signature
from lupuscell.registry.dm_records import TABLE_ENTITY, RecordRef, begin_write, locate, require_text
from lupuscell.registry.models import DrugAdministration, Patient

MEANINGS: dict[str, str] = {
    "visit": "I approve the data of this visit as complete and accurate.",
    "patient": "I approve the data of this patient's record as complete and accurate.",
}
"""The meaning of a signature (21 CFR Part 11 §11.50(a)(3)), shown before signing and stored."""
SIGNING_ROLES: tuple[str, ...] = ("investigator", "admin")
"""Roles whose users may sign (the admin has every investigator right)."""
_HASHER = PasswordHasher()


class RecordLockedError(ValidationError):
    """An update or delete of a signed (locked) record; names the record and the signature."""


def _active(session: Session, record_type: str, record_id: int) -> Signature | None:
    return session.scalars(
        sa.select(Signature)
        .where(
            Signature.record_type == record_type,
            Signature.record_id == record_id,
            Signature.unlocked_at.is_(None),
        )
        .order_by(Signature.id)
    ).first()


def _locking_signature(session: Session, ref: RecordRef) -> Signature | None:
    """The active signature that locks ``ref``: its own, or its patient's."""
    own = _active(session, ref.record_type, ref.record_id) if ref.record_type in SIGNABLE else None
    return own or _active(session, "patient", ref.patient_id)


def _when(value: dt.datetime) -> str:
    return (
        value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        if value.tzinfo
        else f"{value:%Y-%m-%d %H:%M} UTC"
    )


def _locked_problem(ref: RecordRef, sig: Signature, field: str = "(record)") -> Problem:
    whose = (
        "it"
        if sig.record_type == ref.record_type
        else "its patient " + ref.patient_code
        if sig.record_type == "patient"
        else f"its {sig.record_type} {sig.record_id}"
    )
    return Problem(
        ref.label,
        field,
        f"{ref.label} is locked: {whose} was signed by {sig.printed_name} ({sig.signer}) on {_when(sig.signed_at)}; "
        "an admin must unlock it (with a reason) before it can be changed or deleted",
    )


LOCKED_BY_VISIT_OR_PATIENT: dict[str, str] = {"pro_assessments": "pro_assessment"}
"""Records that are not signed themselves but are locked with the visit they belong to or their
patient: a patient's RAND-36 questionnaires (:mod:`lupuscell.registry.pro_models`)."""


def check_unlocked(session: Session, obj: Any) -> None:
    """Repository hook: RecordLockedError when ``obj`` (an ORM clinical record) is locked."""
    record_type = TABLE_ENTITY.get(obj.__tablename__) or LOCKED_BY_VISIT_OR_PATIENT.get(obj.__tablename__)
    if record_type is None:  # sites are not signed
        return
    patient = (
        obj
        if isinstance(obj, Patient)
        else obj.course.patient
        if isinstance(obj, DrugAdministration)
        else obj.patient
    )
    ref = RecordRef(
        record_type,
        int(obj.id),
        obj,
        int(patient.id),
        int(patient.site_id),
        str(patient.code),
        str(patient.site.code),
    )
    sig = _locking_signature(session, ref)
    if sig is None and getattr(obj, "visit_id", None) is not None and record_type != "visit":
        sig = _active(session, "visit", int(obj.visit_id))
    if sig is not None:
        raise RecordLockedError(_locked_problem(ref, sig))


def _signer(session: Session, username: str, password: str, label: str) -> User:
    user = session.scalars(sa.select(User).where(User.username == username.strip().lower())).one_or_none()
    wrong = Problem(label, "password", "the user name or the password is wrong; nothing was signed")
    if user is None or not user.active:
        raise ValidationError(wrong)
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise ValidationError(wrong) from None
    if user.role not in SIGNING_ROLES:
        raise ValidationError(
            Problem(label, "signer", f"a {user.role} may not sign; only {' or '.join(SIGNING_ROLES)}")
        )
    return user


def sign(
    session: Session,
    record_type: str,
    record_id: int | str,
    *,
    username: str,
    password: str,
    sites: Collection[str] | None = None,
) -> dict[str, Any]:
    """Sign (and lock) a patient's record or a visit; the password is checked again here.

    ``sites``: the site codes the signer may act on (None = every site).
    """
    label = f"{record_type} {record_id}"
    if record_type not in SIGNABLE:
        raise ValidationError(Problem(label, "record_type", f"only a {' or a '.join(SIGNABLE)} is signed"))
    ref = locate(session, record_type, record_id)
    user = _signer(session, username, password, ref.label)
    if sites is not None and ref.site_code not in sites:
        raise ValidationError(
            Problem(ref.label, "site", f"{user.username} is not a member of this record's site")
        )
    begin_write(session)
    existing = _locking_signature(session, ref)
    if existing is not None:
        raise RecordLockedError(_locked_problem(ref, existing, "signature"))
    sig = Signature(
        record_type=record_type,
        record_id=ref.record_id,
        patient_id=ref.patient_id,
        site_id=ref.site_id,
        signer=user.username,
        printed_name=user.full_name or user.username,
        meaning=MEANINGS[record_type],
    )
    session.add(sig)
    session.flush()
    audit.log_create(session, sig, actor=user.username, reason=f"electronic signature: {sig.meaning}")
    return as_dict(sig)


def unlock(session: Session, record_type: str, record_id: int | str, *, actor: str, reason: str) -> int:
    """End the lock of a signed record (admin only, with a reason); return the signatures ended."""
    label = f"{record_type} {record_id}"
    who = audit.require_actor(actor, label)
    why = require_text(reason, label, "reason")
    ref = locate(session, record_type, record_id)
    if session.scalar(sa.select(User.role).where(User.username == who)) != "admin":
        raise ValidationError(
            Problem(ref.label, "actor", f"only an admin may unlock a record ({who} is not an admin)")
        )
    begin_write(session)
    active = session.scalars(
        sa.select(Signature).where(
            Signature.record_type == record_type,
            Signature.record_id == ref.record_id,
            Signature.unlocked_at.is_(None),
        )
    ).all()
    if not active:
        raise ValidationError(
            Problem(ref.label, "locked", f"{ref.label} is not signed, so there is nothing to unlock")
        )
    now = dt.datetime.now(dt.UTC)
    for sig in active:
        sig.unlocked_by, sig.unlocked_at, sig.unlock_reason = who, now, why
        session.flush()
        audit.log_update(
            session, sig, {"unlocked_at": (None, now), "unlocked_by": (None, who)}, actor=who, reason=why
        )
    return len(active)


def as_dict(sig: Signature) -> dict[str, Any]:
    return {
        "id": sig.id,
        "record_type": sig.record_type,
        "record_id": sig.record_id,
        "signer": sig.signer,
        "printed_name": sig.printed_name,
        "meaning": sig.meaning,
        "signed_at": sig.signed_at,
        "active": sig.unlocked_at is None,
        "unlocked_by": sig.unlocked_by,
        "unlocked_at": sig.unlocked_at,
        "unlock_reason": sig.unlock_reason,
    }


def signatures(session: Session, record_type: str, record_id: int) -> list[dict[str, Any]]:
    """Every signature of a record (active and ended), oldest first."""
    rows = session.scalars(
        sa.select(Signature)
        .where(Signature.record_type == record_type, Signature.record_id == record_id)
        .order_by(Signature.id)
    ).all()
    return [as_dict(s) for s in rows]


def lock_state(session: Session, record_type: str, record_id: int | str) -> dict[str, Any] | None:
    """The active signature that locks a record (its own or its patient's), or None."""
    ref = locate(session, record_type, record_id)
    sig = _locking_signature(session, ref)
    return None if sig is None else as_dict(sig)
