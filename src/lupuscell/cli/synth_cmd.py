"""CLI commands ``synth``, ``summary`` and ``run`` (the main job of ``make run``).

* ``lupuscell synth --patients N --seed S [--db URL | --out DIR] [--format parquet|csv]``
  generates the synthetic cohort (:mod:`lupuscell.synth.cohort`) in chunks and bulk-loads it
  into a registry (:mod:`lupuscell.registry.bulk`) or writes one file per table.
* ``lupuscell summary [--db URL] [--json]``: patients by therapy, median follow-up (reverse
  Kaplan-Meier), deaths with causes, relapses (:mod:`lupuscell.registry.cohort_summary`).
* ``lupuscell run [--db URL]``: create or upgrade the registry, load the demo cohort when
  the registry has no patients, print the summary.

Thin by design: parse, call the library, render. Progress bars and messages go to stderr,
JSON to stdout; invalid input exits with code 2. See docs/synth.md.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.errors import LupuscellError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from lupuscell.registry.bulk import LoadResult

EXIT_INVALID = 2
DEMO_PATIENTS = 300
DEMO_SEED = 2026
ENV_ACTOR = "LUPUSCELL_ACTOR"

_out = Console()
_err = Console(stderr=True)

DB_HELP = (
    "Registry database URL (sqlite:///PATH or postgresql://...). Default: $LUPUSCELL_DATABASE_URL, "
    "else the embedded SQLite registry."
)


@contextmanager
def _errors() -> Iterator[None]:
    import sqlalchemy as sa

    try:
        yield
    except ValidationError as exc:
        _err.print(f"[bold red]rejected[/] ({len(exc.problems)} problem(s)); nothing was written:")
        for problem in exc.problems:
            _err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    except LupuscellError as exc:
        _err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    except sa.exc.OperationalError as exc:
        _err.print(f"[bold red]database error:[/] {escape(str(exc.orig))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_err, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _engine(db: str | None) -> Engine:
    from lupuscell.registry import migrate
    from lupuscell.registry.session import make_engine

    engine = make_engine(db)
    migrate.upgrade(engine)
    return engine


def load_synthetic(
    engine: Engine,
    patients: int,
    seed: int,
    chunk_size: int,
    actor: str | None = None,
    baseline_signal: bool = True,
) -> LoadResult:
    """Generate and bulk-load a synthetic cohort with a progress bar (used by synth and run)."""
    from lupuscell.registry.bulk import load_tables
    from lupuscell.synth.cohort import iter_cohort_tables

    with _progress(patients, "loading synthetic patients") as advance:
        return load_tables(
            engine,
            iter_cohort_tables(patients, seed, chunk_size=chunk_size, baseline_signal=baseline_signal),
            actor=actor or os.environ.get(ENV_ACTOR) or getpass.getuser(),
            source=f"lupuscell synth --patients {patients} --seed {seed}"
            + ("" if baseline_signal else " --no-signal"),
            reason="synthetic cohort for demonstration, testing and benchmarking",
            progress=advance,
        )


def synth(
    patients: int = typer.Option(..., "--patients", min=1, help="Number of virtual patients."),
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed -> same cohort)."),
    db: str | None = typer.Option(
        None, "--db", help=DB_HELP + " Used when --out is not given.", show_default=False
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write one file per table into this directory instead."
    ),
    no_signal: bool = typer.Option(
        False,
        "--no-signal",
        help="Response, relapse and death independent of the baseline and the therapy (a null cohort).",
    ),
    fmt: str = typer.Option("parquet", "--format", help="File format with --out: parquet or csv."),
    chunk_size: int = typer.Option(2000, "--chunk-size", min=1, help="Patients generated per chunk."),
) -> None:
    """Generate a synthetic SLE cell-therapy cohort into a registry or into files."""
    from lupuscell.synth.cohort import iter_cohort_tables
    from lupuscell.synth.files import FORMATS, write_cohort_files

    if db is not None and out is not None:
        _err.print("[bold red]error:[/] give either --db or --out, not both")
        raise typer.Exit(EXIT_INVALID)
    if fmt not in FORMATS:
        _err.print(f"[bold red]error:[/] --format: {fmt!r} is not one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_INVALID)
    with _errors():
        if out is not None:
            with _progress(patients, "writing synthetic patients") as advance:
                chunks = iter_cohort_tables(patients, seed, chunk_size, baseline_signal=not no_signal)
                counts = write_cohort_files(chunks, out, fmt, advance)
            typer.echo(json.dumps({"out": str(out), "format": fmt, "row_counts": counts}, indent=2))
            return
        engine = _engine(db)
        try:
            result = load_synthetic(engine, patients, seed, chunk_size, baseline_signal=not no_signal)
        finally:
            engine.dispose()
        payload = {
            "import_batch_id": result.batch_id,
            "row_counts": result.row_counts,
            "seconds": round(result.seconds, 2),
        }
        typer.echo(json.dumps(payload, indent=2))


def _render(summary: Any, url: str) -> None:
    table = Table(title=f"Cohort summary — {url}")
    table.add_column("therapy", no_wrap=True)
    for header in ("patients", "median FU (mo)", "deaths", "TRM", "relapses", "flares"):
        table.add_column(header, justify="right")
    for group in (*summary.groups, summary.total):
        table.add_row(
            group.therapy,
            str(group.patients),
            "-" if group.median_follow_up_months is None else f"{group.median_follow_up_months:.1f}",
            str(group.deaths),
            str(group.treatment_related_deaths),
            str(group.patients_with_relapse),
            str(group.patients_with_flare),
            style="bold" if group.therapy == "all" else None,
        )
    _out.print(table)
    _out.print(f"Median FU = median follow-up, {summary.method}; TRM = treatment-related deaths.")
    if summary.death_causes:
        causes = Table(title="Deaths by cause")
        causes.add_column("cause")
        causes.add_column("deaths", justify="right")
        for cause, n in summary.death_causes.items():
            causes.add_row(cause, str(n))
        _out.print(causes)


def _shown(url: str | None) -> str:
    import sqlalchemy as sa

    from lupuscell.registry.session import default_database_url, normalise_url

    raw = url or default_database_url()
    try:
        return sa.make_url(normalise_url(raw)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return raw


def summary(
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Cohort summary: patients by therapy, median follow-up (reverse Kaplan-Meier), deaths, relapses."""
    from lupuscell.registry.cohort_summary import summarise

    with _errors():
        engine = _engine(db)
        try:
            result = summarise(engine)
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _render(result, _shown(db))


def run(
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
    patients: int = typer.Option(DEMO_PATIENTS, "--patients", min=1, help="Size of the demo cohort."),
    seed: int = typer.Option(DEMO_SEED, "--seed", help="Seed of the demo cohort."),
) -> None:
    """Main job of `make run`: create/upgrade the registry, load the demo cohort if empty, summarise."""
    import sqlalchemy as sa

    from lupuscell.registry.cohort_summary import summarise
    from lupuscell.registry.models import Patient

    with _errors():
        engine = _engine(db)
        try:
            with engine.connect() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(Patient.__table__)).scalar_one()
            if count == 0:
                _err.print(
                    f"registry {_shown(db)} is empty: loading the demo cohort "
                    f"({patients} patients, seed {seed})",
                    soft_wrap=True,
                )
                load_synthetic(engine, patients, seed, chunk_size=2000)
            else:
                _err.print(
                    f"registry {_shown(db)} has {count} patients: not loading the demo cohort", soft_wrap=True
                )
            result = summarise(engine)
        finally:
            engine.dispose()
    _render(result, _shown(db))


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("synth")(synth)
    app.command("summary")(summary)
    app.command("run")(run)
