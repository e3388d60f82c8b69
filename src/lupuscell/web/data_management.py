"""View logic of data management, shared by the pages (:mod:`lupuscell.web.routes.data_management`)
and the JSON API (:mod:`lupuscell.web.api.data_management`): queries (discrepancy notes),
source-data verification and electronic signatures / locks.

The rules of the data themselves live in the registry (:mod:`lupuscell.registry.queries`,
:mod:`lupuscell.registry.sdv`, :mod:`lupuscell.registry.locking`: statuses, the closer is the
raiser or an admin, the password is checked again, a locked record refuses changes). Here: who
may do what (:data:`lupuscell.web.roles.DATA_MANAGEMENT`) and site isolation - a record or a
query of a site the caller does not belong to reads exactly as one that does not exist (404), so
nothing leaks. Every write is one transaction (:func:`lupuscell.registry.session.transaction`)
holding the change and its audit rows.

Sources: OpenClinica / REDCap data resolution workflow (query thread, roles); ICH E6(R3) 3.11.4
(monitoring) and 3.16.1 (data handling); FDA 21 CFR Part 11 §11.10(g) (authority checks),
§11.50 (signature manifestations) and §11.200(a)(1) (re-entering a signature component).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError, ValidationError
from lupuscell.registry import locking, queries, scoped, sdv
from lupuscell.registry.dm_models import QUERY_STATUSES, SDV_FORMS, SDV_STATUSES, SIGNABLE
from lupuscell.registry.dm_records import RecordRef, fields_of, locate
from lupuscell.registry.session import transaction
from lupuscell.web.deps import AppState, Forbidden, Principal

REVIEWED: tuple[str, ...] = ("visit", "therapy_course", "adverse_event", "patient")
"""Records with a data-management view (fields with "raise a query", SDV, signatures)."""
ACTIONS: dict[str, str] = {
    "query_raise": "raise queries",
    "query_answer": "answer queries",
    "sdv": "set the source-data verification status",
    "sign": "sign records",
    "unlock": "unlock signed records",
}
"""Permission -> what a refusal says the role may not do."""
STEPS: tuple[str, ...] = ("answer", "close", "reopen")
MAX_ID = 2**31 - 1
"""The largest record id (32-bit keys on PostgreSQL)."""


def need(who: Principal, permission: str) -> None:
    """Forbidden (403) naming the role and the action unless ``who`` holds ``permission``."""
    if not who.can(permission):
        raise Forbidden(f"the {who.role} role may not {ACTIONS[permission]}")


@contextmanager
def reading(app: AppState) -> Iterator[Session]:
    """A read-only session on the read engine."""
    with Session(app.reader) as session:
        yield session


def visible(session: Session, who: Principal, record_type: str, record_id: int | str) -> RecordRef:
    """The record if it exists in one of the caller's sites; NotFoundError (404) otherwise, with
    the same message either way."""
    missing = NotFoundError(f"{record_type} {record_id} does not exist")
    if str(record_id).isdigit() and not 1 <= int(record_id) <= MAX_ID:
        raise missing  # beyond what a key can hold: never sent to the database
    try:
        ref = locate(session, record_type, record_id)
    except ValidationError as exc:
        if any(p.field == "record_id" for p in exc.problems):
            raise missing from None
        raise
    if ref.site_code not in who.sites:
        raise missing
    return ref


def check_site(who: Principal, site: str | None) -> None:
    """NotFoundError unless ``site`` (when given) is one of the caller's sites."""
    if site and site not in who.sites:
        raise NotFoundError(f"site {site} does not exist")


def check_patient(app: AppState, who: Principal, patient: str | None) -> None:
    """NotFoundError unless ``patient`` (when given) belongs to one of the caller's sites."""
    if patient and scoped.patient_site(app.reader, patient) not in who.sites:
        raise NotFoundError(f"patient {patient} does not exist")


# --------------------------------------------------------------------------- queries


