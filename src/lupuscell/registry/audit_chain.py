"""Tamper evidence for the audit log: a hash chain over its rows, extended in the writing transaction.

Every ``audit_log`` row stores ``prev_hash`` (the ``row_hash`` of the row before it; 64 zeros
for the first row) and ``row_hash`` = SHA-256 of ``prev_hash`` followed by the row's canonical
content: the JSON array ``[id, changed_at, actor, action, entity, entity_id, field, old_value,
new_value, reason]`` with ``changed_at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff``. Changing any
of these values, or the order of the rows, breaks the hash of the row; deleting a row breaks the
link of the next one (its ``prev_hash`` no longer names its predecessor); deleting the newest rows
leaves the chain head (table ``audit_chain_head``: the last id and hash) pointing past the end.
:func:`verify` walks the chain and names every row where one of these checks fails. This is the
classic secure-audit-log construction (Schneier B, Kelsey J. Secure audit logs to support
computer forensics. ACM Trans Inf Syst Secur 1999;2(2):159-176; Crosby SA, Wallach DS.
Efficient data structures for tamper-evident logging. USENIX Security 2009) in its simplest,
linear form; the hashing is :mod:`hashlib`'s, this module only orders and links rows (no
library keeps a hash chain inside a SQLAlchemy transaction).

Writing
-------
Every row is chained in the transaction that writes it, never afterwards:

* ORM writes (the repository, the web, record corrections, accounts, exports): a ``before_flush``
  listener on :class:`sqlalchemy.orm.Session` (registered when this module is imported, which
  :mod:`lupuscell.registry.audit` does) stamps, numbers and hashes every new
  :class:`~lupuscell.registry.models.AuditLog` of the flush, in the order they were added.
* Core writes (the bulk loader): :func:`append` numbers, hashes and inserts rows given as
  tuples, in one ``executemany`` (SQLite) or ``COPY`` (PostgreSQL); :func:`audit_batch_records`
  writes one ``create`` row per record of an import batch, so a bulk load is audited record by
  record like any other write and the log alone can rebuild the registry
  (:mod:`lupuscell.registry.audit_replay`).

Concurrency: before numbering, the writer locks the chain head (PostgreSQL ``SELECT ... FOR
UPDATE`` on its one row; SQLite takes the database's write lock with an ``UPDATE`` of the head)
and keeps the lock to commit. Two writers therefore extend the chain one after the other and it
never forks; ids are given by the chain (``last_id + 1`` ...), so they follow it without gaps.
A rolled-back writer leaves no trace (the head update rolls back with its rows). Every writer
takes the head before it touches a registry table (a session at its first flush that writes a
site or clinical record, a bulk load at its start), so writers lock in one order and cannot
deadlock.

What it does not do: an administrator who can drop the triggers and rewrite every hash from some
row on can forge a consistent chain. :func:`verify` prints the head hash; recording it outside
the database (a signed e-mail, a printed report, the backup manifest of
:mod:`lupuscell.registry.backup`) makes such a rewrite detectable too.

Append-only: migration 0004 adds triggers that refuse ``UPDATE`` and ``DELETE`` on
``audit_log`` (and ``TRUNCATE`` on PostgreSQL), ``DELETE`` of the chain head, and a head update
that goes backwards (:data:`GUARD_DDL`); lupuscell itself has no function that changes or deletes
an audit row.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from lupuscell.registry.audit import INTERNAL_COLUMNS
from lupuscell.registry.models import CLINICAL_MODELS, AuditChainHead, AuditLog, Base, Site

GENESIS = "0" * 64
"""``prev_hash`` of the first audit row."""
HEAD_ID = 1
"""Primary key of the chain head's one row."""
CHAINED_COLUMNS = (
    "id",
    "changed_at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "reason",
)
"""The audit columns a row's hash covers, in the order of the canonical content."""

AuditTuple = tuple[dt.datetime, str, str, str, str | None, str | None, str | None, str | None, str]
"""An audit row to append: (changed_at, actor, action, entity, entity_id, field, old_value,
new_value, reason)."""

