"""``lupuscell screen`` and ``lupuscell synth omop`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.protocols.catalog import load_protocol

runner = CliRunner()


def test_synth_omop_then_screen_writes_the_named_files(tmp_path: Path) -> None:
    data = tmp_path / "omop"
    made = runner.invoke(
        app,
        ["synth", "omop", "--persons", "3000", "--seed", "5", "--out", str(data), "--sle-prevalence", "0.05"],
    )
    assert made.exit_code == 0, made.output
    counts = json.loads(made.stdout)["row_counts"]
    assert counts["person"] == 3000 and counts["measurement"] > 3000 * 30
    assert (data / "person" / "part-00000.parquet").is_file() and (data / "vocabulary_notes.csv").is_file()

    out = tmp_path / "screen"
    result = runner.invoke(
        app,
        [
            "screen",
            "--protocol",
            "cart19_refractory_sle",
            "--omop",
            str(data),
            "--out",
            str(out),
            "--parquet",
        ],
    )
    assert result.exit_code == 0, result.output
    protocol = load_protocol("cart19_refractory_sle")
    ids = [c.id for c in protocol.criteria]
    candidates = pd.read_csv(out / "candidates.csv")
    assert list(candidates.columns) == ["person_id", *ids]
    assert set(candidates[ids].stack()) <= {"met", "unknown"}
    attrition = pd.read_csv(out / "attrition.csv")
    assert list(attrition.columns) == ["criterion_id", "description", "remaining"]
    assert list(attrition["criterion_id"]) == ids
    assert attrition["remaining"].is_monotonic_decreasing and attrition["remaining"].iloc[-1] == len(
        candidates
    )
    evidence = pd.read_csv(out / "evidence.csv")
    assert list(evidence.columns) == ["person_id", "criterion_id", "verdict", "date", "value", "unit"]
    assert set(evidence["person_id"]) == set(candidates["person_id"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["persons"] == 3000 and summary["index_date"] == "2025-12-31"
    for name in ("attrition.png", "candidates.parquet", "evidence.parquet", "attrition.parquet"):
        assert (out / name).is_file()
    assert "computed" not in result.stdout and "candidates" in result.stdout
    assert "anifrolumab" in result.stderr  # the unconfirmed concept set is announced


def test_synth_patients_still_works_without_a_subcommand(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--patients", "5", "--seed", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(app, ["synth", "--seed", "1", "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "--patients" in missing.stderr
