"""Fast bulk loading of per-table data frames into the registry (SQLite and PostgreSQL).

Input is what :func:`lupuscell.synth.cohort.iter_cohort_tables` yields (and what a CSV/Parquet
import produces): per-table frames with the ORM column names, ``patient_code`` instead of
``patient_id``, ``site_code`` instead of ``site_id`` and ``course_key`` linking drug
administrations and adverse events to their course. Chunks are loaded as they arrive, so a
100,000-patient cohort never sits in memory at once.

How it is fast
--------------
* Parents (sites, patients, therapy courses) go through SQLAlchemy Core ``insert()`` executed
  with many parameter sets and ``RETURNING id`` (SQLAlchemy's "insertmanyvalues": a few
  multi-row INSERT statements per chunk, ids returned in parameter order), which gives the
  database ids the child rows need.
* Child tables (drug administrations, visits, lab results, adverse events, clinical events)
  are written without per-row Python objects: on PostgreSQL with ``COPY ... FROM STDIN``
  (psycopg 3 ``cursor.copy``), the chunk rendered as CSV by pandas; on SQLite with the
  driver's ``executemany`` on plain tuples (``Connection.exec_driver_sql``), values already
  in SQLAlchemy's SQLite storage format (ISO dates, ``YYYY-MM-DD HH:MM:SS.ffffff``
  timestamps).

Guarantees
----------
* One transaction per load: every chunk or none (a failure anywhere rolls back the batch,
  its rows and its audit entries).
* Provenance: one :class:`~lupuscell.registry.models.ImportBatch` row per load; every row
  written points to it through ``import_batch_id``; one ``audit_log`` row per table
  (action ``import``, ``field`` NULL, ``new_value`` = JSON with the batch id and row count,
  the caller's reason) and one ``create`` row per record with its values
  (:func:`lupuscell.registry.audit_chain.audit_batch_records`), hash-chained like every audit row.

What is validated
-----------------
The loader does not trust its input even when it comes from the synthetic generator; per
chunk and vectorised (so it costs little): required columns; code lists (therapy, cell
source, donor type, route, sex, drug purpose, AE category, relatedness, event type, flare
severity, nephritis class, criteria); lab units known for their analyte
(:func:`lupuscell.units.unit_rule`); positive cell doses and viability 0-100; coherent dates
(mobilisation <= harvest <= infusion, conditioning start <= infusion <= discharge, visit,
lab, drug, event and AE dates not before the patient's birth year, AE resolution >= onset);
CTCAE grade 1-5, PGA 0-3, non-negative doses; every child row referring to a patient
(and course) of the same load; no patient code that already exists in the registry.
Problems are raised together as :class:`lupuscell.errors.ValidationError` naming the table
row, the field and the reason (at most :data:`MAX_PROBLEMS`), before anything of the chunk is
written; the database CHECK and foreign-key constraints remain the last line of defence.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell import units as lab_units
from lupuscell import vocab
from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit_chain, models
from lupuscell.registry.audit_chain import import_summary

MAX_PROBLEMS = 20
PARENT_TABLES = ("sites", "patients", "therapy_courses")
CHILD_TABLES = ("drug_administrations", "visits", "lab_results", "adverse_events", "clinical_events")
LOAD_ORDER = PARENT_TABLES + CHILD_TABLES

_T = models.Base.metadata.tables
_SKIP = {"id", "patient_id", "course_id", "site_id", "created_at", "updated_at", "import_batch_id"}

REQUIRED: dict[str, tuple[str, ...]] = {
    "sites": ("code", "name"),
    "patients": ("code", "site_code", "sex", "birth_year"),
    "therapy_courses": ("course_key", "patient_code", "therapy", "infusion_date"),
    "drug_administrations": ("course_key", "drug", "dose", "unit", "admin_date", "purpose"),
    "visits": ("patient_code", "visit_date"),
    "lab_results": ("patient_code", "result_date", "analyte", "value", "unit"),
    "adverse_events": ("patient_code", "term", "category", "ctcae_grade", "onset_date"),
    "clinical_events": ("patient_code", "event_type", "event_date"),
}
"""Columns a frame must have; other model columns are optional (NULL / default when absent)."""

CODE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "patients": {
        "sex": vocab.SEXES,
        "classification_criteria": vocab.CLASSIFICATION_CRITERIA,
        "nephritis_class": vocab.NEPHRITIS_CLASSES,
    },
    "therapy_courses": {
        "therapy": vocab.THERAPIES,
        "cell_source": vocab.CELL_SOURCES,
        "donor_type": vocab.DONOR_TYPES,
        "route": vocab.ROUTES,
    },
    "drug_administrations": {"purpose": vocab.DRUG_PURPOSES},
    "adverse_events": {"category": vocab.AE_CATEGORIES, "relatedness": vocab.RELATEDNESS},
    "clinical_events": {"event_type": vocab.CLINICAL_EVENT_TYPES, "severity": vocab.FLARE_SEVERITIES},
}
DATE_COLUMNS: dict[str, str] = {
    "drug_administrations": "admin_date",
    "visits": "visit_date",
    "lab_results": "result_date",
    "adverse_events": "onset_date",
    "clinical_events": "event_date",
}
RANGES: dict[str, dict[str, tuple[float | None, float | None, bool]]] = {
    # column: (low, high, low_exclusive)
    "therapy_courses": {
        "total_cell_dose": (0, None, True),
        "cell_dose_per_kg": (0, None, True),
        "cd34_per_kg": (0, None, True),
        "viability_percent": (0, 100, False),
        "number_of_infusions": (1, None, False),
    },
    "drug_administrations": {"dose": (0, None, False)},
    "visits": {"pga": (0, 3, False), "prednisone_mg_per_day": (0, None, False)},
    "adverse_events": {"ctcae_grade": (1, 5, False)},
}
COURSE_DATE_ORDER: tuple[tuple[str, str], ...] = (
    ("mobilisation_date", "harvest_date"),
    ("harvest_date", "infusion_date"),
    ("mobilisation_date", "infusion_date"),
    ("conditioning_start_date", "infusion_date"),
    ("infusion_date", "discharge_date"),
)
"""Pairs (earlier, later) that must not be reversed when both are present."""


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one bulk load."""

    batch_id: int
    row_counts: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass
