"""Benchmark: the overdue visits of every site in one call, against one calendar per patient.

A 10,000-patient synthetic registry (SQLite file; PostgreSQL scratch database on
``LUPUSCELL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``) is
loaded once (not timed). Then, in the same run:

* **one call**: :func:`lupuscell.registry.schedule_read.overdue_visits` for all sites (what the
  web dashboard calls): a few set-based reads and one vectorised calendar per template;
* **per patient**: :func:`lupuscell.registry.schedule_read.patient_schedule` for each patient
  of a sample (default 300), extrapolated to the whole registry - the straightforward loop.

Both give the same overdue visits on the sample (checked). Goal: one call well under a second
on 10,000 patients.

Usage::

    .venv/bin/python benchmarks/schedule_overdue.py [--patients 10000] [--sample 300] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from registry_load import SEED, postgres_url, sqlite_url  # type: ignore[import-not-found]

from lupuscell.registry import migrate
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.repository import Registry
from lupuscell.registry.schedule_read import overdue_visits, patient_schedule
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables

TODAY = dt.date(2026, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print("| backend    | path                         | patients | seconds | patients/s | ratio |")
    print("|------------|------------------------------|----------|---------|------------|-------|")
    backends = {"sqlite": sqlite_url, "postgresql": postgres_url}
    for backend in args.backends.split(","):
        with backends[backend]() as url:
            engine = make_engine(url)
            migrate.upgrade(engine)
            load_tables(engine, iter_cohort_tables(args.patients, SEED), actor="b", source="b", reason="benchmark")
            overdue_visits(engine, today=TODAY)  # warm the template cache and the connection pool
            started = time.perf_counter()
            rows = overdue_visits(engine, today=TODAY)
            one_call = time.perf_counter() - started
            codes = [p["code"] for p in Registry(engine).list_records("patient", limit=args.sample)]
            started = time.perf_counter()
            looped = []
            for code in codes:
                result = patient_schedule(engine, code, today=TODAY)
                looped += [(code, v["visit_id"], v["occurrence"]) for v in result["visits"] if v["status"] == "overdue"]
            per_patient = (time.perf_counter() - started) / len(codes) * args.patients
            mine = [(r["patient_code"], r["visit_id"]) for r in rows if r["patient_code"] in set(codes)]
            assert sorted(mine) == sorted((c, v) for c, v, _ in looped), "the two paths disagree"
            engine.dispose()
        ratio = per_patient / one_call
        print(f"| {backend:<10} | one call (overdue_visits)    | {args.patients:>8,} | {one_call:7.2f} | "
              f"{args.patients / one_call:10,.0f} | {ratio:4.0f}x |")
        print(f"| {backend:<10} | per patient (extrapolated)   | {args.patients:>8,} | {per_patient:7.1f} | "
              f"{args.patients / per_patient:10,.0f} |  1.0x |")
        print(f"  {backend}: {len(rows):,} overdue visits; per-patient path sampled on {len(codes)} patients")


if __name__ == "__main__":
    main()
