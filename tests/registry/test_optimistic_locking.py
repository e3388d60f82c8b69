"""Optimistic locking in the repository: ``expected_version`` and the ``version`` column."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import ConflictError
from lupuscell.registry.models import Visit
from lupuscell.registry.repository import Registry

ACTOR = "tester"


def _visit(reg: Registry) -> dict:
    reg.create("site", {"code": "KI", "name": "Site"}, actor=ACTOR)
    reg.create("patient", {"code": "KI-1", "site_code": "KI", "sex": "F", "birth_year": 1980}, actor=ACTOR)
    return reg.create("visit", {"patient_code": "KI-1", "visit_date": "2022-01-01", "pga": 1.0}, actor=ACTOR)


def test_every_update_raises_the_version_and_a_stale_one_is_refused(engine: Engine) -> None:
    reg = Registry(engine)
    visit = _visit(reg)
    assert visit["version"] == 1
    v2 = reg.update("visit", visit["id"], {"pga": 0.5}, actor=ACTOR, reason="r", expected_version=1)
    assert v2["version"] == 2
    with pytest.raises(ConflictError) as caught:
        reg.update("visit", visit["id"], {"pga": 2.0}, actor=ACTOR, reason="late", expected_version=1)
    assert caught.value.current["pga"] == 0.5 and caught.value.current_version == 2
    assert reg.get("visit", visit["id"])["pga"] == 0.5
    assert [r["reason"] for r in reg.history("visit", visit["id"]) if r["action"] == "update"] == ["r"]
    with pytest.raises(ConflictError):
        reg.delete("visit", visit["id"], actor=ACTOR, reason="dup", expected_version=1)
    assert reg.delete("visit", visit["id"], actor=ACTOR, reason="dup", expected_version=2) == 1


def test_without_expected_version_updates_still_work_and_count(engine: Engine) -> None:
    reg = Registry(engine)
    visit = _visit(reg)
    assert reg.update("visit", visit["id"], {"pga": 0.2}, actor=ACTOR, reason="r")["version"] == 2
    assert reg.update("visit", visit["id"], {"pga": 0.2}, actor=ACTOR, reason="no change")["version"] == 2


def test_a_write_that_loses_the_race_inside_its_flush_is_a_conflict(engine: Engine) -> None:
    """The version check is also in the UPDATE statement (SQLAlchemy version_id_col)."""
    reg = Registry(engine)
    visit = _visit(reg)
    with Session(engine) as session:
        row = session.get(Visit, visit["id"])
        assert row is not None
        reg.update("visit", visit["id"], {"pga": 0.3}, actor=ACTOR, reason="other user")
        row.pga = 2.5
        from sqlalchemy.exc import OperationalError
        from sqlalchemy.orm.exc import StaleDataError

        # PostgreSQL: the UPDATE's "AND version = 1" matches no row. SQLite (transactions begin
        # with BEGIN, registry.session): the session's read snapshot predates the other commit,
        # so SQLite refuses to turn it into a write (SQLITE_BUSY_SNAPSHOT) before the UPDATE.
        stale = StaleDataError if engine.dialect.name == "postgresql" else OperationalError
        with pytest.raises(stale):
            session.commit()
    assert reg.get("visit", visit["id"])["pga"] == 0.3