class _State:
    batch_id: int
    now: dt.datetime
    site_ids: dict[str, int] = field(default_factory=dict)
    patient_ids: dict[str, int] = field(default_factory=dict)
    birth_years: dict[str, int] = field(default_factory=dict)
    course_ids: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOAD_ORDER[1:], 0))


# ------------------------------------------------------------------------------------------
# validation


def _record(table: str, frame: pd.DataFrame, pos: int) -> str:
    row = frame.iloc[pos]
    for key in ("code", "course_key", "patient_code"):
        if key in frame.columns and isinstance(row[key], str):
            return f"{table} row {pos} ({key} {row[key]})"
    return f"{table} row {pos}"


def _flag(
    problems: list[Problem], table: str, frame: pd.DataFrame, mask: Any, column: str, message: str
) -> None:
    bad = np.flatnonzero(np.asarray(mask, dtype=bool))
    for pos in bad[: max(0, MAX_PROBLEMS - len(problems))]:
        value = frame.iloc[pos][column] if column in frame.columns else None
        problems.append(Problem(_record(table, frame, int(pos)), column, message.format(value=value)))


def _as_dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_datetime(series, errors="coerce")


def validate_chunk(
    tables: Mapping[str, pd.DataFrame],
    *,
    known_patients: Mapping[str, int] | None = None,
    known_courses: Iterable[str] = (),
) -> list[Problem]:
    """Problems found in one chunk (empty list = loadable). See the module docstring."""
    problems: list[Problem] = []
    birth_years: dict[str, int] = dict(known_patients or {})
    courses = set(known_courses)
    for name in LOAD_ORDER:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        missing = [c for c in REQUIRED[name] if c not in frame.columns]
        for col in missing:
            problems.append(Problem(f"{name} table", col, "required column is missing"))
        if missing:
            continue
        for col in REQUIRED[name]:
            _flag(problems, name, frame, frame[col].isna(), col, "is required")
        for col, allowed in CODE_LISTS.get(name, {}).items():
            if col in frame.columns:
                values = frame[col]
                bad = values.notna() & ~values.isin(allowed)
                _flag(problems, name, frame, bad, col, f"{{value!r}} is not one of {', '.join(allowed)}")
        for col, (low, high, exclusive) in RANGES.get(name, {}).items():
            if col not in frame.columns:
                continue
            values = pd.to_numeric(frame[col], errors="coerce")
            if low is not None:
                too_low = values <= low if exclusive else values < low
                _flag(
                    problems,
                    name,
                    frame,
                    too_low,
                    col,
                    f"{{value}} must be {'>' if exclusive else '>='} {low}",
                )
            if high is not None:
                _flag(problems, name, frame, values > high, col, f"{{value}} must be <= {high}")
        if name == "patients":
            _flag(
                problems, name, frame, frame["code"].duplicated(), "code", "duplicate patient code {value!r}"
            )
            birth_years.update(zip(frame["code"], frame["birth_year"].astype(int), strict=True))
        if name == "therapy_courses":
            _check_course_dates(problems, frame)
            courses.update(frame["course_key"])
        if name in CHILD_TABLES or name == "therapy_courses":
            _check_references(problems, name, frame, birth_years, courses)
        if name == "lab_results":
            _check_units(problems, frame)
            values = pd.to_numeric(frame["value"], errors="coerce")
            _flag(
                problems,
                name,
                frame,
                ~np.isfinite(values.to_numpy(dtype=float)),
                "value",
                "{value} is not a finite number",
            )
        if name == "adverse_events" and "resolution_date" in frame.columns:
            onset, res = _as_dates(frame["onset_date"]), _as_dates(frame["resolution_date"])
            _flag(problems, name, frame, res < onset, "resolution_date", "{value} is before the onset date")
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]


