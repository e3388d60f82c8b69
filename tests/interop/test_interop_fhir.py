"""FHIR R4: export validated by fhir.resources, round trip into a new registry, bad Bundles;
SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from interop_helpers import ACTOR, assert_same_registry, audit_rows, count_rows, fill, tables  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import NotFoundError, ValidationError
from lupuscell.interop.fhir_export import export_fhir
from lupuscell.interop.fhir_import import import_fhir
from lupuscell.registry.models import ImportBatch


def _export(engine: Engine, path: Path, **kw: Any) -> dict[str, Any]:
    export_fhir(engine, path, identified=True, actor=ACTOR, reason="FHIR test", **kw)
    bundle: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return bundle


def test_cohort_round_trips_through_a_bundle(engine: Engine, target: Engine, tmp_path: Path) -> None:
    fill(engine)
    bundle = _export(engine, tmp_path / "cohort.json")
    Bundle.model_validate(bundle)  # the models validate what was written
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {
        "Organization",
        "Patient",
        "Condition",
        "Procedure",
        "MedicationAdministration",
        "Encounter",
        "Observation",
        "AdverseEvent",
    }
    result = import_fhir(target, tmp_path / "cohort.json", actor=ACTOR, reason="FHIR round trip")
    assert result.skipped == {}
    assert_same_registry(engine, target)


def test_standard_codes_are_used_where_confirmed(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=8)
    bundle = _export(engine, tmp_path / "b.json")
    resources = [e["resource"] for e in bundle["entry"]]
    sle = [
        r
        for r in resources
        if r["resourceType"] == "Condition"
        and r["code"]["coding"][0]
        == {"system": "http://snomed.info/sct", "code": "55464009", "display": "Systemic lupus erythematosus"}
    ]
    assert len(sle) == 8
    anc = [
        r
        for r in resources
        if r["resourceType"] == "Observation"
        and any(c.get("code") == "751-8" and c["system"] == "http://loinc.org" for c in r["code"]["coding"])
    ]
    assert anc and all(r["category"][0]["coding"][0]["code"] == "laboratory" for r in anc)
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert all(len(p["birthDate"]) == 4 for p in patients)  # birth year only


def test_one_patient_and_unknown_patient(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=5)
    code = tables(engine)["patients"][0]["code"]
    bundle = _export(engine, tmp_path / "one.json", patient=code)
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["identifier"][0]["value"] for p in patients] == [code]
    with pytest.raises(NotFoundError):
        export_fhir(
            engine, tmp_path / "none.json", patient="NO-SUCH", identified=True, actor=ACTOR, reason="r"
        )


def test_deidentified_by_default_and_audited(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=5)
    data = tables(engine)
    export_fhir(engine, tmp_path / "deid.json", actor=ACTOR)
    text = (tmp_path / "deid.json").read_text(encoding="utf-8")
    assert not any(p["code"] in text for p in data["patients"])
    assert not any(str(c["infusion_date"]) in text for c in data["therapy_courses"])
    assert "urn:lupuscell:subject-id" in text
    audit = audit_rows(engine, "export")
    assert [a["entity_id"] for a in audit] == ["de-identified"]


def _entry(bundle: dict[str, Any], kind: str, test: Any = None, last: bool = False) -> dict[str, Any]:
    found = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind and (test is None or test(e["resource"]))
    ]
    resource: dict[str, Any] = found[-1] if last else found[0]
    return resource


def test_bad_bundle_every_problem_named_and_nothing_written(
    engine: Engine, target: Engine, tmp_path: Path
) -> None:
    fill(engine, n=6)
    good = _export(engine, tmp_path / "good.json")
    bad = copy.deepcopy(good)
    lab = _entry(bad, "Observation", lambda r: any(c.get("code") == "751-8" for c in r["code"]["coding"]))
    lab["code"]["coding"] = [{"system": "http://loinc.org", "code": "99999-9"}]  # unknown LOINC
    _entry(bad, "Patient", last=True)["gender"] = "unknown"  # a code the registry cannot hold
    course = _entry(bad, "Procedure")
    course["code"]["coding"][0]["code"] = "stem_cell_magic"  # wrong lupuscell code
    _entry(bad, "AdverseEvent")["date"] = "2021-03"  # a partial date
    platelets = _entry(
        bad, "Observation", lambda r: any(c.get("code") == "777-3" for c in r["code"]["coding"])
    )
    platelets["valueQuantity"] = {"value": 180, "unit": "plates/furlong"}  # a unit that does not exist
    drug = _entry(bad, "MedicationAdministration")
    del drug["category"]  # missing required field
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_fhir(target, path, actor=ACTOR, reason="bad bundle")
    text = "\n".join(str(p) for p in info.value.problems)
    assert "unknown LOINC code '99999-9'" in text and "751-8 anc" in text
    assert "(Patient): gender: gender 'unknown' cannot be recorded" in text
    assert "code.coding (therapy_courses.therapy): unknown therapy 'stem_cell_magic'" in text
    assert "date: date '2021-03' is partial" in text
    assert "category (drug_administrations.purpose): is required" in text
    assert (
        "valueQuantity.unit (lab_results.unit): unit 'plates/furlong' is not accepted for analyte 'platelets'"
        in text
    )
    assert (
        "is not a Patient read from this Bundle (and " in text
    )  # the rejected patient's records, counted once
    assert all(" entry[" in p.record for p in info.value.problems if "bad.json" in p.record)
    assert count_rows(target) == 0


def test_partial_import_loads_the_valid_records_in_one_batch_and_returns_the_rejects(
    engine: Engine, target: Engine, tmp_path: Path
) -> None:
    """``import fhir --partial``: the patient with a gender the registry cannot hold is left out
    with all of its records, one bad lab is left out alone, everything else is written as one
    audited import batch."""
    fill(engine, n=6)
    bundle = _export(engine, tmp_path / "good.json")
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    patients[-1]["gender"] = "unknown"
    lab = _entry(bundle, "Observation", lambda r: any(c.get("code") == "777-3" for c in r["code"]["coding"]))
    lab["valueQuantity"] = {"value": 180, "unit": "plates/furlong"}
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = import_fhir(target, path, actor=ACTOR, reason="valid part", partial=True)
    reasons = [(r.table, r.field, r.reason) for r in result.report.rejects]
    assert any("gender 'unknown' cannot be recorded" in reason for _, _, reason in reasons)
    assert any("plates/furlong" in reason for _, _, reason in reasons)
    source, written = tables(engine), tables(target)
    left_out = {p["code"] for p in source["patients"]} - {p["code"] for p in written["patients"]}
    assert len(left_out) == 1
    kept_labs = [row for row in source["lab_results"] if row["patient_code"] not in left_out]
    assert len(written["lab_results"]) == len(kept_labs) - 1  # the platelets in plates/furlong
    assert len(written["visits"]) == sum(1 for v in source["visits"] if v["patient_code"] not in left_out)
    with target.connect() as conn:
        batches = conn.execute(sa.select(ImportBatch.source, ImportBatch.reason)).all()
    assert batches == [(f"fhir:{path}", "valid part")]
    assert {row["entity"] for row in audit_rows(target, "import")} >= {"patients", "lab_results"}


def test_malformed_json_and_wrong_date_format(target: Engine, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Bundle", "type": ', encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        import_fhir(target, path, actor=ACTOR, reason="r")
    path.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Observation",
                            "id": "o1",
                            "status": "final",
                            "code": {"text": "x"},
                            "effectiveDateTime": "04/03/2020",
                        }
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        import_fhir(target, path, actor=ACTOR, reason="r")
    problem = info.value.problems[0]
    assert problem.record == "x.json entry[0] (Observation/o1)" and problem.field == "effectiveDateTime"


def test_hospital_bundle_with_other_resources_skips_them(target: Engine, tmp_path: Path) -> None:
    """A server's Bundle: Patient with a full birth date and deceasedDateTime, a hypertension
    Condition and a blood pressure Observation that are not registry data."""
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": "https://h.example/Patient/1",
                "resource": {
                    "resourceType": "Patient",
                    "id": "1",
                    "identifier": [{"system": "urn:lupuscell:patient-code", "value": "H-1"}],
                    "gender": "female",
                    "birthDate": "1980-05-04",
                    "deceasedDateTime": "2024-02-01",
                },
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": "Patient/1"},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55464009"}]},
                }
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": "Patient/1"},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "subject": {"reference": "Patient/1"},
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "vital-signs",
                                }
                            ]
                        }
                    ],
                    "code": {"text": "Blood pressure"},
                    "effectiveDateTime": "2023-01-01",
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "subject": {"reference": "Patient/1"},
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "4485-9"}]},
                    "effectiveDateTime": "2023-01-01T08:30:00+01:00",
                    "valueQuantity": {
                        "value": 0.62,
                        "unit": "g/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "g/L",
                    },
                }
            },
        ],
    }
    target_site = {"resourceType": "Bundle"}  # noqa: F841 - documents that no Organization is given
    path = tmp_path / "hospital.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(ValidationError, match="give --site"):
        import_fhir(target, path, actor=ACTOR, reason="r")
    from lupuscell.registry.repository import Registry

    Registry(target).create("site", {"code": "H", "name": "Hospital"}, actor=ACTOR)
    result = import_fhir(target, path, actor=ACTOR, reason="hospital", site="H")
    assert result.skipped == {
        "Condition (not SLE or lupus nephritis)": 1,
        "Observation (not a registry record)": 1,
    }
    data = tables(target)
    assert data["patients"][0]["birth_year"] == 1980 and data["patients"][0]["sex"] == "F"
    assert [(e["event_type"], str(e["event_date"])) for e in data["clinical_events"]] == [
        ("death", "2024-02-01")
    ]
    assert [(lab["analyte"], lab["value"], lab["unit"]) for lab in data["lab_results"]] == [
        ("c3", 0.62, "g/L")
    ]
