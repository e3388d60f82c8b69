"""Benchmark: the cost of one follow-up definition on the registry's read paths.

Day 0 and the end of follow-up now come from :mod:`lupuscell.outcomes.timeline` on every path,
reading every dated table (:data:`~lupuscell.outcomes.timeline.ALIVE_SOURCES`, one ``GROUP BY``
each) where the cohort summary used to read three (last-contact events, visits, labs). This
script loads a synthetic cohort into a temporary SQLite registry and times, in the same run:

* **baseline**: the previous cohort-summary follow-up queries (kept here verbatim in spirit:
  courses, clinical events, ``max(visit_date)`` and ``max(result_date)`` per patient, reduced
  in pandas);
* **read_follow_up**: :func:`lupuscell.registry.tables.read_follow_up` for every patient (the
  cohort summary and the patient list);
* **patients list**: :func:`lupuscell.registry.views.patient_summaries` (whole registry);
* **from_registry**: :func:`lupuscell.registry.tables.from_registry` (what ``datasets`` and
  ``report`` read), for scale.

Each step is timed 3 times and the fastest kept. Usage::

    .venv/bin/python benchmarks/follow_up_paths.py [--patients 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from lupuscell.registry import migrate, models
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.session import make_engine
from lupuscell.registry.tables import from_registry, read_follow_up
from lupuscell.registry.views import patient_summaries
from lupuscell.synth.cohort import iter_cohort_tables


def _frame(conn: sa.Connection, stmt: Any) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def previous_follow_up(engine: sa.Engine) -> pd.Series:
    """The cohort summary's follow-up before the single definition (end date per patient)."""
    c, e = models.TherapyCourse.__table__, models.ClinicalEvent.__table__
    v, lab = models.Visit.__table__, models.LabResult.__table__
    with engine.connect() as conn:
        courses = _frame(conn, sa.select(c.c.patient_id, c.c.infusion_date).order_by(c.c.patient_id))
        events = _frame(conn, sa.select(e.c.patient_id, e.c.event_type, e.c.event_date))
        last_visit = _frame(
            conn, sa.select(v.c.patient_id, sa.func.max(v.c.visit_date).label("d")).group_by(v.c.patient_id)
        )
        last_lab = _frame(
            conn,
            sa.select(lab.c.patient_id, sa.func.max(lab.c.result_date).label("d")).group_by(lab.c.patient_id),
        )
    day0 = pd.to_datetime(courses.drop_duplicates("patient_id").set_index("patient_id")["infusion_date"])
    deaths = events[events["event_type"] == "death"].drop_duplicates("patient_id").set_index("patient_id")
    contact = events[events["event_type"] == "last_contact"].groupby("patient_id")["event_date"].max()
    ends = [pd.to_datetime(contact), pd.to_datetime(last_visit.set_index("patient_id")["d"])]
    ends.append(pd.to_datetime(last_lab.set_index("patient_id")["d"]))
    alive_end = pd.concat(ends, axis=1).max(axis=1)
    end = pd.to_datetime(deaths["event_date"]).reindex(day0.index).fillna(alive_end.reindex(day0.index))
    return (end - day0).dt.days


def _best(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        chunks = iter_cohort_tables(args.patients, args.seed, chunk_size=2000)
        load_tables(engine, chunks, actor="bench", source="synthetic", reason="benchmark")

        def new_follow_up() -> pd.DataFrame:
            with engine.connect() as conn:
                return read_follow_up(conn)

        base_s, before = _best(lambda: previous_follow_up(engine))
        new_s, after = _best(new_follow_up)
        list_s, _ = _best(lambda: patient_summaries(engine))
        read_s, cohort = _best(lambda: from_registry(engine), repeats=1)
        engine.dispose()
    moved = int((after["end_day"].reindex(before.index) != before).sum())
    print(f"follow_up_paths: SQLite registry of {args.patients:,} synthetic patients (best of 3)")
    header = f"{'step':<42} {'seconds':>8} {'ratio to baseline':>18}"
    print(header)
    print("-" * len(header))
    for name, secs in (
        ("baseline: previous cohort-summary queries", base_s),
        ("read_follow_up (summary, patient list)", new_s),
        ("patient_summaries (whole list)", list_s),
        ("from_registry (datasets, report; 1 run)", read_s),
    ):
        print(f"{name:<42} {secs:>8.2f} {secs / base_s:>17.1f}x")
    print(f"patients whose follow-up the single definition moved: {moved:,} of {cohort.n_patients:,}")


if __name__ == "__main__":
    main()
