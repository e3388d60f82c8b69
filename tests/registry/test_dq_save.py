"""Data-quality rules on save: the repository hook and the bulk import (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, assert_intact  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import ValidationError
from lupuscell.registry import queries
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.dm_models import Query
from lupuscell.registry.dq.check import DQ_ACTOR
from lupuscell.registry.models import AuditLog, Visit
from lupuscell.registry.repository import Registry


def _dq_queries(engine: Engine, record_type: str | None = None) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = queries.list_queries(session)
    return [q for q in rows if q["rule_id"] and (record_type is None or q["record_type"] == record_type)]


def _visit(registry: Registry, **fields: Any) -> dict[str, Any]:
    return registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2020-06-01", **fields}, actor=ACTOR
    )


def test_soft_rule_saves_and_raises_a_query_naming_rule_and_value(
    engine: Engine, registry: Registry, seeded: dict[str, Any]
) -> None:
    visit = _visit(registry, prednisone_mg_per_day=500)
    assert visit["prednisone_mg_per_day"] == 500
    (query,) = _dq_queries(engine, "visit")
    assert (query["record_id"], query["field"], query["rule_id"], query["status"]) == (
        visit["id"],
        "prednisone_mg_per_day",
        "prednisone_high",
        "open",
    )
    assert query["raised_by"] == DQ_ACTOR
    assert "prednisone_mg_per_day = 500" in query["text"] and "rule prednisone_high" in query["text"]
    assert f"saved by {ACTOR}" in query["text"]
    assert_intact(engine)


def test_soft_query_not_raised_twice_and_closed_when_a_later_save_satisfies_the_rule(
    engine: Engine, registry: Registry, seeded: dict[str, Any]
) -> None:
    visit = _visit(registry, prednisone_mg_per_day=500)
    registry.update("visit", visit["id"], {"prednisone_mg_per_day": 400}, actor=ACTOR, reason="typo")
    assert [q["status"] for q in _dq_queries(engine)] == ["open"]
    registry.update("visit", visit["id"], {"prednisone_mg_per_day": 40}, actor=ACTOR, reason="source: 40 mg")
    (query,) = _dq_queries(engine)
    assert query["status"] == "closed"
    with Session(engine) as session:
        thread = queries.get_query(session, query["id"])["messages"]
    assert [m["kind"] for m in thread] == ["raise", "close"]
    assert thread[-1]["actor"] == DQ_ACTOR and "holds" in thread[-1]["text"]
    # violated again later: a new query (the closed one stays closed)
    registry.update("visit", visit["id"], {"prednisone_mg_per_day": 300}, actor=ACTOR, reason="pulse")
    assert [q["status"] for q in _dq_queries(engine)] == ["closed", "open"]
    assert_intact(engine)


def test_hard_rule_refuses_create_naming_record_field_and_rule(
    engine: Engine, registry: Registry, seeded: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as caught:
        _visit(registry, prednisone_mg_per_day=2000)
    (problem,) = caught.value.problems
    assert problem.field == "prednisone_mg_per_day"
    assert "rule prednisone_maximum" in problem.message and "2000" in problem.message
    assert problem.record.startswith("visit")
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Query)) == 0
        assert session.scalar(sa.select(sa.func.count()).where(AuditLog.entity == "visits")) == 0
    assert_intact(engine)


def test_hard_rule_refuses_update_and_keeps_the_stored_value(
    engine: Engine, registry: Registry, seeded: dict[str, Any]
) -> None:
    course = seeded["course"]
    with pytest.raises(ValidationError) as caught:
        registry.update("therapy_course", course["id"], {"cd34_per_kg": 5.2}, actor=ACTOR, reason="fix")
    (problem,) = caught.value.problems
    assert (problem.field, problem.record) == ("cd34_per_kg", f"therapy_course {course['id']}")
    assert "rule cd34_dose_unit" in problem.message
    assert registry.get("therapy_course", course["id"])["cd34_per_kg"] == 5.2e6


def test_lab_rule_reads_the_canonical_value(
    engine: Engine, registry: Registry, seeded: dict[str, Any]
) -> None:
    base = {"patient_code": "KI-0001", "result_date": "2020-06-01", "analyte": "hb"}
    registry.create("lab_result", {**base, "value": 120, "unit": "g/L"}, actor=ACTOR)  # 12 g/dL
    assert _dq_queries(engine) == []
    lab = registry.create("lab_result", {**base, "value": 250, "unit": "g/L"}, actor=ACTOR)  # 25 g/dL
    (query,) = _dq_queries(engine)
    assert (query["record_id"], query["field"], query["rule_id"]) == (
        lab["id"],
        "value",
        "hemoglobin_extreme",
    )
    assert "value_canonical = 25.0" in query["text"]


def _frames(prednisone: float, grade: int = 3, serious: bool = False) -> dict[str, pd.DataFrame]:
    return {
        "sites": pd.DataFrame([{"code": "BK", "name": "Bulk site"}]),
        "patients": pd.DataFrame([{"code": "BK-1", "site_code": "BK", "sex": "F", "birth_year": 1980}]),
        "visits": pd.DataFrame(
            [
                {
                    "patient_code": "BK-1",
                    "visit_date": pd.Timestamp("2021-01-05"),
                    "prednisone_mg_per_day": prednisone,
                }
            ]
        ),
        "adverse_events": pd.DataFrame(
            [
                {
                    "patient_code": "BK-1",
                    "term": "Sepsis",
                    "category": "infection",
                    "grade": grade,
                    "onset_date": pd.Timestamp("2021-01-10"),
                    "serious": serious,
                }
            ]
        ),
    }


def test_bulk_import_raises_soft_queries(engine: Engine) -> None:
    load_tables(engine, [_frames(prednisone=150, grade=4)], actor="loader", source="test", reason="dq test")
    found = sorted((q["record_type"], q["rule_id"], q["field"]) for q in _dq_queries(engine))
    assert found == [
        ("adverse_event", "life_threatening_serious", "serious"),
        ("visit", "prednisone_high", "prednisone_mg_per_day"),
    ]
    assert all("imported by loader" in q["text"] for q in _dq_queries(engine))
    assert_intact(engine)


def test_bulk_import_refused_by_a_hard_rule_writes_nothing(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught:
        load_tables(
            engine, [_frames(prednisone=40, grade=5)], actor="loader", source="test", reason="dq test"
        )
    (problem,) = caught.value.problems
    assert problem.field == "serious" and "rule fatal_event_serious" in problem.message
    assert "patient BK-1" in problem.record
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    assert_intact(engine)


def test_batch_run_in_sql_agrees_with_the_python_loop(engine: Engine, registry: Registry) -> None:
    from registry_sample import build_cohort  # type: ignore[import-not-found]

    from lupuscell.registry.dq.batch import run, run_python

    build_cohort(registry)
    _visit(registry, visit_date="2021-02-02", prednisone_mg_per_day=300)
    registry.create(
        "lab_result",
        {"patient_code": "KI-0001", "result_date": "2021-02-02", "analyte": "c3", "value": 4, "unit": "g/L"},
        actor=ACTOR,
    )
    with engine.begin() as conn:  # a hard violation stored before the rule existed
        conn.execute(
            sa.update(Visit).where(Visit.visit_date == dt.date(2021, 2, 2)).values(prednisone_mg_per_day=1500)
        )
    sql, python = run(engine), run_python(engine)
    as_set = lambda report: {(v.rule_id, v.record_id, v.patient_code, v.site_code) for v in report.violations}  # noqa: E731
    assert as_set(sql) == as_set(python)
    assert {("prednisone_maximum", "KI-0001"), ("c3_extreme", "KI-0001")} <= {
        (r, p) for r, _, p, _ in as_set(sql)
    }
    assert sql.records == python.records
    assert run(engine, site="NJ").records["patient"] == 2  # NJ-0001, NJ-0002
