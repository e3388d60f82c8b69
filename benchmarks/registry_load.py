"""Benchmark: bulk-load the synthetic cohort into the registry, against a naive ORM baseline.

For SQLite (a temporary file) and PostgreSQL (a scratch database created on the server named
by ``LUPUSCELL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``,
dropped afterwards), in the same run:

* **bulk**: :func:`lupuscell.registry.bulk.load_tables` on a 10,000-patient cohort (chunks of
  2,000 patients, generated beforehand so the timing is the load alone; generation is timed
  and printed separately), validation on;
* **bulk, FK per row** (PostgreSQL): the same with ``postgres_foreign_keys="per_row"``
  (foreign keys kept in place and checked by a trigger per row);
* **naive**: one ORM object per row, ``session.add`` per row and a flush per patient to get
  its id, one commit at the end, on a smaller sample of the same generator (default 300
  patients: the naive path would take many minutes on 10,000), run before and after the
  bulk load with the faster of the two kept (the conservative choice on a noisy machine).
  Rates are compared as rows/s.

Goal: bulk >= 20x the naive rows/s, and the 10,000-patient load < 60 s on 2 cores.

**Import memory**, same run: a ``lab_results.csv`` of about
``--import-mb`` MB (default 50) is imported with ``lupuscell.registry.exchange.import_directory``
into a registry that holds its patients, each run in a fresh child process whose peak resident
memory (``VmHWM``) is reported beside the file size: loading it, and
rejecting it (one bad row at the very end: everything is read and checked, nothing kept).
Baseline: the same import reading the whole file as one chunk, as the import did before it
streamed. Goal: peak under 10x the file when streaming.

Usage::

    .venv/bin/python benchmarks/registry_load.py [--patients 10000] [--naive-patients 300]
        [--backends sqlite,postgresql] [--import-mb 50] [--skip-load] [--skip-import]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lupuscell.registry import migrate, models
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.session import make_engine, normalise_url
from lupuscell.synth.cohort import generate_cohort_tables, iter_cohort_tables

ENV_PG = "LUPUSCELL_BENCH_POSTGRES_URL"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SEED = 2026
PER_PATIENT_TABLES = (
    "therapy_courses",
    "drug_administrations",
    "visits",
    "lab_results",
    "adverse_events",
    "clinical_events",
)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lupuscell-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'registry.sqlite'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    admin_url = sa.make_url(normalise_url(os.environ.get(ENV_PG, DEFAULT_PG)))
    name = f"lupuscell_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _clean(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        {k: _clean(v) for k, v in rec.items() if k not in drop}
        for rec in frame.to_dict("records")  # type: ignore[misc]
    ]


def naive_load(url: str, tables: dict[str, pd.DataFrame]) -> int:
    """One ORM object per row, ``session.add`` each, flush per patient; returns rows written."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    by_patient = {
        name: {code: g for code, g in tables[name].groupby("patient_code", sort=False)}
        for name in PER_PATIENT_TABLES
    }
    empty = pd.DataFrame()
    rows = 0
    with Session(engine) as session, session.begin():
        sites = {}
        for rec in _rows(tables["sites"]):
            sites[rec["code"]] = models.Site(**rec)
            session.add(sites[rec["code"]])
        session.flush()
        for rec in _rows(tables["patients"]):
            code = rec["code"]
            patient = models.Patient(**{k: v for k, v in rec.items() if k != "site_code"})
            patient.site_id = sites[rec["site_code"]].id
            session.add(patient)
            session.flush()  # the id the child rows need
            rows += 1
            courses = {}
            for c in _rows(by_patient["therapy_courses"].get(code, empty), ("patient_code",)):
                key = c.pop("course_key")
                courses[key] = models.TherapyCourse(patient_id=patient.id, **c)
                session.add(courses[key])
                rows += 1
            session.flush()
            for d in _rows(by_patient["drug_administrations"].get(code, empty), ("patient_code",)):
                session.add(models.DrugAdministration(course_id=courses[d.pop("course_key")].id, **d))
                rows += 1
            for v in _rows(by_patient["visits"].get(code, empty), ("patient_code",)):
                session.add(models.Visit(patient_id=patient.id, **v))
                rows += 1
            for lab in _rows(by_patient["lab_results"].get(code, empty), ("patient_code",)):
                session.add(models.LabResult(patient_id=patient.id, **lab))
                rows += 1
            for a in _rows(by_patient["adverse_events"].get(code, empty), ("patient_code",)):
                session.add(
                    models.AdverseEvent(patient_id=patient.id, course_id=courses[a.pop("course_key")].id, **a)
                )
                rows += 1
            for e in _rows(by_patient["clinical_events"].get(code, empty), ("patient_code",)):
                session.add(models.ClinicalEvent(patient_id=patient.id, **e))
                rows += 1
    engine.dispose()
    return rows


