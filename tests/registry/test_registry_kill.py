"""Issue 10, acceptance: SIGKILL an import and an identified export at random moments.

Each trial forks a real process that runs the import (or the export) against the same
database and kills it with SIGKILL after a random delay drawn over the time an undisturbed
run takes. After every kill:

* import - every import batch in the database is complete (its ``row_counts`` equal the rows
  that point to it, one ``create`` audit row per record and one ``import`` row per table, the
  audit hash chain intact) or absent: never half a batch;
* export - every identified file on disk (in the target or a temporary folder) has its audit
  row: the audit row is committed before the first file is written.

20 trials each, on SQLite and PostgreSQL, bounded by the measured duration of one run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from registry_sample import assert_whole_batches  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.registry import models
from lupuscell.registry.exchange import export_directory, import_directory
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables
from lupuscell.synth.files import write_cohort_files

TRIALS = 20
PATIENTS = 40
_FORK = multiprocessing.get_context("fork")


def _child(work: Callable[[Engine], object], url: str) -> None:
    """Runs in the forked process: its own engine; exits without touching the parent's."""
    engine = make_engine(url)
    try:
        work(engine)
    finally:
        os._exit(0)  # no interpreter clean-up: inherited connections belong to the parent


def _run(work: Callable[[Engine], object], url: str, kill_after: float | None) -> float:
    started = time.perf_counter()
    process = _FORK.Process(target=_child, args=(work, url))
    process.start()
    if kill_after is None:
        process.join(timeout=120)
    else:
        time.sleep(kill_after)
        if process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=30)
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def cohort_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cohort")
    write_cohort_files(iter_cohort_tables(PATIENTS, 11, chunk_size=PATIENTS), folder, "csv", lambda n: None)
    return folder


def test_killing_an_import_never_leaves_half_a_batch(
    engine: Engine, migrated_db_url: str, cohort_files: Path, empty_registry: Callable[[Engine], None]
) -> None:
    def work(eng: Engine) -> object:
        return import_directory(eng, cohort_files, actor="kill.test", reason="kill test", rows_per_chunk=500)

    duration = _run(work, migrated_db_url, kill_after=None)
    assert assert_whole_batches(engine) == 1  # an undisturbed run imports the whole batch
    rng = random.Random(20)
    outcomes = []
    for _ in range(TRIALS):
        empty_registry(engine)
        _run(work, migrated_db_url, kill_after=rng.uniform(0.0, duration))
        outcomes.append(assert_whole_batches(engine))
    assert set(outcomes) <= {0, 1}


def _identified_files(root: Path) -> dict[str, list[Path]]:
    """Export target -> the identified files on disk for it (target or temporary folder)."""
    found: dict[str, list[Path]] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json"):
            folder = path.parent.name
            target = folder.split(".lupuscell-")[0].lstrip(".") if folder.startswith(".") else folder
            found.setdefault(str(root / target), []).append(path)
    return found


def test_killing_an_identified_export_never_leaves_a_file_without_its_audit_row(
    engine: Engine, migrated_db_url: str, cohort_files: Path, tmp_path: Path
) -> None:
    import_directory(engine, cohort_files, actor="kill.test", reason="registry to export")
    root = tmp_path / "exports"
    root.mkdir()

    def export_to(name: str) -> Callable[[Engine], object]:
        return lambda eng: export_directory(
            eng, root / name, identified=True, actor="kill.test", reason="kill test"
        )

    duration = _run(export_to("complete"), migrated_db_url, kill_after=None)
    assert (root / "complete" / "patients.csv").exists()
    rng = random.Random(21)
    for trial in range(TRIALS):
        _run(export_to(f"out{trial}"), migrated_db_url, kill_after=rng.uniform(0.0, duration))
    with engine.connect() as conn:
        audited = {
            json.loads(value)["out"]
            for value in conn.execute(
                sa.select(models.AuditLog.__table__.c.new_value).where(
                    models.AuditLog.__table__.c.action == "export"
                )
            ).scalars()
        }
    unaudited = {target: files for target, files in _identified_files(root).items() if target not in audited}
    assert unaudited == {}
