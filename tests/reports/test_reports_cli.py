"""`lupuscell report` end to end on a registry (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.bulk import load_tables
from lupuscell.synth.cohort import iter_cohort_tables

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_report_from_registry(engine: Engine, tmp_path: Path) -> None:
    load_tables(
        engine, iter_cohort_tables(120, seed=3, chunk_size=60), actor="test", source="synth", reason="test"
    )
    out = tmp_path / "rep"
    result = runner.invoke(app, ["report", "--db", _url(engine), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_patients"] == 120
    assert (out / "report.pdf").read_bytes()[:4] == b"%PDF"
    assert (out / "datasets" / "adsl.parquet").exists()
    assert (out / "datasets" / "endpoint_options.json").exists()
    assert "password" not in summary["snapshot"]["source"]
    # the data snapshot is the time of the newest audited change (the import), not "now"
    assert summary["snapshot"]["as_of"] is not None
    assert summary["snapshot"]["as_of"][:19] <= summary["snapshot"]["generated_at"][:19]

    msc = tmp_path / "msc"
    result = runner.invoke(app, ["report", "--db", _url(engine), "--out", str(msc), "--therapy", "msc"])
    assert result.exit_code == 0, result.output
    msc_summary = json.loads((msc / "summary.json").read_text())
    assert set(msc_summary["by_therapy"]) == {"msc"}
    assert msc_summary["n_patients"] == summary["by_therapy"]["msc"]
    assert msc_summary["filters"]["therapy"] == "msc"


def test_report_rejects_unknown_therapy_and_site(engine: Engine, tmp_path: Path) -> None:
    load_tables(engine, iter_cohort_tables(20, seed=4), actor="test", source="synth", reason="test")
    bad = runner.invoke(
        app, ["report", "--db", _url(engine), "--out", str(tmp_path / "x"), "--therapy", "stemcell"]
    )
    assert bad.exit_code == 2
    assert "therapy" in bad.output and "autologous_hsct" in bad.output
    bad_site = runner.invoke(
        app, ["report", "--db", _url(engine), "--out", str(tmp_path / "y"), "--site", "ZZZ"]
    )
    assert bad_site.exit_code == 2
    assert "site" in bad_site.output and "ZZZ" in bad_site.output
    assert not (tmp_path / "x" / "report.html").exists()
