"""CLI commands ``sdv set|report``: source-data verification of visits, courses and adverse events.

``sdv set`` records a monitor's status of one form (audited); ``sdv report`` prints, per form
type, the counts and percentages per status and the forms still to verify, for one site or all
(:func:`lupuscell.registry.sdv.report`), as a table, JSON (``--json``) or a JSON file (``--out``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import (
    ACTOR_OPTION,
    DB_OPTION,
    actor_of,
    emit,
    engine_of,
    err,
    out,
    print_table,
)

sdv_app = typer.Typer(
    help="Source-data verification: set a form's status; the report per site.", no_args_is_help=True
)


@sdv_app.command("set")
def sdv_set(
    record_type: str = typer.Argument(..., help="visit, therapy_course or adverse_event."),
    record_id: int = typer.Argument(..., help="Record id."),
    status: str = typer.Option(..., "--status", help="not_verified, verified or verified_with_findings."),
    findings: str | None = typer.Option(
        None, "--findings", help="What differs from the source (with verified_with_findings)."
    ),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Set the source-data verification status of a form."""
    from lupuscell.registry import sdv
    from lupuscell.registry.session import transaction

    with registry_errors():
        engine = engine_of(db)
        try:
            with transaction(engine) as session:
                result = sdv.set_status(
                    session, record_type, record_id, status=status, findings=findings, actor=actor_of(actor)
                )
        finally:
            engine.dispose()
    err.print(f"{record_type} {record_id}: {status}", markup=False, highlight=False)
    emit(result)


@sdv_app.command("report")
def sdv_report(
    site: str | None = typer.Option(None, "--site", help="Only this site."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of tables."),
    out_file: Path | None = typer.Option(None, "--out", help="Write the report as JSON to this file."),
    db: str | None = DB_OPTION,
) -> None:
    """Counts and percentages per form type and status, and the list of unverified forms."""
    from sqlalchemy.orm import Session

    from lupuscell.registry import sdv

    with registry_errors():
        engine = engine_of(db)
        try:
            with Session(engine) as session:
                report = sdv.report(session, site=site)
        finally:
            engine.dispose()
    if out_file is not None:
        out_file.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        err.print(f"wrote {out_file}", markup=False, highlight=False)
    if as_json:
        emit(report)
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    rows = []
    for form, data in report["forms"].items():
        for status, n in data["counts"].items():
            rows.append((form, status, n, f"{data['percent'][status]:.1f}"))
    print_table(
        f"source-data verification ({report['site'] or 'all sites'})", ("form", "status", "n", "%"), rows
    )
    columns = ("record_type", "record_id", "site_code", "patient_code", "date")
    print_table("not verified", columns, [tuple(r[c] for c in columns) for r in report["unverified"]])
    out.print()


def register(app: typer.Typer) -> None:
    app.add_typer(sdv_app, name="sdv")
