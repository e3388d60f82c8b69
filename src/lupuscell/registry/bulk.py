"""Bulk loading of per-table data frames into the registry (SQLite and PostgreSQL).

Input is what :func:`lupuscell.synth.cohort.iter_cohort_tables` yields and what the import
(:mod:`lupuscell.registry.exchange`) streams from CSV/Parquet files: chunks of per-table
frames with the ORM column names, ``patient_code`` instead of ``patient_id``, ``site_code``
instead of ``site_id`` and ``course_key`` linking drug administrations and adverse events to
their course. Chunks are checked and written as they arrive, so a 100,000-patient cohort or
a large file never sits in memory at once.

Guarantees
----------
* All or nothing: one transaction per load. Every chunk is checked
  (:mod:`lupuscell.registry.bulk_checks`: the boundary schemas, the plausibility rules and
  the cross-record rules, the same as the repository's and the import's) before it is
  written; after the first problem nothing more is written but the remaining chunks are
  still checked, and the load ends with one :class:`lupuscell.errors.ValidationError`
  listing the problems readably (root causes, counts, dependent rows once) and a rollback.
* Checks inside the writing transaction: on SQLite the write lock is taken at ``BEGIN``
  (:func:`lupuscell.registry.session.writer`), so a concurrent writer's rows are seen; on
  PostgreSQL the unique indexes (codes regardless of case, one visit per date, one death per
  patient) stop a writer that raced past the checks. A load that loses such a race is
  re-run when its chunks can be produced again (``chunks`` given as a callable, as the import
  does), so the loser gets the ordinary problem list; otherwise the constraint is named in a
  ValidationError - never an ``IntegrityError`` traceback.
* Provenance: one :class:`~lupuscell.registry.models.ImportBatch` row per load, with the rows
  written per table (sites included); every row points to it through ``import_batch_id``;
  one ``audit_log`` row per table (action ``import``, ``new_value`` = batch id, row count and
  ``records_audited``, the caller's reason) and one ``create`` row per record with its values
  (:func:`lupuscell.registry.audit_chain.audit_batch_records`), hash-chained like every audit
  row. Every import (files, REDCap, FHIR, the synthetic cohort) comes through here, so this is
  the one place bulk creates are audited.

How it is fast: see :mod:`lupuscell.registry.bulk_write` (``COPY`` on PostgreSQL, multi-row
``executemany`` on SQLite, ids allocated per chunk, foreign keys validated once per load).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell.errors import Problem, ProblemList, ValidationError
from lupuscell.registry import audit, audit_chain, models, plausibility
from lupuscell.registry.audit_chain import import_summary
from lupuscell.registry.bulk_checks import LOAD_ORDER, PARENT_TABLES, LoadChecks, RegistryLookup
from lupuscell.registry.bulk_write import (
    CHILD_TABLES,
    WriteState,
    allocate_ids,
    db_frame,
    drop_child_foreign_keys,
    restore_foreign_keys,
    sqlite_cache,
    writer,
)
from lupuscell.registry.dq import batch as dq_batch
from lupuscell.registry.integrity import integrity_problem
from lupuscell.registry.session import writer as write_engine
from lupuscell.schemas.events import ae_frame_defaults

__all__ = [
    "CHILD_TABLES",
    "LOAD_ORDER",
    "MAX_PROBLEMS",
    "PARENT_TABLES",
    "Chunk",
    "LoadResult",
    "database_refusal",
    "load_tables",
    "validate_chunk",
]

MAX_PROBLEMS = 200
RACE_ATTEMPTS = 3
"""Loads re-run after losing a race to a concurrent writer (when the chunks can be re-read)."""
_T = models.Base.metadata.tables


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one bulk load."""

    batch_id: int
    row_counts: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass(frozen=True)
class Chunk:
    """Per-table frames plus what an upstream reader already found in them.

    ``problems`` and ``rejected`` (table -> keys: patient codes, course keys) come from a
    reader that validated rows one by one (the import): the rejected rows are not in the
    frames, and rows referring to them are counted as dependent. ``schema_checked`` says the
    frames' rows already passed their schema. ``sources`` names each table's origin (a file)
    for the problem list; a ``_row`` column gives each row's number there.
    """

    tables: Mapping[str, pd.DataFrame]
    problems: Sequence[Problem] = ()
    rejected: Mapping[str, Iterable[str]] = field(default_factory=dict)
    schema_checked: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)


ChunkSource = (
    Iterable[Mapping[str, pd.DataFrame] | Chunk] | Callable[[], Iterable[Mapping[str, pd.DataFrame] | Chunk]]
)


def _as_chunk(item: Mapping[str, pd.DataFrame] | Chunk) -> Chunk:
    chunk = item if isinstance(item, Chunk) else Chunk(tables=item)
    tables = dict(chunk.tables)
    if "adverse_events" in tables and not tables["adverse_events"].empty:
        tables["adverse_events"] = ae_frame_defaults(tables["adverse_events"])
    return Chunk(tables, chunk.problems, chunk.rejected, chunk.schema_checked, chunk.sources)


