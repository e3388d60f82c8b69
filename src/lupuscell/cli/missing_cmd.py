"""CLI command ``missing``: the minimum-data fields the data manager must chase.

Per patient, the minimum essential data fields (data/minimum_data.yaml) of their visits and
therapy courses that are empty - neither a value nor an explicit ``not_done``/``unknown`` state
(:func:`lupuscell.registry.completeness.empty_fields`). ``--all`` lists every field with its
state instead. Docs: docs/data_management/missing_values.md.
"""

from __future__ import annotations

from typing import Any

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import DB_OPTION, emit, engine_of, print_table

_COLUMNS = ("patient_code", "record", "record_date", "field", "state")


def missing(
    site: str | None = typer.Option(None, "--site", help="Only the patients of this site."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    show_all: bool = typer.Option(
        False, "--all", help="Every minimum-data field with its state, not only the empty ones."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Per patient, the minimum-data fields left empty (neither a value nor a state)."""
    from lupuscell.registry import completeness

    sites = [site] if site else None
    with registry_errors():
        engine = engine_of(db)
        try:
            read = completeness.completeness if show_all else completeness.empty_fields
            found = read(engine, sites=sites)
        finally:
            engine.dispose()
    report: dict[str, Any] = {
        "site": site,
        "all": show_all,
        "n_patients": len(found),
        "n_fields": sum(len(rows) for rows in found.values()),
        "patients": {code: [s.to_dict() for s in rows] for code, rows in found.items()},
    }
    if as_json:
        emit(report)
        return
    title = "minimum-data fields" if show_all else "minimum-data fields to chase (no value, no state)"
    rows = [tuple(r[c] for c in _COLUMNS) for items in report["patients"].values() for r in items]
    print_table(f"{title} ({site or 'all sites'})", _COLUMNS, rows)


def register(app: typer.Typer) -> None:
    app.command("missing")(missing)
