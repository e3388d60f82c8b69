"""FHIR round trip of the explicit missing-value states (dataAbsentReason), on both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from interop_helpers import ACTOR, assert_same_registry  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.interop.fhir_common import DATA_ABSENT_REASON
from lupuscell.interop.fhir_export import export_fhir
from lupuscell.interop.fhir_import import import_fhir
from lupuscell.registry.repository import Registry


def _fill(engine: Engine) -> None:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "KI", "country": "SE"}, actor=ACTOR)
    registry.create(
        "patient",
        {
            "code": "KI-0001",
            "site_code": "KI",
            "sex": "F",
            "birth_year": 1985,
            "sle_diagnosis_date": "2010-01-01",
        },
        actor=ACTOR,
    )
    registry.create(
        "therapy_course",
        {
            "patient_code": "KI-0001",
            "therapy": "autologous_hsct",
            "infusion_date": "2021-01-10",
            "total_cell_dose": 4e8,
            "missing": {"cd34_per_kg": "unknown", "conditioning_start_date": "not_done"},
        },
        actor=ACTOR,
    )
    registry.create(
        "visit",
        {
            "patient_code": "KI-0001",
            "visit_date": "2021-04-01",
            "pga": 0.5,
            "fever": False,
            "missing": {"prednisone_mg_per_day": "unknown", "arthritis": "not_done", "lab.c3": "not_done"},
        },
        actor=ACTOR,
    )


def _components(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        for c in e["resource"].get("component", [])
    ]


def test_states_round_trip_as_data_absent_reason(engine: Engine, target: Engine, tmp_path: Path) -> None:
    _fill(engine)
    path = tmp_path / "bundle.json"
    export_fhir(engine, path, identified=True, actor=ACTOR, reason="FHIR test")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    absent = {
        c["code"]["coding"][0]["code"]: c["dataAbsentReason"]["coding"][0]
        for c in _components(bundle)
        if "dataAbsentReason" in c
    }
    assert {k: v["code"] for k, v in absent.items()} == {
        "arthritis": "not-performed",
        "lab.c3": "not-performed",
        "prednisone_mg_per_day": "unknown",
    }
    assert {v["system"] for v in absent.values()} == {DATA_ABSENT_REASON}
    assert not any("value" in k for c in _components(bundle) if "dataAbsentReason" in c for k in c)
    import_fhir(target, path, actor=ACTOR, reason="FHIR round trip")
    assert_same_registry(engine, target)
    [course] = Registry(target).list_records("therapy_course")
    assert course["missing"] == {"cd34_per_kg": "unknown", "conditioning_start_date": "not_done"}
    [visit] = Registry(target).list_records("visit")
    assert visit["missing"]["prednisone_mg_per_day"] == "unknown"


def test_other_absent_reasons_are_refused_naming_the_entry(
    engine: Engine, target: Engine, tmp_path: Path
) -> None:
    _fill(engine)
    path = tmp_path / "bundle.json"
    export_fhir(engine, path, identified=True, actor=ACTOR, reason="FHIR test")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    for component in _components(bundle):
        if "dataAbsentReason" in component:
            component["dataAbsentReason"]["coding"][0]["code"] = "masked"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        import_fhir(target, path, actor=ACTOR, reason="FHIR round trip")
    text = str(exc.value)
    assert "Observation" in text and "masked" in text and "dataAbsentReason" in text
    assert Registry(target).list_records("visit") == []