# ------------------------------------------------------------------------------------------
# checking


def _check(checks: LoadChecks, chunk: Chunk) -> None:
    checks.sources.update(chunk.sources)
    for table, keys in chunk.rejected.items():
        checks.rejected[table].update(keys)
    for problem in chunk.problems:
        checks.problems.add(problem, problem.record.split(" row ")[0])
    for name in LOAD_ORDER:
        frame = chunk.tables.get(name)
        if frame is not None and not frame.empty:
            checks.check(name, frame.reset_index(drop=True), schema_checked=chunk.schema_checked)


def validate_chunk(
    tables: Mapping[str, pd.DataFrame],
    *,
    known_patients: Mapping[str, int] | None = None,
    known_courses: Iterable[str] = (),
) -> list[Problem]:
    """Problems of one chunk checked on its own (no database): references must be within it
    or among ``known_patients`` (code -> birth year) / ``known_courses``. Empty = loadable."""
    checks = LoadChecks(problems=ProblemList(limit=MAX_PROBLEMS))
    checks.birth_years.update(known_patients or {})
    checks.courses.update(known_courses)
    _check(checks, _as_chunk(tables))
    return checks.problems.problems()


# ------------------------------------------------------------------------------------------
# writing


def _write_sites(
    conn: Connection, frame: pd.DataFrame | None, codes: Iterable[str], state: WriteState
) -> int:
    """Resolve site codes to ids; insert the sites of ``frame`` not yet in the registry."""
    wanted = {c for c in codes if c not in state.site_ids}
    if frame is not None:
        wanted |= {c for c in frame["code"] if c not in state.site_ids}
    if not wanted:
        return 0
    table = _T["sites"]
    for row in conn.execute(sa.select(table.c.code, table.c.id).where(table.c.code.in_(sorted(wanted)))):
        state.site_ids[row.code] = row.id
    new = sorted(wanted - state.site_ids.keys())
    if not new or frame is None:
        return 0
    rows = frame[frame["code"].isin(new)]
    params = [
        {
            "code": r.code,
            "name": r.name,
            "country": None if pd.isna(getattr(r, "country", None)) else r.country,
        }
        for r in rows.itertuples(index=False)
    ]
    stmt = sa.insert(table).returning(table.c.id, table.c.code, sort_by_parameter_order=True)
    for row in conn.execute(stmt, params):
        state.site_ids[row.code] = row.id
        state.new_site_ids.append(row.id)
    return len(params)


def _resolve_patients(conn: Connection, codes: Iterable[str], state: WriteState) -> None:
    """Database ids of registry patients the rows refer to (not created by this load)."""
    wanted = sorted(c for c in pd.unique(pd.Series(codes, dtype=object)) if c not in state.patient_ids)
    patients = _T["patients"]
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for row in conn.execute(sa.select(patients.c.code, patients.c.id).where(patients.c.code.in_(part))):
            state.patient_ids[row.code] = row.id


def _write_chunk(conn: Connection, chunk: Chunk, state: WriteState, counts: dict[str, int]) -> None:
    write = writer(conn)
    tables = chunk.tables
    patients = tables.get("patients")
    site_codes: list[str] = (
        list(patients["site_code"].unique()) if patients is not None and not patients.empty else []
    )
    counts["sites"] += _write_sites(conn, tables.get("sites"), site_codes, state)
    for name in ("patients", "therapy_courses"):
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        if name == "therapy_courses":
            _resolve_patients(conn, frame["patient_code"], state)
        ids = allocate_ids(conn, name, len(frame))
        write(conn, name, db_frame(name, frame, state, ids), state.now)
        keys = frame["code"] if name == "patients" else frame["course_key"]
        (state.patient_ids if name == "patients" else state.course_ids).update(zip(keys, ids, strict=True))
        counts[name] += len(ids)
    for name in CHILD_TABLES:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        if "patient_code" in frame.columns:
            _resolve_patients(conn, frame["patient_code"], state)
        write(conn, name, db_frame(name, frame, state), state.now)
        counts[name] += len(frame)


# ------------------------------------------------------------------------------------------
# the load


def _finish(conn: Connection, state: WriteState, counts: dict[str, int], actor: str, reason: str) -> None:
    """Record the row counts on the batch; audit every record written (one ``create`` row each,
    :func:`~lupuscell.registry.audit_chain.audit_batch_records`) and every table loaded (one
    ``import`` row each), hash-chained after the head locked at the start of the load."""
    batch_id, now = state.batch_id, state.now
    batch_table = _T["import_batches"]
    conn.execute(sa.update(batch_table).where(batch_table.c.id == batch_id).values(row_counts=dict(counts)))
    audit_chain.audit_batch_records(
        conn, batch_id, site_ids=state.new_site_ids, actor=actor, reason=reason, now=now
    )
    summaries = [
        (now, actor, "import", name, None, None, None, json.dumps(import_summary(batch_id, count)), reason)
        for name, count in counts.items()
    ]
    audit_chain.append(conn, summaries)


