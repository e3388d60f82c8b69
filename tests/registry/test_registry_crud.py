"""Create / read / update / delete of every entity, and the audit rows each write leaves."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from registry_sample import ACTOR  # type: ignore[import-not-found]

from lupuscell.errors import NotFoundError
from lupuscell.registry.repository import ENTITIES, Registry


def _records(course_id: int) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """entity -> (valid input, a valid change) for the entities below a patient."""
    return {
        "drug_administration": (
            {
                "course_id": course_id,
                "drug": "cyclophosphamide",
                "dose": 2.0,
                "unit": "g/m2",
                "admin_date": "2020-01-06",
                "purpose": "mobilisation",
            },
            {"dose": 1.5},
        ),
        "visit": (
            {
                "patient_code": "KI-0001",
                "visit_date": "2020-06-01",
                "proteinuria": True,
                "low_complement": False,
                "pga": 0.7,
                "prednisone_mg_per_day": 7.5,
                "bilag": {"renal": "B"},
            },
            {"pga": 0.5},
        ),
        "lab_result": (
            {
                "patient_code": "KI-0001",
                "result_date": "2020-03-12",
                "analyte": "anc",
                "value": 600,
                "unit": "/uL",
            },
            {"value": 700},
        ),
        "adverse_event": (
            {
                "patient_code": "KI-0001",
                "course_id": course_id,
                "term": "Febrile neutropenia",
                "category": "infection",
                "ctcae_grade": 3,
                "onset_date": "2020-03-04",
                "serious": True,
                "relatedness": "probable",
            },
            {"resolution_date": "2020-03-09"},
        ),
        "clinical_event": (
            {
                "patient_code": "KI-0001",
                "event_type": "flare",
                "event_date": "2022-05-01",
                "severity": "severe",
            },
            {"severity": "mild_moderate"},
        ),
    }


def test_every_entity_round_trips(registry: Registry, seeded: dict[str, Any]) -> None:
    course_id = seeded["course"]["id"]
    assert seeded["patient"]["site_code"] == "KI"
    assert seeded["course"]["infusion_date"] == dt.date(2020, 3, 1)
    for entity, (data, change) in _records(course_id).items():
        created = registry.create(entity, data, actor=ACTOR)
        assert registry.get(entity, created["id"]) == created
        updated = registry.update(entity, created["id"], change, actor=ACTOR, reason="source verification")
        for name, value in change.items():
            stored = updated[name]
            assert (str(stored) if isinstance(stored, dt.date) else stored) == value
        assert registry.delete(entity, created["id"], actor=ACTOR, reason="test cleanup") == 1
        with pytest.raises(NotFoundError):
            registry.get(entity, created["id"])
    assert set(ENTITIES) == {"site", "patient", "therapy_course", *_records(course_id)}


def test_lab_read_path_returns_stored_and_canonical_values(
    registry: Registry, seeded: dict[str, Any]
) -> None:
    lab = {"patient_code": "KI-0001", "result_date": "2020-03-12", "analyte": "creatinine", "value": 97.24}
    created = registry.create("lab_result", {**lab, "unit": "µmol/L"}, actor=ACTOR)
    assert (created["value"], created["unit"]) == (97.24, "µmol/L")  # stored as entered
    assert created["unit_canonical"] == "mg/dL"
    assert created["value_canonical"] == pytest.approx(1.1)
    listed = registry.list_records("lab_result", patient_code="KI-0001")
    assert [r["id"] for r in listed] == [created["id"]]


def test_create_is_audited_with_the_record(registry: Registry, seeded: dict[str, Any]) -> None:
    rows = registry.history("patient", seeded["patient"]["id"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["action"], row["actor"], row["entity"], row["field"]) == ("create", ACTOR, "patients", None)
    assert row["old_value"] is None
    assert json.loads(row["new_value"])["code"] == "KI-0001"
    assert row["reason"] == "initial entry"
    assert isinstance(row["changed_at"], dt.datetime)


def test_update_is_audited_per_changed_field(registry: Registry, seeded: dict[str, Any]) -> None:
    course_id = seeded["course"]["id"]
    registry.update(
        "therapy_course",
        course_id,
        {
            "viability_percent": 95.0,
            "discharge_date": "2020-03-22",
            "route": "intravenous",
        },  # route unchanged
        actor="monitor.b",
        reason="query 17 resolved",
    )
    rows = [r for r in registry.history("therapy_course", course_id) if r["action"] == "update"]
    assert {r["field"]: (r["old_value"], r["new_value"]) for r in rows} == {
        "viability_percent": ("97.5", "95.0"),
        "discharge_date": ('"2020-03-20"', '"2020-03-22"'),
    }
    assert {(r["actor"], r["reason"], r["entity"], r["entity_id"]) for r in rows} == {
        ("monitor.b", "query 17 resolved", "therapy_courses", str(course_id))
    }


def test_update_without_changes_writes_no_audit_row(registry: Registry, seeded: dict[str, Any]) -> None:
    before = registry.counts()
    registry.update("patient", "KI-0001", {"sex": "F"}, actor=ACTOR, reason="checked")
    assert registry.counts() == before


def test_delete_of_a_patient_removes_and_audits_every_record(
    registry: Registry, seeded: dict[str, Any]
) -> None:
    for entity, (data, _) in _records(seeded["course"]["id"]).items():
        registry.create(entity, data, actor=ACTOR)
    audit_before = registry.counts()["audit_log"]
    deleted = registry.delete("patient", "KI-0001", actor="dpo", reason="consent withdrawn")
    assert deleted == 7  # patient, course, drug, visit, lab, AE, clinical event
    counts = registry.counts()
    assert counts["patients"] == counts["therapy_courses"] == counts["visits"] == counts["lab_results"] == 0
    assert counts["audit_log"] == audit_before + deleted
    deletes = [r for r in registry.history() if r["action"] == "delete"]
    assert {r["entity"] for r in deletes} == {
        "patients",
        "therapy_courses",
        "drug_administrations",
        "visits",
        "lab_results",
        "adverse_events",
        "clinical_events",
    }
    assert all(r["reason"] == "consent withdrawn" and r["actor"] == "dpo" for r in deletes)
    patient_row = next(r for r in deletes if r["entity"] == "patients")
    assert json.loads(patient_row["old_value"])["birth_year"] == 1985
    assert registry.get("site", "KI")["code"] == "KI"


def test_unknown_entity_and_record(registry: Registry) -> None:
    from lupuscell.errors import ValidationError

    with pytest.raises(ValidationError, match="entity"):
        registry.get("donor", 1)
    with pytest.raises(NotFoundError):
        registry.get("patient", "NOPE-1")
    with pytest.raises(NotFoundError):
        registry.update("visit", 12345, {"pga": 1.0}, actor=ACTOR, reason="x")


def test_site_and_course_update_and_delete(registry: Registry, seeded: dict[str, Any]) -> None:
    site = registry.create("site", {"code": "NJ", "name": "Nanjing"}, actor=ACTOR)
    assert (
        registry.update("site", "NJ", {"country": "CN"}, actor=ACTOR, reason="completed")["country"] == "CN"
    )
    assert registry.delete("site", site["id"], actor=ACTOR, reason="never enrolled") == 1
    course_id = seeded["course"]["id"]
    registry.create(
        "drug_administration",
        {
            "course_id": course_id,
            "drug": "G-CSF",
            "dose": 10,
            "unit": "ug/kg",
            "admin_date": "2020-01-07",
            "purpose": "mobilisation",
        },
        actor=ACTOR,
    )
    assert registry.delete("therapy_course", course_id, actor=ACTOR, reason="entered in error") == 2
    assert registry.counts()["drug_administrations"] == 0


def test_records_created_together_are_all_written_or_none(registry: Registry, seeded: dict[str, Any]) -> None:
    """A visit and the labs of its form: one transaction (a bad lab leaves no visit behind)."""
    from lupuscell.errors import ValidationError

    code = seeded["patient"]["code"]
    visit = {"patient_code": code, "visit_date": "2020-07-01", "pga": 0.4}
    lab = {"patient_code": code, "result_date": "2020-07-01", "analyte": "c3", "value": 0.8, "unit": "g/L"}
    implausible = {**lab, "analyte": "platelets", "value": -5, "unit": "10^9/L"}
    before = registry.counts()
    with pytest.raises(ValidationError):
        registry.create_together(
            [("visit", visit), ("lab_result", lab), ("lab_result", implausible)], actor=ACTOR
        )
    assert registry.counts() == before
    saved = registry.create_together([("visit", visit), ("lab_result", lab)], actor=ACTOR)
    assert [str(saved[0]["visit_date"]), saved[1]["analyte"]] == ["2020-07-01", "c3"]
    created = [row for row in registry.history() if row["action"] == "create"]
    assert {row["entity"] for row in created[-2:]} == {"visits", "lab_results"}
