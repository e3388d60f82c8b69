"""SIGKILL a synthetic bulk load and a restore at random moments; the database stays consistent.

Each trial forks a real process running the CLI (``lupuscell synth --db`` or ``lupuscell
restore --force``) in its own process group and kills the whole group with SIGKILL (the restore's
``pg_restore`` child included) after a random delay drawn over the time an undisturbed run
takes. After every kill, on SQLite and PostgreSQL:

* load - no half batch: every import batch is complete (its ``row_counts`` equal the rows that
  point to it) and has its audit rows (one ``create`` per record, one ``import`` per table), no
  row exists without its batch; the audit hash chain verifies; SQLite's integrity check passes;
* restore - the target holds either its previous registry or the whole backup, never a mix, and
  its audit chain verifies.

Bounded: :data:`TRIALS` kills per engine and command, each within the measured run time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from registry_sample import wipe  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.registry import audit_chain, backup, models
from lupuscell.registry.audit_chain import batch_tables
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables

TRIALS = 8
PATIENTS = 150
_FORK = multiprocessing.get_context("fork")

pytestmark = pytest.mark.slow


def _cli(args: list[str]) -> None:
    """Runs in the forked process: a new process group, the real CLI, no interpreter clean-up."""
    os.setsid()
    from lupuscell.cli.main import app

    code = 0
    try:
        app(args, standalone_mode=False)
    except BaseException:  # the exit status is all the parent reads
        code = 1
    os._exit(code)


def _run(args: list[str], kill_after: float | None) -> float:
    started = time.perf_counter()
    process = _FORK.Process(target=_cli, args=(args,))
    process.start()
    if kill_after is None:
        process.join(timeout=300)
        assert process.exitcode == 0, f"undisturbed run failed: {args}"
    else:
        time.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):  # already finished
            os.killpg(process.pid, signal.SIGKILL)
        process.join(timeout=60)
    return time.perf_counter() - started


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _integrity(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert audit_chain.verify(engine).ok


def _assert_whole_batches(engine: Engine) -> int:
    """Every batch complete and audited; returns the number of batches."""
    _integrity(engine)
    tables = models.Base.metadata.tables
    with engine.connect() as conn:
        batches = conn.execute(sa.select(tables["import_batches"])).mappings().all()
        for table in batch_tables():
            query = sa.select(table.c.import_batch_id, sa.func.count()).group_by(table.c.import_batch_id)
            rows = dict(conn.execute(query).all())
            expected = {b["id"]: b["row_counts"].get(table.name, 0) for b in batches}
            assert rows == {k: v for k, v in expected.items() if v}, table.name
            audit = tables["audit_log"]
            created = conn.execute(
                sa.select(sa.func.count()).where(audit.c.entity == table.name, audit.c.action == "create")
            ).scalar_one()
            assert created == sum(rows.values()), table.name
            imports = conn.execute(
                sa.select(sa.func.count()).where(audit.c.entity == table.name, audit.c.action == "import")
            ).scalar_one()
            assert imports == len(batches), table.name
    return len(batches)


def test_killing_a_synthetic_load_never_leaves_half_a_batch(engine: Engine) -> None:
    args = ["synth", "--patients", str(PATIENTS), "--seed", "5", "--chunk-size", "25", "--db", _url(engine)]
    duration = _run(args, None)
    assert _assert_whole_batches(engine) == 1
    rng = random.Random(2026)
    outcomes = []
    for _ in range(TRIALS):
        wipe(engine)
        _run(args, rng.uniform(0.2, duration))
        outcomes.append(_assert_whole_batches(engine))
    assert set(outcomes) <= {0, 1}, outcomes


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {k: v for k, v in backup.row_counts(conn).items() if k != "audit_chain_head"}
    finally:
        engine.dispose()


def test_killing_a_restore_leaves_the_old_registry_or_the_whole_backup(engine: Engine, tmp_path: Path) -> None:
    url = _url(engine)
    load_tables(engine, iter_cohort_tables(PATIENTS, seed=9), actor="t", source="t", reason="backed up")
    file = tmp_path / "registry.backup"
    backup.backup(url, file)
    restored = _counts(url)
    wipe(engine)
    load_tables(engine, iter_cohort_tables(20, seed=4), actor="t", source="t", reason="the old registry")
    old = _counts(url)
    args = ["restore", "--from", str(file), "--db", url, "--force"]
    duration = _run(args, None)
    assert _counts(url) == restored
    rng = random.Random(7)
    seen = []
    for _ in range(TRIALS):
        wipe(engine)
        load_tables(engine, iter_cohort_tables(20, seed=4), actor="t", source="t", reason="the old registry")
        _run(args, rng.uniform(0.1, duration))
        _integrity(engine)
        now = _counts(url)
        assert now in (old, restored)
        seen.append(now == restored)
    assert len(seen) == TRIALS