GUARD_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
        "BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END",
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
        "WHEN NEW.last_id < OLD.last_id OR NEW.id <> OLD.id "
        "BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION lupuscell_audit_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION lupuscell_audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION lupuscell_audit_log_append_only()",
        "CREATE OR REPLACE FUNCTION lupuscell_audit_chain_head_forward() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'UPDATE' OR NEW.last_id < OLD.last_id OR NEW.id <> OLD.id THEN "
        "RAISE EXCEPTION 'audit_chain_head only moves forward: % refused', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head "
        "FOR EACH ROW EXECUTE FUNCTION lupuscell_audit_chain_head_forward()",
        "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION lupuscell_audit_chain_head_forward()",
    ),
}
"""Triggers that keep the audit log append-only (created by migration 0004)."""

DROP_GUARD_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_log_no_update",
        "DROP TRIGGER IF EXISTS audit_log_no_delete",
        "DROP TRIGGER IF EXISTS audit_chain_head_no_delete",
        "DROP TRIGGER IF EXISTS audit_chain_head_forward",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head",
        "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
        "DROP FUNCTION IF EXISTS lupuscell_audit_log_append_only()",
        "DROP FUNCTION IF EXISTS lupuscell_audit_chain_head_forward()",
    ),
}
"""The inverse of :data:`GUARD_DDL` (migration 0004's downgrade)."""

_AUDIT: sa.Table = AuditLog.__table__  # type: ignore[assignment]
_HEAD: sa.Table = AuditChainHead.__table__  # type: ignore[assignment]
_dumps = orjson.dumps


# --------------------------------------------------------------------------- hashing


@functools.lru_cache(maxsize=4096)  # a bulk load stamps a million rows with one time
def utc_text(value: dt.datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (a naive value is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def content(values: Sequence[Any]) -> bytes:
    """Canonical content of a row: ``values`` in :data:`CHAINED_COLUMNS` order as a JSON array."""
    stamp = values[1]
    return _dumps([values[0], utc_text(stamp), *values[2:]])


def link(prev_hash: str, row_content: bytes) -> str:
    """The row hash: SHA-256 (hex) of the previous hash followed by the row's content."""
    return hashlib.sha256(prev_hash.encode("ascii") + row_content).hexdigest()


# --------------------------------------------------------------------------- the head


def lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the chain head for this transaction and return (last id, last hash).

    Creates the head (empty chain) when the table has no row yet.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (:i, 0, :g) "
                "ON CONFLICT (id) DO NOTHING"
            ),
            {"i": HEAD_ID, "g": GENESIS},
        )
        row = conn.execute(
            sa.select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
        ).one()
    else:
        conn.execute(
            sa.text("INSERT OR IGNORE INTO audit_chain_head (id, last_id, last_hash) VALUES (:i, 0, :g)"),
            {"i": HEAD_ID, "g": GENESIS},
        )
        # an UPDATE takes SQLite's write lock before the head is read
        conn.execute(sa.update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_id=_HEAD.c.last_id))
        row = conn.execute(sa.select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID)).one()
    return int(row.last_id), str(row.last_hash)


def _move_head(conn: Connection, last_id: int, last_hash: str) -> None:
    conn.execute(sa.update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_id=last_id, last_hash=last_hash))


