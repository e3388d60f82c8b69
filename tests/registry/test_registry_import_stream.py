"""Issue 10, point 11: the import streams (memory bounded by a chunk), still all or nothing.

The benchmark (benchmarks/registry_load.py) measures a 50 MB file; here a small file read in
small chunks shows the same property: Python's peak allocations stay a small multiple of the
file, where reading the whole file at once (the old import) needed about 60 times its size.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from registry_sample import ACTOR  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.registry.exchange import import_directory
from lupuscell.registry.repository import Registry

N_PATIENTS, N_VISITS, CHUNK = 40, 8_000, 500


def _visits_file(folder: Path, bad_row: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    days = pd.date_range("2000-01-01", periods=N_VISITS // N_PATIENTS).strftime("%Y-%m-%d")
    rows = [
        {
            "patient_code": f"KI-{i % N_PATIENTS}",
            "visit_date": days[i // N_PATIENTS],
            "arthritis": "true",
            "rash": "false",
            "pga": "1.2",
            "prednisone_mg_per_day": "10",
            "bilag": '{"renal": "B"}',
        }
        for i in range(N_VISITS)
    ]
    if bad_row is not None:
        rows[bad_row - 1]["pga"] = "3.5"
    path = folder / "visits.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def patients(engine: Engine) -> Registry:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    for i in range(N_PATIENTS):
        registry.create(
            "patient", {"code": f"KI-{i}", "site_code": "KI", "sex": "F", "birth_year": 1980}, actor=ACTOR
        )
    return registry


def test_import_memory_is_bounded_by_the_chunk_not_the_file(patients: Registry, tmp_path: Path) -> None:
    path = _visits_file(tmp_path / "in")
    tracemalloc.start()
    try:
        counts = import_directory(
            patients.engine, path.parent, actor=ACTOR, reason="load", rows_per_chunk=CHUNK
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts["visits"] == N_VISITS
    assert peak < 10 * path.stat().st_size, (peak, path.stat().st_size)


def test_a_bad_row_in_the_last_chunk_undoes_the_chunks_already_written(
    patients: Registry, tmp_path: Path
) -> None:
    path = _visits_file(tmp_path / "in", bad_row=N_VISITS - 3)
    before = patients.counts()
    with pytest.raises(ValidationError) as info:
        import_directory(patients.engine, path.parent, actor=ACTOR, reason="load", rows_per_chunk=CHUNK)
    assert [(p.record, p.field) for p in info.value.problems] == [(f"visits.csv row {N_VISITS - 3}", "pga")]
    assert patients.counts() == before  # the 15 clean chunks written before it were rolled back
