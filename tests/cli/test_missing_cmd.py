"""``lupuscell missing``: the minimum-data fields to chase per patient, on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli import registry_options
from lupuscell.cli.main import app
from lupuscell.registry.repository import Registry
from lupuscell.schemas.missing import minimum_data

ACTOR = "dm.cli"
runner = CliRunner()
ALL_DESCRIPTORS_ABSENT = {f.name: False for f in minimum_data().fields("visit") if not f.lab} | {
    "pga": 0.3,
    "prednisone_mg_per_day": 5.0,
}


def _run(*args: str) -> Any:
    return runner.invoke(app, ["missing", *args], env={"COLUMNS": "200"})


@pytest.fixture
def url(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(registry_options.out, "width", 250)
    registry = Registry(engine)
    for code in ("KI", "NJ"):
        registry.create("site", {"code": code, "name": code, "country": "SE"}, actor=ACTOR)
        registry.create(
            "patient",
            {"code": f"{code}-0001", "site_code": code, "sex": "F", "birth_year": 1985},
            actor=ACTOR,
        )
    complete = {
        **ALL_DESCRIPTORS_ABSENT,
        "missing": {
            "lab.c3": "not_done",
            "lab.c4": "not_done",
            "lab.anti_dsdna": "unknown",
            "lab.upcr": "unknown",
        },
    }
    registry.create("visit", {"patient_code": "KI-0001", "visit_date": "2021-03-01", **complete}, actor=ACTOR)
    registry.create(
        "visit",
        {"patient_code": "NJ-0001", "visit_date": "2021-03-02", **ALL_DESCRIPTORS_ABSENT, "fever": None},
        actor=ACTOR,
    )
    return engine.url.render_as_string(hide_password=False)


def test_missing_lists_only_the_empty_fields(url: str) -> None:
    result = _run("--db", url, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report["patients"]) == ["NJ-0001"]  # KI-0001: every field has a value or a state
    fields = [r["field"] for r in report["patients"]["NJ-0001"]]
    assert fields == ["fever", "lab.c3", "lab.c4", "lab.anti_dsdna", "lab.upcr"]
    assert {r["state"] for r in report["patients"]["NJ-0001"]} == {"empty"}
    assert report["n_fields"] == 5


def test_missing_site_filter_all_and_table(url: str) -> None:
    assert json.loads(_run("--db", url, "--json", "--site", "KI").output)["patients"] == {}
    every = json.loads(_run("--db", url, "--json", "--all", "--site", "KI").output)["patients"]["KI-0001"]
    states = {r["field"]: r["state"] for r in every}
    assert states["pga"] == "value" and states["lab.c3"] == "not_done" and states["lab.upcr"] == "unknown"
    table = _run("--db", url)
    assert table.exit_code == 0 and "NJ-0001" in table.output and "fever" in table.output
    assert "KI-0001" not in table.output


def test_missing_unknown_database_is_a_message_not_a_traceback(tmp_path: Any) -> None:
    result = _run("--db", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
