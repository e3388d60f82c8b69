"""``lupuscell queries``, ``sdv``, ``sign`` / ``unlock`` / ``signatures`` on both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli import registry_options
from lupuscell.cli.main import app
from lupuscell.registry.accounts import create_user
from lupuscell.registry.repository import Registry

ACTOR = "dm.cli"
PASSWORD = "correct horse battery"
runner = CliRunner()


def _run(*args: str, **env: str) -> Any:
    return runner.invoke(app, list(args), env={"LUPUSCELL_ACTOR": ACTOR, "COLUMNS": "200", **env})


def _json(output: str) -> Any:
    return json.loads(output[output.index("{") :])


@pytest.fixture
def cohort(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(registry_options.out, "width", 250)
    registry = Registry(engine)
    for code in ("KI", "NJ"):
        registry.create("site", {"code": code, "name": code, "country": "SE"}, actor=ACTOR)
        registry.create(
            "patient",
            {"code": f"{code}-0001", "site_code": code, "sex": "F", "birth_year": 1985},
            actor=ACTOR,
        )
    visit = registry.create(
        "visit", {"patient_code": "KI-0001", "visit_date": "2021-03-01", "pga": 1.5}, actor=ACTOR
    )
    other = registry.create(
        "visit", {"patient_code": "NJ-0001", "visit_date": "2021-03-02", "pga": 0.5}, actor=ACTOR
    )
    digest = PasswordHasher().hash(PASSWORD)
    create_user(
        engine,
        username="dr.lind",
        password_hash=digest,
        role="investigator",
        sites=["KI"],
        actor=ACTOR,
        full_name="Dr A Lind",
    )
    create_user(engine, username="root", password_hash=digest, role="admin", sites=["KI"], actor=ACTOR)
    return {"visit": visit, "other": other}


def test_queries_raise_answer_close_reopen_and_list(cohort: dict[str, Any], migrated_db_url: str) -> None:
    db = ("--db", migrated_db_url)
    raised = _run(
        "queries",
        "raise",
        "visit",
        str(cohort["visit"]["id"]),
        "pga",
        "--text",
        "PGA vs source?",
        "--actor",
        "mon",
        *db,
    )
    assert raised.exit_code == 0, raised.output
    query_id = _json(raised.stdout)["id"]
    _run(
        "queries",
        "raise",
        "visit",
        str(cohort["other"]["id"]),
        "pga",
        "--text",
        "check",
        "--actor",
        "mon",
        *db,
    )
    answered = _run("queries", "answer", str(query_id), "--text", "corrected", "--actor", "coord", *db)
    assert _json(answered.stdout)["status"] == "answered"
    refused = _run("queries", "close", str(query_id), "--text", "ok", "--actor", "coord", *db)
    assert refused.exit_code == 2 and "only mon (who raised it) or an admin may close" in refused.output
    assert (
        _json(_run("queries", "close", str(query_id), "--text", "ok", "--actor", "mon", *db).stdout)["status"]
        == "closed"
    )
    listing = _json(_run("queries", "list", "--site", "KI", "--json", *db).stdout)["queries"]
    assert [(q["id"], q["status"], q["patient_code"]) for q in listing] == [(query_id, "closed", "KI-0001")]
    table = _run("queries", "list", "--status", "open", *db)
    assert "NJ-0001" in table.stdout and "KI-0001" not in table.stdout
    thread = _json(_run("queries", "show", str(query_id), *db).stdout)
    assert [m["kind"] for m in thread["messages"]] == ["raise", "answer", "close"]
    assert (
        _json(_run("queries", "reopen", str(query_id), "--text", "again", "--actor", "mon", *db).stdout)[
            "status"
        ]
        == "open"
    )


def test_queries_bad_input_exits_2_naming_the_field(cohort: dict[str, Any], migrated_db_url: str) -> None:
    result = _run(
        "queries",
        "raise",
        "visit",
        str(cohort["visit"]["id"]),
        "pgaa",
        "--text",
        "t",
        "--db",
        migrated_db_url,
    )
    assert result.exit_code == 2 and "visit has no field 'pgaa'" in result.output
    result = _run("queries", "list", "--status", "pending", "--db", migrated_db_url)
    assert result.exit_code == 2 and "unknown status 'pending'" in result.output


def test_sdv_set_and_report(cohort: dict[str, Any], migrated_db_url: str, tmp_path: Path) -> None:
    db = ("--db", migrated_db_url)
    done = _run(
        "sdv", "set", "visit", str(cohort["visit"]["id"]), "--status", "verified", "--actor", "mon", *db
    )
    assert done.exit_code == 0 and _json(done.stdout)["set_by"] == "mon"
    bad = _run("sdv", "set", "visit", str(cohort["visit"]["id"]), "--status", "verified_with_findings", *db)
    assert bad.exit_code == 2 and "findings: a text is required" in bad.output
    target = tmp_path / "sdv.json"
    report = _json(_run("sdv", "report", "--site", "KI", "--json", "--out", str(target), *db).stdout)
    assert report["forms"]["visit"]["counts"]["verified"] == 1 and report["unverified"] == []
    assert json.loads(target.read_text())["forms"] == report["forms"]
    table = _run("sdv", "report", *db)
    assert table.exit_code == 0 and "not verified" in table.stdout and "NJ-0001" in table.stdout


def test_sign_from_env_locks_and_admin_unlocks(cohort: dict[str, Any], migrated_db_url: str) -> None:
    db = ("--db", migrated_db_url)
    visit_id = str(cohort["visit"]["id"])
    wrong = _run("sign", "visit", visit_id, "--user", "dr.lind", *db, LUPUSCELL_SIGN_PASSWORD="nope")
    assert wrong.exit_code == 2 and "password is wrong" in wrong.output
    signed = _run("sign", "visit", visit_id, "--user", "dr.lind", *db, LUPUSCELL_SIGN_PASSWORD=PASSWORD)
    assert signed.exit_code == 0, signed.output
    assert (
        "I approve the data of this visit" in signed.output
        and _json(signed.stdout)["printed_name"] == "Dr A Lind"
    )
    edit = _run("record", "update", "visit", visit_id, "--set", "pga=2", "--reason", "fix", *db)
    assert edit.exit_code == 2 and f"visit {visit_id} is locked" in edit.output
    assert _run("unlock", "visit", visit_id, "--reason", "typo", "--actor", "dr.lind", *db).exit_code == 2
    unlocked = _run("unlock", "visit", visit_id, "--reason", "typo in PGA", "--actor", "root", *db)
    assert _json(unlocked.stdout)["signatures_ended"] == 1
    assert (
        _run("record", "update", "visit", visit_id, "--set", "pga=2", "--reason", "fix", *db).exit_code == 0
    )
    listing = _json(_run("signatures", "visit", visit_id, "--json", *db).stdout)["signatures"]
    assert [(s["active"], s["unlock_reason"]) for s in listing] == [(False, "typo in PGA")]


def test_sign_prompts_for_the_password(cohort: dict[str, Any], migrated_db_url: str) -> None:
    result = runner.invoke(
        app,
        ["sign", "patient", "KI-0001", "--user", "dr.lind", "--db", migrated_db_url],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and _json(result.stdout)["record_type"] == "patient"
