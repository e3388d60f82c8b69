"""``lupuscell backup`` / ``restore`` on SQLite and PostgreSQL: verified copies, refusals, damage."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, build_cohort  # type: ignore[import-not-found]
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.errors import ConfigurationError
from lupuscell.registry import audit_replay, backup, migrate
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine, normalise_url

runner = CliRunner()
NewDatabase = Callable[[], str]


@pytest.fixture
def new_database(db_url: str, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes empty databases on the engine of ``db_url`` (SQLite files or PostgreSQL databases)."""
    created: list[str] = []

    def make() -> str:
        if db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
        name = f"lupuscell_bk_{uuid.uuid4().hex[:10]}"
        admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        created.append(name)
        return sa.make_url(normalise_url(db_url)).set(database=name).render_as_string(hide_password=False)

    yield make
    if created:
        admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _registry(url: str) -> Registry:
    migrate.upgrade(url)
    return Registry(url)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_backup_and_restore_round_trip_verified(new_database: NewDatabase, tmp_path: Path) -> None:
    source = new_database()
    build_cohort(_registry(source))
    out = tmp_path / "registry.backup"
    code, output = _run("backup", "--out", str(out), "--db", source, "--json")
    assert code == 0, output
    manifest = json.loads(output)
    assert manifest["rows"]["patients"] == 4 and manifest["audit_chain_head"]["last_id"] > 0
    assert any("audit hash chain intact" in c for c in manifest["checks"])
    assert json.loads((tmp_path / "registry.backup.json").read_text(encoding="utf-8")) == manifest
    target = new_database()
    migrate.upgrade(target)  # an initialised, empty registry may be restored into
    code, output = _run("restore", "--from", str(out), "--db", target, "--json")
    assert code == 0, output
    assert json.loads(output)["rows"] == manifest["rows"]
    left, right = make_engine(source), make_engine(target)
    try:
        assert audit_replay.differences(left, right) == []
    finally:
        left.dispose()
        right.dispose()


def test_restore_refuses_a_database_with_rows_unless_forced(new_database: NewDatabase, tmp_path: Path) -> None:
    source, target = new_database(), new_database()
    build_cohort(_registry(source))
    _registry(target).create("site", {"code": "XX", "name": "Other registry"}, actor=ACTOR)
    out = tmp_path / "b.backup"
    assert _run("backup", "--out", str(out), "--db", source)[0] == 0
    code, output = _run("restore", "--from", str(out), "--db", target)
    assert code == 2 and "not empty (audit_log 1, sites 1)" in output and "--force" in output
    assert Registry(target).list_records("site")[0]["code"] == "XX"
    code, output = _run("restore", "--from", str(out), "--db", target, "--force")
    assert code == 0, output
    assert {s["code"] for s in Registry(target).list_records("site")} == {"KI", "NJ"}


def test_a_damaged_backup_is_refused(new_database: NewDatabase, tmp_path: Path) -> None:
    source = new_database()
    build_cohort(_registry(source))
    out = tmp_path / "b.backup"
    assert _run("backup", "--out", str(out), "--db", source)[0] == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    code, output = _run("restore", "--from", str(out), "--db", new_database())
    assert code == 1 and "SHA-256 differs from its manifest" in output


def test_backup_refuses_an_existing_file_and_restore_a_foreign_one(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database()
    _registry(source)
    existing = tmp_path / "there.backup"
    existing.write_text("keep me", encoding="utf-8")
    code, output = _run("backup", "--out", str(existing), "--db", source)
    assert code == 2 and "exists already" in output and existing.read_text(encoding="utf-8") == "keep me"
    code, output = _run("restore", "--from", str(existing), "--db", source)
    assert code == 2 and "neither a SQLite database nor a pg_dump" in output


def test_a_backup_of_one_engine_does_not_restore_into_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    _registry(url)
    assert _run("backup", "--out", str(tmp_path / "a.backup"), "--db", url)[0] == 0
    code, output = _run("restore", "--from", str(tmp_path / "a.backup"), "--db", "postgresql://nobody@127.0.0.1:1/x")
    assert code == 2 and "is a sqlite backup; --db is postgresql" in output


def test_client_tools_older_than_the_server_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.9'\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConfigurationError, match="pg_dump is version 13 but the server is version 15"):
        backup._tool("pg_dump", 15)
    assert backup._tool("pg_dump", 13).endswith("pg_dump")
