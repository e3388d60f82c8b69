"""Shared pytest fixtures: registry databases on SQLite and PostgreSQL, and the service rule.

**Service rule.** A test may be skipped only because an external *service* is missing (a
PostgreSQL server now; a browser or Spark later), and only through :func:`require_service`
(also a fixture of the same name): it skips with the reason, or FAILS when
``LUPUSCELL_REQUIRE_ALL_SERVICES=1`` (as in ``.ci/run``). Never skip on the project's own
modules or on files outside the repository; ``tests/architecture/test_no_skips.py`` enforces it.

* ``db_url`` (session scope, parametrised ``sqlite`` / ``postgresql``): the URL of an empty
  database created for this test session and xdist worker. ``sqlite`` is a temp file;
  ``postgresql`` is a fresh, uniquely named database on the server named by
  ``LUPUSCELL_TEST_POSTGRES_URL`` (dropped at the end of the session).
  - variable unset: the PostgreSQL parameter is skipped with the visible reason
    "LUPUSCELL_TEST_POSTGRES_URL not set" (unless ``LUPUSCELL_REQUIRE_ALL_SERVICES=1``, as in
    ``.ci/run``, which turns the skip into a failure);
  - variable set but the server unreachable: the tests FAIL, they are never silently skipped.
* ``fresh_db_url``: a brand-new empty database per test, on the same engine as ``db_url``
  (for migration tests; slower, use sparingly).
* ``migrated_db_url``: ``db_url`` with the schema created by the Alembic migrations (once).
* ``engine``: an engine on ``migrated_db_url`` whose tables are emptied before each test;
  ``empty_registry``: the function that empties them (the audit log's guards lifted), for a
  test that starts again midway.
* ``pg_url``: PostgreSQL only (same rules), for tests that need server features.

Tests using these fixtures on PostgreSQL (the ``postgresql`` parameter, or ``pg_url``) carry
the ``postgres`` marker, so
``pytest -m "not postgres"`` runs the SQLite half only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

ENV_PG = "LUPUSCELL_TEST_POSTGRES_URL"
ENV_REQUIRE_ALL = "LUPUSCELL_REQUIRE_ALL_SERVICES"
PG_SKIP_REASON = f"{ENV_PG} not set"


def _psycopg_url(url: str) -> sa.URL:
    from lupuscell.registry.session import normalise_url

    return sa.make_url(normalise_url(url))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use the PostgreSQL-only fixture ``pg_url`` with ``postgres``."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def require_service(name: str, reason: str) -> NoReturn:
    """Service ``name`` is not available (``reason``): skip the test, or fail it when
    ``LUPUSCELL_REQUIRE_ALL_SERVICES=1``. The only way a test of this suite may skip."""
    message = f"{name} unavailable: {reason}"
    if os.environ.get(ENV_REQUIRE_ALL) == "1":
        pytest.fail(f"{message} (required: {ENV_REQUIRE_ALL}=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="require_service", scope="session")
def _require_service_fixture() -> Callable[[str, str], NoReturn]:
    """:func:`require_service` for tests and fixtures in other folders (no import needed)."""
    return require_service


def _require_pg_server() -> str:
    """The admin URL of the test server; skip or fail according to the service rule."""
    url = os.environ.get(ENV_PG)
    if not url:
        require_service("PostgreSQL", PG_SKIP_REASON)
    return url


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    """Create one fresh database per session and worker on the test server; drop it after."""
    admin_url = _require_pg_server()
    name = f"lupuscell_test_{_worker()}_{os.getpid()}_{uuid.uuid4().hex[:8]}".lower()
    admin = sa.create_engine(_psycopg_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            # Test data are disposable: skip the WAL flush at commit (a per-database setting,
            # the server's durability for other databases is untouched).
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"{ENV_PG} is set ({admin_url}) but the PostgreSQL server is unreachable: {exc}",
            pytrace=False,
        )
    db_url = _psycopg_url(admin_url).set(database=name)
    try:
        yield db_url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an empty registry database (no schema) on each engine."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("registry") / "registry.sqlite"
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("_pg_database"))


@pytest.fixture
def fresh_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for one test, on the same engine as ``db_url``.

    SQLite: a new file. PostgreSQL: a new schema in the session database, made the only entry
    of ``search_path`` through the URL (``options=-csearch_path=...``), so the test sees an
    empty database; dropping a schema is much cheaper than dropping a database.
    """
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    url = sa.make_url(db_url)
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        fresh = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield fresh.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url(_pg_database: str) -> str:
    """URL of an empty PostgreSQL database (skips/fails like the ``postgresql`` param)."""
    return _pg_database


@pytest.fixture(scope="session")
def migrated_db_url(db_url: str) -> str:
    """``db_url`` upgraded to the newest Alembic revision (done once per session)."""
    from lupuscell.registry.migrate import upgrade

    upgrade(db_url)
    return db_url


@pytest.fixture(scope="session")
def _session_engine(migrated_db_url: str) -> Iterator[Engine]:
    from lupuscell.registry.session import make_engine

    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row of every registry table (children first).

    The audit log is append-only (triggers of migration 0004): its guards are dropped for the
    deletion and created again in the same transaction, as only a test may do.
    """
    from lupuscell.registry.audit_chain import DROP_GUARD_DDL, GUARD_DDL
    from lupuscell.registry.models import Base

    with engine.begin() as conn:
        for statement in DROP_GUARD_DDL[conn.dialect.name]:
            conn.execute(sa.text(statement))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        for statement in GUARD_DDL[conn.dialect.name]:
            conn.execute(sa.text(statement))


@pytest.fixture
def engine(_session_engine: Engine) -> Engine:
    """A migrated registry engine (SQLite and PostgreSQL) with all tables empty."""
    empty_tables(_session_engine)
    return _session_engine


@pytest.fixture
def empty_registry() -> Callable[[Engine], None]:
    """:func:`empty_tables`, for a test that empties its registry again midway (the one way a
    test deletes audit rows)."""
    return empty_tables


@pytest.fixture(autouse=True)
def _close_matplotlib_figures() -> Iterator[None]:
    """Close figures a test left open (plot functions return them for the caller to close)."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
