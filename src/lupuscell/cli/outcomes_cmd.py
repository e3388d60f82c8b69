"""CLI commands of the outcomes group: ``lupuscell endpoints`` and ``lupuscell datasets``.

``endpoints`` runs the outcomes engine on a JSON file from outside the registry (format in
docs/outcomes/endpoints.md); ``datasets`` derives ADSL/ADTTE/ADRS from the registry. JSON goes
to stdout; errors go to stderr with exit code 2 for invalid input, each naming the patient and
the field. Definitions are :class:`lupuscell.outcomes.definitions.EndpointOptions`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.cli.common import err as _err
from lupuscell.cli.common import fail as _fail
from lupuscell.cli.common import fail_validation as _fail_validation
from lupuscell.cli.common import read_json as _read_json
from lupuscell.errors import LupuscellError, ValidationError

#: Columns of the human-readable table (the JSON carries every field).
TABLE_FIELDS: tuple[str, ...] = (
    "id",
    "first_remission_day",
    "first_lldas_day",
    "flare_day",
    "os_days",
    "os_event",
    "rfs_days",
    "rfs_event",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


AE_GRADING_HELP = (
    "The grading system a maximum grade is read on, e.g. gvhd=MAGIC_2016 "
    "(default: infection, gvhd CTCAE_v5.0; crs, icans ASTCT_2019). Repeatable."
)


def _options(ae_grading: list[str] | None, **chosen: Any) -> Any:
    """:class:`EndpointOptions` from the command line (errors name the option)."""
    from lupuscell.outcomes.definitions import DEFAULT_AE_GRADING, EndpointOptions

    grading = dict(DEFAULT_AE_GRADING)
    for item in ae_grading or []:
        category, sep, system = item.partition("=")
        if not sep or category.strip() not in grading:
            raise _fail(f"--ae-grading: {item!r}; use CATEGORY=SYSTEM with CATEGORY one of {', '.join(grading)}")
        grading[category.strip()] = system.strip()
    try:
        return EndpointOptions(ae_grading=grading, **chosen)
    except ValidationError as exc:
        raise _fail("--ae-grading: " + exc.problems[0].message.removeprefix("ae_grading: ")) from None


def endpoints_command(
    input_file: str = typer.Option(
        ..., "--input", "-i", help='Patients JSON file ({"patients": [...]}), or - for stdin.'
    ),
    as_json: bool = typer.Option(False, "--json", help='Print {"patients": [...]} JSON to stdout.'),
    flare_rule: str = typer.Option(
        "sledai_rise_ge_4",
        "--flare-rule",
        help="sledai_rise_ge_4 (default: SLEDAI-2K rise >= 4 from the previous visit) or "
        "selena_flare_index (visit flags flare / severe_flare).",
    ),
    window_tie: str = typer.Option(
        "earlier", "--window-tie", help="Visit-window tie rule: earlier (default) or later."
    ),
    ae_grading: list[str] | None = typer.Option(
        None, "--ae-grading", metavar="CATEGORY=SYSTEM", help=AE_GRADING_HELP
    ),
) -> None:
    """Derive remission, flare, survival and engraftment endpoints from a JSON file."""
    from lupuscell.outcomes.endpoints import derive_endpoints, records
    from lupuscell.outcomes.inputs import from_json_payload

    if flare_rule not in ("sledai_rise_ge_4", "selena_flare_index"):
        raise _fail(f"--flare-rule: {flare_rule!r}; use sledai_rise_ge_4 or selena_flare_index")
    if window_tie not in ("earlier", "later"):
        raise _fail(f"--window-tie: {window_tie!r}; use earlier or later")
    options = _options(ae_grading, flare_rule=flare_rule, window_tie=window_tie)
    payload = _read_json(input_file)
    try:
        cohort = from_json_payload(payload)
        result = derive_endpoints(cohort, options)
    except ValidationError as exc:
        raise _fail_validation(exc) from None
    except LupuscellError as exc:
        raise _fail(str(exc)) from None
    rows = records(result.patients)
    if as_json:
        typer.echo(json.dumps({"patients": rows}, indent=2))
        return
    table = Table(title=f"Endpoints (n = {len(rows)}; days from day 0; - = not reached)")
    for name in TABLE_FIELDS:
        table.add_column(name.replace("_", " "), justify="left" if name == "id" else "right")
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in TABLE_FIELDS))
    Console().print(table)


def datasets_command(
    db: str | None = typer.Option(
        None, "--db", help="Registry database URL (default: LUPUSCELL_DATABASE_URL or the embedded SQLite)."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (created if missing)."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    ae_grading: list[str] | None = typer.Option(
        None, "--ae-grading", metavar="CATEGORY=SYSTEM", help=AE_GRADING_HELP
    ),
) -> None:
    """Write the analysis datasets ADSL, ADTTE and ADRS from the registry."""
    from lupuscell.outcomes.datasets import build_datasets
    from lupuscell.outcomes.endpoints import derive_endpoints
    from lupuscell.registry.session import make_engine
    from lupuscell.registry.tables import from_registry
    from lupuscell.reports.dataset_files import write_datasets

    if fmt not in ("csv", "parquet"):
        raise _fail(f"--format: {fmt!r}; use csv or parquet")
    options = _options(ae_grading)
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=_err, transient=True
    )
    try:
        with progress:
            task = progress.add_task("reading registry", total=4)
            engine = make_engine(db)
            try:
                cohort = from_registry(engine)
            finally:
                engine.dispose()
            progress.update(task, advance=1, description=f"deriving endpoints ({cohort.n_patients} patients)")
            result = derive_endpoints(cohort, options)
            progress.update(task, advance=1, description="building ADSL/ADTTE/ADRS")
            datasets = build_datasets(cohort, result=result)
            progress.update(task, advance=1, description=f"writing {fmt}")
            paths = write_datasets(datasets, out, fmt)  # type: ignore[arg-type]
            progress.update(task, advance=1)
    except ValidationError as exc:
        raise _fail_validation(exc) from None
    except LupuscellError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # database errors (no such table, unreachable server)
        if type(exc).__module__.startswith("sqlalchemy"):
            reason = getattr(exc, "orig", None) or exc
            raise _fail(
                f"--db: cannot read the registry ({reason}); is the schema created (lupuscell init)?"
            ) from None
        raise
    for path in paths:
        typer.echo(str(path))
    _err.print(
        f"{len(datasets.adsl)} patients, {len(datasets.adtte)} ADTTE rows, {len(datasets.adrs)} ADRS rows",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("endpoints")(endpoints_command)
    app.command("datasets")(datasets_command)
