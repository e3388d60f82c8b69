"""Bad input is rejected with record, field and reason, and writes nothing (issue 2 acceptance).

Every case snapshots the row counts of every table (audit log included) before the call
and asserts they are unchanged after the rejection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from registry_sample import ACTOR, COURSE, PATIENT  # type: ignore[import-not-found]

from lupuscell.errors import ValidationError
from lupuscell.registry.repository import Registry


def _rejected(registry: Registry, call: Callable[[], Any], field: str) -> ValidationError:
    before = registry.counts()
    with pytest.raises(ValidationError) as info:
        call()
    assert field in {p.field for p in info.value.problems}, info.value
    assert field in str(info.value)
    assert registry.counts() == before, "a rejected record must write nothing (rows and audit log)"
    return info.value


def test_unknown_therapy_type(registry: Registry, seeded: dict[str, Any]) -> None:
    error = _rejected(
        registry,
        lambda: registry.create("therapy_course", {**COURSE, "therapy": "stem_cells"}, actor=ACTOR),
        "therapy",
    )
    assert "autologous_hsct" in str(error)  # the allowed values are listed


def test_negative_cell_dose(registry: Registry, seeded: dict[str, Any]) -> None:
    _rejected(
        registry,
        lambda: registry.create("therapy_course", {**COURSE, "cell_dose_per_kg": -2.0e6}, actor=ACTOR),
        "cell_dose_per_kg",
    )


def test_infusion_before_harvest(registry: Registry, seeded: dict[str, Any]) -> None:
    bad = {**COURSE, "harvest_date": "2020-03-05", "conditioning_start_date": None}
    error = _rejected(registry, lambda: registry.create("therapy_course", bad, actor=ACTOR), "infusion_date")
    assert "harvest_date" in str(error)


def test_visit_before_birth_year(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = {"patient_code": "KI-0001", "visit_date": "1984-12-31"}
    error = _rejected(registry, lambda: registry.create("visit", visit, actor=ACTOR), "visit_date")
    assert "1985" in str(error)


def test_visit_in_the_birth_year_is_accepted(registry: Registry, seeded: dict[str, Any]) -> None:
    registry.create("visit", {"patient_code": "KI-0001", "visit_date": "1985-01-01"}, actor=ACTOR)


def test_unknown_lab_unit(registry: Registry, seeded: dict[str, Any]) -> None:
    lab = {"patient_code": "KI-0001", "result_date": "2020-03-10", "analyte": "c3", "value": 0.9}
    lab["unit"] = "mmol/L"
    error = _rejected(registry, lambda: registry.create("lab_result", lab, actor=ACTOR), "unit")
    assert "g/L" in str(error)


def test_duplicate_patient_code(registry: Registry, seeded: dict[str, Any]) -> None:
    error = _rejected(registry, lambda: registry.create("patient", PATIENT, actor=ACTOR), "code")
    assert "KI-0001" in str(error) and "already exists" in str(error)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_update_without_a_reason(registry: Registry, seeded: dict[str, Any], reason: str | None) -> None:
    _rejected(
        registry,
        lambda: registry.update("patient", "KI-0001", {"birth_year": 1986}, actor=ACTOR, reason=reason),
        "reason",
    )
    assert registry.get("patient", "KI-0001")["birth_year"] == 1985


def test_delete_without_a_reason(registry: Registry, seeded: dict[str, Any]) -> None:
    _rejected(registry, lambda: registry.delete("patient", "KI-0001", actor=ACTOR, reason=None), "reason")


def test_write_without_an_actor(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = {"patient_code": "KI-0001", "visit_date": "2020-04-01"}
    _rejected(registry, lambda: registry.create("visit", visit, actor=" "), "actor")


def test_invalid_update_leaves_the_record_unchanged(registry: Registry, seeded: dict[str, Any]) -> None:
    course_id = seeded["course"]["id"]
    _rejected(
        registry,
        lambda: registry.update(
            "therapy_course", course_id, {"discharge_date": "2020-02-01"}, actor=ACTOR, reason="fix"
        ),
        "discharge_date",
    )
    assert str(registry.get("therapy_course", course_id)["discharge_date"]) == "2020-03-20"


def test_birth_year_after_existing_records(registry: Registry, seeded: dict[str, Any]) -> None:
    _rejected(
        registry,
        lambda: registry.update(
            "patient", "KI-0001", {"birth_year": 2021, "sle_diagnosis_date": None}, actor=ACTOR, reason="typo"
        ),
        "birth_year",
    )


def test_unknown_patient_code(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = {"patient_code": "KI-9999", "visit_date": "2020-04-01"}
    _rejected(registry, lambda: registry.create("visit", visit, actor=ACTOR), "patient_code")


def test_second_visit_on_the_same_date(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = {"patient_code": "KI-0001", "visit_date": "2020-04-01"}
    registry.create("visit", visit, actor=ACTOR)
    _rejected(registry, lambda: registry.create("visit", visit, actor=ACTOR), "visit_date")


def test_second_death(registry: Registry, seeded: dict[str, Any]) -> None:
    death = {"patient_code": "KI-0001", "event_type": "death", "event_date": "2021-01-01"}
    death["cause"] = "infection"
    registry.create("clinical_event", death, actor=ACTOR)
    _rejected(
        registry,
        lambda: registry.create("clinical_event", {**death, "event_date": "2021-02-01"}, actor=ACTOR),
        "event_type",
    )


def test_adverse_event_on_another_patients_course(registry: Registry, seeded: dict[str, Any]) -> None:
    registry.create("patient", {**PATIENT, "code": "KI-0002"}, actor=ACTOR)
    ae = {
        "patient_code": "KI-0002",
        "course_id": seeded["course"]["id"],
        "term": "Febrile neutropenia",
        "category": "infection",
        "ctcae_grade": 3,
        "onset_date": "2020-03-05",
    }
    _rejected(registry, lambda: registry.create("adverse_event", ae, actor=ACTOR), "course_id")


def test_site_with_patients_is_not_deleted(registry: Registry, seeded: dict[str, Any]) -> None:
    _rejected(registry, lambda: registry.delete("site", "KI", actor=ACTOR, reason="closed"), "code")


def test_course_referenced_by_an_adverse_event_is_not_deleted(
    registry: Registry, seeded: dict[str, Any]
) -> None:
    ae = {
        "patient_code": "KI-0001",
        "course_id": seeded["course"]["id"],
        "term": "Engraftment syndrome",
        "category": "other",
        "ctcae_grade": 2,
        "onset_date": "2020-03-10",
    }
    registry.create("adverse_event", ae, actor=ACTOR)
    _rejected(
        registry,
        lambda: registry.delete("therapy_course", seeded["course"]["id"], actor=ACTOR, reason="duplicate"),
        "course_id",
    )


def test_a_constraint_the_database_still_rejects_is_reported_by_field(engine: Any) -> None:
    """A concurrent duplicate (or a bypassed check) surfaces as a ValidationError naming the field."""
    import sqlalchemy as sa

    from lupuscell.registry.repository import integrity_problem

    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sites (code, name) VALUES ('KI', 'Karolinska')")
    cases = [
        ("INSERT INTO sites (code, name) VALUES ('KI', 'again')", "code"),
        (
            "INSERT INTO patients (code, site_id, sex, birth_year, organ_involvement, prior_therapies, "
            "created_at, updated_at) SELECT 'P-1', id, 'F', 1850, '[]', '[]', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP FROM sites",
            "birth_year",
        ),
    ]
    for statement, field in cases:
        with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
            conn.exec_driver_sql(statement)
        error = integrity_problem(info.value, "record 1")
        assert [p.field for p in error.problems] == [field], error
