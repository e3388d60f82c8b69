"""CLI command ``trials find``: recruiting cell-therapy trials in SLE, optionally for a patient.

``lupuscell trials find [--patient CODE] [--db URL] [--json] [--save-raw DIR] [--from-file F]``
queries the ClinicalTrials.gov API v2 (:mod:`lupuscell.interop.ctgov`), lists the recruiting and
not-yet-recruiting CAR-T, MSC and HSCT trials in SLE and, with ``--patient``, screens the
registry patient against each trial's age and sex limits and the eligibility items it can read,
listing plainly what could not be checked. Offline it fails with a clear message (exit 1);
``--from-file`` reads a saved API response instead (``--save-raw`` writes them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from lupuscell.cli.common import err
from lupuscell.cli.protocols_cmd import VERDICT_STYLE, errors

trials_app = typer.Typer(
    help="Find recruiting cell-therapy trials in SLE (ClinicalTrials.gov).", no_args_is_help=True
)
out = Console()


def _pages(from_file: list[Path] | None, save_raw: Path | None, max_pages: int) -> list[dict[str, Any]]:
    from lupuscell.interop.ctgov import ClinicalTrialsClient

    if from_file:
        return [json.loads(path.read_text(encoding="utf-8")) for path in from_file]
    client = ClinicalTrialsClient()
    try:
        pages = list(client.pages(max_pages=max_pages))
    finally:
        client.close()
    if save_raw is not None:
        save_raw.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(pages, start=1):
            (save_raw / f"ctgov_page{n}.json").write_text(json.dumps(page, indent=1), encoding="utf-8")
    return pages


def _record(patient: str, db: str | None, as_of: dt.date) -> Any:
    from lupuscell.protocols.patient_check import trial_record
    from lupuscell.registry.eligibility_read import read_patient
    from lupuscell.registry.session import make_engine

    engine = make_engine(db)
    try:
        timeline = read_patient(engine, patient)
    finally:
        engine.dispose()
    return trial_record(timeline, as_of)


def find(
    patient: str | None = typer.Option(
        None, "--patient", help="Registry patient code to screen against each trial."
    ),
    db: str | None = typer.Option(None, "--db", help="Registry database URL (with --patient)."),
    as_json: bool = typer.Option(False, "--json", help="Print the trials (and checks) as JSON."),
    as_of: dt.datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Screening date (default: today)."
    ),
    save_raw: Path | None = typer.Option(
        None, "--save-raw", help="Also save the raw API pages into this directory."
    ),
    from_file: list[Path] | None = typer.Option(
        None, "--from-file", help="Read saved API pages instead of the network."
    ),
    max_pages: int = typer.Option(
        10, "--max-pages", min=1, help="At most this many API pages (50 studies each)."
    ),
) -> None:
    """List recruiting CAR-T, MSC and HSCT trials in SLE; with --patient, screen the patient."""
    from lupuscell.interop.ctgov import TrialsUnavailableError, index_today, parse_studies, screen_trials

    try:
        pages = _pages(from_file, save_raw, max_pages)
    except TrialsUnavailableError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    with errors():
        trials = parse_studies(pages)
        record = _record(patient, db, as_of.date() if as_of else index_today()) if patient else None
        matches = screen_trials(record, trials)
    if as_json:
        typer.echo(json.dumps([m.to_dict() for m in matches], indent=2))
        return
    out.print(f"{len(matches)} recruiting or not-yet-recruiting cell-therapy trial(s) in SLE")
    for m in matches:
        t = m.trial
        head = f"[bold]{t.nct_id}[/] {escape(t.title)} ({t.status.lower()}, {', '.join(t.therapies)}) {t.url}"
        if record is not None:
            label = m.verdict.label
            head += f" [{VERDICT_STYLE[label]}]{label}[/]"
        out.print(head, highlight=False)
        for check in m.checks:
            style = VERDICT_STYLE[check.verdict.label]
            out.print(
                f"  [{style}]{check.verdict.label}[/] {escape(check.item)}: {escape(check.reason)}",
                highlight=False,
            )
        if record is not None and m.not_checked:
            out.print(
                f"  not checked ({len(m.not_checked)} item(s) of the eligibility text):", highlight=False
            )
            for item in m.not_checked:
                out.print(f"    - {escape(item)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    trials_app.command("find")(find)
    app.add_typer(trials_app, name="trials")
