"""Explicit missing-value states (not_done / unknown) of the minimum data, on both engines:
stored, read back, audited, refused with record and field named, and the completeness table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from registry_sample import ACTOR, COURSE, PATIENT, SITE  # type: ignore[import-not-found]

from lupuscell.errors import ValidationError
from lupuscell.registry import completeness
from lupuscell.registry.repository import Registry
from lupuscell.schemas.missing import MISSING_STATES, minimum_data

VISIT = {"patient_code": "KI-0001", "visit_date": "2020-06-01", "pga": 0.5, "prednisone_mg_per_day": 5.0}


def _problems(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str, str, str]]:
    return [(p.record, p.field, p.message) for p in exc.value.problems]


@pytest.fixture
def seeded(registry: Registry) -> dict[str, Any]:
    registry.create("site", SITE, actor=ACTOR)
    registry.create("patient", PATIENT, actor=ACTOR)
    return registry.create("therapy_course", COURSE, actor=ACTOR)


def test_minimum_data_lists_instrument_inputs_with_sources() -> None:
    data = minimum_data()
    visit_keys = set(data.keys("visit"))
    assert {"pga", "prednisone_mg_per_day", "fever", "low_complement", "lab.c3", "lab.upcr"} <= visit_keys
    assert {"total_cell_dose", "conditioning_start_date", "cd34_per_kg"} <= set(data.keys("therapy_course"))
    assert all(f.sources for fs in data.entities.values() for f in fs)
    assert set(data.states) == set(MISSING_STATES)


def test_states_are_stored_read_back_and_audited(registry: Registry, seeded: dict[str, Any]) -> None:
    visit = registry.create(
        "visit", {**VISIT, "missing": {"fever": "unknown", "lab.c3": "not_done"}}, actor=ACTOR
    )
    assert registry.get("visit", visit["id"])["missing"] == {"fever": "unknown", "lab.c3": "not_done"}
    updated = registry.update(
        "visit", visit["id"], {"missing": {"fever": "not_done"}}, actor=ACTOR, reason="source found"
    )
    assert updated["missing"] == {"fever": "not_done"}
    rows = [r for r in registry.history("visit", visit["id"]) if r["field"] == "missing"]
    assert len(rows) == 1 and rows[0]["action"] == "update"
    assert json.loads(rows[0]["old_value"]) == {"fever": "unknown", "lab.c3": "not_done"}
    assert json.loads(rows[0]["new_value"]) == {"fever": "not_done"}
    # an empty mapping is "no state recorded" (NULL), not a state
    cleared = registry.update("visit", visit["id"], {"missing": {}}, actor=ACTOR, reason="all assessed")
    assert cleared["missing"] is None


def test_value_and_state_together_is_refused_naming_record_and_field(
    registry: Registry, seeded: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as exc:
        registry.create("visit", {**VISIT, "missing": {"pga": "unknown"}}, actor=ACTOR)
    [(record, field, message)] = _problems(exc)
    assert record == "visit KI-0001" and field == "pga"
    assert "0.5" in message and "'unknown'" in message
    assert registry.list_records("visit") == []  # nothing written
    with pytest.raises(ValidationError) as exc:
        registry.update(
            "therapy_course",
            seeded["id"],
            {"missing": {"total_cell_dose": "not_done"}},
            actor=ACTOR,
            reason="x",
        )
    assert [(p.field) for p in exc.value.problems] == ["total_cell_dose"]
    assert registry.get("therapy_course", seeded["id"])["missing"] is None


@pytest.mark.parametrize(
    ("missing", "fragment"),
    [
        ({"fever": "n/a"}, "'fever': 'n/a' is not a missing-value state"),
        ({"bogus": "unknown"}, "'bogus' is not a minimum-data field of a visit"),
        ({"lab.ferritin": "unknown"}, "'lab.ferritin' is not a minimum-data field of a visit"),
        ("not a mapping", "mapping"),
    ],
)
def test_bad_state_names_are_refused(
    registry: Registry, seeded: dict[str, Any], missing: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        registry.create("visit", {**VISIT, "missing": missing}, actor=ACTOR)
    [(record, field, message)] = _problems(exc)
    assert record == "visit KI-0001" and field == "missing"
    assert fragment in message


def test_completeness_value_state_empty(registry: Registry, seeded: dict[str, Any], engine: Any) -> None:
    registry.update(
        "therapy_course",
        seeded["id"],
        {"cell_dose_per_kg": None, "missing": {"cell_dose_per_kg": "unknown"}},
        actor=ACTOR,
        reason="dose per kg not in the source",
    )
    descriptors = {d: False for d in ("seizure", "psychosis", "fever")}
    visit = registry.create(
        "visit",
        {**VISIT, **descriptors, "missing": {"arthritis": "not_done", "lab.c4": "unknown"}},
        actor=ACTOR,
    )
    registry.create(
        "lab_result",
        {
            "patient_code": "KI-0001",
            "result_date": "2020-05-25",
            "analyte": "C3",
            "value": 0.9,
            "unit": "g/L",
        },
        actor=ACTOR,
    )
    registry.create(  # outside the 10-day window: does not count for the visit
        "lab_result",
        {
            "patient_code": "KI-0001",
            "result_date": "2020-05-01",
            "analyte": "dsdna",
            "value": 50,
            "unit": "IU/mL",
        },
        actor=ACTOR,
    )
    table = completeness.completeness(engine)["KI-0001"]
    state = {(s.entity, s.field): s.state for s in table}
    assert state[("therapy_course", "cell_dose_per_kg")] == "unknown"
    assert state[("therapy_course", "total_cell_dose")] == "value"
    assert state[("visit", "pga")] == "value" and state[("visit", "fever")] == "value"
    assert state[("visit", "arthritis")] == "not_done"
    assert state[("visit", "lab.c3")] == "value"  # alias C3 within the window
    assert state[("visit", "lab.c4")] == "unknown"
    assert state[("visit", "lab.anti_dsdna")] == "empty"  # only outside the window
    assert state[("visit", "cva")] == "empty"
    chase = completeness.empty_fields(engine)["KI-0001"]
    assert {s.field for s in chase} >= {"cva", "lab.anti_dsdna", "lab.upcr"}
    assert all(s.state == "empty" and s.record == f"visit {visit['id']}" for s in chase)
    assert completeness.empty_fields(engine, sites=["NJ"]) == {}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_states_round_trip_through_export_and_import(
    registry: Registry, seeded: dict[str, Any], tmp_path: Any, fmt: str, empty_registry: Any
) -> None:
    from lupuscell.registry.exchange import export_directory, import_directory

    registry.create("visit", {**VISIT, "missing": {"fever": "unknown", "lab.c3": "not_done"}}, actor=ACTOR)
    registry.update(
        "therapy_course",
        seeded["id"],
        {"cd34_per_kg": None, "missing": {"cd34_per_kg": "unknown"}},
        actor=ACTOR,
        reason="not in the source",
    )
    export_directory(
        registry.engine, tmp_path / "a", fmt=fmt, identified=True, actor=ACTOR, reason="transfer"
    )
    empty_registry(registry.engine)
    import_directory(registry.engine, tmp_path / "a", actor=ACTOR, reason="transfer")
    [visit] = registry.list_records("visit")
    assert visit["missing"] == {"fever": "unknown", "lab.c3": "not_done"}
    [course] = registry.list_records("therapy_course")
    assert course["missing"] == {"cd34_per_kg": "unknown"} and course["cd34_per_kg"] is None
