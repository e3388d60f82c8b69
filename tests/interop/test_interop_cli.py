"""CLI: ``import``/``export`` keep their own options and behaviour; the interop subcommands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from interop_helpers import ACTOR, assert_same_registry, fill, new_registry  # type: ignore[import-not-found]
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.exchange import export_directory

EXAMPLES = Path(__file__).parents[2] / "docs" / "interop" / "examples"
runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env={"LUPUSCELL_ACTOR": ACTOR, "COLUMNS": "400", **(env or {})})
    result.text = " ".join(result.output.split())  # messages without the console's line wrapping
    return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    new_registry(url).dispose()
    return url


def test_import_from_and_export_out_behave_as_before(db: str, tmp_path: Path) -> None:
    engine = new_registry(db)
    fill(engine, n=6)
    before = export_directory(engine, tmp_path / "lib", identified=True, actor=ACTOR, reason="reference")
    out = _run("export", "--out", str(tmp_path / "cli"), "--identified", "--reason", "move", "--db", db)
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload == {"exported": before, "mode": "identified", "out": str(tmp_path / "cli")}
    for name in before:
        assert (tmp_path / "cli" / f"{name}.csv").read_text() == (
            tmp_path / "lib" / f"{name}.csv"
        ).read_text()
    second = tmp_path / "second.sqlite"
    new_registry(f"sqlite:///{second}").dispose()
    result = _run(
        "import", "--from", str(tmp_path / "cli"), "--reason", "restore", "--db", f"sqlite:///{second}"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"imported": before}
    assert_same_registry(engine, new_registry(f"sqlite:///{second}"))


@pytest.mark.parametrize(
    ("args", "missing"),
    [(["import"], "--from"), (["import", "--from", "x"], "--reason"), (["export"], "--out")],
)
def test_missing_options_fail_as_before(args: list[str], missing: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2 and f"Missing option '{missing}'" in result.text


def test_import_redcap_example_and_partial_rejects(db: str, tmp_path: Path) -> None:
    common = [
        "--dictionary",
        str(EXAMPLES / "sle_cell_therapy_dictionary.csv"),
        "--mapping",
        str(EXAMPLES / "sle_cell_therapy_mapping.yaml"),
        "--db",
        db,
    ]
    records = (EXAMPLES / "sle_cell_therapy_records_longitudinal.csv").read_text(encoding="utf-8")
    bad = tmp_path / "records.csv"
    bad.write_text(records.replace("102,baseline_arm_1,,,1,", "102,baseline_arm_1,,,7,"), encoding="utf-8")
    result = _run("import", "redcap", "--records", str(bad), "--reason", "first try", *common)
    assert result.exit_code == 2 and "code '7' is not a choice of sex" in result.text
    assert "nothing was written" in result.text
    rejects = tmp_path / "rejects.csv"
    result = _run(
        "import",
        "redcap",
        "--records",
        str(bad),
        "--reason",
        "valid part",
        "--partial",
        "--rejects",
        str(rejects),
        *common,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["imported"]["patients"] == 2 and payload["rejected"] > 1
    text = rejects.read_text(encoding="utf-8")
    assert (
        text.startswith("record,table,field,reason")
        and "code '7'" in text
        and "'HD-102' is not a patient of this load or the registry" in text
    )


def test_token_never_shown(db: str) -> None:
    result = _run(
        "import",
        "redcap",
        "--url",
        "http://127.0.0.1:9/api/",
        "--token-env",
        "SITE_TOKEN",
        "--mapping",
        str(EXAMPLES / "sle_cell_therapy_mapping.yaml"),
        "--reason",
        "r",
        "--db",
        db,
        env={"SITE_TOKEN": "SECRETTOKEN1234"},
    )
    assert result.exit_code == 2 and "does not hold a REDCap API token" in result.text
    assert "SECRETTOKEN1234" not in result.output
    token = "0123456789ABCDEF0123456789ABCDEF"
    result = _run(
        "import",
        "redcap",
        "--url",
        "http://127.0.0.1:9/api/",
        "--token-env",
        "SITE_TOKEN",
        "--mapping",
        str(EXAMPLES / "sle_cell_therapy_mapping.yaml"),
        "--reason",
        "r",
        "--db",
        db,
        env={"SITE_TOKEN": token},
    )
    assert (
        result.exit_code == 2
        and "the REDCap API request failed" in result.text
        and "Connection refused" in result.text
    )
    assert token not in result.output
    result = _run("import", "redcap", "--mapping", "m.yaml", "--reason", "r", "--db", db)
    assert (
        result.exit_code == 2 and "give --dictionary and --records, or --url and --token-env" in result.text
    )


def test_export_subcommands(db: str, tmp_path: Path) -> None:
    fill(new_registry(db), n=4)
    for target, name in (("fhir", "bundle.json"), ("cdisc", "adam"), ("omop", "omop"), ("redcap", "redcap")):
        result = _run("export", target, "--out", str(tmp_path / name), "--db", db)
        assert result.exit_code == 0, (target, result.output)
        assert json.loads(result.stdout)["mode"] == "de-identified"
    result = _run("export", "fhir", "--out", str(tmp_path / "bundle.json"), "--db", db)
    assert result.exit_code == 2 and "--overwrite" in result.text
    result = _run("export", "cdisc", "--out", str(tmp_path / "x"), "--identified", "--db", db)
    assert result.exit_code == 2 and "a reason is required" in result.text
    assert {p.name for p in (tmp_path / "adam").iterdir()} >= {
        "adsl.xpt",
        "adtte.xpt",
        "adrs.xpt",
        "define.xml",
    }
    assert (tmp_path / "omop" / "person.parquet").exists()


def test_import_fhir_cli(db: str, tmp_path: Path) -> None:
    source = new_registry(db)
    fill(source, n=3)
    assert (
        _run(
            "export",
            "fhir",
            "--out",
            str(tmp_path / "b.json"),
            "--identified",
            "--reason",
            "move",
            "--db",
            db,
        ).exit_code
        == 0
    )
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    new_registry(other).dispose()
    result = _run("import", "fhir", "--bundle", str(tmp_path / "b.json"), "--reason", "move", "--db", other)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"]["patients"] == 3
    assert_same_registry(source, new_registry(other))
