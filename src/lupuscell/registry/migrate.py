"""Schema migrations of the registry, driven from code (no ``alembic.ini`` at runtime).

The Alembic scripts live in the package (``lupuscell/registry/migrations``, shipped as
package data), so ``lupuscell init`` / ``lupuscell db upgrade`` work from an installed wheel.
:func:`upgrade` brings any database (empty or older) to a revision; :func:`current_revision`
reads the revision recorded in ``alembic_version``; :func:`schema_differences` compares a
migrated database with the ORM models (Alembic ``compare_metadata``) and is what the test
that keeps models and migrations in agreement uses.

Alembic is used rather than ``metadata.create_all`` so that every database, from the first
table on, has a recorded revision and can be upgraded in place.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.models import Base
from lupuscell.registry.session import make_engine, writer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic :class:`~alembic.config.Config` pointing at the packaged scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of lupuscell."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return head


@contextmanager
def _engine(engine_or_url: Engine | str | None) -> Iterator[Engine]:
    if isinstance(engine_or_url, Engine):
        yield engine_or_url
        return
    engine = make_engine(engine_or_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision`` (default the newest) and return the new revision.

    ``engine_or_url`` may be an engine, a URL, or ``None`` for
    :func:`lupuscell.registry.session.default_database_url`. On an empty database this
    creates the whole schema; on an up-to-date one it does nothing.
    """
    config = alembic_config()
    _check_revision(config, revision, "upgrade")
    with _engine(engine_or_url) as engine:
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return current_revision(engine)


def downgrade(engine_or_url: Engine | str | None, revision: str) -> None:
    """Downgrade to ``revision`` (``"base"`` drops every registry table)."""
    config = alembic_config()
    _check_revision(config, revision, "downgrade")
    with _engine(engine_or_url) as engine, writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _check_revision(config: Config, revision: str, action: str) -> None:
    """ValidationError naming ``--revision`` when ``revision`` is not a known revision."""
    if revision in ("head", "heads", "base"):
        return
    script = ScriptDirectory.from_config(config)
    try:
        found = script.get_revisions(revision)
    except (CommandError, RevisionError):
        found = ()
    if not found:
        known = ", ".join(sorted(r.revision for r in script.walk_revisions()))
        raise ValidationError(
            Problem(
                "--revision",
                "revision",
                f"cannot {action} to {revision!r}: not a revision; known: {known}, head, base",
            )
        )


def current_revision(engine_or_url: Engine | str | None = None) -> str | None:
    """The revision recorded in the database, or ``None`` for an unversioned database."""
    with _engine(engine_or_url) as engine, engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_differences(engine_or_url: Engine | str | None = None) -> list[Any]:
    """Differences between the database schema and the ORM models (empty list = agreement).

    Uses Alembic's autogenerate comparison (tables, columns, types, nullability, indexes,
    unique constraints, foreign keys). Expression indexes (``lower(code)``), which SQLite
    reflection cannot describe, are checked by name instead (``("missing_index", name)``).
    """
    with _engine(engine_or_url) as engine, engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*expression-based index")
            differences = list(compare_metadata(context, Base.metadata))
        return differences + _missing_expression_indexes(connection)


def _expression_indexes() -> list[sa.Index]:
    return [
        index
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if any(not isinstance(e, sa.Column) for e in index.expressions)
    ]


def _missing_expression_indexes(connection: Connection) -> list[Any]:
    """Expression indexes of the models that the database lacks, looked up by name."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    present = {row[0] for row in connection.exec_driver_sql(query)}
    return [("missing_index", index.name) for index in _expression_indexes() if index.name not in present]
