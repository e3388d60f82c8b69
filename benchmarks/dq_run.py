"""Benchmark: ``lupuscell dq run`` (every shipped data-quality rule compiled to SQL) against a
per-record Python loop over the same rules, in the same run.

A 10,000-patient synthetic registry (``lupuscell synth``'s generator,
:func:`lupuscell.synth.cohort.iter_cohort_tables`, seed 2026) is built once and cached as a
SQLite file under ``/tmp/lupuscell-bench-dq/`` (not timed; delete the file to rebuild). With
``--backends sqlite,postgresql`` the same cohort is also loaded into a scratch PostgreSQL
database (``LUPUSCELL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
dropped afterwards. Then, on each backend:

* **SQL** - :func:`lupuscell.registry.dq.batch.run`, what ``lupuscell dq run`` calls: one
  ``SELECT`` per rule;
* **CLI** - ``lupuscell dq run --db URL --out report.json`` end to end in a subprocess
  (interpreter start-up, progress bar and report file included);
* **Python loop** - :func:`lupuscell.registry.dq.batch.run_python`: read every record, evaluate
  every rule on it in Python (the straightforward loop).

The SQL and the loop must find the same violations (checked). Goal: ``dq run`` under 10 s on
2 cores.

Usage::

    .venv/bin/python benchmarks/dq_run.py [--patients 10000] [--backends sqlite]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from registry_load import SEED, postgres_url  # type: ignore[import-not-found]

from lupuscell.registry import migrate
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.dq.batch import DqReport, run, run_python
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables

CACHE = Path(tempfile.gettempdir()) / "lupuscell-bench-dq"


def _load(url: str, patients: int) -> float:
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    load_tables(engine, iter_cohort_tables(patients, SEED), actor="bench", source="bench", reason="benchmark")
    engine.dispose()
    return time.perf_counter() - started


def cached_sqlite(patients: int) -> str:
    """URL of the cached SQLite registry of ``patients`` synthetic patients (built if absent)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"registry-{patients}-{SEED}.sqlite"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        seconds = _load(f"sqlite:///{partial}", patients)
        partial.rename(path)
        print(f"built {path} in {seconds:.1f} s", file=sys.stderr)
    return f"sqlite:///{path}"


def _cli_seconds(url: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lupuscell.cli.main", "dq", "run", "--db", url, "--out", f"{tmp}/r.json"],
            check=True,
            capture_output=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        return time.perf_counter() - started


def _keys(report: DqReport) -> set[tuple[str, int]]:
    return {(v.rule_id, v.record_id) for v in report.violations}


def bench(backend: str, url: str) -> None:
    engine = make_engine(url)
    run(engine)  # warm the connection and the page cache
    started = time.perf_counter()
    sql = run(engine)
    sql_seconds = time.perf_counter() - started
    cli_seconds = _cli_seconds(url)
    started = time.perf_counter()
    loop = run_python(engine)
    loop_seconds = time.perf_counter() - started
    engine.dispose()
    if _keys(sql) != _keys(loop):
        raise SystemExit(f"{backend}: the SQL run and the Python loop disagree")
    records = sum(sql.records.values())
    found = sum(r.count for r in sql.results)
    for path, seconds in (
        ("dq run (SQL)", sql_seconds),
        ("dq run CLI", cli_seconds),
        ("Python loop", loop_seconds),
    ):
        ratio = loop_seconds / seconds
        print(
            f"| {backend:<10} | {path:<14} | {records:>9,} | {len(sql.results):>5} | {found:>10,} "
            f"| {seconds:>7.2f} | {records / seconds:>10,.0f} | {ratio:>5.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    print(f"{args.patients:,} synthetic patients (seed {SEED}); ratio = Python loop seconds / path seconds")
    print("| backend    | path           |   records | rules | violations | seconds |  records/s | ratio |")
    print("|------------|----------------|-----------|-------|------------|---------|------------|-------|")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            bench(backend, cached_sqlite(args.patients))
        else:
            with postgres_url() as url:
                _load(url, args.patients)
                bench(backend, url)


if __name__ == "__main__":
    main()