def chain(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[tuple[int, str, str]]:
    """Number and hash ``rows`` (each in :data:`CHAINED_COLUMNS` order without the id) after the
    locked head; move the head. Returns ``(id, prev_hash, row_hash)`` per row; the caller inserts."""
    last_id, last_hash = lock_head(conn)
    out: list[tuple[int, str, str]] = []
    prev = last_hash
    sha256 = hashlib.sha256
    for number, values in enumerate(rows, start=last_id + 1):
        stamp = values[0]
        body = _dumps([number, utc_text(stamp), *values[1:]])
        digest = sha256(prev.encode("ascii") + body).hexdigest()
        out.append((number, prev, digest))
        prev = digest
    if out:
        _move_head(conn, out[-1][0], out[-1][2])
    return out


# --------------------------------------------------------------------------- ORM writes


_REGISTRY_RECORDS: tuple[type, ...] = (Site, *CLINICAL_MODELS)


def _writes_records(session: Session) -> bool:
    return any(
        isinstance(obj, _REGISTRY_RECORDS) for part in (session.new, session.dirty, session.deleted) for obj in part
    )


def _chain_new_audit_rows(session: Session, _context: Any, _instances: Any) -> None:
    """``before_flush``: lock the chain head before a flush writes registry records, and number
    and hash the flush's new audit rows (in the order added).

    Locking at the first write, not only at the audit row's flush, gives every writer the same
    lock order (the chain head, then the tables): a bulk load takes the head first and then
    locks the tables it loads (on PostgreSQL it drops and re-adds foreign keys); a repository
    write that inserted a record before waiting for the head would deadlock with it.
    """
    pending = [obj for obj in session.new if isinstance(obj, AuditLog) and obj.row_hash is None]
    if not pending:
        if _writes_records(session):
            lock_head(session.connection())
        return
    pending.sort(key=lambda obj: sa.inspect(obj).insert_order)
    lock_head(session.connection())  # stamped after the lock: stamps follow the chain's order
    now = dt.datetime.now(dt.UTC)
    for obj in pending:
        if obj.changed_at is None:
            obj.changed_at = now
    rows = [
        (o.changed_at, o.actor, o.action, o.entity, o.entity_id, o.field, o.old_value, o.new_value, o.reason)
        for o in pending
    ]
    for obj, (number, prev, digest) in zip(pending, chain(session.connection(), rows), strict=True):
        obj.id, obj.prev_hash, obj.row_hash = number, prev, digest


sa.event.listen(Session, "before_flush", _chain_new_audit_rows)


# --------------------------------------------------------------------------- Core writes

_INSERT_COLUMNS = (*CHAINED_COLUMNS, "prev_hash", "row_hash")
COPY_PIECE_ROWS = 20_000
"""Audit rows hashed and sent per piece (bounded memory on a million-row load)."""


@functools.lru_cache(maxsize=4096)
def _sqlite_stamp(value: dt.datetime) -> str:
    """SQLAlchemy's SQLite storage format of a DateTime (UTC, no zone)."""
    return utc_text(value).replace("T", " ")


def append(conn: Connection, rows: Iterable[AuditTuple]) -> int:
    """Number, hash and insert audit rows (Core, in this transaction); return how many.

    Rows are :data:`AuditTuple` values; they are chained in the order given.
    """
    items = rows if isinstance(rows, list) else list(rows)
    if not items:
        return 0
    links = chain(conn, items)
    postgres = conn.dialect.name == "postgresql"
    for start in range(0, len(items), COPY_PIECE_ROWS):
        part = items[start : start + COPY_PIECE_ROWS]
        done = links[start : start + COPY_PIECE_ROWS]
        if postgres:
            records = [(n, *values, p, h) for values, (n, p, h) in zip(part, done, strict=True)]
            _copy_postgres(conn, records)
        else:
            records = [
                (n, _sqlite_stamp(values[0]), *values[1:], p, h)
                for values, (n, p, h) in zip(part, done, strict=True)
            ]
            _insert_sqlite(conn, records)
    return len(items)


SQLITE_ROWS_PER_STATEMENT = 50
"""Audit rows per multi-row INSERT on SQLite (fewer statement steps than one row each)."""


def _insert_sqlite(conn: Connection, records: list[tuple[Any, ...]]) -> None:
    one = "(" + ", ".join("?" for _ in _INSERT_COLUMNS) + ")"
    head = f"INSERT INTO audit_log ({', '.join(_INSERT_COLUMNS)}) VALUES "
    k = SQLITE_ROWS_PER_STATEMENT
    full = len(records) // k * k
    if full:
        groups = [tuple(v for r in records[i : i + k] for v in r) for i in range(0, full, k)]
        conn.exec_driver_sql(head + ", ".join([one] * k), groups)
    if full < len(records):
        conn.exec_driver_sql(head + one, records[full:])


def _copy_postgres(conn: Connection, records: list[tuple[Any, ...]]) -> None:
    raw: Any = conn.connection.driver_connection
    statement = f"COPY audit_log ({', '.join(_INSERT_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for record in records:
            copy.write_row(record)


# --------------------------------------------------------------------------- record snapshots of a batch


def snapshot_columns(table: sa.Table) -> list[str]:
    """Columns of a record snapshot: every column but the bookkeeping ones (sorted, as audited)."""
    return sorted(c.name for c in table.columns if c.name not in INTERNAL_COLUMNS)


def _snapshots(
    conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]
) -> Iterator[tuple[int, bytes]]:
    """(id, snapshot JSON) of the rows of ``table`` matching ``where``, in id order."""
    names = snapshot_columns(table)
    query = sa.select(*(table.c[n] for n in names)).where(where).order_by(table.c.id)
    if conn.dialect.name == "postgresql":
        result = conn.execute(
            query, execution_options={"stream_results": True, "yield_per": RECORD_PIECE_ROWS}
        )
        fix = None
    else:  # raw values: dates are ISO text already; booleans and JSON columns need their type
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        raw: Any = conn.connection.driver_connection  # plain tuples: no Row objects per record
        result = raw.execute(str(compiled))
        fix = _sqlite_fixer(table, names)
    id_at = names.index("id")
    for row in result:
        values = fix(row) if fix is not None else row
        yield int(values[id_at]), _dumps(dict(zip(names, values, strict=True)))


