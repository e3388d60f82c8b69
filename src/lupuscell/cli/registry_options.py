"""Options and helpers shared by the registry command groups (registry, patients, record, synth).

``--db`` (default ``LUPUSCELL_DATABASE_URL``, else the embedded SQLite file) and ``--actor``
(default ``LUPUSCELL_ACTOR``, else the operating-system user). Stored text reaches the
terminal only through :func:`text` (a Rich ``Text``, never parsed as markup), so a value such
as ``[/bold] x`` or ``sepsis [culture confirmed]`` is shown exactly as stored.
"""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

ENV_ACTOR = "LUPUSCELL_ACTOR"
MAX_LIMIT = 1_000_000
"""Largest ``--limit`` accepted (more rows than any registry table a terminal can show)."""

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL (sqlite:///PATH or postgresql://...). Default: $LUPUSCELL_DATABASE_URL, "
    "else the embedded SQLite registry.",
    show_default=False,
)
ACTOR_OPTION = typer.Option(
    None,
    "--actor",
    help="Who makes the change (audit log, at most 100 characters). Default: $LUPUSCELL_ACTOR, else the OS user.",
)

out = Console()
err = Console(stderr=True)


def actor_of(actor: str | None) -> str:
    """``--actor``, else ``$LUPUSCELL_ACTOR``, else the operating-system user."""
    return actor or os.environ.get(ENV_ACTOR) or getpass.getuser()


def shown_url(url: str | None) -> str:
    """The database URL as shown to the user (password hidden)."""
    import sqlalchemy as sa

    from lupuscell.registry.session import default_database_url, normalise_url

    raw = url or default_database_url()
    try:
        return sa.make_url(normalise_url(raw)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return raw


def engine_of(db: str | None) -> Any:
    from lupuscell.registry.session import make_engine

    return make_engine(db)


def emit(payload: Any) -> None:
    """Machine-readable result on stdout."""
    typer.echo(json.dumps(payload, indent=2, default=str))


def text(value: Any) -> Text:
    """A stored value for a Rich table or line: shown as written, never read as markup."""
    return Text("" if value is None else str(value))


def print_table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """A titled table of stored values (every cell through :func:`text`)."""
    if not rows:
        out.print(Text(f"{title}: none", style="dim"))
        return
    table = Table(title=text(title), title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(text(cell) for cell in row))
    out.print(table)
