"""The audit log's hash chain: every write path chains its rows, the log refuses changes, and
``audit verify`` names an edited or deleted row (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, build_cohort  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry import audit_chain
from lupuscell.registry.audit_chain import DROP_GUARD_DDL, GUARD_DDL
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.repository import Registry
from lupuscell.synth.cohort import iter_cohort_tables

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _mixed_writes(engine: Engine) -> Registry:
    """Repository creates, updates and deletes, and a bulk load."""
    registry = Registry(engine)
    build_cohort(registry)
    registry.update("patient", "KI-0001", {"birth_year": 1984}, actor=ACTOR, reason="typo in the referral")
    visit = registry.list_records("visit", patient_code="KI-0001")[0]
    registry.update("visit", visit["id"], {"pga": 1.5}, actor=ACTOR, reason="source document check")
    registry.delete(
        "lab_result", registry.list_records("lab_result")[0]["id"], actor=ACTOR, reason="duplicate"
    )
    load_tables(
        engine, iter_cohort_tables(12, seed=3, chunk_size=5), actor=ACTOR, source="test", reason="load"
    )
    return registry


def _tamper(engine: Engine, statement: str, params: dict[str, Any]) -> None:
    """Change the log as an administrator could: guards dropped, statement run, guards restored."""
    with engine.begin() as conn:
        for ddl in DROP_GUARD_DDL[conn.dialect.name]:
            conn.execute(sa.text(ddl))
        conn.execute(sa.text(statement), params)
        for ddl in GUARD_DDL[conn.dialect.name]:
            conn.execute(sa.text(ddl))


def _audit_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT id FROM audit_log ORDER BY id"))]


def test_every_write_path_extends_one_unbroken_chain(engine: Engine) -> None:
    _mixed_writes(engine)
    report = audit_chain.verify(engine)
    ids = _audit_ids(engine)
    assert report.ok, report.problems
    assert ids == list(range(1, len(ids) + 1)) and report.rows == len(ids) > 100
    assert report.head_id == ids[-1] and report.head_hash == report.last_hash


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'nothing happened' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 2",
        "DELETE FROM audit_chain_head",
        "UPDATE audit_chain_head SET last_id = 0",
    ],
)
def test_the_log_refuses_changes_through_sql(engine: Engine, statement: str) -> None:
    Registry(engine).create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    Registry(engine).create("site", {"code": "NW", "name": "Northwestern"}, actor=ACTOR)
    with (
        pytest.raises(sa.exc.DatabaseError, match=r"append-only|cannot be deleted|moves forward"),
        engine.begin() as c,
    ):
        c.execute(sa.text(statement))
    assert audit_chain.verify(engine).ok


def test_truncate_is_refused_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite has no TRUNCATE (its DELETE without WHERE is refused above)
    Registry(engine).create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))


def _verify_cli(engine: Engine) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["audit", "verify", "--db", _url(engine), "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_verify_names_an_edited_row(engine: Engine) -> None:
    _mixed_writes(engine)
    _tamper(engine, "UPDATE audit_log SET new_value = '2.5' WHERE id = :i", {"i": 7})
    code, payload = _verify_cli(engine)
    assert code == 1 and not payload["ok"]
    assert [(p["audit_id"], p["kind"]) for p in payload["problems"]] == [(7, "edited")]


def test_verify_names_a_row_whose_hash_was_rewritten(engine: Engine) -> None:
    _mixed_writes(engine)
    _tamper(engine, "UPDATE audit_log SET row_hash = :h WHERE id = :i", {"i": 9, "h": "f" * 64})
    code, payload = _verify_cli(engine)
    assert code == 1
    assert {p["audit_id"] for p in payload["problems"]} == {9, 10}


def test_verify_names_a_deleted_row(engine: Engine) -> None:
    _mixed_writes(engine)
    _tamper(engine, "DELETE FROM audit_log WHERE id = :i", {"i": 5})
    code, payload = _verify_cli(engine)
    assert code == 1
    assert [(p["audit_id"], p["kind"]) for p in payload["problems"]] == [(5, "deleted")]
    assert "audit row(s) 5 deleted" in payload["problems"][0]["message"]


def test_verify_notices_the_newest_rows_deleted(engine: Engine) -> None:
    _mixed_writes(engine)
    last = _audit_ids(engine)[-1]
    _tamper(engine, "DELETE FROM audit_log WHERE id >= :i", {"i": last - 2})
    code, payload = _verify_cli(engine)
    assert code == 1
    assert [(p["audit_id"], p["kind"]) for p in payload["problems"]] == [(last - 2, "deleted")]


def test_verify_passes_on_an_intact_log_and_says_so(engine: Engine) -> None:
    _mixed_writes(engine)
    result = runner.invoke(app, ["audit", "verify", "--db", _url(engine)])
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.stdout


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            for n in range(12):
                patient = {"code": f"{prefix}-{n:04d}", "site_code": "KI", "sex": "F", "birth_year": 1980}
                registry.create("patient", patient, actor=ACTOR)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("KA", "KB", "KC")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    report = audit_chain.verify(engine)
    assert report.ok and report.rows == 1 + 36
    assert _audit_ids(engine) == list(range(1, 38))


def test_migration_0004_chains_the_rows_already_in_the_log(fresh_db_url: str) -> None:
    from lupuscell.registry import migrate
    from lupuscell.registry.session import make_engine

    migrate.upgrade(fresh_db_url, "0001")
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as conn:  # rows written before the chain existed (ids with a gap)
            for number in (1, 2, 5):
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_log (id, changed_at, actor, action, entity, entity_id, new_value, reason) "
                        "VALUES (:i, :t, 'old', 'create', 'sites', :i, '{}', 'legacy')"
                    ),
                    {"i": number, "t": f"2024-01-0{number} 10:00:00.000000"},
                )
        migrate.upgrade(engine)
        report = audit_chain.verify(engine)
        assert report.ok and report.rows == 3 and report.head_id == 5
        Registry(engine).create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
        assert _audit_ids(engine) == [1, 2, 5, 6] and audit_chain.verify(engine).ok
        migrate.downgrade(engine, "0001")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 4
    finally:
        engine.dispose()


def test_a_load_started_while_a_repository_write_is_open_waits_for_it(engine: Engine) -> None:
    """Lock order: the repository's first write takes the chain head, so a bulk load started
    meanwhile (which takes the head, then locks the tables it loads) waits instead of
    deadlocking with the write's audit row."""
    from lupuscell.registry import audit
    from lupuscell.registry.models import Patient
    from lupuscell.registry.session import transaction

    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_tables(engine, iter_cohort_tables(4, seed=5), actor=ACTOR, source="test", reason="meanwhile")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    site = Registry(engine).create("site", {"code": "ZZ", "name": "Zagreb"}, actor=ACTOR)
    thread = threading.Thread(target=load)
    with transaction(engine) as session:
        patient = Patient(code="ZZ-1", site_id=site["id"], sex="F", birth_year=1980)
        session.add(patient)
        session.flush()  # holds the head (and the patients table's row lock) from here to commit
        thread.start()
        thread.join(timeout=1.5)
        assert thread.is_alive()  # the load waits for the head
        audit.log_create(session, patient, actor=ACTOR, reason="first")
    thread.join(timeout=120)
    assert not errors, errors
    report = audit_chain.verify(engine)
    assert report.ok
    second = Registry(engine).history()[1]
    assert (second["entity"], second["reason"]) == ("patients", "first")