def _sqlite_fixer(table: sa.Table, names: list[str]) -> Any:
    booleans = [i for i, n in enumerate(names) if isinstance(table.c[n].type, sa.Boolean)]
    documents = [i for i, n in enumerate(names) if isinstance(table.c[n].type, sa.JSON)]
    as_bool = {0: False, 1: True, None: None}

    def fix(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i in booleans:
            values[i] = as_bool[values[i]]
        for i in documents:
            if values[i] is not None:
                values[i] = orjson.Fragment(values[i])
        return values

    return fix


RECORD_PIECE_ROWS = 2_000
"""Record snapshots held, hashed and written at a time by :func:`audit_batch_records` (a load's
audit trail never sits in memory at once: the import streams its files, and so does this)."""


def batch_tables() -> list[sa.Table]:
    """Tables whose rows carry an ``import_batch_id``, parents before children."""
    return [t for t in Base.metadata.sorted_tables if "import_batch_id" in t.c]


def audit_batch_records(
    conn: Connection,
    batch_id: int,
    *,
    site_ids: Collection[int] = (),
    actor: str,
    reason: str,
    now: dt.datetime,
) -> int:
    """Append one ``create`` audit row per record written by import batch ``batch_id``.

    Covers every table with an ``import_batch_id`` and the sites ``site_ids`` the load inserted
    (sites carry no batch id). Each row's ``new_value`` is the record's snapshot (all columns
    but the bookkeeping ones, sorted keys, dates ISO), as the repository's
    :func:`lupuscell.registry.audit.log_create` writes it. Returns the row count.
    """
    sites = Base.metadata.tables["sites"]
    parts: list[tuple[sa.Table, sa.ColumnElement[bool]]] = []
    if site_ids:
        parts.append((sites, sites.c.id.in_(sorted(site_ids))))
    parts += [(t, t.c.import_batch_id == batch_id) for t in batch_tables()]
    total = 0
    for table, where in parts:
        buffer: list[AuditTuple] = []
        for record_id, snap in _snapshots(conn, table, where):
            buffer.append(
                (now, actor, "create", table.name, str(record_id), None, None, snap.decode(), reason)
            )
            if len(buffer) >= RECORD_PIECE_ROWS:
                total += append(conn, buffer)
                buffer = []
        total += append(conn, buffer)
    return total


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain does not hold: the audit row id and what is wrong."""

    audit_id: int | None
    kind: str
    """``edited`` (a row's content or hash changed), ``deleted`` (rows missing), ``head``."""
    message: str


@dataclass
class ChainReport:
    """Result of :func:`verify`."""

    rows: int = 0
    last_id: int = 0
    last_hash: str = GENESIS
    head_id: int | None = None
    head_hash: str | None = None
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "problems": [p.__dict__ for p in self.problems],
        }


def _rows(conn: Connection) -> Iterator[Any]:
    query = sa.select(*(_AUDIT.c[n] for n in (*CHAINED_COLUMNS, "prev_hash", "row_hash"))).order_by(
        _AUDIT.c.id
    )
    yield from conn.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})


