"""Source-data verification and signatures / locks at the registry level, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from registry_sample import ACTOR, assert_intact  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import ValidationError
from lupuscell.registry import locking, sdv
from lupuscell.registry.accounts import create_user
from lupuscell.registry.models import AuditLog
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import transaction

PASSWORD = "correct horse battery"


@pytest.fixture
def visit(registry: Registry, seeded: dict[str, Any]) -> dict[str, Any]:
    return registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2020-06-01", "pga": 1.5}, actor=ACTOR
    )


@pytest.fixture
def people(engine: Engine, seeded: dict[str, Any]) -> None:
    digest = PasswordHasher().hash(PASSWORD)
    for name, role in (("inv", "investigator"), ("boss", "admin"), ("coord", "coordinator")):
        create_user(
            engine,
            username=name,
            password_hash=digest,
            role=role,
            sites=["KI"],
            actor=ACTOR,
            full_name=f"Dr {name.title()}",
        )


def _status(engine: Engine, record_type: str, record_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        return sdv.get_status(session, record_type, record_id)


# --------------------------------------------------------------------------- SDV


def test_sdv_set_and_reset_when_the_data_change(
    registry: Registry, engine: Engine, visit: dict[str, Any]
) -> None:
    assert _status(engine, "visit", visit["id"])["status"] == "not_verified"
    with transaction(engine) as session:
        sdv.set_status(session, "visit", visit["id"], status="verified", actor="mon")
    assert _status(engine, "visit", visit["id"])["set_by"] == "mon"
    registry.update("visit", visit["id"], {"pga": 1.5}, actor="coord", reason="no change")
    assert _status(engine, "visit", visit["id"])["status"] == "verified"  # nothing changed
    registry.update("visit", visit["id"], {"pga": 2.5}, actor="coord", reason="query 1: source says 2.5")
    after = _status(engine, "visit", visit["id"])
    assert (after["status"], after["set_by"]) == ("not_verified", "coord")
    with Session(engine) as session:
        reasons = session.scalars(
            sa.select(AuditLog.reason).where(AuditLog.entity == "sdv_status", AuditLog.field == "status")
        ).all()
    assert reasons == ["data changed after source-data verification (query 1: source says 2.5)"]
    assert_intact(engine)


def test_sdv_findings_rules(engine: Engine, visit: dict[str, Any], seeded: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="findings: a text is required"), transaction(engine) as session:
        sdv.set_status(session, "visit", visit["id"], status="verified_with_findings", actor="mon")
    with (
        pytest.raises(ValidationError, match="only with verified_with_findings"),
        transaction(engine) as session,
    ):
        sdv.set_status(session, "visit", visit["id"], status="verified", findings="x", actor="mon")
    with (
        pytest.raises(ValidationError, match="per visit, therapy_course, adverse_event"),
        transaction(engine) as session,
    ):
        sdv.set_status(session, "patient", seeded["patient"]["id"], status="verified", actor="mon")
    with pytest.raises(ValidationError, match="unknown SDV status 'done'"), transaction(engine) as session:
        sdv.set_status(session, "visit", visit["id"], status="done", actor="mon")
    with transaction(engine) as session:
        sdv.set_status(
            session,
            "therapy_course",
            seeded["course"]["id"],
            status="verified_with_findings",
            findings="CD34 typo",
            actor="mon",
        )
    assert _status(engine, "therapy_course", seeded["course"]["id"])["findings"] == "CD34 typo"


def test_sdv_report_counts_percentages_and_unverified(
    registry: Registry, engine: Engine, visit: dict[str, Any]
) -> None:
    second = registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2020-09-01", "pga": 1.0}, actor=ACTOR
    )
    with transaction(engine) as session:
        sdv.set_status(session, "visit", visit["id"], status="verified", actor="mon")
    with Session(engine) as session:
        out = sdv.report(session, site="KI")
        none = sdv.report(session, sites=[])
    assert out["forms"]["visit"]["counts"] == {"not_verified": 1, "verified": 1, "verified_with_findings": 0}
    assert out["forms"]["visit"]["percent"]["verified"] == 50.0
    assert out["forms"]["therapy_course"]["total"] == 1
    assert [(u["record_type"], u["record_id"]) for u in out["unverified"]] == [
        ("visit", second["id"]),
        ("therapy_course", registry.list_records("therapy_course")[0]["id"]),
    ]
    assert none["forms"]["visit"]["total"] == 0


# --------------------------------------------------------------------------- signatures and locks


def _sign(
    engine: Engine, record_type: str, record_id: int, user: str = "inv", password: str = PASSWORD
) -> dict[str, Any]:
    with transaction(engine) as session:
        return locking.sign(session, record_type, record_id, username=user, password=password)


def test_signing_locks_a_visit_on_every_write_path(
    registry: Registry, engine: Engine, visit: dict[str, Any], people: None
) -> None:
    sig = _sign(engine, "visit", visit["id"])
    assert (sig["printed_name"], sig["meaning"]) == ("Dr Inv", locking.MEANINGS["visit"])
    with pytest.raises(locking.RecordLockedError) as info:
        registry.update("visit", visit["id"], {"pga": 3.0}, actor="coord", reason="fix")
    assert f"visit {visit['id']} is locked" in str(info.value) and "signed by Dr Inv (inv)" in str(info.value)
    with pytest.raises(locking.RecordLockedError):
        registry.delete("visit", visit["id"], actor="coord", reason="dup")
    with pytest.raises(locking.RecordLockedError):  # the patient's deletion would delete the visit
        registry.delete("patient", "KI-0001", actor="coord", reason="withdrawn")
    assert registry.get("visit", visit["id"])["pga"] == 1.5
    registry.update("patient", "KI-0001", {"nephritis_class": "III"}, actor="coord", reason="biopsy report")


def test_a_signed_patient_locks_all_its_records(
    registry: Registry, engine: Engine, visit: dict[str, Any], people: None
) -> None:
    patient_id = registry.get("patient", "KI-0001")["id"]
    _sign(engine, "patient", patient_id)
    with pytest.raises(locking.RecordLockedError, match="its patient KI-0001 was signed"):
        registry.update("visit", visit["id"], {"pga": 3.0}, actor="coord", reason="fix")
    with pytest.raises(locking.RecordLockedError, match="therapy_course"):
        registry.update(
            "therapy_course",
            registry.list_records("therapy_course")[0]["id"],
            {"route": "intravenous"},
            actor="c",
            reason="r",
        )
    with (
        pytest.raises(locking.RecordLockedError, match=r"visit .* is locked"),
        transaction(engine) as session,
    ):
        locking.sign(session, "visit", visit["id"], username="inv", password=PASSWORD)


def test_wrong_password_wrong_role_and_unlock_by_admin_only(
    registry: Registry, engine: Engine, visit: dict[str, Any], people: None
) -> None:
    with pytest.raises(ValidationError, match="the user name or the password is wrong"):
        _sign(engine, "visit", visit["id"], password="guess")
    with pytest.raises(ValidationError, match="a coordinator may not sign"):
        _sign(engine, "visit", visit["id"], user="coord")
    _sign(engine, "visit", visit["id"])
    with pytest.raises(ValidationError, match="only an admin may unlock"), transaction(engine) as session:
        locking.unlock(session, "visit", visit["id"], actor="inv", reason="typo")
    with pytest.raises(ValidationError, match="reason: a text is required"), transaction(engine) as session:
        locking.unlock(session, "visit", visit["id"], actor="boss", reason=" ")
    with transaction(engine) as session:
        assert (
            locking.unlock(session, "visit", visit["id"], actor="boss", reason="PGA transcription error") == 1
        )
    registry.update("visit", visit["id"], {"pga": 2.5}, actor="coord", reason="source says 2.5")
    with Session(engine) as session:
        history = locking.signatures(session, "visit", visit["id"])
        audited = session.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity == "signatures").order_by(AuditLog.id)
        ).all()
    assert [(s["active"], s["unlocked_by"], s["unlock_reason"]) for s in history] == [
        (False, "boss", "PGA transcription error")
    ]
    assert audited == ["create", "update", "update"]
    with pytest.raises(ValidationError, match="is not signed"), transaction(engine) as session:
        locking.unlock(session, "visit", visit["id"], actor="boss", reason="again")
    assert_intact(engine)
