"""The ``lupuscell`` command line: a thin shell over the library.

Each command group lives in its own module and exposes ``register(app)``; this module only
assembles them, so a newcomer finds a command by its module name (``cli/<group>_cmd.py``).
"""

from __future__ import annotations

import warnings

import typer

from lupuscell import __version__
from lupuscell.cli import (
    audit_cmd,
    backup_cmd,
    design_cmd,
    dq_cmd,
    evidence_cmd,
    interop_cmd,
    missing_cmd,
    outcomes_cmd,
    predict_cmd,
    protocols_cmd,
    queries_cmd,
    registry_cmd,
    report_cmd,
    schedule_cmd,
    score_cmd,
    screen_cmd,
    sdv_cmd,
    sign_cmd,
    synth_cmd,
    synth_omop_cmd,
    trials_cmd,
    web_cmd,
)

app = typer.Typer(
    name="lupuscell",
    help="Registry, scoring, outcomes, evidence and trial design for cellular therapy in SLE.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lupuscell {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """lupuscell: one platform for an SLE cell-therapy programme."""
    # Warnings of libraries (pandas FutureWarning, numpy RuntimeWarning...) are for developers,
    # not for the user of a command; lupuscell's own warnings still show.
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"lupuscell(\.|$)")


for _module in (
    registry_cmd,
    synth_cmd,
    score_cmd,
    outcomes_cmd,
    report_cmd,
    evidence_cmd,
    design_cmd,
    protocols_cmd,
    screen_cmd,
    synth_omop_cmd,
    trials_cmd,
    interop_cmd,
    predict_cmd,
    web_cmd,
    audit_cmd,
    backup_cmd,
    schedule_cmd,
    queries_cmd,
    sdv_cmd,
    sign_cmd,
    missing_cmd,
    dq_cmd,
):
    _module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
