"""Benchmark: the OMOP eligibility screen at health-system scale.

1,000,000 synthetic persons with about 100,000,000 event rows (``lupuscell synth omop``, written
once into ``--data`` and reused), screened for a shipped protocol on DuckDB over Parquet. In the
same run, as baselines:

* a plain DuckDB full scan of the same tables and columns (every column the screen reads, read
  once: the practical limit of any screen); the screen's rows/s as a fraction of it;
* the independent plain-pandas evaluation of the tests (``tests/screening/pandas_screen.py``) on
  a sample of persons (the whole population does not fit a pandas evaluation in memory here);
* the same compiled screen on PostgreSQL, on a sample loaded with ``COPY`` (loading 100 M rows
  into PostgreSQL is not part of a screen and takes far longer than the screen itself).

Each measurement runs in its own subprocess so that its peak memory (``ru_maxrss``) is its own.
Rates are event rows read per second (rows of the tables the screen reads). Goal: the DuckDB
screen under 15 s and within 3x of the full scan.

Usage: ``python benchmarks/screen_scale.py [--persons 1000000] [--data DIR] [--sample 100000]
[--protocol cart19_refractory_sle] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = (
    "person",
    "observation_period",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "visit_occurrence",
)
SCAN_COLUMNS = {
    "person": ("person_id", "gender_concept_id", "year_of_birth"),
    "observation_period": ("person_id", "observation_period_start_date", "observation_period_end_date"),
    "condition_occurrence": ("person_id", "condition_concept_id", "condition_start_date"),
    "drug_exposure": ("person_id", "drug_concept_id", "drug_exposure_start_date"),
    "measurement": (
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "value_as_number",
        "unit_concept_id",
    ),
    "visit_occurrence": ("person_id", "visit_occurrence_id", "visit_concept_id", "visit_start_date"),
}


def _rows(data: Path, max_person: int | None = None) -> int:
    import pyarrow.dataset as ds

    total = 0
    for table in TABLES:
        dataset = ds.dataset(str(data / table), format="parquet")
        if max_person is None:
            total += dataset.count_rows()
        else:
            total += dataset.count_rows(filter=ds.field("person_id") <= max_person)
    return total


def ensure_data(data: Path, persons: int, seed: int) -> None:
    marker = data / "BENCHMARK.json"
    wanted = {"persons": persons, "seed": seed}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return
    from lupuscell.synth.omop import OmopSynthConfig, write_omop

    started = time.perf_counter()
    print(f"generating {persons:,} persons into {data} (streamed, once) ...", file=sys.stderr, flush=True)
    write_omop(OmopSynthConfig(persons, seed), data)
    marker.write_text(json.dumps(wanted))
    print(f"  generated in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- workers (subprocess)


def worker_screen(args: argparse.Namespace) -> dict:
    from lupuscell.protocols.catalog import load_bundle
    from lupuscell.screening.omop import open_source
    from lupuscell.screening.run import screen

    bundle = load_bundle(args.protocol)
    location = args.postgres if args.engine == "postgres" else str(args.data)
    started = time.perf_counter()
    source = open_source(location, args.engine, schema=args.schema)
    result = screen(bundle, source)
    seconds = time.perf_counter() - started
    source.close()
    return {"seconds": seconds, "candidates": len(result.candidates), "persons": result.persons}


def worker_scan(args: argparse.Namespace) -> dict:
    from lupuscell.screening.omop import open_source

    started = time.perf_counter()
    source = open_source(str(args.data), "duckdb")
    for table, columns in SCAN_COLUMNS.items():
        t = source.table(table)
        aggs = {f"m{i}": t[c].max() for i, c in enumerate(columns)}
        source.backend.execute(t.aggregate(n=t.count(), **aggs))
    return {"seconds": time.perf_counter() - started}


def worker_pandas(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "screening"))
    from pandas_screen import pandas_screen, read_tables

    from lupuscell.protocols.catalog import load_bundle
    from lupuscell.synth.omop import CUTOFF

    started = time.perf_counter()
    tables = read_tables(args.data, max_person=args.sample)
    _, _, candidates = pandas_screen(load_bundle(args.protocol), tables, CUTOFF)
    return {"seconds": time.perf_counter() - started, "candidates": len(candidates)}


def worker_load(args: argparse.Namespace) -> dict:
    from lupuscell.screening.load import load_parquet_folder

    started = time.perf_counter()
    counts = load_parquet_folder(args.data, args.postgres, schema=args.schema, person_limit=args.sample)
    return {"seconds": time.perf_counter() - started, "rows": counts}


WORKERS = {"screen": worker_screen, "scan": worker_scan, "pandas": worker_pandas, "load": worker_load}


def run_worker(kind: str, **options: object) -> dict:
    """Run one measurement in a subprocess (which reports its own peak resident memory)."""
    argv = [sys.executable, __file__, "--worker", kind]
    for key, value in options.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "lupuscell_omop_bench"
    )
    parser.add_argument(
        "--sample", type=int, default=100_000, help="persons in the pandas and PostgreSQL samples"
    )
    parser.add_argument("--protocol", default="cart19_refractory_sle")
    parser.add_argument("--postgres", default=os.environ.get("LUPUSCELL_TEST_POSTGRES_URL"))
    parser.add_argument("--schema", default="omop_bench")
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args)
        result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        print(json.dumps(result, default=str))
        return

    ensure_data(args.data, args.persons, args.seed)
    rows, sample_rows = _rows(args.data), _rows(args.data, args.sample)
    common = {"data": args.data, "protocol": args.protocol}
    scan = run_worker("scan", **common)
    duck = run_worker("screen", engine="duckdb", **common)
    panda = run_worker("pandas", sample=args.sample, **common)
    lines = [
        ("DuckDB full scan (limit)", args.persons, rows, scan),
        (f"DuckDB screen {args.protocol}", args.persons, rows, duck),
        (f"pandas evaluation (sample {args.sample:,})", args.sample, sample_rows, panda),
    ]
    if args.postgres:
        load = run_worker("load", sample=args.sample, postgres=args.postgres, schema=args.schema, **common)
        pg = run_worker("screen", engine="postgres", postgres=args.postgres, schema=args.schema, **common)
        lines.append(
            (
                f"PostgreSQL screen (sample {args.sample:,}; load {load['seconds']:.0f} s)",
                args.sample,
                sample_rows,
                pg,
            )
        )
    duck_rate = rows / duck["seconds"]
    print(f"\nOMOP screen at scale: {args.persons:,} persons, {rows:,} event rows, {os.cpu_count()} cores\n")
    names = ("persons", "rows", "wall s", "rows/s", "peak MiB", "DuckDB/x")
    widths = (10, 12, 8, 12, 9, 9)
    header = f"{'measurement':<58} " + " ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
    print(header)
    print("-" * len(header))
    for label, persons, n_rows, result in lines:
        rate = n_rows / result["seconds"]
        print(
            f"{label:<58} {persons:>10,} {n_rows:>12,} {result['seconds']:>8.2f} {rate:>12,.0f} "
            f"{result['peak_mib']:>9.0f} {duck_rate / rate:>9.2f}"
        )
    print(
        f"\nDuckDB screen: {duck['seconds']:.2f} s for {duck['candidates']} candidates "
        f"(goal < 15 s: {'met' if duck['seconds'] < 15 else 'NOT met'}); "
        f"screen time / full-scan time = {duck['seconds'] / scan['seconds']:.2f} "
        f"(goal <= 3: {'met' if duck['seconds'] <= 3 * scan['seconds'] else 'NOT met'}); "
        f"screen rows/s = {scan['seconds'] / duck['seconds']:.0%} of the full scan."
    )


if __name__ == "__main__":
    main()
