"""CLI commands of visit schedules: ``schedule --patient CODE``, ``schedule overdue`` and
``schedule templates``.

The calendar and its status rule are :mod:`lupuscell.schedules`; the reads are
:mod:`lupuscell.registry.schedule_read`. ``--today`` fixes the date the statuses are computed
for (default: the current date), so a report can be reproduced.
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table
from rich.text import Text

from lupuscell.cli.common import fail, registry_errors
from lupuscell.cli.registry_options import DB_OPTION, emit, engine_of, out, text

schedule_app = typer.Typer(
    help="Visit schedules: a patient's calendar (--patient CODE), overdue visits, the templates.",
    invoke_without_command=True,
)
STATUS_STYLE = {"done": "green", "due": "yellow", "overdue": "bold red", "missed": "red", "upcoming": "dim"}
TEMPLATE_OPTION = typer.Option(
    "auto", "--template", help="Schedule template name, or auto (the index course's protocol, else ebmt)."
)
TODAY_OPTION = typer.Option(None, "--today", help="Compute statuses for this date (YYYY-MM-DD). Default: today.")
JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")


def _today(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"--today: {value!r} is not a date (YYYY-MM-DD)") from None


@schedule_app.callback()
def schedule(
    ctx: typer.Context,
    patient: str | None = typer.Option(None, "--patient", help="Patient code: show their calendar."),
    template: str = TEMPLATE_OPTION,
    today: str | None = TODAY_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A patient's visit calendar: every planned visit with its window and status."""
    if ctx.invoked_subcommand is not None:
        return
    if patient is None:
        raise fail("give --patient CODE, or a command: overdue, templates (see --help)")
    from lupuscell.registry.schedule_read import patient_schedule

    with registry_errors():
        engine = engine_of(db)
        try:
            result = patient_schedule(engine, patient, template=template, today=_today(today))
        finally:
            engine.dispose()
    if as_json:
        emit(result)
        return
    title = f"{result['patient_code']} ({result['site_code']}) - {result['template_title']}; day 0 {result['day0']}"
    table = Table(title=Text(title), title_justify="left")
    for column in ("visit", "target", "window", "status", "recorded visit"):
        table.add_column(column)
    for visit in result["visits"]:
        window = f"{visit['window_start']} .. {visit['window_end']}"
        status = Text(visit["status"], style=STATUS_STYLE.get(visit["status"], ""))
        cells = (text(visit["label"]), text(visit["target_date"]), text(window))
        table.add_row(*cells, status, text(visit["visit_date"]))
    out.print(table)
    if not result["visits"]:
        out.print(Text("no visit planned: the patient has no day 0 (no therapy course)", style="dim"))


@schedule_app.command("overdue")
def overdue(
    site: list[str] | None = typer.Option(None, "--site", help="Site code (repeat for several). Default: all."),
    template: str = TEMPLATE_OPTION,
    today: str | None = TODAY_OPTION,
    include_missed: bool = typer.Option(False, "--include-missed", help="List missed visits too."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Overdue planned visits per site (window closed, not done, still to chase)."""
    from lupuscell.registry.schedule_read import overdue_visits

    statuses = ("overdue", "missed") if include_missed else ("overdue",)
    with registry_errors():
        engine = engine_of(db)
        try:
            rows = overdue_visits(engine, sites=site or None, template=template, today=_today(today), statuses=statuses)
        finally:
            engine.dispose()
    if as_json:
        emit(rows)
        return
    table = Table(title=Text(f"{len(rows)} overdue visit(s)"), title_justify="left")
    for column in ("site", "patient", "visit", "target", "window closed", "days overdue", "status"):
        table.add_column(column, no_wrap=column in ("patient", "target", "window closed"))
    for r in rows:
        values = (r["site_code"], r["patient_code"], r["label"], r["target_date"], r["window_end"], r["days_overdue"])
        table.add_row(*(text(v) for v in values), Text(r["status"], style=STATUS_STYLE[r["status"]]))
    out.print(table)


@schedule_app.command("templates")
def templates(as_json: bool = JSON_OPTION) -> None:
    """The shipped schedule templates and their visits."""
    from lupuscell.schedules import load_template, shipped_template_names

    shipped = [load_template(n) for n in shipped_template_names()]
    if as_json:
        emit([t.model_dump() for t in shipped])
        return
    for template in shipped:
        out.print(Text(f"{template.name}: {template.title}", style="bold"))
        for visit in template.visits:
            repeat = f", every {visit.repeat.every} days" if visit.repeat else ""
            window = f"-{visit.window.before}/+{visit.window.after}"
            out.print(Text(f"  {visit.id}: day {visit.day} from {visit.anchor}{repeat}, window {window}"))


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
