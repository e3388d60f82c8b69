"""`lupuscell predict fit` and `predict apply` end to end on a registry (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.bulk import load_tables
from lupuscell.synth.cohort import iter_cohort_tables

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_fit_then_apply(engine: Engine, tmp_path: Path) -> None:
    load_tables(engine, iter_cohort_tables(200, seed=5, chunk_size=100), actor="test", source="synth", reason="t")
    out = tmp_path / "pred"
    fit = runner.invoke(app, ["predict", "fit", "--db", _url(engine), "--out", str(out), "--bootstrap", "10"])
    assert fit.exit_code == 0, fit.output
    perf = json.loads((out / "performance.json").read_text())
    for name in ("remission_12m", "rfs"):
        s = perf[name]
        assert 0 < s["c_statistic_corrected"] < 1 and s["n_bootstrap"] == 10
        limiting = min(s["events"], s["non_events"]) if name == "remission_12m" else s["events"]
        assert s["events_per_variable"] == limiting / s["candidate_parameters"]
        assert (out / f"calibration_{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert set(json.loads((out / "model.json").read_text())["models"]) == {"remission_12m", "rfs"}

    with engine.connect() as conn:
        code = conn.execute(sa.text("SELECT code FROM patients ORDER BY code")).scalars().first()
    args = ["predict", "apply", "--model", str(out)]
    by_patient = runner.invoke(app, [*args, "--patient", code, "--db", _url(engine)])
    assert by_patient.exit_code == 0, by_patient.output
    result = json.loads(by_patient.output)
    assert result["patient"] == code
    for name in ("remission_12m", "rfs"):
        p = result["predictions"][name]
        assert 0 <= p["ci_low"] <= p["probability"] <= p["ci_high"] <= 1

    by_input = runner.invoke(app, [*args, "--input", "-"], input=json.dumps(result["predictors"]))
    assert by_input.exit_code == 0, by_input.output
    assert json.loads(by_input.output)["predictions"] == result["predictions"]


def test_bad_input_exits_2_with_the_reason(engine: Engine, tmp_path: Path) -> None:
    load_tables(engine, iter_cohort_tables(25, seed=6), actor="test", source="synth", reason="t")
    out = tmp_path / "few"
    few = runner.invoke(app, ["predict", "fit", "--db", _url(engine), "--out", str(out), "--bootstrap", "10"])
    assert few.exit_code == 2
    assert "at least 10" in few.output and not (out / "model.json").exists()
    bad_model = runner.invoke(app, ["predict", "fit", "--db", _url(engine), "--out", str(out), "--model", "os"])
    assert bad_model.exit_code == 2 and "--model" in bad_model.output
    both = runner.invoke(app, ["predict", "apply", "--model", str(out)])
    assert both.exit_code == 2 and "exactly one of" in both.output
    missing = runner.invoke(app, ["predict", "apply", "--model", str(tmp_path / "none"), "--input", "-"], input="{}")
    assert missing.exit_code == 2 and "model.json" in missing.output