def _load_once(
    engine: Engine,
    chunks: Iterable[Mapping[str, pd.DataFrame] | Chunk],
    meta: dict[str, str],
    validate: bool,
    postgres_foreign_keys: str,
    progress: Callable[[int], None] | None,
) -> tuple[int, dict[str, int]]:
    batch_table = _T["import_batches"]
    counts = dict.fromkeys(LOAD_ORDER, 0)
    with write_engine(engine).begin() as conn, sqlite_cache(conn):
        # audited writers wait here, before the load locks its tables; stamped after the lock,
        # so the load's stamp follows the chain's order
        audit_chain.lock_head(conn)
        now = dt.datetime.now(dt.UTC)
        batch_id: int = conn.execute(
            sa.insert(batch_table).returning(batch_table.c.id),
            {"created_at": now, "row_counts": {}, **meta},
        ).scalar_one()
        state = WriteState(batch_id=batch_id, now=now)
        checks = LoadChecks(problems=ProblemList(limit=MAX_PROBLEMS), registry=RegistryLookup(conn))
        dropped = []
        if conn.dialect.name == "postgresql" and postgres_foreign_keys == "revalidate":
            dropped = drop_child_foreign_keys(conn)
        for item in chunks:
            chunk = _as_chunk(item)
            if validate:
                _check(checks, chunk)
            if not checks.problems:
                _write_chunk(conn, chunk, state, counts)
            if progress is not None:
                progress(len(chunk.tables.get("patients", ())))
        checks.problems.raise_if_any()
        restore_foreign_keys(conn, dropped)
        if validate and (late := plausibility.records_after_death(conn, batch_id=batch_id)):
            raise ValidationError(late)
        _finish(conn, state, counts, meta["actor"], meta["reason"])
        if validate:  # data-quality rules: hard ones refuse the load, soft ones raise queries
            dq_batch.check_batch(conn, batch_id, actor=meta["actor"])
    return batch_id, counts


def load_tables(
    engine: Engine,
    chunks: ChunkSource,
    *,
    actor: str,
    source: str,
    reason: str,
    validate: bool = True,
    postgres_foreign_keys: str = "revalidate",
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load chunks of per-table frames in one transaction and record the import batch.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        A registry engine (schema created by :func:`lupuscell.registry.migrate.upgrade`).
    chunks : iterable of (mapping str -> DataFrame | Chunk), or a callable returning one
        E.g. :func:`lupuscell.synth.cohort.iter_cohort_tables`; patients must arrive in
        the same chunk as (or before) their child rows. A callable lets a load that lost a
        race to a concurrent writer be checked and run again (see the module docstring).
    actor, source, reason : str
        Recorded on the import batch and on every audit row (actor: at most 100
        characters; no NUL characters).
    validate : bool, default True
        Check every chunk before writing it (see :mod:`lupuscell.registry.bulk_checks`).
    postgres_foreign_keys : {"revalidate", "per_row"}, default "revalidate"
        PostgreSQL only. ``"revalidate"`` drops the child tables' foreign keys inside the
        load's transaction and re-creates them before commit, so each is validated once
        (one join) instead of by a trigger per row (PostgreSQL manual, "Populating a
        Database"); the tables are locked exclusively until commit, and the role must own
        them (otherwise it falls back to ``"per_row"``). ``"per_row"`` keeps the
        constraints in place (normal row locks, concurrent readers not blocked).
    progress : callable, optional
        Called with the number of patients of each loaded chunk.

    Returns
    -------
    LoadResult
        Batch id, rows written per table (sites included) and elapsed seconds.

    Raises
    ------
    lupuscell.errors.ValidationError
        A chunk broke a rule, or the database refused a row; nothing was written.
    """
    who = audit.require_actor(actor, "import batch")
    why = audit.require_reason(reason, "import batch", "load data")
    if postgres_foreign_keys not in ("revalidate", "per_row"):
        raise ValueError("postgres_foreign_keys must be 'revalidate' or 'per_row'")
    meta = {"actor": who, "reason": why, "source": source.replace("\x00", "")[:500]}
    started = time.perf_counter()
    attempts = RACE_ATTEMPTS if callable(chunks) else 1
    for attempt in range(1, attempts + 1):
        items = chunks() if callable(chunks) else chunks
        try:
            batch_id, counts = _load_once(engine, items, meta, validate, postgres_foreign_keys, progress)
        except sa.exc.IntegrityError as exc:
            if attempt < attempts:
                continue  # a concurrent writer won: check again against what it committed
            raise database_refusal(exc, source) from None
        return LoadResult(batch_id=batch_id, row_counts=counts, seconds=time.perf_counter() - started)
    raise AssertionError("unreachable")  # pragma: no cover


def database_refusal(exc: sa.exc.DBAPIError, record: str) -> ValidationError:
    """A readable ValidationError for a row the database refused (named constraint, first line)."""
    return integrity_problem(exc, record)
