"""Benchmark: what the complete audit trail and its hash chain cost a bulk load, and verify/replay.

For SQLite (a temporary file) and PostgreSQL (a scratch database on the server named by
``LUPUSCELL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
the same 10,000-patient synthetic cohort (generated once, not timed) is bulk-loaded three ways
in the same run:

* **table rows only**: the audit trail as it was before revision 0004 - one ``import`` row per
  table, no record values (``audit_batch_records`` switched off); the baseline;
* **record rows, no hashing**: one ``create`` row per record with its values, SHA-256 replaced
  by a constant (the cost of the rows themselves);
* **record rows + hash chain**: what lupuscell does (``load_tables`` as shipped).

Then, on the loaded registry: ``audit verify`` (the whole chain re-hashed) and the replay of the
log into an empty SQLite registry (the time machine's cost for the whole registry).

Usage::

    .venv/bin/python benchmarks/audit_chain_cost.py [--patients 10000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from registry_load import SEED, postgres_url, sqlite_url  # type: ignore[import-not-found]

from lupuscell.registry import audit_chain, audit_replay, migrate
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables


class _NoHash:
    """Stands in for ``hashlib.sha256``: the chain's bookkeeping without the hashing."""

    def __init__(self, _data: bytes = b"") -> None:
        pass

    def hexdigest(self) -> str:
        return "0" * 64


@contextmanager
def variant(name: str) -> Iterator[None]:
    saved_records, saved_sha = audit_chain.audit_batch_records, audit_chain.hashlib
    try:
        if name == "table rows only":
            audit_chain.audit_batch_records = lambda *a, **k: 0  # type: ignore[assignment]
        elif name == "record rows, no hashing":
            audit_chain.hashlib = type("H", (), {"sha256": _NoHash})  # type: ignore[assignment]
        yield
    finally:
        audit_chain.audit_batch_records, audit_chain.hashlib = saved_records, saved_sha  # type: ignore[assignment]


def load(url: str, chunks: list[Any]) -> tuple[float, int]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    result = load_tables(engine, chunks, actor="benchmark", source="audit_chain_cost", reason="benchmark")
    with engine.connect() as conn:
        audit_rows = conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar_one()
    engine.dispose()
    return result.seconds, int(audit_rows)


def verify_and_replay(url: str) -> tuple[float, float, bool, int]:
    engine = make_engine(url)
    started = time.perf_counter()
    report = audit_chain.verify(engine)
    verify_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        target, result = audit_replay.rebuild_into_temporary(engine, None, Path(tmp))
        replay_s = time.perf_counter() - started
        same = not audit_replay.differences(engine, target)
        target.dispose()
    engine.dispose()
    return verify_s, replay_s, same and report.ok, result.applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    chunks = list(iter_cohort_tables(args.patients, SEED, chunk_size=2000))
    rows = sum(len(f) for c in chunks for name, f in c.items() if name != "sites")
    print(f"{args.patients:,} patients, {rows:,} rows per load; sha256 {hashlib.sha256().name}")
    print("| backend    | load                      | seconds | audit rows | ratio to table rows only |")
    print("|------------|---------------------------|---------|------------|--------------------------|")
    backends = {"sqlite": sqlite_url, "postgresql": postgres_url}
    for backend in args.backends.split(","):
        times: dict[str, float] = {}
        for name in ("table rows only", "record rows, no hashing", "record rows + hash chain"):
            with backends[backend]() as url, variant(name):
                seconds, audit_rows = load(url, chunks)
            times[name] = seconds
            ratio = seconds / times["table rows only"]
            print(f"| {backend:<10} | {name:<25} | {seconds:7.1f} | {audit_rows:>10,} | {ratio:23.2f}x |")
        chain = times["record rows + hash chain"] / times["record rows, no hashing"]
        print(f"| {backend:<10} | hash chain alone          |         |            | {chain:23.2f}x |")
        with backends[backend]() as url:
            load(url, chunks)
            verify_s, replay_s, same, applied = verify_and_replay(url)
        print(f"  {backend}: audit verify {verify_s:.1f} s; replay of {applied:,} changes {replay_s:.1f} s; "
              f"rebuilt registry identical: {same}")


if __name__ == "__main__":
    main()
