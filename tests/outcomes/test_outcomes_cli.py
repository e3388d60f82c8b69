"""``lupuscell endpoints`` and ``lupuscell datasets``: JSON round trip, docs example, bad input."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from outcomes_helpers import SCORE_4, fill_registry, patient, visit
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_IN = ROOT / "docs" / "outcomes" / "examples" / "endpoints_input.json"
EXAMPLE_OUT = ROOT / "docs" / "outcomes" / "examples" / "endpoints_output.json"
DOC = ROOT / "docs" / "outcomes" / "endpoints.md"
REQUIRED = (
    "id",
    "first_remission_day",
    "first_lldas_day",
    "flare_day",
    "os_days",
    "os_event",
    "rfs_days",
    "rfs_event",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
)

runner = CliRunner()


def _endpoints(payload: Any, *extra: str) -> Any:
    return runner.invoke(app, ["endpoints", "--input", "-", "--json", *extra], input=json.dumps(payload))


def test_json_round_trip_through_stdin() -> None:
    payload = {
        "patients": [
            patient("A", [visit(-3, SCORE_4, pga=1.5, pred=10), visit(91), visit(182)], last_contact=300),
            patient("B", [visit(30, SCORE_4, pga=1.0, pred=10)], death=45, last_contact=45, therapy="car_t"),
        ]
    }
    result = _endpoints(payload)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["patients"]
    assert [r["id"] for r in rows] == ["A", "B"]
    assert all(set(REQUIRED) <= set(r) for r in rows)
    a, b = rows
    assert (a["first_remission_day"], a["os_days"], a["os_event"]) == (91, 300, False)
    assert (b["os_days"], b["os_event"], b["rfs_event"]) == (45, True, True)
    assert b["first_remission_day"] is None and b["neutrophil_engraftment_day"] is None


def test_docs_example_round_trip() -> None:
    """The example in docs/outcomes/endpoints.md produces exactly the output shown there."""
    result = runner.invoke(app, ["endpoints", "--input", str(EXAMPLE_IN), "--json"])
    assert result.exit_code == 0, result.stderr
    produced = json.loads(result.stdout)
    assert produced == json.loads(EXAMPLE_OUT.read_text())
    text = DOC.read_text()
    assert "lupuscell endpoints --input docs/outcomes/examples/endpoints_input.json --json" in text
    shown = re.search(r"<!-- endpoints-output -->\s*```json\n(.*?)```", text, re.S)
    assert shown is not None
    excerpt = json.loads(shown.group(1))
    by_id = {p["id"]: p for p in produced["patients"]}
    for row in excerpt["patients"]:
        assert {k: by_id[row["id"]][k] for k in row} == row


def test_table_output_lists_every_patient() -> None:
    result = runner.invoke(app, ["endpoints", "--input", str(EXAMPLE_IN)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    for pid in ("HSCT-001", "CART-002", "MSC-003"):
        assert pid in result.stdout


def _base() -> dict:
    return {"patients": [patient("P-7", [visit(30, SCORE_4)])]}


@pytest.mark.parametrize(
    ("mutate", "needles"),
    [
        (
            lambda p: p["patients"][0]["visits"][0]["sledai2k"].pop("fever"),
            ["patient P-7", "patients[0].visits[0]", "missing descriptor(s) ['fever']"],
        ),
        (
            lambda p: p["patients"][0]["visits"][0]["sledai2k"].update(headache=True),
            ["patient P-7", "unknown descriptor(s) ['headache']"],
        ),
        (
            lambda p: p["patients"][0]["visits"][0].update(pga=3.5),
            ["patient P-7", "patients[0].visits[0].pga", "less than or equal to 3"],
        ),
        (
            lambda p: p["patients"][0].update(therapy="stem cells"),
            ["patient P-7", "patients[0].therapy", "autologous_hsct"],
        ),
        (lambda p: p["patients"][0].update(day0="2024-13-01"), ["patient P-7", "patients[0].day0"]),
        (
            lambda p: p["patients"][0].update(death={"date": "2024-01-10"}),
            ["patient P-7", "before visit(s) on 2024-01-31"],
        ),
        (
            lambda p: p["patients"][0].pop("last_contact"),
            ["patient P-7", "patients[0].last_contact", "required"],
        ),
        (
            lambda p: p["patients"].append(copy.deepcopy(p["patients"][0])),
            ["patient P-7", "duplicate patient id"],
        ),
        (
            lambda p: p["patients"][0]["visits"][0].update(bilag={"renal": "F"}),
            ["patient P-7", "bilag.renal"],
        ),
        (
            lambda p: p["patients"][0].update(
                labs=[{"date": "2024-01-02", "analyte": "anc", "value": 1, "unit": "bananas"}]
            ),
            ["patient P-7", "bananas"],
        ),
    ],
)
def test_bad_input_names_patient_and_field(mutate: Any, needles: list[str]) -> None:
    payload = _base()
    mutate(payload)
    result = _endpoints(payload)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_unreadable_or_malformed_input(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["endpoints", "--input", "-"], input="{not json")
    assert bad.exit_code == 2 and "not valid JSON" in bad.stderr
    missing = runner.invoke(app, ["endpoints", "--input", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    shape = runner.invoke(app, ["endpoints", "--input", "-"], input="[1, 2]")
    assert shape.exit_code == 2 and "patients" in shape.stderr
    option = runner.invoke(app, ["endpoints", "--input", str(EXAMPLE_IN), "--flare-rule", "bilag"])
    assert option.exit_code == 2 and "--flare-rule" in option.stderr


def test_flare_rule_option_reaches_the_engine() -> None:
    visits = [visit(-5, SCORE_4, pga=1.5, pred=10), visit(91), visit(182, flare=True)]
    payload = {"patients": [patient("F", visits)]}
    default = json.loads(_endpoints(payload).stdout)["patients"][0]
    sfi = json.loads(_endpoints(payload, "--flare-rule", "selena_flare_index").stdout)["patients"][0]
    assert default["flare_day"] is None and sfi["flare_day"] == 182


def test_help_texts() -> None:
    for command in ("endpoints", "datasets"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "--help" in result.stdout


def test_datasets_command_from_registry(engine: Engine, tmp_path: Path) -> None:
    fill_registry(engine)
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["datasets", "--db", url, "--out", str(tmp_path), "--format", "parquet"])
    assert result.exit_code == 0, result.stderr
    assert {Path(line).name for line in result.stdout.split()} >= {
        "adsl.parquet",
        "adtte.parquet",
        "adrs.parquet",
    }
    adsl = pd.read_parquet(tmp_path / "adsl.parquet").set_index("USUBJID")
    assert adsl.loc["S01-001", "first_remission_day"] == 91
    assert adsl.loc["S01-002", "DTHFL"]
    bad = runner.invoke(app, ["datasets", "--db", url, "--out", str(tmp_path), "--format", "xlsx"])
    assert bad.exit_code == 2 and "--format" in bad.stderr


def test_real_command_line(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("lupuscell")
    proc = subprocess.run(
        [str(exe), "endpoints", "--input", "-", "--json"],
        input=EXAMPLE_IN.read_text(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(EXAMPLE_OUT.read_text())


def test_empty_cohort_and_patient_without_visits() -> None:
    empty = _endpoints({"patients": []})
    assert empty.exit_code == 0, empty.stderr
    assert json.loads(empty.stdout) == {"patients": []}
    bare = {"patients": [patient("X", [], therapy="msc", last_contact=120)]}
    row = json.loads(_endpoints(bare).stdout)["patients"][0]
    assert (row["os_days"], row["os_event"], row["first_remission_day"]) == (120, False, None)


def test_datasets_from_an_empty_registry(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["datasets", "--db", url, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    adtte = pd.read_csv(tmp_path / "adtte.csv")
    assert list(adtte.columns) == [
        "USUBJID",
        "THERAPY",
        "PARAMCD",
        "PARAM",
        "AVAL",
        "CNSR",
        "EVNTDESC",
        "EVCODE",
    ]
    assert adtte.empty
