"""Writing per-table frames into the registry fast (the write half of the bulk loader).

* Parents (sites, patients, therapy courses) get their ids first (:func:`allocate_ids`:
  the table's sequence on PostgreSQL, max(id)+1... on SQLite, which is safe because the
  load's transaction holds SQLite's single write lock) so children can refer to them.
* Rows are written without per-row Python objects: on PostgreSQL with ``COPY ... FROM
  STDIN`` (psycopg 3 ``cursor.copy``), the frame rendered as CSV by pandas; on SQLite with
  the driver's ``executemany`` of multi-row INSERTs over plain tuples, values already in
  SQLAlchemy's SQLite storage format (ISO dates, ``YYYY-MM-DD HH:MM:SS.ffffff`` timestamps).
* On PostgreSQL the child tables' foreign keys may be dropped for the load and re-created
  (validated once, one join each) before commit (:func:`drop_child_foreign_keys`).

Validation happens before (:mod:`lupuscell.registry.bulk_checks`); orchestration, the
import batch and the audit rows are in :mod:`lupuscell.registry.bulk`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lupuscell.registry import models
from lupuscell.schemas.base import RecordIn
from lupuscell.schemas.events import AdverseEventIn, ClinicalEventIn
from lupuscell.schemas.patient import PatientIn, SiteIn
from lupuscell.schemas.therapy import DrugAdministrationIn, TherapyCourseIn
from lupuscell.schemas.visit import LabResultIn, VisitIn

CHILD_TABLES = ("drug_administrations", "visits", "lab_results", "adverse_events", "clinical_events")
_T = models.Base.metadata.tables


@dataclass
class WriteState:
    """Ids the rows of a load refer to: codes (and course keys) -> database ids."""

    batch_id: int
    now: dt.datetime
    site_ids: dict[str, int] = field(default_factory=dict)
    patient_ids: dict[str, int] = field(default_factory=dict)
    course_ids: dict[str, int] = field(default_factory=dict)
    new_site_ids: list[int] = field(default_factory=list)
    """Sites this load inserted (sites carry no ``import_batch_id``; their ``create`` audit rows
    are written from this list)."""


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


def db_frame(name: str, frame: pd.DataFrame, state: WriteState, ids: list[int] | None = None) -> pd.DataFrame:
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
            out[col] = (
                mapped.astype("Int64").array if mapped.isna().any() else mapped.astype("int64").to_numpy()
            )
        elif col == "import_batch_id":
            out[col] = state.batch_id
        elif col in ("created_at", "updated_at"):
            out[col] = None
        elif col == "version":  # optimistic locking (migration 0003): every row starts at 1
            out[col] = 1
        elif col in frame.columns:
            out[col] = _stored(name, col, frame[col])
        else:
            default = schema_default(name, col)
            out[col] = [list(default) for _ in range(len(frame))] if isinstance(default, list) else default
    return pd.DataFrame(out, index=range(len(frame)))


def _stored(table: str, col: str, series: pd.Series) -> Any:
    """A column as written: dates as ISO text (or datetime64), schema defaults for missing values."""
    default = schema_default(table, col)
    if default is not None and series.dtype == object and series.isna().any():
        series = pd.Series(
            [(list(default) if isinstance(default, list) else default) if _missing(v) else v for v in series],
            index=series.index,
            dtype=object,
        )
    elif default is not None and series.isna().any():
        series = series.astype(object).where(series.notna(), default)
    if isinstance(_T[table].c[col].type, sa.Date) and not pd.api.types.is_datetime64_any_dtype(series):
        return np.array([_iso_date(v) for v in series.to_numpy(dtype=object)], dtype=object)
    return series.to_numpy()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def _iso_date(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


TABLE_SCHEMAS: dict[str, type[RecordIn]] = {
    "sites": SiteIn,
    "patients": PatientIn,
    "therapy_courses": TherapyCourseIn,
    "drug_administrations": DrugAdministrationIn,
    "visits": VisitIn,
    "lab_results": LabResultIn,
    "adverse_events": AdverseEventIn,
    "clinical_events": ClinicalEventIn,
}
"""The boundary schema of every registry table: its rules, and the defaults of absent fields."""


def schema_default(table: str, col: str) -> Any:
    """The schema's default of a field (None when it has none or is not a schema field)."""
    info = TABLE_SCHEMAS[table].model_fields.get(col)
    if info is None or info.is_required():
        return None
    return info.get_default(call_default_factory=True)


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


def writer(conn: Connection) -> Callable[[Connection, str, pd.DataFrame, dt.datetime], None]:
    return _copy_postgres if conn.dialect.name == "postgresql" else _executemany_sqlite


def allocate_ids(conn: Connection, name: str, n: int) -> list[int]:
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


# PostgreSQL: foreign keys of the child tables checked once per load instead of once per row

_FK_QUERY = sa.text(
    "SELECT c.conrelid::regclass::text AS tab, c.conname AS name, pg_get_constraintdef(c.oid) AS def "
    "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(CAST(:tables AS regclass[]))"
)


def drop_child_foreign_keys(conn: Connection) -> list[tuple[str, str, str]]:
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


def restore_foreign_keys(conn: Connection, definitions: list[tuple[str, str, str]]) -> None:
    """Re-create (and so validate, in one join per constraint) the dropped foreign keys."""
    for table, name, definition in definitions:
        conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


@contextmanager
def sqlite_cache(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")
