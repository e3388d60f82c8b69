"""CLI command ``screen``: a protocol's eligibility screen over OMOP CDM data.

``lupuscell screen --protocol NAME --omop PATH_OR_URL [--engine duckdb|postgres|spark] --out DIR``
compiles the protocol (:mod:`lupuscell.screening`) for the engine, shows progress per criterion,
prints the attrition table and writes ``candidates.csv``, ``attrition.csv``, ``evidence.csv``,
``attrition.png`` and ``summary.json`` into ``DIR`` (:mod:`lupuscell.screening.export`).
The protocol, its concept sets and the OMOP tables and columns it needs are checked before any
query runs; bad input exits with code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.cli.protocols_cmd import CONCEPT_SETS_OPTION, errors

err = Console(stderr=True)
out = Console()


def screen(
    protocol: str = typer.Option(..., "--protocol", help="Protocol name or .yaml path."),
    omop: str = typer.Option(
        ...,
        "--omop",
        help="Parquet folder, .duckdb file, postgresql:// URL, or (Spark) a URI or catalog:DATABASE.",
    ),
    out_dir: Path = typer.Option(
        ..., "--out", help="Directory for candidates.csv, attrition.csv and the rest."
    ),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb, postgres or spark."),
    schema: str = typer.Option("public", "--schema", help="PostgreSQL schema holding the OMOP tables."),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL (spark://host:7077, yarn, ...). Default: local mode."
    ),
    index_date: dt.datetime | None = typer.Option(
        None, "--index-date", formats=["%Y-%m-%d"], help="Screening date (default: the data cut-off)."
    ),
    unknown: str = typer.Option(
        "keep",
        "--unknown",
        help="keep: missing data keep a person in the screen; exclude: every criterion must be met.",
    ),
    parquet: bool = typer.Option(False, "--parquet", help="Also write the tables as Parquet."),
    concept_sets: Path | None = CONCEPT_SETS_OPTION,
) -> None:
    """Screen an OMOP CDM database for a protocol's candidates, with CONSORT-style attrition."""
    from lupuscell.protocols.catalog import load_bundle
    from lupuscell.screening.export import write_results
    from lupuscell.screening.omop import open_source
    from lupuscell.screening.run import screen as run_screen

    with errors():
        bundle = load_bundle(protocol, [concept_sets] if concept_sets else [])
        for warning in bundle.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        source = open_source(omop, engine, schema=schema, spark_master=spark_master)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        total = len(bundle.protocol.leaves()) + len(bundle.protocol.criteria)
        try:
            with Progress(*columns, console=err, transient=False) as bar:
                task = bar.add_task(f"screening {bundle.protocol.name} on {engine}", total=total)

                def tick(label: str, n: int) -> None:
                    bar.update(task, advance=n, description=escape(label))

                result = run_screen(
                    bundle,
                    source,
                    index_date=index_date.date() if index_date else None,
                    unknown=unknown,
                    progress=tick,
                )
        finally:
            source.close()
        written = write_results(result, out_dir, parquet=parquet)
    table = Table(
        title=f"{result.protocol.title}: {result.persons:,} persons, index date {result.index_date}"
    )
    for column in ("criterion", "remaining", "met", "unknown", "not met"):
        table.add_column(column, justify="left" if column == "criterion" else "right")
    for row in result.attrition.itertuples():
        table.add_row(
            str(row.criterion_id),
            f"{row.remaining:,}",
            f"{row.met:,}",
            f"{row.unknown:,}",
            f"{row.not_met:,}",
        )
    out.print(table)
    names = ", ".join(p.name for p in written)
    out.print(f"{len(result.candidates):,} candidates in {result.seconds:.1f} s; wrote {names} to {out_dir}")


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("screen")(screen)
