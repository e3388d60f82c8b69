"""What every command group shares: the invalid-input exit code, error printing and reading a
JSON ``--input`` (a file or ``-`` for stdin).

Errors go to stderr as ``error: <message>`` with Rich markup escaped, so a range such as
``[0, 4]`` in a message is printed as written, never swallowed as a markup tag.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from lupuscell.errors import ValidationError

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