def _check_course_dates(problems: list[Problem], frame: pd.DataFrame) -> None:
    for early, late in COURSE_DATE_ORDER:
        if early in frame.columns and late in frame.columns:
            a, b = _as_dates(frame[early]), _as_dates(frame[late])
            _flag(problems, "therapy_courses", frame, b < a, late, f"{{value}} is before {early}")


def _check_references(
    problems: list[Problem], name: str, frame: pd.DataFrame, birth_years: Mapping[str, int], courses: set[str]
) -> None:
    if "patient_code" in frame.columns:
        known = frame["patient_code"].isin(birth_years.keys())
        _flag(problems, name, frame, ~known, "patient_code", "{value!r} is not a patient of this load")
        date_col = DATE_COLUMNS.get(name, "infusion_date")
        if date_col in frame.columns:
            year = _as_dates(frame[date_col]).dt.year
            born = frame["patient_code"].map(birth_years)
            _flag(
                problems,
                name,
                frame,
                known & (year < born),
                date_col,
                "{value} is before the patient's birth year",
            )
    if name in ("drug_administrations", "adverse_events") and "course_key" in frame.columns:
        key = frame["course_key"]
        _flag(
            problems,
            name,
            frame,
            key.notna() & ~key.isin(courses),
            "course_key",
            "{value!r} is not a therapy course of this load",
        )


def _check_units(problems: list[Problem], frame: pd.DataFrame) -> None:
    pairs = frame[["analyte", "unit"]].drop_duplicates()
    for analyte, unit in pairs.itertuples(index=False):
        try:
            lab_units.unit_rule(str(analyte), str(unit))
        except ValidationError as exc:
            mask = (frame["analyte"] == analyte) & (frame["unit"] == unit)
            field_name = exc.problems[0].field if exc.problems else "unit"
            _flag(
                problems,
                "lab_results",
                frame,
                mask.to_numpy() & (mask.cumsum() == 1).to_numpy(),
                field_name if field_name in frame.columns else "unit",
                exc.problems[0].message,
            )


# ------------------------------------------------------------------------------------------
# writing

COPY_PIECE_ROWS = 50_000
"""Rows rendered to CSV per COPY write (the server parses one piece while the next is rendered)."""
SQLITE_ROWS_PER_STATEMENT = 100
"""Rows per multi-row INSERT on SQLite (about 30 % faster than one row per execution)."""
SQLITE_CACHE_KIB = 131_072
"""SQLite page cache used during a load (128 MiB; restored afterwards)."""


def _columns(name: str) -> list[str]:
    return [c.name for c in _T[name].columns if c.name != "id"]


