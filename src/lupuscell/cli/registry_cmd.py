"""CLI commands of the registry: ``init``, ``db upgrade``, ``db current``, ``import``, ``export``;
this module also attaches the ``patients`` (:mod:`lupuscell.cli.patients_cmd`) and ``record``
(:mod:`lupuscell.cli.record_cmd`) groups.

Thin by design: parse options, call :mod:`lupuscell.registry`, render. Every command takes
``--db URL`` (default ``LUPUSCELL_DATABASE_URL``, else the embedded SQLite file, see
docs/configuration.md). Machine-readable results (JSON) go to stdout; messages, progress bars
and errors go to stderr; invalid input exits with code 2 (:func:`lupuscell.cli.common.registry_errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.patients_cmd import patients_app
from lupuscell.cli.record_cmd import record_app
from lupuscell.cli.registry_options import ACTOR_OPTION, DB_OPTION, actor_of, emit, engine_of, err, shown_url

db_app = typer.Typer(help="Database schema management (Alembic migrations).", no_args_is_help=True)


# --------------------------------------------------------------------------- schema


def _upgrade(db: str | None, revision: str = "head") -> dict[str, Any]:
    from lupuscell.registry import migrate

    engine = engine_of(db)
    try:
        before = migrate.current_revision(engine)
        after = migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    return {"database": shown_url(db), "revision_before": before, "revision": after}


def init(db: str | None = DB_OPTION) -> None:
    """Create the registry schema (or upgrade it to the newest revision)."""
    with registry_errors():
        result = _upgrade(db)
    err.print(f"registry ready at {result['database']} (schema revision {result['revision']})", markup=False)
    emit(result)


@db_app.command("upgrade")
def db_upgrade(
    db: str | None = DB_OPTION,
    revision: str = typer.Option("head", help="Target Alembic revision."),
) -> None:
    """Apply pending schema migrations (creates the schema on an empty database)."""
    with registry_errors():
        result = _upgrade(db, revision)
    emit(result)


@db_app.command("current")
def db_current(db: str | None = DB_OPTION) -> None:
    """Print the schema revision of the database and the newest one this version ships."""
    from lupuscell.registry import migrate

    with registry_errors():
        engine = engine_of(db)
        try:
            current = migrate.current_revision(engine)
        finally:
            engine.dispose()
    emit({"database": shown_url(db), "revision": current, "head": migrate.head_revision()})


# --------------------------------------------------------------------------- import / export


import_app = typer.Typer(help="Import data into the registry (CSV/Parquet folder, or a subcommand).")
export_app = typer.Typer(help="Export the registry (CSV/Parquet folder, or a subcommand).")


def _required(ctx: typer.Context, **given: Any) -> None:
    """The options a group callback needs when it runs as the command itself (no subcommand):
    missing ones fail exactly as a required option does (Click's "Missing option", exit 2)."""
    for name, value in given.items():
        if value is None:
            param = next(p for p in ctx.command.params if p.name == name)
            param.required = True
            try:
                param.process_value(ctx, None)
            finally:
                param.required = False


@import_app.callback(invoke_without_command=True)
def import_(
    ctx: typer.Context,
    source: Path = typer.Option(None, "--from", help="Directory with one file per table.", show_default=False),
    fmt: str | None = typer.Option(None, "--format", help="csv or parquet (default: detected)."),
    reason: str = typer.Option(
        None, "--reason", help="Why the data are loaded (audit log).", show_default=False
    ),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Import CSV/Parquet files (one per table, keyed by patient code), all or nothing."""
    if ctx.invoked_subcommand is not None:
        return
    _required(ctx, source=source, reason=reason)
    from rich.progress import Progress

    from lupuscell.registry.exchange import TABLES, import_directory

    with registry_errors():
        engine = engine_of(db)
        try:
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("importing", total=len(TABLES))

                def step(table: str, rows: int) -> None:
                    progress.update(task, advance=1, description=f"{table}: {rows} rows")

                counts = import_directory(
                    engine, source, actor=actor_of(actor), reason=reason, fmt=fmt, progress=step
                )
        finally:
            engine.dispose()
    err.print(f"imported {sum(counts.values())} rows from {source}", markup=False, highlight=False)
    emit({"imported": counts})


@export_app.callback(invoke_without_command=True)
def export(
    ctx: typer.Context,
    dest: Path = typer.Option(None, "--out", help="Directory to write (created).", show_default=False),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    identified: bool = typer.Option(
        False, "--identified", help="Export as stored (codes, dates); requires --reason; audited."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required with --identified)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a previous lupuscell export in --out (refused otherwise)."
    ),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export every table, de-identified by default (see docs/registry/import_export.md)."""
    if ctx.invoked_subcommand is not None:
        return
    _required(ctx, dest=dest)
    from lupuscell.registry.exchange import export_directory

    with registry_errors():
        engine = engine_of(db)
        try:
            with err.status("exporting"):
                counts = export_directory(
                    engine,
                    dest,
                    fmt=fmt,
                    identified=identified,
                    actor=actor_of(actor),
                    reason=reason,
                    overwrite=overwrite,
                )
        finally:
            engine.dispose()
    mode = "identified" if identified else "de-identified"
    err.print(
        f"wrote {mode} {fmt} export of {sum(counts.values())} rows to {dest}", markup=False, highlight=False
    )
    emit({"exported": counts, "mode": mode, "out": str(dest)})


COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (("init", init),)


def register(app: typer.Typer) -> None:
    """Attach this group's commands (and the ``db``, ``patients`` and ``record`` groups; ``import``
    and ``export`` are groups whose own options keep working without a subcommand;
    :mod:`lupuscell.cli.interop_cmd` adds theirs)."""
    for name, command in COMMANDS:
        app.command(name)(command)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.add_typer(db_app, name="db")
    app.add_typer(patients_app, name="patients")
    app.add_typer(record_app, name="record")
