"""CLI commands ``serve`` (the web application under uvicorn) and ``users`` (accounts).

* ``lupuscell serve [--host 127.0.0.1] [--port 8000] [--db URL] [--workers N] [--demo]``: upgrade
  the registry and serve the app; ``--demo`` (what ``make run`` does) also loads the demo
  cohort into an empty registry, creates the demo users if absent and prints the logins.
* ``lupuscell users add USERNAME --role R --site S [--site S2] [--password-stdin]``,
  ``users list [--json]``, ``users disable USERNAME``, ``users set-role USERNAME ROLE``:
  for the first admin and for scripts; the admin page does the rest.

Errors through :mod:`lupuscell.cli.common` (exit code 2, no traceback). See docs/web/.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lupuscell.cli.common import fail, fail_validation
from lupuscell.errors import LupuscellError, ValidationError

users_app = typer.Typer(help="Web application accounts: add, list, disable, set-role.", no_args_is_help=True)
DB_HELP = "Registry database URL. Default: $LUPUSCELL_DATABASE_URL, else the embedded SQLite registry."
_out = Console()
_err = Console(stderr=True)


def _engine(db: str | None) -> Any:
    from lupuscell.registry import migrate
    from lupuscell.registry.session import make_engine

    try:
        engine = make_engine(db)
        migrate.upgrade(engine)
    except LupuscellError as exc:
        raise fail(str(exc)) from None
    return engine


def _actor() -> str:
    return os.environ.get("LUPUSCELL_ACTOR") or getpass.getuser()


def _guard(action: Any) -> Any:
    try:
        return action()
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except LupuscellError as exc:
        raise fail(str(exc)) from None


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name (lower-case letters, digits, _ . -)."),
    role: str = typer.Option(
        ..., "--role", help="admin, investigator, coordinator, monitor or statistician."
    ),
    site: list[str] = typer.Option([], "--site", help="Site code the user belongs to (repeat for several)."),
    full_name: str = typer.Option("", "--name", help="The person's name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin (scripts)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
) -> None:
    """Add a user (the password is asked twice, or read from stdin)."""
    from lupuscell.registry import accounts
    from lupuscell.web import security

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if problem := security.password_problem(password):
        raise fail(f"password: {problem}")
    engine = _engine(db)
    account = _guard(
        lambda: accounts.create_user(
            engine,
            username=username,
            role=role,
            sites=site,
            full_name=full_name,
            password_hash=security.hash_password(password),
            actor=_actor(),
        )
    )
    typer.echo(json.dumps({"username": account.username, "role": account.role, "sites": list(account.sites)}))


@users_app.command("list")
def users_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
) -> None:
    """List the users with role, sites and whether they are active."""
    from lupuscell.registry import accounts

    rows = accounts.list_accounts(_engine(db))
    if as_json:
        payload = [
            {
                "username": a.username,
                "full_name": a.full_name,
                "role": a.role,
                "sites": list(a.sites),
                "active": a.active,
            }
            for a in rows
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title="lupuscell users")
    for col in ("username", "name", "role", "sites", "active"):
        table.add_column(col)
    for a in rows:
        table.add_row(a.username, a.full_name, a.role, ", ".join(a.sites), "yes" if a.active else "no")
    _out.print(table)


@users_app.command("disable")
def users_disable(
    username: str = typer.Argument(...),
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
) -> None:
    """Disable a user (their sessions and tokens stop working at once)."""
    from lupuscell.registry import accounts

    engine = _engine(db)
    account = _guard(lambda: accounts.update_account(engine, username, actor=_actor(), active=False))
    typer.echo(json.dumps({"username": account.username, "active": account.active}))


@users_app.command("set-role")
def users_set_role(
    username: str = typer.Argument(...),
    role: str = typer.Argument(..., help="admin, investigator, coordinator, monitor or statistician."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
) -> None:
    """Change a user's role (their sessions end)."""
    from lupuscell.registry import accounts

    engine = _engine(db)
    account = _guard(lambda: accounts.update_account(engine, username, actor=_actor(), role=role))
    typer.echo(json.dumps({"username": account.username, "role": account.role}))


def _demo(engine: Any, url: str) -> Table:
    """Load the demo cohort into an empty registry, print its summary (as ``lupuscell run``
    did), create the missing demo users; return the table of demo logins."""
    import sqlalchemy as sa

    from lupuscell.cli.registry_options import shown_url
    from lupuscell.cli.synth_cmd import DEMO_PATIENTS, DEMO_SEED, load_synthetic, print_summary
    from lupuscell.registry.cohort_summary import summarise
    from lupuscell.registry.models import Patient
    from lupuscell.web.demo import DEMO_PASSWORD, ensure_demo_users

    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(Patient.__table__)).scalar_one()
    if count == 0:
        _err.print(f"empty registry: loading the demo cohort ({DEMO_PATIENTS} patients, seed {DEMO_SEED})")
        _guard(
            lambda: load_synthetic(engine, DEMO_PATIENTS, DEMO_SEED, chunk_size=2000, actor="lupuscell demo")
        )
    print_summary(_guard(lambda: summarise(engine)), shown_url(url), causes=False)
    users = _guard(lambda: ensure_demo_users(engine))
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    for col in ("username", "role", "sites"):
        table.add_column(col)
    for name, role, sites in users:
        table.add_row(name, role, ", ".join(sites))
    return table


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (share sessions)."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo cohort if empty and create demo users."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the web application (pages and /api/v1) with uvicorn."""
    import uvicorn

    from lupuscell.registry.session import ENV_DATABASE_URL, default_database_url
    from lupuscell.web.settings import secret_key

    url = db or default_database_url()
    os.environ[ENV_DATABASE_URL] = url
    engine = _engine(url)
    try:
        logins = _demo(engine, url) if demo else None
    finally:
        engine.dispose()
    os.environ.setdefault("LUPUSCELL_SECRET_KEY", secret_key())
    _out.print(f"registry: {url.split('@')[-1]}; {workers} worker(s)", soft_wrap=True)
    if logins is not None:
        _out.print(logins)
    _out.print(f"lupuscell web: open http://{host}:{port}/ in a browser", soft_wrap=True)
    _out.print(f"information for patients (public, no login): http://{host}:{port}/patient-info", soft_wrap=True)
    uvicorn.run(
        "lupuscell.web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )


def register(app: typer.Typer) -> None:
    """Attach ``serve`` and the ``users`` group to the root app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