def bulk_load(url: str, chunks: list[dict[str, pd.DataFrame]], fk: str = "revalidate") -> tuple[int, float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    result = load_tables(
        engine,
        chunks,
        actor="benchmark",
        source="benchmarks/registry_load.py",
        reason="benchmark",
        postgres_foreign_keys=fk,
    )
    engine.dispose()
    return result.total_rows, result.seconds


# ---------------------------------------------------------------------------- import memory

LAB_BYTES_PER_PATIENT = 3_635
"""About the lab_results.csv bytes the generator writes per patient (36 MB for 10,000)."""


def _peak_kib() -> int:
    """Peak resident memory of this process (KiB): ``VmHWM`` of /proc/self/status, which,
    unlike ``getrusage``'s ``ru_maxrss``, starts afresh at exec (not at the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # pragma: no cover - not Linux


def _child_import(args: argparse.Namespace) -> None:
    """In a fresh process: import ``--child-dir`` and print peak memory (KiB) and the outcome."""
    from lupuscell.errors import ValidationError
    from lupuscell.registry.exchange import import_directory

    before = _peak_kib()
    engine = make_engine(args.child_url)
    started = time.perf_counter()
    try:
        counts = import_directory(
            engine,
            Path(args.child_dir),
            actor="benchmark",
            reason="benchmark",
            rows_per_chunk=args.child_chunk,
        )
        outcome = f"loaded {counts['lab_results']:,} rows"
    except ValidationError as exc:
        outcome = f"rejected ({len(exc.problems)} problem(s))"
    peak = _peak_kib()
    print(
        json.dumps(
            {
                "before_kib": before,
                "peak_kib": peak,
                "seconds": time.perf_counter() - started,
                "outcome": outcome,
            }
        )
    )


def _import_in_child(url: str, folder: Path, chunk: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child-url",
        url,
        "--child-dir",
        str(folder),
        "--child-chunk",
        str(chunk),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _lab_file(megabytes: float, root: Path) -> tuple[dict[str, pd.DataFrame], Path, Path]:
    """Patients (to load first) and two folders with lab_results.csv: valid, bad last row."""
    n = max(50, int(megabytes * 1e6 / LAB_BYTES_PER_PATIENT))
    tables = generate_cohort_tables(n, SEED)
    good, bad = root / "good", root / "bad"
    for folder in (good, bad):
        folder.mkdir()
    labs = tables["lab_results"]
    labs.to_csv(good / "lab_results.csv", index=False, date_format="%Y-%m-%d")
    broken = labs.copy()
    broken.loc[broken.index[-1], "unit"] = "furlongs"
    broken.to_csv(bad / "lab_results.csv", index=False, date_format="%Y-%m-%d")
    return tables, good, bad


def import_memory(megabytes: float, backends: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="lupuscell-bench-import-") as tmp:
        tables, good, bad = _lab_file(megabytes, Path(tmp))
        size = (good / "lab_results.csv").stat().st_size
        print(
            f"\nimport memory: lab_results.csv of {size / 1e6:.1f} MB ({len(tables['lab_results']):,} rows)"
        )
        rows = []
        for backend in backends:
            makers = {"sqlite": sqlite_url, "postgresql": postgres_url}
            for label, folder, chunk in (
                ("load, whole file (baseline)", good, 10**9),
                ("load, streamed", good, 20_000),
                ("reject, whole file (baseline)", bad, 10**9),
                ("reject, streamed", bad, 20_000),
            ):
                if backend != "sqlite" and "baseline" in label:
                    continue  # the client-side memory does not depend on the engine
                with makers[backend]() as url:
                    engine = make_engine(url)
                    migrate.upgrade(engine)
                    load_tables(
                        engine,
                        [{k: tables[k] for k in ("sites", "patients")}],
                        actor="benchmark",
                        source="benchmark",
                        reason="patients for the import benchmark",
                    )
                    engine.dispose()
                    result = _import_in_child(url, folder, chunk)
                rows.append((backend, label, result, size))
        print(
            f"| {'backend':<10} | {'run':<29} | {'outcome':<24} | {'s':>5} | {'peak MB':>7} | {'x file':>6} |"
        )
        print(f"|{'-' * 12}|{'-' * 31}|{'-' * 26}|{'-' * 7}|{'-' * 9}|{'-' * 8}|")
        for backend, label, result, size in rows:
            peak = result["peak_kib"] * 1024
            print(
                f"| {backend:<10} | {label:<29} | {result['outcome']:<24} | {result['seconds']:>5.0f} "
                f"| {peak / 1e6:>7.0f} | {peak / size:>5.1f}x |"
            )
        base = rows[0][2]["before_kib"] * 1024
        print(f"(a process that has only imported lupuscell, pandas and SQLAlchemy: {base / 1e6:.0f} MB)")
        print("goal: streamed peak under 10x the file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--naive-patients", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--skip-per-row",
        action="store_true",
        help="PostgreSQL: skip the variant checking foreign keys per row",
    )
    parser.add_argument("--import-mb", type=float, default=50.0, help="size of the import-memory CSV")
    parser.add_argument("--skip-load", action="store_true", help="only the import-memory benchmark")
    parser.add_argument("--skip-import", action="store_true", help="only the bulk-load benchmark")
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", help=argparse.SUPPRESS)
    parser.add_argument("--child-chunk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_url:
        _child_import(args)
        return
    if not args.skip_load:
        bulk_benchmark(args)
    if not args.skip_import:
        import_memory(args.import_mb, args.backends.split(","))


def bulk_benchmark(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    chunks = list(iter_cohort_tables(args.patients, SEED, chunk_size=2000))
    generation = time.perf_counter() - started
    sample = generate_cohort_tables(args.naive_patients, SEED)
    n_rows = sum(len(f) for c in chunks for name, f in c.items() if name != "sites")
    print(
        f"generated {args.patients:,} patients / {n_rows:,} rows in {generation:.1f} s (not in the load times)"
    )
    print(f"cpu count: {os.cpu_count()}; naive baseline on a sample of {args.naive_patients} patients")

    rows_out = []
    backends = {"sqlite": sqlite_url, "postgresql": postgres_url}
    for backend in args.backends.split(","):
        naive_times = []
        with backends[backend]() as url:
            t0 = time.perf_counter()
            n_naive = naive_load(url, sample)
            naive_times.append(time.perf_counter() - t0)
        with backends[backend]() as url:
            n_bulk, t_bulk = bulk_load(url, chunks)
        with backends[backend]() as url:  # again after the bulk load: the best of two is kept
            t0 = time.perf_counter()
            naive_load(url, sample)
            naive_times.append(time.perf_counter() - t0)
        t_naive = min(naive_times)
        rate_bulk, rate_naive = n_bulk / t_bulk, n_naive / t_naive
        rows_out.append((backend, "naive ORM", args.naive_patients, n_naive, t_naive, rate_naive, 1.0))
        rows_out.append((backend, "bulk", args.patients, n_bulk, t_bulk, rate_bulk, rate_bulk / rate_naive))
        if backend == "postgresql" and not args.skip_per_row:
            with backends[backend]() as url:
                n_row, t_row = bulk_load(url, chunks, fk="per_row")
            ratio = (n_row / t_row) / rate_naive
            rows_out.append((backend, "bulk, FK per row", args.patients, n_row, t_row, n_row / t_row, ratio))

    header = (
        f"| {'backend':<10} | {'path':<16} | {'patients':>8} | {'rows':>9} | {'seconds':>7} "
        f"| {'rows/s':>9} | {'ratio':>6} |"
    )
    print()
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for backend, path, patients, n, secs, rate, ratio in rows_out:
        print(
            f"| {backend:<10} | {path:<16} | {patients:>8,} | {n:>9,} | {secs:>7.1f} | {rate:>9,.0f} | {ratio:>5.1f}x |"
        )
    print()
    for backend, path, patients, _, secs, _, ratio in rows_out:
        if path.startswith("bulk"):
            goals = f"ratio {'>=' if ratio >= 20 else '<'} 20x, load {'<' if secs < 60 else '>='} 60 s"
            print(f"{backend} ({path}): {patients:,}-patient load {secs:.1f} s; {goals}")


if __name__ == "__main__":
    main()
