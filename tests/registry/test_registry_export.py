"""Issue 10, points 2 and 5: no identified data leaves without an audit row; de-identification
that holds (free text, formulas, folders that already hold files, file modes)."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, COURSE, PATIENT, SITE, build_cohort  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.registry import export as export_module
from lupuscell.registry.exchange import TABLES, export_directory, import_directory
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine

PLANTED = ("John Smith MRN 12345678", "DOB 1980-05-04")
PII_WORDS = ("John", "Smith", "12345678", "1980-05-04")


def _exports(registry: Registry) -> list[dict[str, Any]]:
    return [row for row in registry.history() if row["action"] == "export"]


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- point 2


def test_an_export_that_fails_after_its_audit_leaves_no_file(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_cohort(registry)
    original = export_module._write_files

    def write_then_fail(folder: Path, *args: Any) -> None:
        original(folder, *args)
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "_write_files", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_directory(registry.engine, tmp_path / "out", identified=True, actor=ACTOR, reason="transfer")
    assert _files_under(tmp_path) == []  # neither the target nor the temporary folder remains
    assert [row["entity_id"] for row in _exports(registry)] == ["identified"]  # audited first


def _read_only_engine(url: str, tmp_path: Path) -> tuple[Engine, Any]:
    """An engine that may read the registry but not write (SQLite read-only URI; PostgreSQL
    role with SELECT only), and a function to clean up after it."""
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        return make_engine(f"sqlite:///file:{path}?mode=ro&uri=true"), lambda: None
    admin = make_engine(url)
    role = f"lupuscell_ro_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    engine = make_engine(sa.make_url(url).set(username=role).render_as_string(hide_password=False))

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()

    return engine, drop


def test_an_export_whose_audit_row_cannot_be_written_writes_nothing(
    registry: Registry, migrated_db_url: str, tmp_path: Path
) -> None:
    build_cohort(registry)
    engine, cleanup = _read_only_engine(migrated_db_url, tmp_path)
    try:
        with pytest.raises(sa.exc.DBAPIError):
            export_directory(engine, tmp_path / "out", identified=True, actor=ACTOR, reason="transfer")
    finally:
        engine.dispose()
        cleanup()
    assert not (tmp_path / "out").exists() and _files_under(tmp_path) == []
    assert _exports(registry) == []


def test_an_over_long_actor_is_refused_before_anything_is_read_or_written(
    registry: Registry, tmp_path: Path
) -> None:
    build_cohort(registry)
    with pytest.raises(ValidationError) as info:
        export_directory(registry.engine, tmp_path / "out", identified=True, actor="x" * 101, reason="r")
    assert [p.field for p in info.value.problems] == ["actor"]
    assert _files_under(tmp_path) == [] and _exports(registry) == []


def test_identified_files_are_private(registry: Registry, tmp_path: Path) -> None:
    build_cohort(registry)
    out = tmp_path / "out"
    export_directory(registry.engine, out, identified=True, actor=ACTOR, reason="transfer")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert set(modes.values()) == {0o600} and "patients.csv" in modes


# --------------------------------------------------------------------------- point 5: folders


def test_a_folder_that_holds_files_is_refused_unless_overwriting_an_export(
    registry: Registry, tmp_path: Path
) -> None:
    build_cohort(registry)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValidationError, match="already holds 1 file"):
        export_directory(registry.engine, out, actor=ACTOR)
    with pytest.raises(ValidationError, match="only a previous lupuscell export"):
        export_directory(registry.engine, out, actor=ACTOR, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    previous = tmp_path / "previous"
    export_directory(registry.engine, previous, fmt="parquet", actor=ACTOR)
    with pytest.raises(ValidationError, match="--overwrite"):
        export_directory(registry.engine, previous, actor=ACTOR)
    export_directory(registry.engine, previous, actor=ACTOR, overwrite=True)
    names = sorted(p.name for p in previous.iterdir())
    assert names == sorted([*(f"{t.name}.csv" for t in TABLES), "manifest.json"])  # no stale parquet
    a_file = tmp_path / "file.csv"
    a_file.write_text("x")
    with pytest.raises(ValidationError, match="existing file"):
        export_directory(registry.engine, a_file, actor=ACTOR)


# --------------------------------------------------------------------------- point 5: free text


def _plant(registry: Registry) -> None:
    """A record in every table, with identifying text in every free-text field."""
    name, dob = PLANTED
    registry.create("site", {**SITE, "name": f"{name} clinic"}, actor=ACTOR)
    registry.create("patient", {**PATIENT, "prior_therapies": [name, "rituximab"]}, actor=ACTOR)
    course = registry.create("therapy_course", {**COURSE, "protocol_id": name[:60]}, actor=ACTOR)
    registry.create(
        "drug_administration",
        {
            "course_id": course["id"],
            "drug": name,
            "dose": 1,
            "unit": dob,
            "admin_date": "2020-02-26",
            "purpose": "conditioning",
        },
        actor=ACTOR,
    )
    registry.create(
        "adverse_event",
        {
            "patient_code": PATIENT["code"],
            "term": f"{name}, {dob}",
            "category": "infection",
            "grade": 3,
            "onset_date": "2020-03-10",
        },
        actor=ACTOR,
    )
    registry.create(
        "clinical_event",
        {
            "patient_code": PATIENT["code"],
            "event_type": "death",
            "event_date": "2021-01-01",
            "cause": f"{name} {dob}",
        },
        actor=ACTOR,
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_planted_identifiers_never_reach_a_de_identified_export(
    registry: Registry, tmp_path: Path, fmt: str
) -> None:
    _plant(registry)
    export_directory(registry.engine, tmp_path / "out", fmt=fmt, actor=ACTOR)
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False) if fmt == "csv" else pd.read_parquet(p)
        for p in sorted((tmp_path / "out").glob(f"*.{fmt}"))
    ]
    text = "\n".join(f.astype(str).to_csv(index=False) for f in frames)
    text += (tmp_path / "out" / "manifest.json").read_text()
    for word in PII_WORDS:
        assert word not in text, word
    drugs = next(f for f in frames if "drug" in f.columns)
    assert list(drugs["drug"]) == ["other"] and list(drugs["unit"]) == ["other"]
    patients = next(f for f in frames if "prior_therapies" in f.columns)
    assert "other" in str(patients["prior_therapies"].iloc[0]) and "rituximab" in str(
        patients["prior_therapies"].iloc[0]
    )


def test_formula_cells_are_neutralised_in_csv_and_restored_on_import(
    registry: Registry, tmp_path: Path, empty_registry: Callable[[Engine], None]
) -> None:
    registry.create("site", SITE, actor=ACTOR)
    registry.create("patient", PATIENT, actor=ACTOR)
    terms = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]
    for day, term in enumerate(terms, start=1):
        registry.create(
            "adverse_event",
            {
                "patient_code": PATIENT["code"],
                "term": term,
                "category": "other",
                "grade": 1,
                "onset_date": f"2020-03-0{day}",
            },
            actor=ACTOR,
        )
    out = tmp_path / "out"
    export_directory(registry.engine, out, identified=True, actor=ACTOR, reason="copy")
    cells = list(pd.read_csv(out / "adverse_events.csv", dtype=str)["term"])
    assert cells == ["'" + t for t in terms]
    empty_registry(registry.engine)
    import_directory(registry.engine, out, actor=ACTOR, reason="restore")
    assert sorted(r["term"] for r in registry.list_records("adverse_event")) == sorted(terms)


def test_the_manifest_documents_every_free_text_field(registry: Registry, tmp_path: Path) -> None:
    from lupuscell.registry.deidentify import FREE_TEXT

    build_cohort(registry)
    export_directory(registry.engine, tmp_path / "out", actor=ACTOR)
    rules = " ".join(json.loads((tmp_path / "out" / "manifest.json").read_text())["de_identification"])
    for field in FREE_TEXT:
        assert field in rules
    docs = (Path(__file__).parents[2] / "docs" / "registry" / "import_export.md").read_text()
    for field in FREE_TEXT:
        assert f"`{field}`" in docs, field
