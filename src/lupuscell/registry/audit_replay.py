"""The audit log as a time machine: the registry rebuilt from its audit rows, as it stood at any time.

Replaying the log from an empty registry applies, in the chain's order (audit id), every row
stamped at or before the chosen time:

* ``create`` - the record as written (``new_value``: every column but the bookkeeping ones,
  :data:`lupuscell.registry.audit.INTERNAL_COLUMNS`);
* ``update`` - one field set to ``new_value``;
* ``delete`` - the record removed;
* ``import`` and ``export`` rows carry no record values and are skipped; an ``import`` row of a
  load written before per-record auditing (before revision 0004, its ``new_value`` lacks
  ``records_audited``) is named in :attr:`ReplayResult.not_rebuilt` with its table and row
  count, as are changes to records the log never created and snapshot fields that are no
  longer columns.

The registry tables rebuilt are the sites and every table with an ``import_batch_id``
(patients, therapy courses, drugs, visits, labs, adverse events, clinical events), and the
patient-reported outcomes (RAND-36 assessments, written by the repository only); other
entities of the log (user accounts and their memberships, web and file exports) are counted
in :attr:`ReplayResult.ignored`. The bookkeeping columns (row timestamps, import batch ids) are
not clinical data and are not rebuilt; the optimistic-lock ``version`` (migration 0003) is
rebuilt as created and never compared, since an update's audit rows name the fields changed,
not the version it moved to.

Records written before a migration changed their table are read as today's columns: a renamed
column through :data:`COLUMN_RENAMES` (0002: ``adverse_events.ctcae_grade`` is ``grade``, in
snapshots and in updates), a column added and filled by the migration through
:data:`COLUMN_DEFAULTS` (0002: ``grading_system`` = the category's default system, the value
the migration gave the rows it found).

"As it stood at T" means: every change stamped at or before T. A change is stamped inside its
transaction after the chain head is locked (:mod:`lupuscell.registry.audit_chain`), so the
stamps follow the chain; a bulk load's rows all carry the load's one stamp, so a load is in or
out as a whole.

Why hand-written: the rebuild is the inverse of this registry's own audit format; the record
values are decoded by :mod:`orjson` and written with SQLAlchemy Core.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell import vocab
from lupuscell.registry.audit import INTERNAL_COLUMNS
from lupuscell.registry.audit_chain import batch_tables, utc_text
from lupuscell.registry.models import AuditLog, Base

REBUILT_TABLES: tuple[str, ...] = ("sites", *(t.name for t in batch_tables()), "pro_assessments")
"""Registry tables rebuilt from the log, parents first."""
BOOKKEEPING_COLUMNS = frozenset({*INTERNAL_COLUMNS, "version"})
"""Columns not compared by :func:`differences` (row timestamps, batch ids, optimistic-lock version)."""
COLUMN_RENAMES: dict[tuple[str, str], str] = {("adverse_events", "ctcae_grade"): "grade"}
"""(table, old column) -> new column, for snapshots and updates written before a migration
renamed a column (0002: ``adverse_events.ctcae_grade`` became ``grade``)."""
COLUMN_DEFAULTS: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
    ("adverse_events", "grading_system"): lambda record: vocab.default_grading_system(record["category"]),
}
"""(table, column) -> the value a migration gave records written before the column existed,
from the record (0002: the category's default grading system, :func:`lupuscell.vocab.default_grading_system`)."""
_RENAMED: dict[str, dict[str, str]] = {}
for (_table, _old), _new in COLUMN_RENAMES.items():
    _RENAMED.setdefault(_table, {})[_old] = _new
WRITE_PIECE = 5_000

_AUDIT = AuditLog.__table__
State = dict[str, dict[int, bytes | dict[str, Any]]]


@dataclass
class ReplayResult:
    """What a replay rebuilt, and what it could not."""

    as_of: dt.datetime | None
    audit_rows: int = 0
    applied: int = 0
    records: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    not_rebuilt: list[str] = field(default_factory=list)
    last_audit_id: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "audit_rows_read": self.audit_rows,
            "changes_applied": self.applied,
            "last_audit_id": self.last_audit_id,
            "records": self.records,
            "ignored": self.ignored,
            "not_rebuilt": self.not_rebuilt,
        }


