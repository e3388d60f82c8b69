"""Engine and session factory for the registry.

SQLite is the embedded default (a file under the user's data directory, WAL journal and
foreign keys on); PostgreSQL (psycopg 3) serves a multi-user site. ``LUPUSCELL_DATABASE_URL``
overrides the default; a ``postgresql://`` URL is mapped to the psycopg 3 driver.

Write transactions (:func:`writer`, :func:`transaction`) check and write in one transaction.
On SQLite they start with ``BEGIN IMMEDIATE``, which takes the database's single write lock
before the first read, so the checks of one writer see everything the previous writer
committed (a second writer waits up to :data:`SQLITE_BUSY_TIMEOUT_S` seconds for the lock,
then gets "database is locked"). This follows the SQLAlchemy documentation's recipe for
pysqlite ("Serializable isolation / Savepoints / Transactional DDL": the driver's own
transaction handling is switched off and SQLAlchemy emits ``BEGIN``). On PostgreSQL the
checks run at READ COMMITTED inside the writing transaction and the database constraints
(unique codes, one visit per date, one death per patient) stop a writer that raced past them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from lupuscell.errors import ConfigurationError

ENV_DATABASE_URL = "LUPUSCELL_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for another writer's lock before "database is locked"."""
WRITE_OPTION = "lupuscell_write"
"""Execution option marking a connection whose transactions write (SQLite: BEGIN IMMEDIATE)."""


def default_database_path() -> Path:
    """``$XDG_DATA_HOME/lupuscell/registry.sqlite`` (``~/.local/share/lupuscell/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lupuscell" / "registry.sqlite"


def default_database_url() -> str:
    """The URL in ``LUPUSCELL_DATABASE_URL``, else the embedded SQLite file."""
    url = os.environ.get(ENV_DATABASE_URL)
    if url:
        return url
    return f"sqlite:///{default_database_path()}"


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: :func:`default_database_url`).

    For a SQLite file the parent directory is created; WAL and foreign keys are switched on
    for every connection.
    """
    raw = url or default_database_url()
    try:
        sa_url = sa.make_url(normalise_url(raw))
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"database URL {raw!r} is not valid: {exc}") from exc
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if "timeout" not in sa_url.query:  # sqlite:///file?timeout=S overrides the default wait
            kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = sa.create_engine(sa_url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if sa_url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"database URL {raw!r}: backend {sa_url.get_backend_name()!r} is not supported "
            "(use sqlite:///PATH or postgresql://...)"
        )
    return sa.create_engine(sa_url, **kwargs)


def writer(engine: Engine) -> Engine:
    """``engine`` for write transactions: SQLite takes the write lock at ``BEGIN`` (see above)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back everything on any error.

    Checks made inside it see every committed write (SQLite: the write lock is taken first).
    """
    with session_factory(writer(engine))() as session, session.begin():
        yield session
