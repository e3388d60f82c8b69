"""Backups of the registry, verified after writing, and restores that refuse to overwrite data.

SQLite
    The online backup API (``sqlite3.Connection.backup``, SQLite's ``sqlite3_backup_*``: a
    consistent copy of a live database, restarted by SQLite if another connection writes
    during the copy). The backup file is itself a SQLite database.
PostgreSQL
    ``pg_dump --format=custom`` and ``pg_restore`` from the PostgreSQL client tools (Debian
    package ``postgresql-client``). Their major version must be at least the server's (a
    dump tool cannot read a newer server: PostgreSQL documentation, "pg_dump", Notes). The
    row counts recorded for verification are read in the very snapshot the dump is taken from
    (``pg_export_snapshot()`` and ``pg_dump --snapshot``), so they match the dump exactly even
    while other sessions write. A restore runs in one transaction (``--single-transaction``):
    interrupted, it leaves the target as it was.

Verification (both engines). A backup is written to a temporary name, checked, then moved into
place; beside it ``FILE.json`` (the manifest) records the engine, the schema revision, the rows
of every table, the audit chain head (last id and hash: an anchor for
:mod:`lupuscell.registry.audit_chain` kept outside the database) and the file's SHA-256. The
checks: SQLite ``PRAGMA integrity_check``; for PostgreSQL, the dump restored into a scratch
database; then, on the copy, the row counts against the source's and the audit hash chain
(:func:`lupuscell.registry.audit_chain.verify`). A restore checks the file against its
manifest (SHA-256) first and the restored database the same way after.

A restore refuses a target database that holds registry rows unless ``force=True``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lupuscell.errors import ConfigurationError, LupuscellError, Problem, ValidationError
from lupuscell.registry import audit_chain
from lupuscell.registry.migrate import current_revision
from lupuscell.registry.models import Base
from lupuscell.registry.session import make_engine, normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SUBPROCESS_TIMEOUT_S = 3600


class BackupError(LupuscellError):
    """A backup or restore failed its checks; nothing was replaced."""


@dataclass
class BackupManifest:
    """What ``FILE.json`` records about a backup."""

    engine: str
    file: str
    sha256: str
    bytes: int
    schema_revision: str | None
    rows: dict[str, int]
    audit_chain_head: dict[str, Any]
    created_at: str
    tools: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- shared helpers


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows of every registry table (the tables of the models that exist in the database)."""
    present = set(sa.inspect(conn).get_table_names())
    return {
        t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for t in Base.metadata.sorted_tables
        if t.name in present
    }


def _check_copy(engine: Engine, expected: dict[str, int], checks: list[str]) -> dict[str, Any]:
    """Row counts and the audit chain of a copy; BackupError naming what differs."""
    with engine.connect() as conn, conn.begin():
        counts = row_counts(conn)
        report = audit_chain.verify(conn)
    if counts != expected:
        differing = {t: (expected.get(t), counts.get(t)) for t in set(expected) | set(counts)}
        wrong = {t: v for t, v in differing.items() if v[0] != v[1]}
        raise BackupError(f"the copy's row counts differ from the source's (table: source, copy): {wrong}")
    checks.append(f"row counts of {len(counts)} tables equal the source's")
    if not report.ok:
        raise BackupError("the copy's audit chain is broken: " + "; ".join(p.message for p in report.problems))
    checks.append(f"audit hash chain intact ({report.rows} rows)")
    return {"last_id": report.last_id, "last_hash": report.last_hash}


def _write_manifest(manifest: BackupManifest, path: Path) -> None:
    target = manifest_path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)


