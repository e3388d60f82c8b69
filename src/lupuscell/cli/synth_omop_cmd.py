"""CLI command ``synth omop``: a synthetic health-system population in OMOP CDM v5.4 Parquet.

``lupuscell synth omop --persons N --seed S --out DIR [--sle-prevalence P]`` streams the
population (:mod:`lupuscell.synth.omop`) part by part into ``DIR/<table>/part-*.parquet`` with a
progress bar, plus the vocabulary subset and ``vocabulary_notes.csv``; it prints the rows
written per table as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lupuscell.cli.common import fail

err = Console(stderr=True)


def omop(
    persons: int = typer.Option(..., "--persons", min=1, help="Number of persons."),
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed -> same data)."),
    out: Path = typer.Option(..., "--out", help="Output directory (one folder of Parquet parts per table)."),
    sle_prevalence: float = typer.Option(
        72.8e-5,
        "--sle-prevalence",
        help="Share of persons with SLE (default 72.8 per 100,000, Izmirly 2021).",
    ),
) -> None:
    """Generate a synthetic OMOP CDM population with SLE at a realistic prevalence."""
    from lupuscell.synth.omop import OmopSynthConfig, write_omop

    try:
        config = OmopSynthConfig(persons, seed, sle_prevalence)
    except ValueError as exc:
        raise fail(f"--sle-prevalence: {exc}") from None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("writing synthetic OMOP persons", total=persons)
        counts = write_omop(config, out, lambda n: bar.advance(task, n))
    typer.echo(
        json.dumps({"out": str(out), "persons": persons, "seed": seed, "row_counts": counts}, indent=2)
    )


def register(app: typer.Typer) -> None:
    """Add ``omop`` to the ``synth`` group of :mod:`lupuscell.cli.synth_cmd` (registered before)."""
    from lupuscell.cli.synth_cmd import synth_app

    synth_app.command("omop")(omop)
