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
from collections.abc import Callable
from pathlib import Path

import pytest
from registry_sample import assert_intact, assert_whole_batches  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.registry import backup
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


def test_killing_a_synthetic_load_never_leaves_half_a_batch(
    engine: Engine, empty_registry: Callable[[Engine], None]
) -> None:
    args = ["synth", "--patients", str(PATIENTS), "--seed", "5", "--chunk-size", "25", "--db", _url(engine)]
    duration = _run(args, None)
    assert assert_whole_batches(engine) == 1
    rng = random.Random(2026)
    outcomes = []
    for _ in range(TRIALS):
        empty_registry(engine)
        _run(args, rng.uniform(0.2, duration))
        outcomes.append(assert_whole_batches(engine))
    assert set(outcomes) <= {0, 1}, outcomes


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {k: v for k, v in backup.row_counts(conn).items() if k != "audit_chain_head"}
    finally:
        engine.dispose()


def test_killing_a_restore_leaves_the_old_registry_or_the_whole_backup(
    engine: Engine, tmp_path: Path, empty_registry: Callable[[Engine], None]
) -> None:
    url = _url(engine)
    load_tables(engine, iter_cohort_tables(PATIENTS, seed=9), actor="t", source="t", reason="backed up")
    file = tmp_path / "registry.backup"
    backup.backup(url, file)
    restored = _counts(url)
    empty_registry(engine)
    load_tables(engine, iter_cohort_tables(20, seed=4), actor="t", source="t", reason="the old registry")
    old = _counts(url)
    args = ["restore", "--from", str(file), "--db", url, "--force"]
    duration = _run(args, None)
    assert _counts(url) == restored
    rng = random.Random(7)
    seen = []
    for _ in range(TRIALS):
        empty_registry(engine)
        load_tables(engine, iter_cohort_tables(20, seed=4), actor="t", source="t", reason="the old registry")
        _run(args, rng.uniform(0.1, duration))
        assert_intact(engine)
        now = _counts(url)
        assert now in (old, restored)
        seen.append(now == restored)
    assert len(seen) == TRIALS