def _py_values(series: pd.Series, json_column: bool = False) -> npt.NDArray[np.object_]:
    """Plain Python values (an object array) with ``None`` for missing, as the sqlite3 driver
    needs them (it rejects numpy scalars); dates as ISO strings; in a JSON column, lists and
    dicts as JSON text."""
    if pd.api.types.is_datetime64_any_dtype(series):
        arr = series.to_numpy(dtype="datetime64[D]")
        out = np.datetime_as_string(arr, unit="D").astype(object)
        out[np.isnat(arr)] = None
        return out
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iubf":
        values = series.to_numpy()
        obj = values.astype(object)  # numpy scalars -> Python int / bool / float
        if values.dtype.kind == "f":
            obj[np.isnan(values)] = None
        return obj
    missing = series.isna().to_numpy()
    obj = series.astype(object).to_numpy()
    if missing.any():
        obj[missing] = None
    if json_column:
        out = np.empty(len(obj), dtype=object)
        out[:] = [_json_text(v) for v in obj]
        return out
    return obj


def _sqlite_timestamp(value: dt.datetime) -> str:
    """SQLAlchemy's SQLite storage format of a DateTime (the time zone is not stored)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _db_frame(name: str, frame: pd.DataFrame, state: _State, ids: list[int] | None = None) -> pd.DataFrame:
    """The frame with the table's columns: ids resolved, provenance and timestamps added."""
    out: dict[str, Any] = {}
    if ids is not None:
        out["id"] = ids
    for col in _columns(name):
        if col == "patient_id":
            out[col] = frame["patient_code"].map(state.patient_ids).astype("int64").to_numpy()
        elif col == "site_id":
            out[col] = frame["site_code"].map(state.site_ids).astype("int64").to_numpy()
        elif col == "course_id":
            if "course_key" not in frame.columns:
                out[col] = None
                continue
            mapped = frame["course_key"].map(state.course_ids)
            out[col] = (mapped.astype("Int64") if mapped.isna().any() else mapped.astype("int64")).to_numpy()
        elif col == "import_batch_id":
            out[col] = state.batch_id
        elif col in ("created_at", "updated_at"):
            out[col] = None
        elif col in frame.columns:
            out[col] = frame[col].to_numpy()
        elif col == "sledai_window_days":
            out[col] = 10
        elif col == "number_of_infusions":
            out[col] = 1
        else:
            out[col] = None
    return pd.DataFrame(out, index=range(len(frame)))


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _copy_postgres(conn: Connection, name: str, frame: pd.DataFrame, now: dt.datetime) -> None:
    """COPY the frame (CSV, rendered in pieces and sent by psycopg's writer thread)."""
    from psycopg.copy import QueuedLibpqWriter

    stamp = now.isoformat()
    frame = frame.assign(**{c: stamp for c in ("created_at", "updated_at") if c in frame.columns})
    for col in frame.columns:
        if frame[col].dtype == object and isinstance(_T[name].c[col].type, sa.JSON):
            frame[col] = [_json_text(v) for v in frame[col]]
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    statement = f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT csv)'
    raw = conn.connection.driver_connection
    try:
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for start in range(0, len(frame), COPY_PIECE_ROWS):
                piece = frame.iloc[start : start + COPY_PIECE_ROWS]
                copy.write(piece.to_csv(index=False, header=False, date_format="%Y-%m-%d"))
    except psycopg.Error as exc:
        # the same exception types as the rest of SQLAlchemy (IntegrityError for constraints)
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=conn.dialect) from exc