def read_manifest(path: Path) -> BackupManifest | None:
    """The manifest beside a backup file, or None when there is none."""
    source = manifest_path(path)
    if not source.exists():
        return None
    try:
        return BackupManifest(**json.loads(source.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ValidationError(Problem(str(source), "manifest", f"is not a lupuscell backup manifest: {exc}")) from None


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql`` from the file's first bytes; ValidationError otherwise."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise ValidationError(Problem(str(path), "from", f"cannot be read: {exc.strerror}")) from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise ValidationError(
        Problem(str(path), "from", "is neither a SQLite database nor a pg_dump custom-format archive")
    )


def _engine_name(url: str) -> str:
    return sa.make_url(normalise_url(url)).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = sa.make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise ValidationError(Problem(url, "db", "a backup needs a SQLite file, not an in-memory database"))
    return Path(database).expanduser()


def _refuse_existing(out: Path) -> None:
    if out.exists():
        raise ValidationError(Problem(str(out), "out", "exists already; choose a new file name"))


def _manifest(kind: str, path: Path, counts: dict[str, int], revision: str | None) -> BackupManifest:
    return BackupManifest(
        engine=kind,
        file=path.name,
        sha256="",
        bytes=0,
        schema_revision=revision,
        rows=counts,
        audit_chain_head={},
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _finish(manifest: BackupManifest, partial: Path, out: Path) -> BackupManifest:
    manifest.sha256 = file_sha256(partial)
    manifest.bytes = partial.stat().st_size
    os.replace(partial, out)
    _write_manifest(manifest, out)
    return manifest


# --------------------------------------------------------------------------- SQLite


def _sqlite_integrity(path: Path, checks: list[str]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise BackupError(f"{path.name}: SQLite integrity check failed: {'; '.join(result[:5])}")
    checks.append("SQLite integrity_check ok")


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite online backup of ``source`` into ``target`` (replaced in one write transaction)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _copy_engine(path: Path) -> Engine:
    return make_engine(f"sqlite:///{path}")


def backup_sqlite(url: str, out: Path) -> BackupManifest:
    source = _sqlite_path(url)
    if not source.exists():
        raise ValidationError(Problem(url, "db", "the SQLite file does not exist"))
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _sqlite_copy(source, partial)
    checks: list[str] = ["SQLite online backup API"]
    _sqlite_integrity(partial, checks)
    engine = _copy_engine(partial)
    try:
        with engine.connect() as conn:
            counts = row_counts(conn)
        manifest = _manifest("sqlite", out, counts, current_revision(engine))
        manifest.audit_chain_head = _check_copy(engine, counts, checks)
    finally:
        engine.dispose()
    manifest.checks = checks
    manifest.tools = {"sqlite": sqlite3.sqlite_version}
    return _finish(manifest, partial, out)


def restore_sqlite(source: Path, url: str, manifest: BackupManifest | None, force: bool) -> BackupManifest:
    target = _sqlite_path(url)
    checks: list[str] = []
    _sqlite_integrity(source, checks)
    engine = _copy_engine(source)
    try:
        with engine.connect() as conn:
            expected = row_counts(conn)
    finally:
        engine.dispose()
    if manifest is not None and manifest.rows != expected:
        raise BackupError(f"{source.name}: its row counts differ from its manifest's")
    live = make_engine(url)
    try:
        _refuse_non_empty(live, url, force)
        live.dispose()
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
        checks.append("restored with the SQLite online backup API")
        _sqlite_integrity(target, checks)
        head = _check_copy(live, expected, checks)
        revision = current_revision(live)
    finally:
        live.dispose()
    result = _manifest("sqlite", source, expected, revision)
    result.audit_chain_head, result.checks = head, checks
    return result


def _refuse_non_empty(engine: Engine, url: str, force: bool) -> None:
    with engine.connect() as conn:
        counts = row_counts(conn)
    held = {t: n for t, n in counts.items() if n and t != "audit_chain_head"}  # the head: bookkeeping
    if held and not force:
        shown = ", ".join(f"{t} {n}" for t, n in sorted(held.items()))
        raise ValidationError(
            Problem(url, "db", f"the target database is not empty ({shown}); restore with --force to replace it")
        )


# --------------------------------------------------------------------------- PostgreSQL


def _libpq(url: str, database: str | None = None) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the client tools (password passed in the environment)."""
    parsed = sa.make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    parsed = parsed.set(drivername="postgresql", password=None)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False), env


def _tool(name: str, server_major: int) -> str:
    """Path of a PostgreSQL client tool whose major version can read the server's."""
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)")
    text = subprocess.run([path, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout
    match = re.search(r"(\d+)(?:\.\d+)*", text)
    major = int(match.group(1)) if match else 0
    if major < server_major:
        raise ConfigurationError(
            f"{name} is version {major} but the server is version {server_major}: install the client "
            f"tools of version {server_major} or newer (a dump tool cannot read a newer server)"
        )
    return path


def _server_major(conn: Connection) -> int:
    return int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10_000


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=SUBPROCESS_TIMEOUT_S, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit code {done.returncode}'}")


def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in sa.inspect(conn).get_table_names():
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url`` (dropped afterwards); yields its URL."""
    name = f"lupuscell_verify_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _pg_restore(path: str, file: Path, url: str, clean: bool) -> None:
    uri, env = _libpq(url)
    command = [path, "--dbname", uri, "--single-transaction", "--exit-on-error", "--no-owner"]
    command += ["--clean", "--if-exists"] if clean else []
    _run([*command, str(file)], env, "pg_restore")


def backup_postgresql(url: str, out: Path) -> BackupManifest:
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(url)
    checks: list[str] = []
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            major = _server_major(conn)
            dump, restore_tool = _tool("pg_dump", major), _tool("pg_restore", major)
            snapshot: str = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revision = row_counts(conn), _revision(conn)
            uri, env = _libpq(url)
            command = [dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", "--file", str(partial)]
            _run([*command, "--dbname", uri], env, "pg_dump")
        checks.append(f"pg_dump (custom format) of the snapshot the row counts were read in; server {major}")
    finally:
        engine.dispose()
    manifest = _manifest("postgresql", out, counts, revision)
    with _scratch_database(url) as scratch:
        _pg_restore(restore_tool, partial, scratch, clean=False)
        checks.append("restored into a scratch database with pg_restore --single-transaction")
        copy = make_engine(scratch)
        try:
            manifest.audit_chain_head = _check_copy(copy, counts, checks)
        finally:
            copy.dispose()
    manifest.checks = checks
    manifest.tools = {"server": str(major), "pg_dump": dump, "pg_restore": restore_tool}
    return _finish(manifest, partial, out)


def restore_postgresql(source: Path, url: str, manifest: BackupManifest | None, force: bool) -> BackupManifest:
    engine = make_engine(url)
    checks: list[str] = []
    try:
        with engine.connect() as conn:
            tool = _tool("pg_restore", _server_major(conn))
        _refuse_non_empty(engine, url, force)
        _pg_restore(tool, source, url, clean=True)
        checks.append("restored with pg_restore --single-transaction --clean")
        with engine.connect() as conn:
            counts, revision = row_counts(conn), _revision(conn)
        head = _check_copy(engine, manifest.rows if manifest is not None else counts, checks)
    finally:
        engine.dispose()
    result = _manifest("postgresql", source, counts, revision)
    result.audit_chain_head, result.checks = head, checks
    return result


# --------------------------------------------------------------------------- the API


def backup(url: str | None, out: Path) -> BackupManifest:
    """Back up the registry at ``url`` (default database when None) to ``out``, verified; return
    the manifest (also written to ``out`` + ``.json``). ``out`` must not exist."""
    from lupuscell.registry.session import default_database_url

    url = url or default_database_url()
    _refuse_existing(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kind = _engine_name(url)
    return backup_postgresql(url, out) if kind == "postgresql" else backup_sqlite(url, out)


def restore(source: Path, url: str | None, *, force: bool = False) -> BackupManifest:
    """Restore backup ``source`` into the database at ``url``, then verify it.

    The file must be a backup of the same engine; when its manifest is beside it, the file's
    SHA-256 and the restored row counts must match it. A target holding registry rows is
    refused unless ``force``.
    """
    from lupuscell.registry.session import default_database_url

    url = url or default_database_url()
    kind = backup_kind(source)
    if kind != _engine_name(url):
        raise ValidationError(Problem(str(source), "from", f"is a {kind} backup; --db is {_engine_name(url)}"))
    manifest = read_manifest(source)
    if manifest is not None and manifest.sha256 != file_sha256(source):
        raise BackupError(f"{source.name}: its SHA-256 differs from its manifest's: the file was changed or damaged")
    if kind == "postgresql":
        return restore_postgresql(source, url, manifest, force)
    return restore_sqlite(source, url, manifest, force)
