"""The audit trail of the registry: who changed what, when, from which value to which, and why.

Rows are written in the same session (hence the same transaction) as the change they
describe, so a change and its audit row are committed or rolled back together. This follows
the audit-trail requirements for electronic clinical records (ICH E6(R3) GCP, section 4.2.3
and Annex 1; FDA 21 CFR Part 11 §11.10(e): "secure, computer-generated, time-stamped audit
trails ... record changes shall not obscure previously recorded information").

Shape of the rows (table ``audit_log``, see :class:`lupuscell.registry.models.AuditLog`):

* create - one row per record, ``field`` NULL, ``new_value`` the record as JSON;
* update - one row per changed field, ``old_value`` / ``new_value`` JSON scalars;
* delete - one row per record, ``old_value`` the record as JSON;
* import - one row per table loaded, ``new_value`` ``{"import_batch_id", "rows",
  "records_audited"}``, beside one create row per loaded record
  (:func:`lupuscell.registry.audit_chain.audit_batch_records`);
* export - one row per export (identified or not), written before its first file.

Values are JSON-encoded (dates as ISO strings) so the old value can be read back exactly.
The log is append-only: lupuscell offers no API to change or delete audit rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.models import AuditLog, Base

INTERNAL_COLUMNS = frozenset({"created_at", "updated_at", "import_batch_id"})
"""Bookkeeping columns left out of audit snapshots (they are not clinical data)."""


def encode(value: Any) -> str | None:
    """JSON text of a value (None stays NULL); dates and datetimes as ISO strings."""
    if value is None:
        return None
    return json.dumps(value, default=_default, sort_keys=True, ensure_ascii=False)


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def snapshot(obj: Base) -> dict[str, Any]:
    """The clinical column values of an ORM object (bookkeeping columns excluded)."""
    table = obj.__table__
    return {
        column.key: getattr(obj, column.key) for column in table.columns if column.key not in INTERNAL_COLUMNS
    }


ACTOR_MAX_LENGTH = 100
"""Length of ``audit_log.actor`` and ``import_batches.actor`` (enforced here, so SQLite, which
does not enforce VARCHAR lengths, refuses what PostgreSQL refuses)."""


def _no_nul(value: str, record: str, field: str) -> str:
    if "\x00" in value:
        raise ValidationError(
            Problem(record, field, "contains a NUL character (\\x00), which text cannot hold")
        )
    return value


def require_actor(actor: str | None, record: str) -> str:
    """The actor, stripped; ValidationError naming ``actor`` when missing, too long or with NUL."""
    if actor is None or not actor.strip():
        raise ValidationError(Problem(record, "actor", "an actor (who makes the change) is required"))
    who = _no_nul(actor.strip(), record, "actor")
    if len(who) > ACTOR_MAX_LENGTH:
        raise ValidationError(
            Problem(record, "actor", f"is longer than {ACTOR_MAX_LENGTH} characters ({len(who)})")
        )
    return who


def require_reason(reason: str | None, record: str, action: str) -> str:
    """The reason, stripped; ValidationError naming ``reason`` when missing, blank or with NUL."""
    if reason is None or not reason.strip():
        raise ValidationError(Problem(record, "reason", f"a reason is required to {action}"))
    return _no_nul(reason.strip(), record, "reason")


def log_create(session: Session, obj: Base, *, actor: str, reason: str) -> None:
    """Audit the creation of ``obj`` (flushed, so it has an id)."""
    session.add(
        AuditLog(
            actor=actor,
            action="create",
            entity=obj.__tablename__,
            entity_id=str(obj.id),  # type: ignore[attr-defined]
            new_value=encode(snapshot(obj)),
            reason=reason,
        )
    )


def log_update(
    session: Session,
    obj: Base,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    actor: str,
    reason: str,
) -> None:
    """Audit an update: one row per changed field with the old and the new value."""
    for field, (old, new) in changes.items():
        session.add(
            AuditLog(
                actor=actor,
                action="update",
                entity=obj.__tablename__,
                entity_id=str(obj.id),  # type: ignore[attr-defined]
                field=field,
                old_value=encode(old),
                new_value=encode(new),
                reason=reason,
            )
        )


def log_delete(session: Session, obj: Base, *, actor: str, reason: str) -> None:
    """Audit the deletion of ``obj`` with its last values."""
    session.add(
        AuditLog(
            actor=actor,
            action="delete",
            entity=obj.__tablename__,
            entity_id=str(obj.id),  # type: ignore[attr-defined]
            old_value=encode(snapshot(obj)),
            reason=reason,
        )
    )


def log_event(
    session: Session,
    *,
    action: str,
    entity: str,
    actor: str,
    reason: str,
    new_value: Any = None,
    entity_id: str | None = None,
) -> None:
    """Audit a table-level event (bulk import of a table, identified export)."""
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            new_value=encode(new_value),
            reason=reason,
        )
    )


def history(
    engine: Engine, entity: str | None = None, entity_id: int | str | None = None
) -> list[dict[str, Any]]:
    """Audit rows (oldest first), optionally for one table and record."""
    query = sa.select(AuditLog).order_by(AuditLog.id)
    if entity is not None:
        query = query.where(AuditLog.entity == entity)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == str(entity_id))
    with Session(engine) as session:
        return [
            {column.key: getattr(row, column.key) for column in AuditLog.__table__.columns}
            for row in session.scalars(query)
        ]


# Every audit row written through a Session is chained in its transaction (hash chain, 0004).
from lupuscell.registry import audit_chain as _audit_chain  # noqa: E402,F401
