"""``lupuscell design ...`` through typer's CliRunner against the root app."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app

runner = CliRunner()

SIMON_KEYS = {"r1", "n1", "r", "n", "en_p0", "pet_p0", "alpha", "power"}


def _run(*args: str):
    return runner.invoke(app, ["design", *args])


def test_design_cli_simon_json():
    res = _run("simon", "--p0", "0.05", "--p1", "0.25", "--alpha", "0.10", "--beta", "0.10", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out["optimal"]) >= SIMON_KEYS and set(out["minimax"]) >= SIMON_KEYS
    assert [out["optimal"][k] for k in ("r1", "n1", "r", "n")] == [0, 9, 2, 24]
    assert [out["minimax"][k] for k in ("r1", "n1", "r", "n")] == [0, 13, 2, 20]
    assert out["admissible"][0]["n"] == 20 and out["admissible"][-1]["n"] == 24
    assert {"w_low", "w_high"} <= set(out["admissible"][0])


def test_design_cli_simon_table():
    res = _run("simon", "--p0", "0.1", "--p1", "0.3")
    assert res.exit_code == 0
    assert "1/10" in res.stdout and "5/29" in res.stdout and "minimax" in res.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["simon", "--p0", "0.3", "--p1", "0.2"], "--p1"),
        (["simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.7"], "--alpha"),
        (["simon", "--p0", "0.1", "--p1", "0.3", "--beta", "0"], "--beta"),
        (["simon", "--p0", "0.1", "--p1", "0.12", "--nmax", "40"], "--nmax"),
        (["single-stage", "--p0", "0.1", "--p1", "0.05"], "--p1"),
        (["monitor", "--theta", "1.5", "--n-max", "20"], "--theta"),
        (["monitor", "--theta", "0.1", "--n-max", "20", "--rates", "a,b"], "--rates"),
        (["sample-size", "binary", "--p1", "0.3", "--p2", "0.3"], "--p2"),
        (
            [
                "sample-size",
                "survival",
                "--hr",
                "1",
                "--median-control",
                "12",
                "--accrual",
                "12",
                "--follow-up",
                "6",
            ],
            "--hr",
        ),
        (["simulate", "--p0", "0.1", "--p1", "0.3", "--replicates", "5"], "--replicates"),
        (["simulate", "--n1", "10", "--r1", "1"], "--r1/--n1/--r/--n"),
        (["simulate", "--p0", "0.1", "--p1", "0.12", "--nmax", "40"], "--nmax"),
        (["simulate", "--p0", "0.1", "--p1", "0.3", "--design", "best"], "--design"),
        (["monitor", "--theta", "0.1", "--n-max", "20", "--prior-a", "0"], "--prior-a"),
        (["report", "--p0", "0.1", "--p1", "0.3", "--out", "x", "--tox-theta", "2"], "--tox-theta"),
        (["report", "--p0", "0.1", "--p1", "0.3", "--out", "x", "--design", "best"], "--design"),
    ],
)
def test_design_cli_bad_input_exits_2_naming_the_option(args, option):
    res = _run(*args)
    assert res.exit_code == 2
    assert option in res.stderr
    assert res.stdout == ""


def test_design_cli_single_stage_json():
    res = _run("single-stage", "--p0", "0.1", "--p1", "0.2", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {
        "n": 78,
        "r": 13,
        "alpha": pytest.approx(0.04529, abs=1e-5),
        "power": pytest.approx(0.80818, abs=1e-5),
    }


def test_design_cli_monitor_json():
    res = _run(
        "monitor",
        "--theta",
        "0.1",
        "--n-max",
        "40",
        "--prior-a",
        "1",
        "--prior-b",
        "9",
        "--cohort",
        "5",
        "--json",
    )
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert [b["min_events"] for b in out["boundaries"]] == [3, 4, 4, 5, 6, 6, 7, 8]
    assert len(out["operating_characteristics"]) == 5


def test_design_cli_sample_size_commands():
    res = _run("sample-size", "binary", "--p1", "0.3", "--p2", "0.5", "--method", "normal-cc", "--json")
    assert json.loads(res.stdout)["n1"] == 103
    res = _run("sample-size", "binary", "--p1", "0.3", "--p2", "0.5", "--simulate", "2000", "--json")
    assert 0.7 < json.loads(res.stdout)["simulated"]["power"] < 0.9
    res = _run("sample-size", "continuous", "--delta", "4", "--sd", "6", "--json")
    assert json.loads(res.stdout)["n1"] == 37
    res = _run(
        "sample-size",
        "survival",
        "--hr",
        "0.6",
        "--median-control",
        "24",
        "--accrual",
        "24",
        "--follow-up",
        "12",
        "--json",
    )
    assert json.loads(res.stdout)["events"] == 121


def test_design_cli_simulate_json():
    res = _run(
        "simulate", "--p0", "0.1", "--p1", "0.3", "--replicates", "2000", "--dropout", "0,0.1", "--json"
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["design"] == {"r1": 1, "n1": 10, "r": 5, "n": 29}
    assert [s["quantity"] for s in out["scenarios"]] == ["type I error"] * 2 + ["power"] * 2
    assert all(s["reject"]["mc_se"] > 0 for s in out["scenarios"])


def test_design_cli_report(tmp_path):
    res = _run(
        "report",
        "--p0",
        "0.1",
        "--p1",
        "0.3",
        "--out",
        str(tmp_path),
        "--tox-theta",
        "0.1",
        "--tox-prior-b",
        "9",
    )
    assert res.exit_code == 0, res.output
    paths = json.loads(res.stdout)
    assert set(paths) == {"markdown", "html", "plot"}
    assert (tmp_path / "operating_characteristics.png").exists()


@pytest.mark.parametrize(
    "cmd",
    [
        [],
        ["simon"],
        ["single-stage"],
        ["monitor"],
        ["sample-size"],
        ["sample-size", "binary"],
        ["simulate"],
        ["report"],
    ],
)
def test_design_cli_help(cmd):
    res = _run(*cmd, "--help")
    assert res.exit_code == 0 and "Usage" in res.stdout


def test_design_cli_simulate_nmax_sets_the_simon_search():
    """--nmax reaches the Simon search: 0.1 vs 0.3 (optimal 1/10, 5/29) needs n >= 25 at least."""
    base = ["simulate", "--p0", "0.1", "--p1", "0.3", "--replicates", "100", "--json"]
    res = _run(*base, "--nmax", "29")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["design"] == {"r1": 1, "n1": 10, "r": 5, "n": 29}
    res = _run(*base, "--nmax", "28")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["design"]["n"] <= 28
