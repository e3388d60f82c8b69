"""CLI commands ``backup`` and ``restore`` (:mod:`lupuscell.registry.backup`).

``lupuscell backup --out FILE`` writes a verified backup and its manifest ``FILE.json``;
``lupuscell restore --from FILE`` restores it into ``--db`` (refusing a database that holds
registry rows unless ``--force``) and verifies the result. Exit codes: 0 done and verified,
1 a check failed (nothing was replaced), 2 invalid input.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.text import Text

from lupuscell.cli.common import emit_json, registry_errors
from lupuscell.cli.registry_options import DB_OPTION, err, out


def _report(manifest: object, action: str, as_json: bool) -> None:
    payload = asdict(manifest)  # type: ignore[call-overload]
    if as_json:
        emit_json(payload)
        return
    out.print(Text(f"{action}: {payload['engine']}, schema revision {payload['schema_revision']}"))
    out.print(Text(f"rows: {sum(payload['rows'].values())} in {len(payload['rows'])} tables"))
    for check in payload["checks"]:
        out.print(Text(f"  verified: {check}"))


def backup(
    out_file: Path = typer.Option(..., "--out", help="Backup file to write (must not exist); FILE.json beside it."),
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Back up the registry (SQLite online backup API or pg_dump) and verify the copy."""
    from lupuscell.registry.backup import BackupError, backup

    with registry_errors():
        try:
            manifest = backup(db, out_file)
        except BackupError as exc:
            err.print(Text(f"backup failed: {exc}", style="bold red"))
            raise typer.Exit(1) from None
    _report(manifest, f"backup written to {out_file}", as_json)


def restore(
    source: Path = typer.Option(..., "--from", help="Backup file written by `lupuscell backup`."),
    db: str | None = DB_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace a database that holds registry rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Restore a backup into --db and verify it (refuses a non-empty database without --force)."""
    from lupuscell.registry.backup import BackupError, restore

    with registry_errors():
        try:
            manifest = restore(source, db, force=force)
        except BackupError as exc:
            err.print(Text(f"restore failed: {exc}", style="bold red"))
            raise typer.Exit(1) from None
    _report(manifest, f"restored from {source}", as_json)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
