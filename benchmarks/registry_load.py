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

Goal (issue 2): bulk >= 20x the naive rows/s, and the 10,000-patient load < 60 s on 2 cores.

Usage::

    .venv/bin/python benchmarks/registry_load.py [--patients 10000] [--naive-patients 300]
        [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import math
import os
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
    args = parser.parse_args()

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
