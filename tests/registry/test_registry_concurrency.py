"""Issue 10, point 1: concurrent writers cannot break registry rules.

Two imports (and two repository writes) run in real threads, each with its own engine and
connection, against the same database, released together by a barrier. Before the fix both
wrote a death for the same patient (the checks ran in one read, the writes in a later
transaction); now exactly one death is stored and the loser gets the ordinary problem list.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from registry_sample import ACTOR, PATIENT, SITE  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.registry import repository
from lupuscell.registry.exchange import import_directory
from lupuscell.registry.models import ClinicalEvent
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine

TRIALS = 3


def _race(url: str, work: Callable[[Engine, int], Any], n: int = 2) -> list[Any]:
    """Run ``work(engine, i)`` in ``n`` threads with separate engines; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        engine = make_engine(url)
        try:
            barrier.wait()
            results[i] = work(engine, i)
        except Exception as exc:  # the loser's error is the result under test
            results[i] = exc
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _deaths(engine: Engine) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(ClinicalEvent.__table__.c.event_type == "death")
        return int(conn.execute(query.select_from(ClinicalEvent.__table__)).scalar_one())


VISITS_PER_IMPORT = 400
"""Visits imported before the death, so that the two imports overlap in time."""


def _death_file(folder: Path, day: int) -> Path:
    """An import of many visits (from 2008 + 3 * day on) and, last, a death on 2022-01-<day>."""
    folder.mkdir(parents=True, exist_ok=True)
    start = pd.Timestamp(f"{2008 + 3 * day}-01-01")
    visits = [
        {"patient_code": PATIENT["code"], "visit_date": (start + pd.Timedelta(days=k)).date(), "pga": 1.0}
        for k in range(VISITS_PER_IMPORT)
    ]
    pd.DataFrame(visits).to_csv(folder / "visits.csv", index=False)
    pd.DataFrame(
        [{"patient_code": PATIENT["code"], "event_type": "death", "event_date": f"2022-01-{day:02d}"}]
    ).to_csv(folder / "clinical_events.csv", index=False)
    return folder


def _assert_one_winner(results: list[Any], engine: Engine) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationError), repr(errors[0])  # never an IntegrityError
    assert "already has a recorded death" in str(errors[0])
    assert _deaths(engine) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_imports_of_a_death_store_exactly_one(
    engine: Engine, migrated_db_url: str, tmp_path: Path, trial: int
) -> None:
    registry = Registry(engine)
    registry.create("site", SITE, actor=ACTOR)
    registry.create("patient", PATIENT, actor=ACTOR)
    folders = [_death_file(tmp_path / f"in{i}", day=i + 1) for i in range(2)]
    results = _race(
        migrated_db_url,
        lambda eng, i: import_directory(eng, folders[i], actor=f"loader{i}", reason="race"),
    )
    _assert_one_winner(results, engine)
    batches = [h for h in registry.history() if h["action"] == "import" and h["entity"] == "clinical_events"]
    assert len(batches) == 1  # the loser's batch and audit rows were rolled back


def test_two_repository_writes_of_a_death_store_exactly_one(
    engine: Engine, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both writers are held after their checks until both have checked (or 2 s have passed:
    on SQLite the second cannot check before the first commits), the race at its worst."""
    registry = Registry(engine)
    registry.create("site", SITE, actor=ACTOR)
    registry.create("patient", PATIENT, actor=ACTOR)
    checked = threading.Barrier(2)
    original = repository.cross_record_problems

    def check_then_wait(*args: Any) -> Any:
        result = original(*args)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=2)
        return result

    monkeypatch.setattr(repository, "cross_record_problems", check_then_wait)

    def write(eng: Engine, i: int) -> dict[str, Any]:
        death = {"patient_code": PATIENT["code"], "event_type": "death", "event_date": f"2022-02-0{i + 1}"}
        return Registry(eng).create("clinical_event", death, actor=f"dm{i}")

    _assert_one_winner(_race(migrated_db_url, write), engine)


def test_the_database_refuses_a_second_death_even_without_the_checks(engine: Engine) -> None:
    """The partial unique index (migration 0002) is what holds when checks are raced past."""
    registry = Registry(engine)
    registry.create("site", SITE, actor=ACTOR)
    patient = registry.create("patient", PATIENT, actor=ACTOR)
    table = ClinicalEvent.__table__
    row = {"patient_id": patient["id"], "event_type": "death", "event_date": "2022-01-01"}
    stamp = {"created_at": pd.Timestamp("2024-01-01"), "updated_at": pd.Timestamp("2024-01-01")}
    with engine.begin() as conn:
        conn.execute(sa.insert(table), {**row, **stamp, "event_date": pd.Timestamp("2022-01-01").date()})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(table), {**row, **stamp, "event_date": pd.Timestamp("2022-01-02").date()})
