"""Import / export: round trip, all-or-nothing import with located errors, de-identification."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from registry_sample import ACTOR, build_cohort  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.registry.exchange import AGE_TOP_CODE, TABLES, export_directory, import_directory
from lupuscell.registry.repository import Registry

CLINICAL = ("patients", "therapy_courses", "drug_administrations", "visits", "lab_results", "adverse_events")


def _read(directory: Path, fmt: str) -> dict[str, pd.DataFrame]:
    if fmt == "csv":
        return {
            t.name: pd.read_csv(directory / f"{t.name}.csv", dtype=str, keep_default_na=False) for t in TABLES
        }
    return {t.name: pd.read_parquet(directory / f"{t.name}.parquet") for t in TABLES}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_identified_export_round_trips_through_import(
    registry: Registry, tmp_path: Path, fmt: str, empty_registry: Callable[[Engine], None]
) -> None:
    build_cohort(registry)
    counts = {k: v for k, v in registry.counts().items() if k not in ("audit_log", "import_batches")}
    first = export_directory(
        registry.engine, tmp_path / "a", fmt=fmt, identified=True, actor=ACTOR, reason="site transfer"
    )
    assert first == {t.name: counts[t.model.__tablename__] for t in TABLES}
    empty_registry(registry.engine)
    imported = import_directory(registry.engine, tmp_path / "a", actor=ACTOR, reason="site transfer")
    assert imported == first
    after = {k: v for k, v in registry.counts().items() if k not in ("audit_log", "import_batches")}
    assert after == counts
    export_directory(registry.engine, tmp_path / "b", fmt=fmt, identified=True, actor=ACTOR, reason="check")
    a, b = _read(tmp_path / "a", fmt), _read(tmp_path / "b", fmt)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=fmt == "csv")
    # canonical values survive the trip
    lab = registry.list_records("lab_result", patient_code="KI-0001")
    assert {r["analyte"]: r["value_canonical"] for r in lab}["platelets"] == pytest.approx(18.0)


def test_import_is_audited_per_table_and_tagged_with_a_batch(
    registry: Registry, tmp_path: Path, empty_registry: Callable[[Engine], None]
) -> None:
    build_cohort(registry)
    export_directory(registry.engine, tmp_path, identified=True, actor=ACTOR, reason="copy")
    empty_registry(registry.engine)
    import_directory(registry.engine, tmp_path, actor="loader", reason="migration from REDCap")
    rows = [r for r in registry.history() if r["action"] == "import"]
    assert {r["entity"] for r in rows} == {t.model.__tablename__ for t in TABLES}
    assert all(r["actor"] == "loader" and r["reason"] == "migration from REDCap" for r in rows)
    batch = json.loads(rows[0]["new_value"])["import_batch_id"]
    assert all(p["import_batch_id"] == batch for p in registry.list_records("patient"))


def _write_csv(directory: Path, name: str, rows: list[dict[str, object]]) -> None:
    directory.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(directory / f"{name}.csv", index=False)


def test_bad_import_names_file_row_and_field_and_writes_nothing(registry: Registry, tmp_path: Path) -> None:
    build_cohort(registry)
    before = registry.counts()
    src = tmp_path / "in"
    _write_csv(
        src,
        "patients",
        [
            {"code": "KI-0100", "site_code": "KI", "sex": "F", "birth_year": 1980},
            {
                "code": "KI-0001",
                "site_code": "KI",
                "sex": "F",
                "birth_year": 1980,
            },  # duplicate of the registry
            {"code": "KI-0101", "site_code": "XX", "sex": "female", "birth_year": 1980},
        ],
    )
    _write_csv(
        src,
        "visits",
        [
            {"patient_code": "KI-0100", "visit_date": "2020-01-01", "pga": 1.0},
            {"patient_code": "KI-0100", "visit_date": "1979-01-01", "pga": 1.0},
        ],
    )
    _write_csv(
        src,
        "lab_results",
        [{"patient_code": "KI-0100", "result_date": "2020-01-01", "analyte": "c3", "value": 1, "unit": "IU"}],
    )
    with pytest.raises(ValidationError) as info:
        import_directory(registry.engine, src, actor=ACTOR, reason="load")
    located = {(p.record, p.field) for p in info.value.problems}
    assert ("patients.csv row 2", "code") in located
    assert ("patients.csv row 3", "sex") in located
    assert ("visits.csv row 2", "visit_date") in located
    assert ("lab_results.csv row 1", "unit") in located
    assert ("visits.csv row 1", "visit_date") not in located
    assert registry.counts() == before


def test_import_requires_a_reason_and_known_references(registry: Registry, tmp_path: Path) -> None:
    build_cohort(registry)
    src = tmp_path / "in"
    _write_csv(
        src,
        "drug_administrations",
        [
            {
                "patient_code": "KI-0001",
                "course_no": 3,
                "drug": "ATG",
                "dose": 1,
                "unit": "mg/kg",
                "admin_date": "2020-02-27",
                "purpose": "conditioning",
            },
        ],
    )
    with pytest.raises(ValidationError, match="reason"):
        import_directory(registry.engine, src, actor=ACTOR, reason=" ")
    with pytest.raises(ValidationError) as info:
        import_directory(registry.engine, src, actor=ACTOR, reason="load")
    assert [(p.record, p.field) for p in info.value.problems] == [
        ("drug_administrations.csv row 1", "course_no")
    ]


def test_import_into_existing_patients(registry: Registry, tmp_path: Path) -> None:
    build_cohort(registry)
    src = tmp_path / "in"
    _write_csv(
        src, "visits", [{"patient_code": "NJ-0002", "visit_date": "2024-02-02", "rash": "true", "pga": "0.3"}]
    )
    assert import_directory(registry.engine, src, actor=ACTOR, reason="late entry")["visits"] == 1
    visit = registry.list_records("visit", patient_code="NJ-0002")[0]
    assert visit["rash"] is True and visit["pga"] == pytest.approx(0.3)


ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_default_export_is_de_identified(registry: Registry, tmp_path: Path, fmt: str) -> None:
    build_cohort(registry)
    export_directory(registry.engine, tmp_path, fmt=fmt, actor=ACTOR)
    frames = _read(tmp_path, fmt)
    codes = {p["code"] for p in registry.list_records("patient")}
    text = "\n".join(frame.astype(str).to_csv(index=False) for frame in frames.values())
    assert not any(code in text for code in codes)
    assert not ISO_DATE.search(text)  # no calendar date at all, hence no date of birth
    for name in CLINICAL:
        assert not [c for c in frames[name].columns if c.endswith("_date") or c in ("birth_year", "code")]
    patients = frames["patients"].set_index("site_code", drop=False)
    assert frames["patients"]["subject_id"].is_unique
    ages = sorted(pd.to_numeric(frames["patients"]["age_at_day0"], errors="coerce").dropna().astype(int))
    assert ages == [2019 - 1990, 2020 - 1985, AGE_TOP_CODE]  # 91-year-old top-coded; no day 0 -> empty
    assert len(patients) == 4
    courses = frames["therapy_courses"]
    hsct = courses[courses["therapy"] == "autologous_hsct"].iloc[0]
    assert int(hsct["infusion_day"]) == 0
    assert int(hsct["discharge_day"]) == (dt.date(2020, 3, 20) - dt.date(2020, 3, 1)).days
    assert int(hsct["mobilisation_day"]) == (dt.date(2020, 1, 6) - dt.date(2020, 3, 1)).days
    causes = set(frames["clinical_events"]["cause_category"]) - {"", None}
    assert causes == {"other", "infection"}  # free text coded, coded value kept
    assert "term" not in frames["adverse_events"].columns
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["mode"] == "de-identified" and manifest["de_identification"]


def test_identified_export_needs_a_reason_and_is_audited(registry: Registry, tmp_path: Path) -> None:
    build_cohort(registry)
    with pytest.raises(ValidationError, match="reason"):
        export_directory(registry.engine, tmp_path, identified=True, actor=ACTOR)
    export_directory(registry.engine, tmp_path, identified=True, actor="stat.c", reason="DSMB request")
    row = [r for r in registry.history() if r["action"] == "export"][-1]
    assert (row["actor"], row["reason"], row["entity_id"]) == ("stat.c", "DSMB request", "identified")
    assert "KI-0001" in (tmp_path / "patients.csv").read_text()


@pytest.mark.parametrize(
    ("cause", "treatment_related", "expected"),
    [
        (None, None, None),
        ("infection", False, "infection"),
        ("Infection", None, "infection"),
        ("active SLE", False, "sle_activity"),
        ("sepsis during aplasia", True, "treatment_related"),
        ("found at home by a neighbour", False, "other"),
        ("found at home by a neighbour", None, "other"),
    ],
)
def test_death_cause_is_exported_only_as_a_category(
    cause: str | None, treatment_related: bool | None, expected: str | None
) -> None:
    from lupuscell.registry.exchange import death_cause_category

    assert death_cause_category(cause, treatment_related) == expected


def test_parquet_with_real_list_columns_imports(
    registry: Registry, tmp_path: Path, empty_registry: Callable[[Engine], None]
) -> None:
    """Parquet written by other tools stores organ_involvement as a real list, not JSON text."""
    build_cohort(registry)
    export_directory(registry.engine, tmp_path, fmt="parquet", identified=True, actor=ACTOR, reason="copy")
    patients = pd.read_parquet(tmp_path / "patients.parquet")

    def as_list(v: object) -> list[str]:
        if isinstance(v, str):
            return json.loads(v) if v.startswith("[") else [x for x in v.split(";") if x]
        return list(v)  # type: ignore[call-overload]

    patients["organ_involvement"] = [as_list(v) for v in patients["organ_involvement"]]
    patients.to_parquet(tmp_path / "patients.parquet", index=False)
    assert not isinstance(pd.read_parquet(tmp_path / "patients.parquet")["organ_involvement"].iloc[0], str)
    before = {p["code"]: sorted(p["organ_involvement"]) for p in registry.list_records("patient")}
    empty_registry(registry.engine)
    import_directory(registry.engine, tmp_path, actor=ACTOR, reason="copy")
    after = {p["code"]: sorted(p["organ_involvement"]) for p in registry.list_records("patient")}
    assert after == before


def test_a_file_written_before_0002_imports_with_its_grades(registry: Registry, tmp_path: Path) -> None:
    """Old exports say ``ctcae_grade`` and have no ``grading_system``: read as ``grade`` with the
    category's system (ASTCT 2019 for CRS and ICANS), as migration 0002 did to stored rows."""
    build_cohort(registry)
    src = tmp_path / "in"
    _write_csv(
        src,
        "adverse_events",
        [
            {
                "patient_code": "KI-0001",
                "term": "CRS",
                "category": "crs",
                "ctcae_grade": 2,
                "onset_date": "2020-03-02",
            },
            {
                "patient_code": "KI-0001",
                "term": "Sepsis",
                "category": "infection",
                "ctcae_grade": 3,
                "onset_date": "2020-03-04",
            },
        ],
    )
    import_directory(registry.engine, src, actor=ACTOR, reason="legacy file")
    rows = {r["term"]: (r["grade"], r["grading_system"]) for r in registry.list_records("adverse_event")}
    assert rows["CRS"] == (2, "ASTCT_2019") and rows["Sepsis"] == (3, "CTCAE_v5.0")
