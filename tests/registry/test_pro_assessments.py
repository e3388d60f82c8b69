"""Patient-reported outcome assessments (RAND-36) in the registry: create / update / delete with
audit rows, validation naming item and value, cross-record rules, site isolation and the scores
read back (worked by hand from RAND Tables 1 and 2). Both engines (``engine`` fixture)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from registry_sample import ACTOR  # type: ignore[import-not-found]

from lupuscell.errors import NotFoundError, ValidationError
from lupuscell.registry import pro_read, scoped
from lupuscell.registry.repository import Registry

PRO = {
    "patient_code": "KI-0001",
    "assessment_date": "2020-09-01",
    # q3 1 -> 0, q4 3 -> 100 (physical functioning 50); q21 2 -> 80, q22 1 -> 100 (pain 90)
    "responses": {"q3": 1, "q4": 3, "q21": 2, "q22": 1},
    "patient_global_assessment": 3.5,
    "completed_by": "patient",
}


def _problems(info: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in info.value.problems}


def test_create_read_update_audited(registry: Registry, seeded: dict[str, Any]) -> None:
    created = registry.create("pro_assessment", PRO, actor=ACTOR)
    assert created["responses"] == {"q3": 1, "q4": 3, "q21": 2, "q22": 1}  # answered items only
    assert created["assessment_date"] == dt.date(2020, 9, 1) and created["patient_code"] == "KI-0001"
    assert (created["instrument"], created["patient_global_assessment_scale"]) == ("rand36", "nrs_0_10")
    scores = pro_read.scores_of(created)
    assert (scores["physical_functioning"], scores["pain"]) == (50.0, 90.0)
    assert scores["role_physical"] is None and scores["items_answered"]["pain"] == 2
    created_row = registry.history("pro_assessment", created["id"])
    assert [r["action"] for r in created_row] == ["create"]
    assert json.loads(created_row[0]["new_value"])["responses"]["q21"] == 2

    with pytest.raises(ValidationError) as info:
        registry.update("pro_assessment", created["id"], {"completed_by": "proxy"}, actor=ACTOR, reason=" ")
    assert "reason" in str(info.value)
    updated = registry.update(
        "pro_assessment",
        created["id"],
        {"responses": {**PRO["responses"], "q4": 2}, "completed_by": "staff"},
        actor="coordinator.a",
        reason="patient corrected item 4",
    )
    assert pro_read.scores_of(updated)["physical_functioning"] == 25.0  # (0 + 50) / 2
    rows = {
        r["field"]: r for r in registry.history("pro_assessment", created["id"]) if r["action"] == "update"
    }
    assert set(rows) == {"responses", "completed_by"}
    assert json.loads(rows["responses"]["old_value"])["q4"] == 3
    assert json.loads(rows["responses"]["new_value"])["q4"] == 2
    assert rows["completed_by"]["reason"] == "patient corrected item 4"


def test_rejections_name_item_and_value_and_write_nothing(registry: Registry, seeded: dict[str, Any]) -> None:
    bad = {**PRO, "responses": {"q3": 7, "q14": 0}, "patient_global_assessment": 11, "completed_by": "nurse"}
    with pytest.raises(ValidationError) as info:
        registry.create("pro_assessment", bad, actor=ACTOR)
    problems = _problems(info)
    assert "answer 7 is not one of the 3 answers of q3" in problems["responses.q3"]
    assert "answer 0 is not one of the 2 answers of q14" in problems["responses.q14"]
    assert "11 is outside the range [0, 10] of the nrs_0_10 scale" in problems["patient_global_assessment"]
    assert "completed_by" in problems
    assert all(p.record == "pro_assessment KI-0001" for p in info.value.problems)
    vas = {**PRO, "patient_global_assessment": 55, "patient_global_assessment_scale": "vas_0_100_mm"}
    assert registry.create("pro_assessment", vas, actor=ACTOR)["patient_global_assessment"] == 55
    with pytest.raises(ValidationError) as info:
        registry.create("pro_assessment", {**PRO, "responses": {"q37": 1}}, actor=ACTOR)
    assert "responses.q37" in _problems(info)
    assert len(registry.list_records("pro_assessment")) == 1  # only the valid one


def test_cross_record_rules(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = registry.create("visit", {"patient_code": "KI-0001", "visit_date": "2020-09-01"}, actor=ACTOR)
    registry.create(
        "patient", {"code": "KI-0002", "site_code": "KI", "sex": "M", "birth_year": 1990}, actor=ACTOR
    )
    with pytest.raises(ValidationError) as info:
        registry.create(
            "pro_assessment", {**PRO, "patient_code": "KI-0002", "visit_id": visit["id"]}, actor=ACTOR
        )
    assert _problems(info)["visit_id"] == f"visit {visit['id']} belongs to another patient"
    with pytest.raises(ValidationError) as info:
        registry.create(
            "pro_assessment", {**PRO, "visit_id": visit["id"], "assessment_date": "2020-09-02"}, actor=ACTOR
        )
    assert "is not the date of visit" in _problems(info)["assessment_date"]
    with pytest.raises(ValidationError) as info:
        registry.create("pro_assessment", {**PRO, "assessment_date": "1970-01-01"}, actor=ACTOR)
    assert "before the patient's birth year 1985" in _problems(info)["assessment_date"]
    with pytest.raises(ValidationError) as info:
        registry.create("pro_assessment", {**PRO, "patient_code": "KI-9999"}, actor=ACTOR)
    assert "unknown patient 'KI-9999'" in _problems(info)["patient_code"]
    first = registry.create("pro_assessment", {**PRO, "visit_id": visit["id"]}, actor=ACTOR)
    with pytest.raises(ValidationError) as info:
        registry.create("pro_assessment", PRO, actor=ACTOR)
    assert f"(pro_assessment {first['id']})" in _problems(info)["assessment_date"]
    with pytest.raises(ValidationError) as info:
        registry.delete("visit", visit["id"], actor=ACTOR, reason="entered twice")
    assert "1 patient-reported outcome assessment(s) refer to this visit" in _problems(info)["visit_id"]


def test_site_isolation_and_patient_deletion(registry: Registry, seeded: dict[str, Any]) -> None:
    created = registry.create("pro_assessment", PRO, actor=ACTOR)
    registry.create("pro_assessment", {**PRO, "assessment_date": "2020-06-01"}, actor=ACTOR)
    engine = registry.engine
    assert scoped.get_record(engine, "pro_assessment", created["id"], ["KI"])["id"] == created["id"]
    with pytest.raises(NotFoundError):
        scoped.get_record(engine, "pro_assessment", created["id"], ["UU"])
    assert pro_read.patient_assessments(engine, "KI-0001", ["UU"]) == []
    mine = pro_read.patient_assessments(engine, "KI-0001", ["KI"])
    assert [r["assessment_date"] for r in mine] == [dt.date(2020, 6, 1), dt.date(2020, 9, 1)]
    assert mine[1]["scores"]["pain"] == 90.0
    assert registry.delete("patient", "KI-0001", actor=ACTOR, reason="consent withdrawn") == 4
    assert registry.list_records("pro_assessment") == []
    deleted = [r for r in registry.history("pro_assessment") if r["action"] == "delete"]
    assert len(deleted) == 2 and all(r["reason"] == "consent withdrawn" for r in deleted)


def test_cohort_frame_has_therapy_and_months(registry: Registry, seeded: dict[str, Any]) -> None:
    registry.create("pro_assessment", PRO, actor=ACTOR)
    frame = pro_read.cohort_frame(registry.engine)
    row = frame.iloc[0]
    assert (row["patient_code"], row["therapy"], row["site_code"]) == ("KI-0001", "autologous_hsct", "KI")
    assert row["months"] == pytest.approx(184 / 30.4375)  # 2020-03-01 -> 2020-09-01
    assert (row["physical_functioning"], row["pain"]) == (50.0, 90.0)
    assert pro_read.cohort_frame(registry.engine, ["UU"]).empty


def test_patient_audit_trail_shows_the_assessments(registry: Registry, seeded: dict[str, Any]) -> None:
    created = registry.create("pro_assessment", PRO, actor=ACTOR)
    registry.update("pro_assessment", created["id"], {"completed_by": "proxy"}, actor=ACTOR, reason="mother")
    trail = scoped.audit_trail(registry.engine, ["KI"], patient_code="KI-0001").items
    mine = [(r["action"], r["field"]) for r in trail if r["entity"] == "pro_assessments"]
    assert mine == [("update", "completed_by"), ("create", None)]
    assert all(r["patient_code"] == "KI-0001" for r in trail)
    registry.delete("pro_assessment", created["id"], actor=ACTOR, reason="entered for the wrong patient")
    trail = scoped.audit_trail(registry.engine, ["KI"], patient_code="KI-0001").items
    assert ("delete", "pro_assessments") in {(r["action"], r["entity"]) for r in trail}
    assert scoped.audit_trail(registry.engine, ["UU"]).items == []


def test_a_signed_patient_or_visit_locks_its_questionnaires(
    registry: Registry, seeded: dict[str, Any], engine: Any
) -> None:
    """21 CFR Part 11 style locking covers the questionnaires: a signature on the patient, or on
    the visit a questionnaire belongs to, refuses its change and its deletion, naming the lock;
    the admin's unlock (with a reason) frees it again."""
    from argon2 import PasswordHasher

    from lupuscell.registry import locking
    from lupuscell.registry.accounts import create_user
    from lupuscell.registry.session import transaction

    digest = PasswordHasher().hash("correct horse battery")
    for name, role in (("inv", "investigator"), ("boss", "admin")):
        create_user(engine, username=name, password_hash=digest, role=role, sites=["KI"], actor=ACTOR)
    visit = registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2020-09-01", "pga": 1.0}, actor=ACTOR
    )
    pro = registry.create("pro_assessment", {**PRO, "visit_id": visit["id"]}, actor=ACTOR)
    for record_type, record_id, whose in (
        ("patient", "KI-0001", "its patient KI-0001"),
        ("visit", visit["id"], f"its visit {visit['id']}"),
    ):
        with transaction(engine) as session:
            locking.sign(session, record_type, record_id, username="inv", password="correct horse battery")
        with pytest.raises(locking.RecordLockedError, match=f"pro_assessment {pro['id']} is locked: {whose}"):
            registry.update("pro_assessment", pro["id"], {"completed_by": "staff"}, actor=ACTOR, reason="x")
        with pytest.raises(locking.RecordLockedError):
            registry.delete("pro_assessment", pro["id"], actor=ACTOR, reason="x")
        with transaction(engine) as session:
            locking.unlock(session, record_type, record_id, actor="boss", reason="questionnaire re-entered")
    registry.update("pro_assessment", pro["id"], {"completed_by": "staff"}, actor=ACTOR, reason="unlocked")
    assert registry.get("pro_assessment", pro["id"])["completed_by"] == "staff"
