"""Queries (discrepancy notes) at the registry level, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, assert_intact  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError, ValidationError
from lupuscell.registry import queries
from lupuscell.registry.accounts import create_user
from lupuscell.registry.dm_models import Query
from lupuscell.registry.models import AuditLog
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import transaction


@pytest.fixture
def visit(registry: Registry, seeded: dict[str, Any]) -> dict[str, Any]:
    return registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2020-06-01", "pga": 1.5}, actor=ACTOR
    )


def _raise(engine: Engine, visit_id: int, **kw: Any) -> int:
    with transaction(engine) as session:
        return queries.raise_query(
            session,
            record_type="visit",
            record_id=visit_id,
            field="pga",
            text="PGA 1.5 vs source 2.5?",
            actor="mon",
            **kw,
        )


def test_raise_query_in_session_is_stored_with_thread_and_audit(
    engine: Engine, visit: dict[str, Any]
) -> None:
    query_id = _raise(engine, visit["id"])
    with Session(engine) as session:
        data = queries.get_query(session, query_id)
        entities = session.scalars(
            sa.select(AuditLog.entity).where(AuditLog.actor == "mon").order_by(AuditLog.id)
        ).all()
    assert (data["status"], data["field"], data["patient_code"], data["site_code"]) == (
        "open",
        "pga",
        "KI-0001",
        "KI",
    )
    assert [m["kind"] for m in data["messages"]] == ["raise"]
    assert sorted(entities) == ["queries", "query_messages"]
    assert_intact(engine)


def test_raise_query_rolls_back_with_the_callers_transaction(engine: Engine, visit: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as session:
        queries.raise_query(
            session, record_type="visit", record_id=visit["id"], field="pga", text="t", actor="mon"
        )
        raise RuntimeError("the caller's save fails afterwards")
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Query)) == 0
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.actor == "mon"))
            == 0
        )


def test_raise_query_on_a_connection_inside_its_transaction(engine: Engine, visit: dict[str, Any]) -> None:
    with engine.connect() as conn, conn.begin():
        query_id = queries.raise_query(
            conn,
            record_type="visit",
            record_id=visit["id"],
            field="pga",
            text="t",
            actor="dq",
            rule_id="pga_range",
        )
        again = queries.raise_query(
            conn,
            record_type="visit",
            record_id=visit["id"],
            field="pga",
            text="t",
            actor="dq",
            rule_id="pga_range",
        )
    assert again == query_id
    with Session(engine) as session:
        assert queries.get_query(session, query_id)["rule_id"] == "pga_range"
    assert_intact(engine)


@pytest.mark.parametrize(
    ("record_type", "field", "needle"),
    [
        ("visit", "not_a_field", "visit has no field 'not_a_field'"),
        ("widget", "pga", "unknown record type 'widget'"),
    ],
)
def test_raise_query_names_a_bad_field_or_record_type(
    engine: Engine, visit: dict[str, Any], record_type: str, field: str, needle: str
) -> None:
    with pytest.raises(ValidationError) as info, transaction(engine) as session:
        queries.raise_query(
            session, record_type=record_type, record_id=visit["id"], field=field, text="t", actor="mon"
        )
    assert needle in str(info.value)


def test_raise_query_on_a_missing_record(engine: Engine, visit: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="visit 999999 does not exist"), transaction(engine) as session:
        queries.raise_query(
            session, record_type="visit", record_id=999999, field="pga", text="t", actor="mon"
        )


def test_thread_answer_close_reopen_and_rules(engine: Engine, visit: dict[str, Any]) -> None:
    query_id = _raise(engine, visit["id"])
    with transaction(engine) as session:
        queries.answer_query(session, query_id, text="corrected to 2.5", actor="coord")
    with (
        pytest.raises(ValidationError, match=r"only mon .* or an admin may close"),
        transaction(engine) as session,
    ):
        queries.close_query(session, query_id, text="ok", actor="coord")
    with transaction(engine) as session:
        queries.close_query(session, query_id, text="ok", actor="mon")
    with (
        pytest.raises(ValidationError, match="a closed query cannot be answered"),
        transaction(engine) as session,
    ):
        queries.answer_query(session, query_id, text="late", actor="coord")
    with (
        pytest.raises(ValidationError, match=r"only mon .* or an admin may re-open"),
        transaction(engine) as session,
    ):
        queries.reopen_query(session, query_id, text="I disagree", actor="coord")
    with transaction(engine) as session:
        queries.reopen_query(session, query_id, text="source says 3", actor="mon")
    create_user(engine, username="boss", password_hash="not-used", role="admin", sites=["KI"], actor=ACTOR)
    with transaction(engine) as session:
        queries.close_query(session, query_id, text="closed by admin", actor="boss")
    with Session(engine) as session:
        data = queries.get_query(session, query_id)
        status_rows = session.scalars(
            sa.select(AuditLog.new_value)
            .where(AuditLog.entity == "queries", AuditLog.field == "status")
            .order_by(AuditLog.id)
        ).all()
    assert [(m["kind"], m["status_after"], m["actor"]) for m in data["messages"]] == [
        ("raise", "open", "mon"),
        ("answer", "answered", "coord"),
        ("close", "closed", "mon"),
        ("reopen", "open", "mon"),
        ("close", "closed", "boss"),
    ]
    assert status_rows == ['"answered"', '"closed"', '"open"', '"closed"']
    assert_intact(engine)


def test_lists_per_site_patient_and_status_respect_the_readers_sites(
    registry: Registry, engine: Engine, visit: dict[str, Any]
) -> None:
    registry.create("site", {"code": "NJ", "name": "Nanjing", "country": "CN"}, actor=ACTOR)
    registry.create(
        "patient", {"code": "NJ-0001", "site_code": "NJ", "sex": "F", "birth_year": 1990}, actor=ACTOR
    )
    other = registry.create(
        "visit", {"patient_code": "NJ-0001", "visit_date": "2020-06-01", "pga": 1.0}, actor=ACTOR
    )
    first = _raise(engine, visit["id"])
    second = _raise(engine, other["id"])
    with transaction(engine) as session:
        queries.answer_query(session, second, text="fine", actor="coord")
    with Session(engine) as session:
        assert [q["id"] for q in queries.list_queries(session)] == [first, second]
        assert [q["id"] for q in queries.list_queries(session, sites=["KI"])] == [first]
        assert [q["id"] for q in queries.list_queries(session, patient="NJ-0001")] == [second]
        assert [q["id"] for q in queries.list_queries(session, status="answered")] == [second]
        assert queries.open_counts(session) == {
            "KI": {"open": 1, "answered": 0},
            "NJ": {"open": 0, "answered": 1},
        }
        with pytest.raises(NotFoundError):
            queries.get_query(session, second, sites=["KI"])
        with pytest.raises(ValidationError, match="unknown status 'pending'"):
            queries.list_queries(session, status="pending")
