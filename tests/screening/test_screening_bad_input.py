"""Bad input stops before any query runs, naming what is wrong: a missing OMOP table or column,
an unknown engine or source, a bad protocol; the CLI exits with code 2 and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from handmade import Person, write_persons
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.errors import ConfigurationError, ValidationError
from lupuscell.protocols.catalog import load_bundle
from lupuscell.screening.omop import open_source
from lupuscell.screening.run import screen

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_persons(tmp_path / "omop", [Person(1), Person(2)])


def _no_queries(source) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("a query ran before the input was checked")

    source.backend.execute = refuse


def test_missing_table_is_named_before_any_query(folder: Path) -> None:
    (folder / "measurement.parquet").unlink()
    source = open_source(str(folder))
    _no_queries(source)
    with pytest.raises(ValidationError) as info:
        screen(load_bundle("cart19_refractory_sle"), source)
    assert [p.field for p in info.value.problems] == ["measurement"]
    assert "required table is missing" in str(info.value)


def test_missing_column_is_named_before_any_query(folder: Path) -> None:
    table = pq.read_table(folder / "drug_exposure.parquet").drop_columns(["drug_exposure_start_date"])
    pq.write_table(table, folder / "drug_exposure.parquet")
    person = pq.read_table(folder / "person.parquet").drop_columns(["year_of_birth"])
    pq.write_table(person, folder / "person.parquet")
    source = open_source(str(folder))
    _no_queries(source)
    with pytest.raises(ValidationError) as info:
        screen(load_bundle("hsct_refractory_sle"), source)
    assert {p.field for p in info.value.problems} == {
        "person.year_of_birth",
        "drug_exposure.drug_exposure_start_date",
    }


def test_unknown_engine_and_missing_folder() -> None:
    with pytest.raises(ConfigurationError, match="--engine"):
        open_source("x", "oracle")
    with pytest.raises(ConfigurationError, match="neither a folder"):
        open_source("/nonexistent/omop")
    with pytest.raises(ConfigurationError, match="postgresql:// URL"):
        open_source("/tmp", "postgres")


def test_cli_missing_column_exits_2(folder: Path, tmp_path: Path) -> None:
    pq.write_table(
        pq.read_table(folder / "visit_occurrence.parquet").drop_columns(["visit_concept_id"]),
        folder / "visit_occurrence.parquet",
    )
    result = runner.invoke(
        app,
        ["screen", "--protocol", "hsct_refractory_sle", "--omop", str(folder), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "visit_occurrence.visit_concept_id: required column is missing" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_cli_bad_protocol_exits_2_before_reading_data(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    shutil.copy(Path(__file__).parents[2] / "src/lupuscell/data/protocols/cart19_refractory_sle.yaml", bad)
    bad.write_text(bad.read_text().replace("kind: measurement", "kind: lab_value", 1))
    result = runner.invoke(
        app, ["screen", "--protocol", str(bad), "--omop", "/nonexistent", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert (
        "criterion 'active_disease'" in result.stderr
        and "unknown criterion kind 'lab_value'" in result.stderr
    )


def test_cli_unknown_engine_exits_2(folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "screen",
            "--protocol",
            "hsct_refractory_sle",
            "--omop",
            str(folder),
            "--engine",
            "oracle",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "--engine" in result.stderr