def _check_row(report: ChainReport, row: Any, prev_id: int, prev_hash: str) -> None:
    values = [getattr(row, n) for n in CHAINED_COLUMNS]
    if row.prev_hash is None or row.row_hash is None:
        report.problems.append(
            ChainProblem(row.id, "edited", f"audit row {row.id} has no hash (written outside the chain)")
        )
        return
    if link(row.prev_hash, content(values)) != row.row_hash:
        report.problems.append(
            ChainProblem(
                row.id,
                "edited",
                f"audit row {row.id} does not match its hash: its content or hash was changed",
            )
        )
    if row.prev_hash != prev_hash:
        if row.id != prev_id + 1:
            missing = f"{prev_id + 1}" if row.id == prev_id + 2 else f"{prev_id + 1} to {row.id - 1}"
            message = f"audit row(s) {missing} deleted: row {row.id} does not follow row {prev_id}"
            report.problems.append(ChainProblem(prev_id + 1, "deleted", message))
        else:
            message = (
                f"audit row {row.id} does not follow row {prev_id}: the hash of row {prev_id} was changed"
            )
            report.problems.append(ChainProblem(row.id, "edited", message))


def verify(engine: Engine | Connection) -> ChainReport:
    """Walk the audit log in id order and report every row where the chain does not hold.

    Checks per row: its hash over its predecessor's hash and its content (an edited row), its
    predecessor hash against the previous row's hash (a deleted or re-hashed row), and at the end
    the chain head against the last row (deleted newest rows). Reads in one transaction.
    """
    if isinstance(engine, Connection):
        return _verify(engine)
    with engine.connect() as conn, conn.begin():
        return _verify(conn)


def _verify(conn: Connection) -> ChainReport:
    report = ChainReport()
    prev_id, prev_hash = 0, GENESIS
    for row in _rows(conn):
        _check_row(report, row, prev_id, prev_hash)
        report.rows += 1
        prev_id, prev_hash = int(row.id), str(row.row_hash)
    report.last_id, report.last_hash = prev_id, prev_hash
    head = conn.execute(
        sa.select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID)
    ).one_or_none()
    if head is None:
        if report.rows:
            report.problems.append(ChainProblem(None, "head", "the chain head (audit_chain_head) is missing"))
        return report
    report.head_id, report.head_hash = int(head.last_id), str(head.last_hash)
    if report.head_id > prev_id:
        message = f"audit rows after id {prev_id} deleted: the chain head records id {report.head_id}"
        report.problems.append(ChainProblem(prev_id + 1, "deleted", message))
    elif report.head_id < prev_id:
        message = f"audit rows after id {report.head_id} are not in the chain (the head records id {report.head_id})"
        report.problems.append(ChainProblem(report.head_id + 1, "head", message))
    elif report.head_hash != prev_hash:
        message = f"the chain head's hash does not match audit row {prev_id}"
        report.problems.append(ChainProblem(prev_id, "head", message))
    return report


def import_summary(batch_id: int, rows: int) -> dict[str, Any]:
    """``new_value`` of a load's per-table ``import`` row. ``records_audited`` marks a load whose
    records also have their own ``create`` rows (every load since migration 0004), which is what
    lets :mod:`lupuscell.registry.audit_replay` rebuild it from the log."""
    return {"import_batch_id": batch_id, "rows": rows, "records_audited": True}