def _sqlite_rows_per_statement(n_columns: int) -> int:
    """Rows per multi-row INSERT within SQLite's bound-parameter limit (999 before 3.32)."""
    limit = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
    return max(1, min(SQLITE_ROWS_PER_STATEMENT, limit // n_columns))


def _executemany_sqlite(conn: Connection, name: str, frame: pd.DataFrame, now: dt.datetime) -> None:
    """Multi-row INSERTs executed by the driver over plain values in SQLite storage format.

    ``k`` rows per statement (one prepared statement, many parameter sets), then the
    remainder one row per statement: fewer statement steps than one row per execution.
    """
    stamp = _sqlite_timestamp(now)
    n, width = len(frame), len(frame.columns)
    values = np.empty((n, width), dtype=object)
    for j, col in enumerate(frame.columns):
        if col in ("created_at", "updated_at"):
            values[:, j] = stamp
        else:
            values[:, j] = _py_values(frame[col], json_column=isinstance(_T[name].c[col].type, sa.JSON))
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    one = "(" + ", ".join("?" for _ in frame.columns) + ")"
    k = _sqlite_rows_per_statement(width)
    full = n // k * k
    if full:
        groups = list(map(tuple, values[:full].reshape(full // k, k * width).tolist()))
        conn.exec_driver_sql(f'INSERT INTO "{name}" ({cols}) VALUES {", ".join([one] * k)}', groups)
    if full < n:
        rest = list(map(tuple, values[full:].tolist()))
        conn.exec_driver_sql(f'INSERT INTO "{name}" ({cols}) VALUES {one}', rest)


def _writer(conn: Connection) -> Callable[[Connection, str, pd.DataFrame, dt.datetime], None]:
    return _copy_postgres if conn.dialect.name == "postgresql" else _executemany_sqlite


def _insert_sites(conn: Connection, frame: pd.DataFrame | None, codes: Iterable[str], state: _State) -> None:
    wanted = {c for c in codes if c not in state.site_ids}
    if frame is not None:
        wanted |= {c for c in frame["code"] if c not in state.site_ids}
    if not wanted:
        return
    table = _T["sites"]
    for row in conn.execute(sa.select(table.c.code, table.c.id).where(table.c.code.in_(sorted(wanted)))):
        state.site_ids[row.code] = row.id
    new = sorted(wanted - state.site_ids.keys())
    if not new:
        return
    if frame is None or not set(new) <= set(frame["code"]):
        unknown = sorted(set(new) - set(frame["code"] if frame is not None else []))
        raise ValidationError(
            Problem("patients table", "site_code", f"unknown site code(s) {', '.join(unknown)}")
        )
    rows = frame[frame["code"].isin(new)]
    params = [
        {"code": r.code, "name": r.name, "country": getattr(r, "country", None)}
        for r in rows.itertuples(index=False)
    ]
    stmt = sa.insert(table).returning(table.c.id, table.c.code, sort_by_parameter_order=True)
    for row in conn.execute(stmt, params):
        state.site_ids[row.code] = row.id


def _check_new_codes(conn: Connection, codes: list[str]) -> None:
    table = _T["patients"]
    existing: list[str] = []
    for start in range(0, len(codes), 500):
        part = codes[start : start + 500]
        existing += [r[0] for r in conn.execute(sa.select(table.c.code).where(table.c.code.in_(part)))]
    if existing:
        raise ValidationError(
            [
                Problem(f"patients (code {c})", "code", "duplicate patient code: already in the registry")
                for c in sorted(existing)[:MAX_PROBLEMS]
            ]
        )


def _allocate_ids(conn: Connection, name: str, n: int) -> list[int]:
    """``n`` new primary keys for ``name``.

    PostgreSQL: drawn from the table's sequence (safe with concurrent writers). SQLite: the
    next ``n`` integers after the current maximum; safe because the load's transaction has
    already written (the import batch row), so it holds SQLite's single write lock until
    commit.
    """
    if conn.dialect.name == "postgresql":
        seq: str = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar_one()
        rows = conn.execute(sa.text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": n})
        return [int(r[0]) for r in rows]
    top: int = conn.execute(sa.select(sa.func.coalesce(sa.func.max(_T[name].c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))


def _insert_parents(conn: Connection, tables: Mapping[str, pd.DataFrame], state: _State) -> None:
    write = _writer(conn)
    patients = tables.get("patients")
    if patients is not None and not patients.empty:
        _insert_sites(conn, tables.get("sites"), patients["site_code"].unique(), state)
        codes = patients["code"].tolist()
        _check_new_codes(conn, codes)
        ids = _allocate_ids(conn, "patients", len(patients))
        write(conn, "patients", _db_frame("patients", patients, state, ids), state.now)
        state.patient_ids.update(zip(codes, ids, strict=True))
        state.birth_years.update(zip(codes, patients["birth_year"].astype(int), strict=True))
        state.counts["patients"] += len(ids)
    elif tables.get("sites") is not None:
        _insert_sites(conn, tables["sites"], [], state)
    courses = tables.get("therapy_courses")
    if courses is not None and not courses.empty:
        ids = _allocate_ids(conn, "therapy_courses", len(courses))
        write(conn, "therapy_courses", _db_frame("therapy_courses", courses, state, ids), state.now)
        state.course_ids.update(zip(courses["course_key"], ids, strict=True))
        state.counts["therapy_courses"] += len(ids)


def _load_chunk(conn: Connection, tables: Mapping[str, pd.DataFrame], state: _State, validate: bool) -> None:
    if validate:
        problems = validate_chunk(tables, known_patients=state.birth_years, known_courses=state.course_ids)
        if problems:
            raise ValidationError(problems)
    _insert_parents(conn, tables, state)
    write = _writer(conn)
    for name in CHILD_TABLES:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        write(conn, name, _db_frame(name, frame, state), state.now)
        state.counts[name] += len(frame)


# ------------------------------------------------------------------------------------------
# PostgreSQL: foreign keys of the child tables checked once per load instead of once per row

_FK_QUERY = sa.text(
    "SELECT c.conrelid::regclass::text AS tab, c.conname AS name, pg_get_constraintdef(c.oid) AS def "
    "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(CAST(:tables AS regclass[]))"
)


def _drop_child_foreign_keys(conn: Connection) -> list[tuple[str, str, str]]:
    """Drop the child tables' foreign keys inside the load's transaction (PostgreSQL).

    Returns the definitions to re-create; an empty list (and nothing changed) when the role
    may not alter the tables, in which case every row is checked as it is copied.
    """
    rows = [tuple(r) for r in conn.execute(_FK_QUERY, {"tables": list(CHILD_TABLES)})]
    try:
        with conn.begin_nested():
            for table, name, _ in rows:
                conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    except sa.exc.DBAPIError:
        return []
    return rows  # type: ignore[return-value]


def _restore_foreign_keys(conn: Connection, definitions: list[tuple[str, str, str]]) -> None:
    """Re-create (and so validate, in one join per constraint) the dropped foreign keys."""
    for table, name, definition in definitions:
        conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


@contextmanager
def _sqlite_cache(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")


def load_tables(
    engine: Engine,
    chunks: Iterable[Mapping[str, pd.DataFrame]],
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
    chunks : iterable of mapping str -> DataFrame
        E.g. :func:`lupuscell.synth.cohort.iter_cohort_tables`; patients must arrive in
        the same chunk as (or before) their child rows.
    actor, source, reason : str
        Recorded on the import batch and on every audit row.
    validate : bool, default True
        Run :func:`validate_chunk` on every chunk before writing it.
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
        Batch id, rows written per table and elapsed seconds.

    Raises
    ------
    lupuscell.errors.ValidationError
        A chunk failed validation or a patient code already exists; nothing was written.
    sqlalchemy.exc.DBAPIError
        The database rejected a row (constraint); nothing was written.
    """
    if not reason or not reason.strip():
        raise ValidationError(Problem("import batch", "reason", "a reason is required"))
    if postgres_foreign_keys not in ("revalidate", "per_row"):
        raise ValueError("postgres_foreign_keys must be 'revalidate' or 'per_row'")
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    batch_table = _T["import_batches"]
    with engine.begin() as conn, _sqlite_cache(conn):
        batch_id: int = conn.execute(
            sa.insert(batch_table).returning(batch_table.c.id),
            {"created_at": now, "actor": actor, "source": source, "reason": reason, "row_counts": {}},
        ).scalar_one()
        state = _State(batch_id=batch_id, now=now)
        audit_chain.lock_head(conn)  # audited writers wait here, before the load locks its tables
        dropped: list[tuple[str, str, str]] = []
        if conn.dialect.name == "postgresql" and postgres_foreign_keys == "revalidate":
            dropped = _drop_child_foreign_keys(conn)
        for chunk in chunks:
            _load_chunk(conn, chunk, state, validate)
            if progress is not None:
                progress(len(chunk.get("patients", ())))
        _restore_foreign_keys(conn, dropped)
        conn.execute(
            sa.update(batch_table).where(batch_table.c.id == batch_id).values(row_counts=dict(state.counts))
        )
        audit_chain.audit_batch_records(conn, batch_id, actor=actor, reason=reason, now=now)
        audit_chain.append(
            conn,
            [
                (now, actor, "import", name, None, None, None, json.dumps(import_summary(batch_id, count)), reason)
                for name, count in state.counts.items()
            ],
        )
    return LoadResult(batch_id=batch_id, row_counts=dict(state.counts), seconds=time.perf_counter() - started)
