"""The audit log as a time machine: replaying it from empty reproduces today's registry exactly,
and ``audit as-of`` writes the registry as it stood then (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_sample import ACTOR, build_cohort  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry import audit, audit_replay, migrate
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.exchange import export_directory, import_directory
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine, transaction
from lupuscell.synth.cohort import iter_cohort_tables

runner = CliRunner()


@pytest.fixture
def target(fresh_db_url: str) -> Iterator[Engine]:
    """An empty, migrated registry on the same engine as ``engine``."""
    migrate.upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    yield engine
    engine.dispose()


def _every_write_path(engine: Engine, tmp_path: Path) -> None:
    """Repository creates, updates (a code, a list, a date, a boolean) and deletes (a record and a
    patient with everything they had), a bulk load, and a file import."""
    registry = Registry(engine)
    build_cohort(registry)
    registry.update("patient", "KI-0001", {"organ_involvement": ["renal"]}, actor=ACTOR, reason="review")
    course = registry.list_records("therapy_course", patient_code="KI-0001")[0]
    registry.update(
        "therapy_course", course["id"], {"discharge_date": "2020-03-22"}, actor=ACTOR, reason="letter"
    )
    visit = registry.list_records("visit", patient_code="KI-0001")[0]
    registry.update("visit", visit["id"], {"arthritis": True, "pga": 0.5}, actor=ACTOR, reason="source check")
    registry.delete(
        "lab_result", registry.list_records("lab_result")[-1]["id"], actor=ACTOR, reason="duplicate"
    )
    pro = registry.create(
        "pro_assessment",
        {
            "patient_code": "KI-0001",
            "assessment_date": "2020-09-01",
            "responses": {"q3": 1, "q4": 3, "q21": 2},
        },
        actor=ACTOR,
    )
    registry.update(
        "pro_assessment", pro["id"], {"responses": {"q3": 2, "q4": 3}}, actor=ACTOR, reason="patient's answer"
    )
    load_tables(
        engine, iter_cohort_tables(15, seed=11, chunk_size=6), actor=ACTOR, source="synth", reason="demo"
    )
    export_directory(
        engine, tmp_path / "ident", identified=True, actor=ACTOR, reason="move to a new registry"
    )
    doomed = registry.list_records("patient")[-1]["code"]
    registry.delete("patient", doomed, actor=ACTOR, reason="consent withdrawn")
    source = Registry(engine).list_records("patient")[0]["code"]
    for name in ("therapy_courses", "drug_administrations", "adverse_events", "lab_results"):
        (tmp_path / "ident" / f"{name}.csv").unlink()
    _recode(tmp_path / "ident", source)
    import_directory(engine, tmp_path / "ident", actor=ACTOR, reason="second site's records")


def _recode(folder: Path, keep: str) -> None:
    """Keep one patient's rows of the identified files, under a new code and site (a new import)."""
    import pandas as pd

    for path in folder.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem == "sites":
            frame = frame.iloc[:1].assign(code="NEW", name="New site")
        elif path.stem == "patients":
            frame = frame[frame["code"] == keep].assign(code="NEW-0001", site_code="NEW")
        else:
            frame = frame[frame["patient_code"] == keep].assign(patient_code="NEW-0001")
        frame.to_csv(path, index=False)


def test_replaying_the_log_from_empty_reproduces_todays_registry(
    engine: Engine, target: Engine, tmp_path: Path
) -> None:
    _every_write_path(engine, tmp_path)
    result = audit_replay.replay(engine, target)
    assert result.not_rebuilt == []
    assert audit_replay.differences(engine, target) == []
    live = Registry(engine).counts()
    assert all(result.records[t] == live[t] for t in audit_replay.REBUILT_TABLES)
    assert result.records["lab_results"] > 100 and result.records["patients"] == live["patients"]
    assert result.records["pro_assessments"] == 1 and "pro_assessments" not in result.ignored


def test_a_tampered_value_shows_as_a_difference(engine: Engine, target: Engine) -> None:
    registry = Registry(engine)
    build_cohort(registry)
    with engine.begin() as conn:  # a change that bypassed the audited paths
        conn.exec_driver_sql("UPDATE patients SET birth_year = 1950 WHERE code = 'KI-0001'")
    audit_replay.replay(engine, target)
    assert audit_replay.differences(engine, target) == [f"patients {_id(registry)}: birth_year differ"]


def _id(registry: Registry) -> int:
    return int(registry.get("patient", "KI-0001")["id"])


def test_loads_from_before_per_record_auditing_are_named(engine: Engine, target: Engine) -> None:
    with transaction(engine) as session:
        audit.log_event(
            session, action="import", entity="visits", actor=ACTOR, reason="old load",
            new_value={"import_batch_id": 4, "rows": 250},
        )  # fmt: skip
    result = audit_replay.replay(engine, target)
    assert result.not_rebuilt == [
        "visits: 250 row(s) of import batch 4 were loaded before per-record auditing (revision 0004); "
        "the log holds only their count"
    ]


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}


def test_as_of_writes_the_registry_as_it_stood_then(engine: Engine, tmp_path: Path) -> None:
    registry = Registry(engine)
    build_cohort(registry)
    export_directory(engine, tmp_path / "then", identified=True, actor=ACTOR, reason="reference copy")
    time.sleep(0.01)
    instant = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    registry.update("patient", "KI-0001", {"birth_year": 1986}, actor=ACTOR, reason="corrected")
    registry.delete("patient", registry.list_records("patient")[-1]["code"], actor=ACTOR, reason="withdrawn")
    load_tables(engine, iter_cohort_tables(5, seed=2), actor=ACTOR, source="synth", reason="later load")
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "asof"
    args = ["audit", "as-of", instant.isoformat(), "--out", str(out), "--db", url, "--json"]
    result = runner.invoke(app, [*args, "--identified", "--reason", "inspection", "--actor", ACTOR])
    assert result.exit_code == 0, result.output
    assert _files(out) == _files(tmp_path / "then")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mode"] == "identified" and manifest["as_of"] == instant.isoformat()
    last = Registry(engine).history()[-1]
    assert (last["action"], last["entity_id"], last["reason"]) == ("export", "identified", "inspection")


def test_as_of_is_de_identified_by_default_and_identified_needs_a_reason(
    engine: Engine, tmp_path: Path
) -> None:
    build_cohort(Registry(engine))
    url = engine.url.render_as_string(hide_password=False)
    refused = runner.invoke(app, ["audit", "as-of", "2100-01-01", "--out", str(tmp_path / "a"), "--db", url,
                                  "--identified"])  # fmt: skip
    assert refused.exit_code == 2 and "reason" in refused.output
    done = runner.invoke(app, ["audit", "as-of", "2100-01-01", "--out", str(tmp_path / "b"), "--db", url])
    assert done.exit_code == 0, done.output
    patients = (tmp_path / "b" / "patients.csv").read_text(encoding="utf-8")
    assert "KI-0001" not in patients and "subject_id" in patients
    bad = runner.invoke(app, ["audit", "as-of", "last tuesday", "--out", str(tmp_path / "c"), "--db", url])
    assert bad.exit_code == 2 and "DATETIME" in bad.output
