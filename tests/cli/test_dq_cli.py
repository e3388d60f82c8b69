"""``lupuscell dq rules`` and ``lupuscell dq run`` on both engines."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli import registry_options
from lupuscell.cli.main import app
from lupuscell.registry.dq.rules import shipped_rules
from lupuscell.registry.models import Visit
from lupuscell.registry.repository import Registry

ACTOR = "dm.cli"
runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"LUPUSCELL_ACTOR": ACTOR, "COLUMNS": "250"})


def _json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


@pytest.fixture
def url(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two sites: KI with a soft violation (prednisone 150) and a stored hard one (a legacy row
    written before the rules, 2000 mg/day); NJ with a death without a cause."""
    monkeypatch.setattr(registry_options.out, "width", 250)
    registry = Registry(engine)
    for code in ("KI", "NJ"):
        registry.create("site", {"code": code, "name": code}, actor=ACTOR)
        registry.create(
            "patient", {"code": f"{code}-1", "site_code": code, "sex": "F", "birth_year": 1985}, actor=ACTOR
        )
    registry.create(
        "visit",
        {"patient_code": "KI-1", "visit_date": "2021-03-01", "prednisone_mg_per_day": 150},
        actor=ACTOR,
    )
    legacy = registry.create("visit", {"patient_code": "KI-1", "visit_date": "2021-04-01"}, actor=ACTOR)
    with engine.begin() as conn:  # stored before the rule existed: the run must still find it
        conn.execute(sa.update(Visit).where(Visit.id == legacy["id"]).values(prednisone_mg_per_day=2000))
    registry.create(
        "clinical_event",
        {"patient_code": "NJ-1", "event_type": "death", "event_date": "2022-01-01"},
        actor=ACTOR,
    )
    return engine.url.render_as_string(hide_password=False)


def _counts(report: dict[str, Any]) -> dict[str, int]:
    return {r["rule_id"]: r["count"] for r in report["rules"] if r["count"]}


def test_dq_rules_lists_every_shipped_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_options.out, "width", 250)
    result = _run("dq", "rules", "--json")
    assert result.exit_code == 0, result.output
    rules = _json(result.output)["rules"]
    assert [r["id"] for r in rules] == [r.id for r in shipped_rules().rules]
    assert {"id", "entity", "expression", "when", "severity", "fields", "message", "source"} <= set(rules[0])
    table = _run("dq", "rules")
    assert table.exit_code == 0 and "prednisone_maximum" in table.output


def test_dq_run_reports_counts_and_examples(url: str) -> None:
    result = _run("dq", "run", "--db", url, "--json")
    assert result.exit_code == 0, result.output
    report = _json(result.output)
    counts = _counts(report)
    assert counts == {
        "prednisone_maximum": 1,
        "prednisone_high": 2,
        "death_cause": 1,
        "death_treatment_related": 1,
    }
    (example,) = next(r for r in report["rules"] if r["rule_id"] == "prednisone_maximum")["examples"]
    assert (example["patient_code"], example["field"], example["value"]) == (
        "KI-1",
        "prednisone_mg_per_day",
        "2000.0",
    )
    assert report["records"]["visit"] == 2 and report["violations"] == 5
    table = _run("dq", "run", "--db", url)
    assert table.exit_code == 0 and "prednisone_maximum" in table.output and "5 violation(s)" in table.output


def test_dq_run_one_site(url: str) -> None:
    result = _run("dq", "run", "--db", url, "--site", "NJ", "--json")
    assert result.exit_code == 0, result.output
    assert _counts(_json(result.output)) == {"death_cause": 1, "death_treatment_related": 1}


@pytest.mark.parametrize("suffix", [".csv", ".json", ".html"])
def test_dq_run_writes_the_report(url: str, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"report{suffix}"
    result = _run("dq", "run", "--db", url, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    if suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        assert len(rows) == 5
        assert {(r["rule_id"], r["patient_code"]) for r in rows} >= {
            ("prednisone_maximum", "KI-1"),
            ("death_cause", "NJ-1"),
        }
    elif suffix == ".json":
        data = json.loads(text)
        assert data["violations"] == 5 and len(data["all_violations"]) == 5
    else:
        assert "<h1>Data-quality report</h1>" in text and "prednisone_maximum" in text and "NJ-1" in text


def test_dq_run_invalid_input_exits_2(url: str, tmp_path: Path) -> None:
    bad_out = _run("dq", "run", "--db", url, "--out", str(tmp_path / "r.txt"))
    assert bad_out.exit_code == 2 and "must end in" in bad_out.output
    site = _run("dq", "run", "--db", url, "--site", "XX")
    assert site.exit_code == 2 and "unknown site 'XX'" in site.output
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: r1, entity: visit, expression: 'nope > 1', severity: soft,"
        " fields: [pga], message: m, source: s}\n",
        encoding="utf-8",
    )
    bad_rules = _run("dq", "run", "--db", url, "--rules", str(rules))
    assert bad_rules.exit_code == 2 and "rule r1" in bad_rules.output and "nope" in bad_rules.output


def test_dq_run_with_own_rules_file(url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: pred_site_limit, entity: visit, expression: 'prednisone_mg_per_day <= 60',"
        " severity: soft, fields: [prednisone_mg_per_day], message: above the site limit, source: site SOP}\n",
        encoding="utf-8",
    )
    result = _run("dq", "run", "--db", url, "--rules", str(rules), "--json")
    assert result.exit_code == 0, result.output
    assert _counts(_json(result.output)) == {"pred_site_limit": 2}
