"""CLI ``synth``, ``summary`` and ``run`` against a temporary SQLite registry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import generate_cohort_tables

runner = CliRunner()


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite'}"


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_synth_into_db_then_summary_json(tmp_path: Path) -> None:
    url = _url(tmp_path)
    result = runner.invoke(
        app, ["synth", "--patients", "60", "--seed", "4", "--db", url, "--chunk-size", "25"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = generate_cohort_tables(60, seed=4)
    assert payload["row_counts"]["patients"] == 60
    assert payload["row_counts"]["lab_results"] == len(expected["lab_results"])
    assert _count(url, "visits") == len(expected["visits"])

    result = runner.invoke(app, ["summary", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    by_therapy = {g["therapy"]: g for g in summary["groups"]}
    counts = expected["therapy_courses"]["therapy"].value_counts()
    assert {t: g["patients"] for t, g in by_therapy.items()} == counts.to_dict()
    events = expected["clinical_events"]
    assert summary["total"]["deaths"] == int((events["event_type"] == "death").sum())
    assert sum(summary["death_causes"].values()) == summary["total"]["deaths"]
    assert (
        summary["total"]["patients_with_relapse"]
        == events.loc[events["event_type"] == "relapse", "patient_code"].nunique()
    )
    assert "reverse Kaplan-Meier" in summary["follow_up_method"]
    assert 0 < summary["total"]["median_follow_up_months"] <= 61


def test_synth_twice_with_same_seed_is_rejected(tmp_path: Path) -> None:
    url = _url(tmp_path)
    assert runner.invoke(app, ["synth", "--patients", "10", "--seed", "1", "--db", url]).exit_code == 0
    result = runner.invoke(app, ["synth", "--patients", "10", "--seed", "1", "--db", url])
    assert result.exit_code == 2
    assert "code" in result.stderr and "already in the registry" in result.stderr
    assert _count(url, "patients") == 10


def test_run_loads_the_demo_cohort_only_when_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _url(tmp_path)
    monkeypatch.setenv("LUPUSCELL_DATABASE_URL", url)
    result = runner.invoke(app, ["run", "--patients", "30"])
    assert result.exit_code == 0, result.output
    assert "is empty: loading the demo cohort" in result.stderr
    assert "Cohort summary" in result.stdout and "reverse Kaplan-Meier" in result.stdout
    assert "autologous_hsct" in result.stdout and "all" in result.stdout
    assert _count(url, "patients") == 30
    result = runner.invoke(app, ["run", "--patients", "30"])
    assert result.exit_code == 0
    assert "not loading the demo cohort" in result.stderr
    assert _count(url, "patients") == 30
    assert _count(url, "import_batches") == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_synth_to_files(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "cohort"
    result = runner.invoke(
        app,
        [
            "synth",
            "--patients",
            "45",
            "--seed",
            "2",
            "--out",
            str(out),
            "--format",
            fmt,
            "--chunk-size",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    expected = generate_cohort_tables(45, seed=2)
    for name, frame in expected.items():
        path = out / f"{name}.{fmt}"
        written = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        assert len(written) == len(frame), name
        assert list(written.columns) == list(frame.columns), name
    patients = (
        pd.read_csv(out / "patients.csv") if fmt == "csv" else pd.read_parquet(out / "patients.parquet")
    )
    organs = json.loads(patients["organ_involvement"].iloc[0])  # JSON text, as `lupuscell export` writes
    assert organs == expected["patients"]["organ_involvement"].iloc[0]
    # the files are what `lupuscell import` reads
    url = _url(tmp_path)
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    result = runner.invoke(app, ["import", "--from", str(out), "--reason", "round trip", "--db", url])
    assert result.exit_code == 0, result.output
    assert _count(url, "lab_results") == len(expected["lab_results"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "sqlite:///x.sqlite", "--out", "d"], "either --db or --out"),
        (["--out", "d", "--format", "xlsx"], "--format"),
        (["--db", "mysql://nowhere/db"], "not supported"),
    ],
)
def test_synth_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["synth", "--patients", "5", "--seed", "1", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_help_is_available() -> None:
    for command in ("synth", "summary", "run"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_synth_no_signal_writes_and_loads_the_null_cohort(tmp_path: Path) -> None:
    expected = generate_cohort_tables(40, seed=8, baseline_signal=False)
    out = tmp_path / "null"
    result = runner.invoke(
        app, ["synth", "--patients", "40", "--seed", "8", "--no-signal", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    events = pd.read_parquet(out / "clinical_events.parquet")
    assert events["event_type"].tolist() == expected["clinical_events"]["event_type"].tolist()
    assert (
        events["event_date"].astype(str).tolist()
        == expected["clinical_events"]["event_date"].dt.strftime("%Y-%m-%d").tolist()
    )

    url = _url(tmp_path)
    result = runner.invoke(app, ["synth", "--patients", "40", "--seed", "8", "--no-signal", "--db", url])
    assert result.exit_code == 0, result.output
    assert _count(url, "clinical_events") == len(expected["clinical_events"])
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            source = conn.execute(sa.text("SELECT source FROM import_batches")).scalar_one()
    finally:
        engine.dispose()
    assert source.endswith("--seed 8 --no-signal")