# --------------------------------------------------------------------------- reading the log


def _stamp(value: dt.datetime) -> str:
    return utc_text(value)


def _log(conn: Connection) -> Iterator[Any]:
    names = ("id", "changed_at", "action", "entity", "entity_id", "field", "new_value")
    query = sa.select(*(_AUDIT.c[n] for n in names)).order_by(_AUDIT.c.id)
    yield from conn.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})


def rebuild_state(conn: Connection, as_of: dt.datetime | None = None) -> tuple[State, ReplayResult]:
    """Apply the log (up to ``as_of``) to an empty state: table -> id -> record.

    Records created and never changed stay as their snapshot's JSON bytes (decoded when written),
    so a million-row registry is held compactly.
    """
    result = ReplayResult(as_of=as_of)
    limit = None if as_of is None else _stamp(as_of)
    state: State = {name: {} for name in REBUILT_TABLES}
    orphans: dict[str, int] = {}
    for row in _log(conn):
        result.audit_rows += 1
        if limit is not None and _stamp(row.changed_at) > limit:
            continue
        result.last_audit_id = int(row.id)
        if row.entity not in state:
            if row.action != "import":
                result.ignored[row.entity] = result.ignored.get(row.entity, 0) + 1
            continue
        _apply(row, state[row.entity], result, orphans)
    for entity, count in sorted(orphans.items()):
        result.not_rebuilt.append(
            f"{entity}: {count} change(s) to records the log does not create (loaded before revision 0004)"
        )
    return state, result


def _apply(
    row: Any, table: dict[int, bytes | dict[str, Any]], result: ReplayResult, orphans: dict[str, int]
) -> None:
    if row.action == "import":
        summary = orjson.loads(row.new_value or "{}")
        if not summary.get("records_audited") and summary.get("rows"):
            result.not_rebuilt.append(
                f"{row.entity}: {summary['rows']} row(s) of import batch {summary.get('import_batch_id')} "
                "were loaded before per-record auditing (revision 0004); the log holds only their count"
            )
        return
    key = int(row.entity_id)
    renamed = _RENAMED.get(row.entity)
    if row.action == "create":
        value = row.new_value.encode() if isinstance(row.new_value, str) else row.new_value
        if renamed is not None:  # a snapshot written before a rename: keys as today's columns
            value = {renamed.get(k, k): v for k, v in orjson.loads(value).items()}
        table[key] = value
    elif key not in table:
        orphans[row.entity] = orphans.get(row.entity, 0) + 1
        return
    elif row.action == "update":
        record = _decoded(table, key)
        name = row.field if renamed is None else renamed.get(row.field, row.field)
        record[name] = None if row.new_value is None else orjson.loads(row.new_value)
    elif row.action == "delete":
        del table[key]
    else:
        return
    result.applied += 1


def _decoded(table: dict[int, bytes | dict[str, Any]], key: int) -> dict[str, Any]:
    value = table[key]
    if isinstance(value, dict):
        return value
    record: dict[str, Any] = orjson.loads(value)
    table[key] = record
    return record


# --------------------------------------------------------------------------- writing the state


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    return lambda v: v


def _rows(
    table: sa.Table, records: dict[int, bytes | dict[str, Any]], result: ReplayResult
) -> Iterator[dict[str, Any]]:
    convert = {c.name: _converter(c) for c in table.columns}
    defaults = {column: rule for (name, column), rule in COLUMN_DEFAULTS.items() if name == table.name}
    unknown: set[str] = set()
    for key in sorted(records):
        value = records[key]
        record = value if isinstance(value, dict) else orjson.loads(value)
        for column, rule in defaults.items():
            if column not in record:
                record[column] = rule(record)
        row: dict[str, Any] = {}
        for name, value in record.items():
            if name in convert:
                row[name] = convert[name](value)
            else:
                unknown.add(name)
        yield row
    for name in sorted(unknown):
        result.not_rebuilt.append(
            f"{table.name}.{name}: recorded in the log but no longer a column; not rebuilt"
        )


