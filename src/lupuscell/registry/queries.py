"""Queries (discrepancy notes): a question on one field of one record, answered and closed in a
thread.

Life cycle (the data-management vocabulary of OpenClinica / REDCap's "data resolution
workflow", and ICH E6(R3) 3.16.1 on the resolution of data queries):

* **open** - raised by a monitor, an investigator or an admin (web, API, CLI), or by a soft
  data-quality rule on save (``rule_id`` set; :func:`raise_query` is called inside the saving
  transaction);
* **answered** - a coordinator or an investigator answers (and usually corrects the value,
  with its own reason, through the repository);
* **closed** - by whoever raised it or by an admin (a rule's query: by any user who may raise
  queries); an answered or closed query can be **re-opened**.

Every step is a :class:`~lupuscell.registry.dm_models.QueryMessage` (who, when, text, status
after) and an audit row (entity ``queries`` / ``query_messages``). Who may do what is checked
by the web and API layers from :mod:`lupuscell.web.roles`; here only the rules that hold for
every path (the closer is the raiser or an admin, the status allows the step).

Every write function takes the caller's open write transaction (a :class:`Session`, or a
:class:`Connection` inside a transaction) and does not commit: the caller's transaction holds
the query and its audit rows with whatever else it writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError, Problem, ValidationError
from lupuscell.registry import audit
from lupuscell.registry.account_models import User
from lupuscell.registry.dm_models import QUERY_STATUSES, Query, QueryMessage
from lupuscell.registry.dm_records import begin_write, check_field, locate, require_text
from lupuscell.registry.models import Patient, Site

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "answer": (("open", "answered"), "answered"),
    "close": (("open", "answered"), "closed"),
    "reopen": (("answered", "closed"), "open"),
}
"""Step -> (statuses it may start from, status it leaves)."""


@contextmanager
def _session(session_or_conn: Session | Connection) -> Iterator[Session]:
    """The caller's session, or a session joined to the caller's connection and transaction."""
    if isinstance(session_or_conn, Session):
        yield session_or_conn
        session_or_conn.flush()
        return
    if not session_or_conn.in_transaction():
        raise ValueError("raise a query inside the caller's write transaction (the connection has none)")
    with Session(bind=session_or_conn, join_transaction_mode="create_savepoint") as session:
        yield session
        session.flush()
        session.commit()  # releases the savepoint only; the caller's transaction stays open


def _message(session: Session, query: Query, kind: str, text: str, actor: str) -> None:
    message = QueryMessage(query=query, kind=kind, text=text, actor=actor, status_after=query.status)
    session.add(message)
    session.flush()
    audit.log_create(session, message, actor=actor, reason=f"query {query.id}: {kind}")


def raise_query(
    session_or_conn: Session | Connection,
    *,
    record_type: str,
    record_id: int,
    field: str,
    text: str,
    actor: str,
    rule_id: str | None = None,
) -> int:
    """Raise a query on ``field`` of record ``record_type`` ``record_id``; return its id.

    Usable inside an existing write transaction (the caller commits). A data-quality rule's
    query (``rule_id`` given) that is still open or answered on the same field is not raised
    twice: its id is returned.
    """
    with _session(session_or_conn) as session:
        label = f"{record_type} {record_id}"
        who = audit.require_actor(actor, label)
        ref = locate(session, record_type, record_id)
        check_field(record_type, field, ref.label)
        body = require_text(text, ref.label)
        rule = None if rule_id is None else require_text(rule_id, ref.label, "rule_id", 64)
        begin_write(session)
        if rule is not None:
            existing = session.scalar(
                sa.select(Query.id).where(
                    Query.record_type == record_type,
                    Query.record_id == ref.record_id,
                    Query.field == field,
                    Query.rule_id == rule,
                    Query.status != "closed",
                )
            )
            if existing is not None:
                return int(existing)
        query = Query(
            record_type=record_type,
            record_id=ref.record_id,
            field=field,
            patient_id=ref.patient_id,
            site_id=ref.site_id,
            status="open",
            text=body,
            rule_id=rule,
            raised_by=who,
        )
        session.add(query)
        session.flush()
        audit.log_create(session, query, actor=who, reason=f"query raised on {ref.label} {field}")
        _message(session, query, "raise", body, who)
        return int(query.id)


def _is_admin(session: Session, actor: str) -> bool:
    return session.scalar(sa.select(User.role).where(User.username == actor)) == "admin"


def _step(session: Session, query_id: int, step: str, text: str, actor: str) -> Query:
    """Move query ``query_id`` by ``step`` (answer, close, reopen) with a message; audited."""
    label = f"query {query_id}"
    who = audit.require_actor(actor, label)
    body = require_text(text, label)
    begin_write(session)
    query = session.get(Query, query_id)
    if query is None:
        raise NotFoundError(f"query {query_id} does not exist")
    allowed_from, after = TRANSITIONS[step]
    if query.status not in allowed_from:
        raise ValidationError(
            Problem(
                label,
                "status",
                f"a {query.status} query cannot be {_PAST[step]} (only {' or '.join(allowed_from)})",
            )
        )
    if (
        step in ("close", "reopen")
        and who != query.raised_by
        and query.rule_id is None
        and not _is_admin(session, who)
    ):
        verb = "close" if step == "close" else "re-open"
        raise ValidationError(
            Problem(
                label, "actor", f"only {query.raised_by} (who raised it) or an admin may {verb} this query"
            )
        )
    old = query.status
    query.status, query.updated_at = after, dt.datetime.now(dt.UTC)
    session.flush()
    audit.log_update(session, query, {"status": (old, after)}, actor=who, reason=body)
    _message(session, query, step, body, who)
    return query


_PAST = {"answer": "answered", "close": "closed", "reopen": "re-opened"}


def answer_query(session: Session, query_id: int, *, text: str, actor: str) -> None:
    """Answer an open (or add to an answered) query."""
    _step(session, query_id, "answer", text, actor)


def close_query(session: Session, query_id: int, *, text: str, actor: str) -> None:
    """Close a query (the raiser or an admin; a data-quality rule's query: anyone allowed to)."""
    _step(session, query_id, "close", text, actor)


def reopen_query(session: Session, query_id: int, *, text: str, actor: str) -> None:
    """Re-open an answered or closed query (the raiser or an admin, as for closing)."""
    _step(session, query_id, "reopen", text, actor)


# --------------------------------------------------------------------------- reads


def _as_dict(query: Query, patient_code: str, site_code: str) -> dict[str, Any]:
    return {
        "id": query.id,
        "record_type": query.record_type,
        "record_id": query.record_id,
        "field": query.field,
        "patient_code": patient_code,
        "site_code": site_code,
        "status": query.status,
        "text": query.text,
        "rule_id": query.rule_id,
        "raised_by": query.raised_by,
        "raised_at": query.raised_at,
        "updated_at": query.updated_at,
    }


def list_queries(
    session: Session,
    *,
    sites: Collection[str] | None = None,
    site: str | None = None,
    patient: str | None = None,
    status: str | None = None,
    record: tuple[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Queries (oldest first) filtered by the site codes the reader may see (``sites``; None = all),
    a site code, a patient code, a status and one record."""
    if status is not None and status not in QUERY_STATUSES:
        raise ValidationError(
            Problem("queries", "status", f"unknown status {status!r}; one of {', '.join(QUERY_STATUSES)}")
        )
    stmt = (
        sa.select(Query, Patient.code, Site.code)
        .join(Patient, Patient.id == Query.patient_id)
        .join(Site, Site.id == Query.site_id)
        .order_by(Query.id)
    )
    if sites is not None:
        stmt = stmt.where(Site.code.in_(list(sites)))
    if site is not None:
        stmt = stmt.where(Site.code == site)
    if patient is not None:
        stmt = stmt.where(Patient.code == patient)
    if status is not None:
        stmt = stmt.where(Query.status == status)
    if record is not None:
        stmt = stmt.where(Query.record_type == record[0], Query.record_id == record[1])
    return [_as_dict(q, p, s) for q, p, s in session.execute(stmt)]


def get_query(session: Session, query_id: int, *, sites: Collection[str] | None = None) -> dict[str, Any]:
    """One query with its thread (``messages``); NotFoundError when absent or outside ``sites``."""
    query = session.get(Query, query_id)
    patient = None if query is None else session.get(Patient, query.patient_id)
    site = None if query is None else session.get(Site, query.site_id)
    if query is None or patient is None or site is None or (sites is not None and site.code not in sites):
        raise NotFoundError(f"query {query_id} does not exist")
    data = _as_dict(query, patient.code, site.code)
    data["messages"] = [
        {"kind": m.kind, "text": m.text, "actor": m.actor, "at": m.at, "status_after": m.status_after}
        for m in query.messages
    ]
    return data


def open_counts(session: Session, *, sites: Collection[str] | None = None) -> dict[str, dict[str, int]]:
    """Site code -> {status: number of queries} for the open and answered queries."""
    stmt = (
        sa.select(Site.code, Query.status, sa.func.count())
        .join(Site, Site.id == Query.site_id)
        .where(Query.status != "closed")
        .group_by(Site.code, Query.status)
    )
    if sites is not None:
        stmt = stmt.where(Site.code.in_(list(sites)))
    out: dict[str, dict[str, int]] = {}
    for code, status, n in session.execute(stmt):
        out.setdefault(code, {"open": 0, "answered": 0})[status] = int(n)
    return out
