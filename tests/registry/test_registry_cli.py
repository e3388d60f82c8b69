"""The registry CLI: init, db upgrade/current, import, export, patients list/show, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from registry_sample import ACTOR, build_cohort  # type: ignore[import-not-found]
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.cli.patients_cmd import sledai_text
from lupuscell.registry import migrate
from lupuscell.registry.repository import Registry

runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"LUPUSCELL_ACTOR": ACTOR})


def _json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


def test_init_creates_the_schema_on_an_empty_database(fresh_db_url: str) -> None:
    result = _run("init", "--db", fresh_db_url)
    assert result.exit_code == 0, result.output
    current = _json(_run("db", "current", "--db", fresh_db_url).stdout)
    assert (current["revision"], current["head"]) == (migrate.head_revision(),) * 2
    assert current["head"] == "0007"


def test_export_and_browse(engine: Any, migrated_db_url: str, tmp_path: Path) -> None:
    build_cohort(Registry(engine))
    out = tmp_path / "export"
    result = _run("export", "--out", str(out), "--db", migrated_db_url, "--identified", "--reason", "move")
    assert result.exit_code == 0, result.output
    assert _json(result.stdout)["exported"]["patients"] == 4

    listing = _run("patients", "list", "--db", migrated_db_url, "--therapy", "msc", "--json")
    assert [p["code"] for p in _json(listing.stdout)["patients"]] == ["NJ-0001"]
    table = _run("patients", "list", "--db", migrated_db_url, "--site", "KI")
    assert table.exit_code == 0 and "KI-0001" in table.stdout and "NJ-0001" not in table.stdout

    show = _run("patients", "show", "KI-0001", "--db", migrated_db_url)
    assert show.exit_code == 0, show.output
    for text in ("autologous_hsct", "infusion (day 0", "Visits", "upcr", "0.5004 g/g"):
        assert text in show.stdout
    timeline = _json(_run("patients", "show", "KI-0001", "--db", migrated_db_url, "--json").stdout)
    assert [v["study_day"] for v in timeline["visits"]] == [-29, 92]
    # proteinuria 4 + low complement 2 + anti-dsDNA 2 = 8; unassessed descriptors make it a lower bound
    assert [v["sledai_2k"] for v in timeline["visits"]] == [">=8", ">=2"]


def test_import_rejection_exits_2_and_names_file_row_field(
    migrated_db_url: str, engine: Any, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    (src / "patients.csv").write_text("code,site_code,sex,birth_year\nKI-1,KI,F,1980\nKI-2,KI,X,1980\n")
    result = _run("import", "--from", str(src), "--db", migrated_db_url, "--reason", "initial load")
    assert result.exit_code == 2
    assert "patients.csv row 2: sex" in result.stderr
    assert Registry(engine).counts()["patients"] == 0
    missing = _run("import", "--from", str(tmp_path / "missing"), "--db", migrated_db_url, "--reason", "x")
    assert missing.exit_code == 2
    bad_format = _run(
        "import", "--from", str(src), "--format", "xml", "--db", migrated_db_url, "--reason", "x"
    )
    assert bad_format.exit_code == 2 and "format" in bad_format.stderr


def test_import_then_default_export(migrated_db_url: str, engine: Any, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "sites.csv").write_text("code,name,country\nKI,Karolinska,SE\n")
    (src / "patients.csv").write_text(
        "code,site_code,sex,birth_year,organ_involvement\nKI-1,KI,F,1980,renal;serosal\n"
    )
    (src / "therapy_courses.csv").write_text(
        "patient_code,course_no,therapy,infusion_date\nKI-1,1,car_t,2023-05-02\n"
    )
    (src / "visits.csv").write_text("patient_code,visit_date,arthritis,pga\nKI-1,2023-08-01,true,1.2\n")
    result = _run("import", "--from", str(src), "--db", migrated_db_url, "--reason", "initial load")
    assert result.exit_code == 0, result.output
    assert _json(result.stdout)["imported"]["visits"] == 1
    assert Registry(engine).get("patient", "KI-1")["organ_involvement"] == ["renal", "serosal"]
    out = tmp_path / "out"
    exported = _run("export", "--out", str(out), "--db", migrated_db_url, "--format", "parquet")
    assert exported.exit_code == 0, exported.output
    visits = pd.read_parquet(out / "visits.parquet")
    assert list(visits["visit_day"]) == [91] and "patient_code" not in visits.columns


def test_unknown_patient_and_therapy_exit_2(migrated_db_url: str, engine: Any) -> None:
    assert _run("patients", "show", "NOPE-1", "--db", migrated_db_url).exit_code == 2
    bad = _run("patients", "list", "--therapy", "stem", "--db", migrated_db_url)
    assert bad.exit_code == 2 and "therapy" in bad.stderr


def test_identified_export_without_reason_exits_2(migrated_db_url: str, engine: Any, tmp_path: Path) -> None:
    result = _run("export", "--out", str(tmp_path), "--identified", "--db", migrated_db_url)
    assert result.exit_code == 2 and "reason" in result.stderr


@pytest.mark.parametrize(
    ("visit", "expected"),
    [
        ({}, ""),
        ({"seizure": True, "fever": False}, ">=8"),
        ({"seizure": False, "fever": True}, ">=1"),
    ],
)
def test_sledai_total_marks_incomplete_visits(visit: dict[str, bool], expected: str) -> None:
    assert sledai_text(visit) == expected


def test_sledai_total_of_a_complete_visit() -> None:
    from lupuscell.vocab import SLEDAI_2K_DESCRIPTORS

    visit = dict.fromkeys(SLEDAI_2K_DESCRIPTORS, False) | {
        "arthritis": True,
        "rash": True,
        "leukopenia": True,
    }
    assert sledai_text(visit) == "7"


@pytest.mark.parametrize(
    "command",
    [["init"], ["db", "upgrade"], ["import"], ["export"], ["patients", "list"], ["patients", "show"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout
