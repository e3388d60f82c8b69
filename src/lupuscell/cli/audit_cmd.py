"""CLI commands of the audit log: ``audit verify`` and ``audit as-of``.

``audit verify`` walks the hash chain (:mod:`lupuscell.registry.audit_chain`) and, with
``--replay``, rebuilds the registry from the log and compares it with the live tables
(:mod:`lupuscell.registry.audit_replay`); it exits 0 when everything holds, 1 when a row was
edited or deleted (each named), 2 on invalid input. ``audit as-of`` writes the registry as it
stood at a date and time, in the layout of ``lupuscell export`` and under the same rules
(de-identified unless ``--identified``, audited).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from lupuscell.cli.common import emit_json, fail, registry_errors
from lupuscell.cli.registry_options import ACTOR_OPTION, DB_OPTION, actor_of, engine_of, err, out

audit_app = typer.Typer(help="The audit log: verify its hash chain, rebuild the registry as of a date.")

EXIT_TAMPERED = 1


def parse_instant(text: str) -> dt.datetime:
    """``DATETIME`` of ``audit as-of``: an ISO date (the end of that day, UTC) or date and time
    (UTC unless an offset is given, e.g. ``2025-03-01T09:30+01:00``)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise fail(
            f"DATETIME: {text!r} is not an ISO date (2025-03-01) or date and time (2025-03-01T09:30:00)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@audit_app.command("verify")
def verify(
    db: str | None = DB_OPTION,
    replay: bool = typer.Option(
        False, "--replay", help="Also rebuild the registry from the log and compare it with the live tables."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check the audit log's hash chain; exit 1 naming every edited or deleted row."""
    from lupuscell.registry import audit_chain, audit_replay

    with registry_errors():
        engine = engine_of(db)
        try:
            report = audit_chain.verify(engine)
            payload: dict[str, Any] = report.as_dict()
            if replay:
                with tempfile.TemporaryDirectory(prefix="lupuscell-verify-") as tmp:
                    target, result = audit_replay.rebuild_into_temporary(engine, None, Path(tmp))
                    try:
                        payload["replay"] = result.as_dict()
                        payload["replay"]["differences"] = audit_replay.differences(engine, target)
                    finally:
                        target.dispose()
        finally:
            engine.dispose()
    replay_ok = not replay or not (payload["replay"]["differences"] or payload["replay"]["not_rebuilt"])
    payload["ok"] = report.ok and replay_ok
    if as_json:
        emit_json(payload)
    else:
        _render_verify(payload)
    if not payload["ok"]:
        raise typer.Exit(EXIT_TAMPERED)


def _render_verify(payload: dict[str, Any]) -> None:
    out.print(
        Text(f"audit rows: {payload['rows']}, last id {payload['last_id']}, head hash {payload['last_hash']}")
    )
    for problem in payload["problems"]:
        err.print(Text(f"tampered: {problem['message']}", style="bold red"))
    if "replay" in payload:
        result = payload["replay"]
        out.print(Text(f"replay: {result['changes_applied']} changes rebuilt {result['records']}"))
        for line in result["not_rebuilt"]:
            err.print(Text(f"not rebuilt: {line}", style="yellow"))
        for line in result["differences"]:
            err.print(Text(f"differs: {line}", style="bold red"))
    if payload["ok"]:
        out.print(Text("audit log intact", style="bold green"))


@audit_app.command("as-of")
def as_of(
    when: str = typer.Argument(
        ..., metavar="DATETIME", help="ISO date (end of that day, UTC) or date and time."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write (must not exist or be empty)."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    identified: bool = typer.Option(
        False, "--identified", help="Write identified data (needs --reason; audited)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required with --identified)."),
    actor: str | None = ACTOR_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Rebuild the registry as it stood at DATETIME from the audit log and write it like `export`."""
    from lupuscell.registry.audit_replay import export_as_of

    instant = parse_instant(when)
    with registry_errors():
        engine = engine_of(db)
        try:
            manifest = export_as_of(
                engine, out_dir, instant, fmt=fmt, identified=identified, actor=actor_of(actor), reason=reason
            )
        finally:
            engine.dispose()
    if as_json:
        emit_json(manifest)
        return
    replay = manifest["replay"]
    out.print(Text(f"registry as of {instant.isoformat()} ({manifest['mode']}) written to {out_dir}"))
    out.print(Text(f"rows: {manifest['rows']}"))
    for line in replay["not_rebuilt"]:
        err.print(Text(f"not rebuilt: {line}", style="yellow"))


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
