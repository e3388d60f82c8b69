"""What every command group shares: the invalid-input exit code, error printing, JSON output
and reading a JSON ``--input`` (a file or ``-`` for stdin).

Errors go to stderr as ``error: <message>`` with Rich markup escaped, so a range such as
``[0, 4]`` in a message is printed as written, never swallowed as a markup tag.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from lupuscell.errors import LupuscellError, ValidationError

EXIT_INVALID = 2

err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; return the exit (code 2) for the caller to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)


def fail_validation(exc: ValidationError) -> typer.Exit:
    """One ``error:`` line per problem (record, field, reason); exit code 2."""
    for problem in exc.problems:
        err.print(f"error: {problem}", highlight=False, soft_wrap=True, markup=False)
    return typer.Exit(EXIT_INVALID)


def option_name(field: str) -> str:
    """The command-line spelling of a library parameter: ``n_max`` -> ``--n-max`` (a field that
    already names options, such as ``--r1/--n1``, is kept)."""
    return field if field.startswith("-") else "--" + field.replace("_", "-")


def fail_options(exc: LupuscellError, aliases: dict[str, str] | None = None) -> typer.Exit:
    """Errors of a command whose options are the library function's parameters.

    Each problem of a :class:`ValidationError` is printed as ``error: --option: reason``, the
    option being :func:`option_name` of the problem's field unless ``aliases`` maps the field
    to another option (``{"a": "--prior-a"}``); any other error as ``error: message``.
    Returns the exit (code 2) for the caller to raise.
    """
    if not isinstance(exc, ValidationError):
        return fail(str(exc))
    names = aliases or {}
    for problem in exc.problems:
        option = names.get(problem.field, option_name(problem.field))
        err.print(
            f"[bold red]error:[/] {escape(option)}: {escape(problem.message)}",
            highlight=False,
            soft_wrap=True,
        )
    return typer.Exit(EXIT_INVALID)


def emit_json(payload: Any) -> None:
    """``payload`` as indented JSON on stdout (the ``--json`` output of a command)."""
    typer.echo(json.dumps(payload, indent=2))


def read_json(source: str, option: str = "--input") -> Any:
    """Parse the JSON in file ``source`` (``-`` = stdin); errors name the option and the position."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{option}: cannot read {source}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            f"{option}: {source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def lazy_module(name: str) -> ModuleType:
    """``name`` imported on first attribute access (stdlib ``importlib.util.LazyLoader``).

    The CLI registers every command group at start-up; a group whose library pulls in lifelines,
    statsmodels and matplotlib uses this so that ``lupuscell score`` or ``--help`` does not pay
    for them.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


@contextmanager
def registry_errors() -> Iterator[None]:
    """Turn lupuscell and database errors of a registry command into readable messages.

    Invalid input (:class:`~lupuscell.errors.ValidationError`, an unknown record, a bad setting)
    exits 2 with one line per problem; a database error exits 1 with its first line. Never a
    traceback.
    """
    import sqlalchemy as sa

    from lupuscell.errors import ConfigurationError, NotFoundError

    try:
        yield
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except (NotFoundError, ConfigurationError) as exc:
        raise fail(str(exc)) from None
    except LupuscellError as exc:
        raise fail(str(exc)) from None
    except sa.exc.DBAPIError as exc:
        first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        err.print(
            f"[bold red]database error:[/] {escape(first)}\n"
            "is the database reachable and initialised? (`lupuscell init --db URL`)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