def test_cli_corrections_and_synthetic_loads_are_chained_and_replayable(engine: Engine) -> None:
    registry = Registry(engine)
    build_cohort(registry)
    url = _url(engine)
    synth = runner.invoke(app, ["synth", "--patients", "6", "--seed", "4", "--db", url])
    assert synth.exit_code == 0, synth.output
    visit = registry.list_records("visit", patient_code="KI-0001")[0]["id"]
    lab = registry.list_records("lab_result", patient_code="KI-0001")[0]["id"]
    fixed = runner.invoke(
        app,
        ["record", "update", "visit", str(visit), "--set", "pga=2", "--reason", "source check", "--db", url],
    )
    assert fixed.exit_code == 0, fixed.output
    dropped = runner.invoke(
        app, ["record", "delete", "lab_result", str(lab), "--reason", "duplicate", "--db", url]
    )
    assert dropped.exit_code == 0, dropped.output
    verified = runner.invoke(app, ["audit", "verify", "--replay", "--json", "--db", url])
    assert verified.exit_code == 0, verified.output
    payload = json.loads(verified.stdout)
    assert payload["ok"] and payload["replay"]["differences"] == [] and payload["replay"]["not_rebuilt"] == []
    assert payload["replay"]["records"]["patients"] == len(registry.list_records("patient"))
