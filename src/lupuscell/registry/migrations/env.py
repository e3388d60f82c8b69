"""Alembic environment of the lupuscell registry.

Works without an ``alembic.ini``: :mod:`lupuscell.registry.migrate` builds the
:class:`alembic.config.Config` in code and hands over an open connection through
``config.attributes["connection"]``. When run from the ``alembic`` command line instead, the
URL comes from ``sqlalchemy.url`` or, failing that, :func:`lupuscell.registry.session.default_database_url`.

SQLite cannot ``ALTER`` most things, so migrations run in batch mode there
(``render_as_batch``); the ORM metadata (with its naming convention) is the target, so
constraint names are identical on both engines.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from lupuscell.registry.models import Base
from lupuscell.registry.session import default_database_url, make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or default_database_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