def write_state(target: Engine, state: State, result: ReplayResult) -> None:
    """Insert the rebuilt records into ``target`` (an empty, migrated registry) in one transaction."""
    tables = Base.metadata.tables
    with target.begin() as conn:
        for name in REBUILT_TABLES:
            table = tables[name]
            piece: list[dict[str, Any]] = []
            for row in _rows(table, state[name], result):
                piece.append(row)
                if len(piece) >= WRITE_PIECE:
                    conn.execute(table.insert(), piece)
                    piece = []
            if piece:
                conn.execute(table.insert(), piece)
            result.records[name] = len(state[name])
            if conn.dialect.name == "postgresql" and state[name]:
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :m)"),
                    {"t": name, "m": max(state[name])},
                )


def replay(source: Engine, target: Engine, as_of: dt.datetime | None = None) -> ReplayResult:
    """Rebuild ``source``'s registry from its audit log (up to ``as_of``) into empty ``target``."""
    with source.connect() as conn, conn.begin():
        state, result = rebuild_state(conn, as_of)
    write_state(target, state, result)
    return result


# --------------------------------------------------------------------------- comparison


def table_rows(conn: Connection, name: str) -> dict[int, dict[str, Any]]:
    """Rows of a rebuilt table keyed by id, without the bookkeeping columns."""
    table = Base.metadata.tables[name]
    columns = [c for c in table.columns if c.name not in BOOKKEEPING_COLUMNS]
    return {row.id: dict(row._mapping) for row in conn.execute(sa.select(*columns).order_by(table.c.id))}


def differences(expected: Engine, actual: Engine, limit: int = 20) -> list[str]:
    """Readable differences between two registries over :data:`REBUILT_TABLES` (empty = identical)."""
    found: list[str] = []
    with expected.connect() as a, actual.connect() as b:
        for name in REBUILT_TABLES:
            left, right = table_rows(a, name), table_rows(b, name)
            for key in sorted(left.keys() - right.keys())[:limit]:
                found.append(f"{name} {key}: missing from the rebuilt registry")
            for key in sorted(right.keys() - left.keys())[:limit]:
                found.append(f"{name} {key}: in the rebuilt registry only")
            for key in sorted(left.keys() & right.keys()):
                if left[key] != right[key]:
                    changed = sorted(k for k in left[key] if left[key][k] != right[key].get(k))
                    found.append(f"{name} {key}: {', '.join(changed)} differ")
                    if len(found) >= limit:
                        return found
    return found[:limit]


# --------------------------------------------------------------------------- the registry as of a date


def rebuild_into_temporary(
    source: Engine, as_of: dt.datetime | None, directory: Path
) -> tuple[Engine, ReplayResult]:
    """Replay ``source``'s log into a new SQLite registry under ``directory``; return its engine."""
    from lupuscell.registry.migrate import upgrade
    from lupuscell.registry.session import make_engine

    target = make_engine(f"sqlite:///{directory / 'rebuilt.sqlite'}")
    upgrade(target)
    return target, replay(source, target, as_of)


def export_as_of(
    engine: Engine,
    out: Path,
    as_of: dt.datetime,
    *,
    fmt: str = "csv",
    identified: bool = False,
    actor: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Write the registry as it stood at ``as_of`` to ``out``, in the layout of ``lupuscell export``.

    The export itself is :func:`lupuscell.registry.export.export_directory` reading the registry
    rebuilt into a temporary SQLite file: the same rules (de-identified unless ``identified``,
    which requires a reason; checked before the log is replayed) and the same audit, in
    ``engine``'s log (action ``export``), before any file is written. ``manifest.json`` and the
    audit row also record ``as_of``, the source (the audit log) and what the replay did and could
    not rebuild. Returns the manifest.
    """
    from lupuscell.registry.export import MANIFEST, check_export, export_directory

    stamp = as_of.isoformat()
    if not identified:
        reason = reason or f"de-identified export as of {stamp}"
    check_export(out, fmt=fmt, identified=identified, actor=actor, reason=reason)
    with tempfile.TemporaryDirectory(prefix="lupuscell-asof-") as tmp:
        target, result = rebuild_into_temporary(engine, as_of, Path(tmp))
        provenance = {"as_of": stamp, "rebuilt_from": "audit log", "replay": result.as_dict()}
        try:
            export_directory(
                engine,
                out,
                fmt=fmt,
                identified=identified,
                actor=actor,
                reason=reason,
                source=target,
                provenance=provenance,
            )
        finally:
            target.dispose()
    manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    return manifest