def list_queries(
    app: AppState,
    who: Principal,
    *,
    site: str | None = None,
    patient: str | None = None,
    status: str | None = None,
    record: tuple[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The queries of the caller's sites, filtered (oldest first)."""
    check_site(who, site)
    check_patient(app, who, patient)
    with reading(app) as session:
        if record is not None:
            visible(session, who, *record)
        return queries.list_queries(
            session, sites=who.sites, site=site or None, patient=patient or None, status=status, record=record
        )


def patient_counts(app: AppState, who: Principal, site: str | None = None) -> dict[str, dict[str, int]]:
    """Patient code -> open and answered queries, for the patients of the caller's sites (or of
    one of them) that have any."""
    check_site(who, site)
    out: dict[str, dict[str, int]] = {}
    with reading(app) as session:
        rows = queries.list_queries(session, sites=who.sites, site=site or None)
    for row in rows:
        if row["status"] != "closed":
            out.setdefault(row["patient_code"], {"open": 0, "answered": 0})[row["status"]] += 1
    return dict(sorted(out.items()))


def open_counts(app: AppState, who: Principal) -> dict[str, dict[str, int]]:
    """Site -> open and answered queries, for every site of the caller (zeros included)."""
    with reading(app) as session:
        counts = queries.open_counts(session, sites=who.sites)
    return {site: counts.get(site, {"open": 0, "answered": 0}) for site in who.sites}


def may_step(who: Principal, query: dict[str, Any], step: str) -> bool:
    """Whether ``who`` may take ``step`` on ``query`` (the status is the registry's to check):
    answer - a coordinator, an investigator or an admin; close and re-open - whoever raised it
    or an admin (a data-quality rule's query: anyone who may raise queries)."""
    if step == "answer":
        return who.can("query_answer")
    return (
        who.username == query["raised_by"]
        or who.role == "admin"
        or (query["rule_id"] is not None and who.can("query_raise"))
    )


def get_query(app: AppState, who: Principal, query_id: int) -> dict[str, Any]:
    """One query of the caller's sites with its thread and what the caller may do next."""
    with reading(app) as session:
        query = queries.get_query(session, query_id, sites=who.sites)
    query["may"] = {
        step: may_step(who, query, step) and query["status"] in queries.TRANSITIONS[step][0] for step in STEPS
    }
    return query


def raise_query(
    app: AppState, who: Principal, record_type: str, record_id: int, field: str, text: str
) -> dict[str, Any]:
    """Raise a query on a field of a record of the caller's sites; return it with its thread."""
    need(who, "query_raise")
    with transaction(app.engine) as session:
        ref = visible(session, who, record_type, record_id)
        query_id = queries.raise_query(
            session,
            record_type=ref.record_type,
            record_id=ref.record_id,
            field=field,
            text=text,
            actor=who.username,
        )
    return get_query(app, who, query_id)


def step_query(app: AppState, who: Principal, query_id: int, step: str, text: str) -> dict[str, Any]:
    """Answer, close or re-open a query of the caller's sites; return it with its thread."""
    with transaction(app.engine) as session:
        query = queries.get_query(session, query_id, sites=who.sites)
        if not may_step(who, query, step):
            if step == "answer":
                need(who, "query_answer")
            raise Forbidden(
                f"only {query['raised_by']} (who raised query {query_id}) or an admin may {step} it"
            )
        {"answer": queries.answer_query, "close": queries.close_query, "reopen": queries.reopen_query}[step](
            session, query_id, text=text, actor=who.username
        )
    return get_query(app, who, query_id)


# --------------------------------------------------------------------------- SDV


def get_sdv(app: AppState, who: Principal, record_type: str, record_id: int) -> dict[str, Any]:
    """The SDV status of a form of the caller's sites."""
    with reading(app) as session:
        ref = visible(session, who, record_type, record_id)
        return sdv.get_status(session, ref.record_type, ref.record_id)


def set_sdv(
    app: AppState, who: Principal, record_type: str, record_id: int, status: str, findings: str | None
) -> dict[str, Any]:
    """Set the SDV status of a form (a monitor or an admin); audited."""
    need(who, "sdv")
    with transaction(app.engine) as session:
        ref = visible(session, who, record_type, record_id)
        return sdv.set_status(
            session, ref.record_type, ref.record_id, status=status, findings=findings, actor=who.username
        )


def sdv_reports(app: AppState, who: Principal, site: str | None = None) -> list[dict[str, Any]]:
    """The SDV report of each of the caller's sites (or of one of them)."""
    check_site(who, site)
    with reading(app) as session:
        return [sdv.report(session, sites=who.sites, site=code) for code in ([site] if site else who.sites)]


# --------------------------------------------------------------------------- signatures


def signature_state(app: AppState, who: Principal, record_type: str, record_id: int | str) -> dict[str, Any]:
    """A record's lock (its own or its patient's signature), its signatures and the meaning of
    signing it."""
    with reading(app) as session:
        ref = visible(session, who, record_type, record_id)
        return {
            "record_type": ref.record_type,
            "record_id": ref.record_id,
            "patient_code": ref.patient_code,
            "site_code": ref.site_code,
            "lock": locking.lock_state(session, ref.record_type, ref.record_id),
            "signatures": locking.signatures(session, ref.record_type, ref.record_id)
            if ref.record_type in SIGNABLE
            else [],
            "meaning": locking.MEANINGS.get(ref.record_type),
        }


def lock_notice(app: AppState, who: Principal, record_type: str, record_id: int) -> dict[str, Any] | None:
    """The signature state of a record when it is locked (for the banner of its edit form), else
    None."""
    found = signature_state(app, who, record_type, record_id)
    return found if found["lock"] is not None else None


def sign(
    app: AppState, who: Principal, record_type: str, record_id: int | str, password: str
) -> dict[str, Any]:
    """Sign (and lock) a patient's record or a visit as the caller, who re-enters the password."""
    need(who, "sign")
    with transaction(app.engine) as session:
        ref = visible(session, who, record_type, record_id)
        return locking.sign(
            session, ref.record_type, ref.record_id, username=who.username, password=password, sites=who.sites
        )


def unlock(app: AppState, who: Principal, record_type: str, record_id: int | str, reason: str) -> int:
    """End the lock of a signed record (an admin, with a reason); return the signatures ended."""
    need(who, "unlock")
    with transaction(app.engine) as session:
        ref = visible(session, who, record_type, record_id)
        return locking.unlock(session, ref.record_type, ref.record_id, actor=who.username, reason=reason)


# --------------------------------------------------------------------------- the record view


def record_view(app: AppState, who: Principal, record_type: str, record_id: int) -> dict[str, Any]:
    """What the data-management view of a record shows: its fields and values with their open
    queries, its queries, its SDV status (forms) and its lock and signatures."""
    if record_type not in REVIEWED:
        raise NotFoundError(f"{record_type} {record_id} does not exist")
    with reading(app) as session:
        ref = visible(session, who, record_type, record_id)
        status = sdv.get_status(session, record_type, ref.record_id) if record_type in SDV_FORMS else None
        thread = queries.list_queries(session, sites=who.sites, record=(record_type, ref.record_id))
        values = {name: getattr(ref.obj, name) for name in fields_of(record_type)}
    open_by_field: dict[str, int] = {}
    for q in thread:
        if q["status"] != "closed":
            open_by_field[q["field"]] = open_by_field.get(q["field"], 0) + 1
    return {
        "record_type": record_type,
        "record_id": ref.record_id,
        "patient_code": ref.patient_code,
        "site_code": ref.site_code,
        "fields": [{"name": k, "value": v, "open": open_by_field.get(k, 0)} for k, v in values.items()],
        "queries": thread,
        "sdv": status,
        "sdv_statuses": SDV_STATUSES,
        "signature": signature_state(app, who, record_type, ref.record_id),
        "query_statuses": QUERY_STATUSES,
    }
