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

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.cli.common import fail, registry_errors
from lupuscell.cli.registry_options import ACTOR_OPTION, actor_of, text
from lupuscell.cli.registry_options import err as _err
from lupuscell.cli.registry_options import out as _out
from lupuscell.cli.registry_options import shown_url as _shown

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from lupuscell.registry.bulk import LoadResult

DEMO_PATIENTS = 300
DEMO_SEED = 2026
SYNTH_REASON = "synthetic cohort for demonstration, testing and benchmarking"

DB_HELP = (
    "Registry database URL (sqlite:///PATH or postgresql://...). Default: $LUPUSCELL_DATABASE_URL, "
    "else the embedded SQLite registry."
)


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
    """Generate and bulk-load a synthetic cohort with a progress bar (used by synth and run).

    One import batch: its sites, patients and every clinical row, with ``row_counts`` per
    table (sites included), audited per record and per table naming ``actor``
    (:mod:`lupuscell.registry.bulk`).
    """
    from lupuscell.registry.bulk import load_tables
    from lupuscell.synth.cohort import iter_cohort_tables

    with _progress(patients, "loading synthetic patients") as advance:
        return load_tables(
            engine,
            iter_cohort_tables(patients, seed, chunk_size=chunk_size, baseline_signal=baseline_signal),
            actor=actor_of(actor),
            source=f"lupuscell synth --patients {patients} --seed {seed}"
            + ("" if baseline_signal else " --no-signal"),
            reason=SYNTH_REASON,
            progress=advance,
        )


synth_app = typer.Typer(help="Generate synthetic data: the registry cohort (options below) or `synth omop`.")


def synth(
    ctx: typer.Context,
    patients: int | None = typer.Option(
        None, "--patients", min=1, max=10_000_000, help="Number of virtual patients (required)."
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        min=0,
        max=2**63 - 1,
        help="Random seed, a whole number >= 0 (same seed -> same cohort) (required).",
    ),
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
    chunk_size: int = typer.Option(
        2000, "--chunk-size", min=1, max=1_000_000, help="Patients generated per chunk."
    ),
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Generate a synthetic SLE cell-therapy cohort into a registry or into files."""
    from lupuscell.synth.cohort import iter_cohort_tables
    from lupuscell.synth.files import FORMATS, write_cohort_files

    if ctx.invoked_subcommand is not None:  # e.g. `lupuscell synth omop ...`
        return
    for value, option in ((patients, "--patients"), (seed, "--seed")):
        if value is None:
            raise fail(f"missing option {option}")
    assert patients is not None and seed is not None

    if db is not None and out is not None:
        raise fail("give either --db or --out, not both")
    if fmt not in FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if out is not None and out.exists() and not out.is_dir():
        raise fail(f"--out: {out} is an existing file; give a folder")
    with registry_errors():
        if out is not None:
            with _progress(patients, "writing synthetic patients") as advance:
                chunks = iter_cohort_tables(patients, seed, chunk_size, baseline_signal=not no_signal)
                counts = write_cohort_files(chunks, out, fmt, advance)
            typer.echo(json.dumps({"out": str(out), "format": fmt, "row_counts": counts}, indent=2))
            return
        engine = _engine(db)
        try:
            result = load_synthetic(engine, patients, seed, chunk_size, actor, baseline_signal=not no_signal)
        finally:
            engine.dispose()
        payload = {
            "import_batch_id": result.batch_id,
            "row_counts": result.row_counts,
            "seconds": round(result.seconds, 2),
        }
        typer.echo(json.dumps(payload, indent=2))


def print_summary(summary: Any, url: str, *, causes: bool = True) -> None:
    """The cohort summary table (``lupuscell summary``), its footnote and, with ``causes``, the
    deaths by cause (``lupuscell serve --demo`` prints the first table only)."""
    table = Table(title=text(f"Cohort summary — {url}"))
    table.add_column("therapy", no_wrap=True)
    for header in ("patients", "median FU (mo)", "deaths", "TRM", "relapses", "flares"):
        table.add_column(header, justify="right")
    for group in (*summary.groups, summary.total):
        table.add_row(
            text(group.therapy),
            str(group.patients),
            "-" if group.median_follow_up_months is None else f"{group.median_follow_up_months:.1f}",
            str(group.deaths),
            str(group.treatment_related_deaths),
            str(group.patients_with_relapse),
            str(group.patients_with_flare),
            style="bold" if group.therapy == "all" else None,
        )
    _out.print(table)
    _out.print(
        f"Median FU = median follow-up, {summary.method}; TRM = treatment-related deaths.", markup=False
    )
    if causes and summary.death_causes:
        by_cause = Table(title="Deaths by cause")
        by_cause.add_column("cause")
        by_cause.add_column("deaths", justify="right")
        for cause, n in summary.death_causes.items():
            by_cause.add_row(text(cause), str(n))
        _out.print(by_cause)


def _warn_out_of_window(engine: Engine) -> None:
    """Tell the user which stored records the analyses left out (dates outside the window)."""
    from lupuscell.registry.plausibility import out_of_window_counts

    counts = out_of_window_counts(engine)
    if counts:
        listed = ", ".join(f"{n} in {table}" for table, n in counts.items())
        _err.print(
            f"warning: {listed} left out: a date before 1900 or in the future. Find them with "
            "`lupuscell record list ENTITY --out-of-window`, correct them with `lupuscell record update`.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def summary(
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Cohort summary: patients by therapy, median follow-up (reverse Kaplan-Meier), deaths, relapses."""
    from lupuscell.registry.cohort_summary import summarise

    with registry_errors():
        engine = _engine(db)
        try:
            result = summarise(engine)
            _warn_out_of_window(engine)
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        print_summary(result, _shown(db))


def run(
    db: str | None = typer.Option(None, "--db", help=DB_HELP, show_default=False),
    patients: int = typer.Option(DEMO_PATIENTS, "--patients", min=1, help="Size of the demo cohort."),
    seed: int = typer.Option(DEMO_SEED, "--seed", help="Seed of the demo cohort."),
) -> None:
    """Main job of `make run`: create/upgrade the registry, load the demo cohort if empty, summarise."""
    import sqlalchemy as sa

    from lupuscell.registry.cohort_summary import summarise
    from lupuscell.registry.models import Patient

    with registry_errors():
        engine = _engine(db)
        try:
            with engine.connect() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(Patient.__table__)).scalar_one()
            if count == 0:
                _err.print(
                    f"registry {_shown(db)} is empty: loading the demo cohort "
                    f"({patients} patients, seed {seed})",
                    soft_wrap=True,
                    markup=False,
                )
                load_synthetic(engine, patients, seed, chunk_size=2000)
            else:
                _err.print(
                    f"registry {_shown(db)} has {count} patients: not loading the demo cohort",
                    soft_wrap=True,
                    markup=False,
                )
            result = summarise(engine)
            _warn_out_of_window(engine)
        finally:
            engine.dispose()
    print_summary(result, _shown(db))


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    synth_app.callback(invoke_without_command=True)(synth)
    app.add_typer(synth_app, name="synth")
    app.command("summary")(summary)
    app.command("run")(run)
