"""CLI commands of the registry: ``init``, ``db upgrade``, ``db current``, ``import``, ``export``,
``patients list`` and ``patients show``.

Thin by design: parse options, call :mod:`lupuscell.registry`, render. Every command takes
``--db URL`` (default ``LUPUSCELL_DATABASE_URL``, else the embedded SQLite file, see
docs/configuration.md). Machine-readable results (JSON) go to stdout; messages, progress bars
and errors go to stderr; invalid input exits with code 2.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lupuscell.errors import ConfigurationError, LupuscellError, NotFoundError, ValidationError

ENV_ACTOR = "LUPUSCELL_ACTOR"

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL (sqlite:///PATH or postgresql://...). Default: $LUPUSCELL_DATABASE_URL, "
    "else the embedded SQLite registry.",
    show_default=False,
)
ACTOR_OPTION = typer.Option(
    None, "--actor", help="Who makes the change (audit log). Default: $LUPUSCELL_ACTOR, else the OS user."
)

db_app = typer.Typer(help="Database schema management (Alembic migrations).", no_args_is_help=True)
patients_app = typer.Typer(help="Browse patients in the registry.", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


def _actor(actor: str | None) -> str:
    return actor or os.environ.get(ENV_ACTOR) or getpass.getuser()


def _shown_url(url: str | None) -> str:
    import sqlalchemy as sa

    from lupuscell.registry.session import default_database_url

    raw = url or default_database_url()
    try:
        return sa.make_url(raw).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return raw


def _emit(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str))


@contextmanager
def _errors() -> Iterator[None]:
    """Report lupuscell and database errors on stderr with the right exit code."""
    import sqlalchemy as sa

    try:
        yield
    except ValidationError as exc:
        err.print(f"[bold red]rejected[/] ({len(exc.problems)} problem(s)); nothing was written:")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except (NotFoundError, ConfigurationError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    except LupuscellError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        err.print(
            f"[bold red]database error:[/] {escape(first)}\n"
            "Is the database reachable and initialised? Run `lupuscell init --db URL`.",
            highlight=False,
        )
        raise typer.Exit(1) from None


def _engine(db: str | None) -> Any:
    from lupuscell.registry.session import make_engine

    return make_engine(db)


# --------------------------------------------------------------------------- schema


def _upgrade(db: str | None, revision: str = "head") -> dict[str, Any]:
    from lupuscell.registry import migrate

    engine = _engine(db)
    try:
        before = migrate.current_revision(engine)
        after = migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    return {"database": _shown_url(db), "revision_before": before, "revision": after}


def init(db: str | None = DB_OPTION) -> None:
    """Create the registry schema (or upgrade it to the newest revision)."""
    with _errors():
        result = _upgrade(db)
    err.print(f"registry ready at {result['database']} (schema revision {result['revision']})")
    _emit(result)


@db_app.command("upgrade")
def db_upgrade(
    db: str | None = DB_OPTION,
    revision: str = typer.Option("head", help="Target Alembic revision."),
) -> None:
    """Apply pending schema migrations (creates the schema on an empty database)."""
    with _errors():
        result = _upgrade(db, revision)
    _emit(result)


@db_app.command("current")
def db_current(db: str | None = DB_OPTION) -> None:
    """Print the schema revision of the database and the newest one this version ships."""
    from lupuscell.registry import migrate

    with _errors():
        engine = _engine(db)
        try:
            current = migrate.current_revision(engine)
        finally:
            engine.dispose()
    _emit({"database": _shown_url(db), "revision": current, "head": migrate.head_revision()})


# --------------------------------------------------------------------------- import / export


import_app = typer.Typer(help="Import data into the registry (CSV/Parquet folder, or a subcommand).")
export_app = typer.Typer(help="Export the registry (CSV/Parquet folder, or a subcommand).")


def _required(ctx: typer.Context, **given: Any) -> None:
    """The options a group callback needs when it runs as the command itself (no subcommand):
    missing ones fail exactly as a required option does (Click's "Missing option", exit 2)."""
    for name, value in given.items():
        if value is None:
            param = next(p for p in ctx.command.params if p.name == name)
            param.required = True
            try:
                param.process_value(ctx, None)
            finally:
                param.required = False


@import_app.callback(invoke_without_command=True)
def import_(
    ctx: typer.Context,
    source: Path = typer.Option(None, "--from", help="Directory with one file per table.", show_default=False),
    fmt: str | None = typer.Option(None, "--format", help="csv or parquet (default: detected)."),
    reason: str = typer.Option(
        None, "--reason", help="Why the data are loaded (audit log).", show_default=False
    ),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Import CSV/Parquet files (one per table, keyed by patient code), all or nothing."""
    if ctx.invoked_subcommand is not None:
        return
    _required(ctx, source=source, reason=reason)
    from rich.progress import Progress

    from lupuscell.registry.exchange import TABLES, import_directory

    with _errors():
        engine = _engine(db)
        try:
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("importing", total=len(TABLES))

                def step(table: str, rows: int) -> None:
                    progress.update(task, advance=1, description=f"{table}: {rows} rows")

                counts = import_directory(
                    engine, source, actor=_actor(actor), reason=reason, fmt=fmt, progress=step
                )
        finally:
            engine.dispose()
    err.print(f"imported {sum(counts.values())} rows from {source}")
    _emit({"imported": counts})


@export_app.callback(invoke_without_command=True)
def export(
    ctx: typer.Context,
    dest: Path = typer.Option(None, "--out", help="Directory to write (created).", show_default=False),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    identified: bool = typer.Option(
        False, "--identified", help="Export as stored (codes, dates); requires --reason; audited."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required with --identified)."),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export every table, de-identified by default (see docs/registry/import_export.md)."""
    if ctx.invoked_subcommand is not None:
        return
    _required(ctx, dest=dest)
    from lupuscell.registry.exchange import export_directory

    with _errors():
        engine = _engine(db)
        try:
            with err.status("exporting"):
                counts = export_directory(
                    engine, dest, fmt=fmt, identified=identified, actor=_actor(actor), reason=reason
                )
        finally:
            engine.dispose()
    mode = "identified" if identified else "de-identified"
    err.print(f"wrote {mode} {fmt} export of {sum(counts.values())} rows to {dest}")
    _emit({"exported": counts, "mode": mode, "out": str(dest)})


# --------------------------------------------------------------------------- patients


@patients_app.command("list")
def patients_list(
    therapy: str | None = typer.Option(None, help="Only patients with a course of this therapy."),
    site: str | None = typer.Option(None, help="Only patients of this site code."),
    limit: int = typer.Option(50, min=1, help="At most this many patients."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """List patients: site, sex, birth year, therapies, day 0, visits, follow-up, status."""
    from lupuscell import vocab
    from lupuscell.registry.views import patient_summaries

    with _errors():
        if therapy is not None and therapy not in vocab.THERAPIES:
            raise ValidationError.single(
                "--therapy", "therapy", f"unknown therapy {therapy!r}; allowed: {', '.join(vocab.THERAPIES)}"
            )
        engine = _engine(db)
        try:
            rows = patient_summaries(engine, therapy=therapy, site=site, limit=limit)
        finally:
            engine.dispose()
    if as_json:
        _emit({"patients": rows})
        return
    table = Table(title=f"Patients ({len(rows)} shown, limit {limit})")
    for column in (
        "code",
        "site",
        "sex",
        "birth year",
        "therapies",
        "day 0",
        "visits",
        "follow-up (d)",
        "status",
    ):
        table.add_column(column, no_wrap=column in ("code", "day 0"))
    for r in rows:
        table.add_row(
            r["code"],
            r["site"],
            r["sex"],
            str(r["birth_year"]),
            ", ".join(r["therapies"]),
            _text(r["day0"]),
            str(r["visits"]),
            _text(r["follow_up_days"]),
            r["status"],
        )
    out.print(table)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _sledai_weights() -> dict[str, int]:
    """SLEDAI-2K weights from the instruments package (Gladman 2002)."""
    from lupuscell.instruments.sledai2k import WEIGHTS

    return dict(WEIGHTS)


def sledai_total(visit: dict[str, Any], weights: dict[str, int] | None = None) -> str:
    """SLEDAI-2K of a stored visit as text: the total, ``>=n`` when a descriptor was not
    assessed (n counts the assessed ones), or ``''`` when none was assessed."""
    weights = weights if weights is not None else _sledai_weights()
    values = [visit.get(name) for name in weights]
    if all(v is None for v in values):
        return ""
    total = sum(w for name, w in weights.items() if visit.get(name) is True)
    return str(total) if all(v is not None for v in values) else f">={total}"


PHASES: tuple[tuple[str, str], ...] = (
    ("mobilisation_date", "mobilisation"),
    ("harvest_date", "apheresis / harvest"),
    ("conditioning_start_date", "conditioning / lymphodepletion"),
    ("infusion_date", "infusion (day 0 of the course)"),
    ("discharge_date", "discharge"),
)


@patients_app.command("show")
def patients_show(
    code: str = typer.Argument(..., help="Patient code."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of the timeline."),
    db: str | None = DB_OPTION,
) -> None:
    """Show one patient's timeline: therapy phases, visits with SLEDAI-2K, labs, AEs, events."""
    from lupuscell.registry.views import patient_timeline, study_day

    with _errors():
        engine = _engine(db)
        try:
            tl = patient_timeline(engine, code)
        finally:
            engine.dispose()
    weights = _sledai_weights()
    for visit in tl["visits"]:
        visit["sledai_2k"] = sledai_total(visit, weights)
    if as_json:
        _emit(tl)
        return
    p = tl["patient"]
    organs = ", ".join(p["organ_involvement"]) or "-"
    out.print(
        f"[bold]{p['code']}[/]  site {p['site_code']}  sex {p['sex']}  born {p['birth_year']}  "
        f"SLE diagnosed {_text(p['sle_diagnosis_date']) or '?'}  organs: {organs}"
        + (f"  LN class {p['nephritis_class']}" if p["nephritis_class"] else "")
        + f"\nday 0 = {_text(tl['day0']) or 'no therapy course'}",
        highlight=False,
    )
    _table(
        "Therapy phases",
        ("course", "therapy", "phase", "date", "day"),
        [
            (str(c["course_no"]), c["therapy"], label, str(c[f]), _text(study_day(c[f], tl["day0"])))
            for c in tl["courses"]
            for f, label in PHASES
            if c[f] is not None
        ],
    )
    _table(
        "Drugs",
        ("course", "date", "day", "drug", "dose", "purpose"),
        [
            (
                str(c["course_no"]),
                str(d["admin_date"]),
                _text(d["study_day"]),
                d["drug"],
                f"{d['dose']:g} {d['unit']}",
                d["purpose"],
            )
            for c in tl["courses"]
            for d in c["drugs"]
        ],
    )
    _table(
        "Visits",
        ("date", "day", "SLEDAI-2K", "PGA", "prednisone mg/d", "descriptors present"),
        [
            (
                str(v["visit_date"]),
                _text(v["study_day"]),
                v["sledai_2k"],
                _text(v["pga"]),
                _text(v["prednisone_mg_per_day"]),
                ", ".join(name for name in weights if v.get(name) is True),
            )
            for v in tl["visits"]
        ],
    )
    _table(
        "Labs",
        ("date", "day", "analyte", "as entered", "canonical"),
        [
            (
                str(lab["result_date"]),
                _text(lab["study_day"]),
                lab["analyte"],
                f"{lab['value']:g} {lab['unit']}",
                f"{lab['value_canonical']:.4g} {lab['unit_canonical']}",
            )
            for lab in tl["labs"]
        ],
    )
    _table(
        "Adverse events",
        ("onset", "day", "term", "category", "grade", "serious", "resolved"),
        [
            (
                str(a["onset_date"]),
                _text(a["study_day"]),
                a["term"],
                a["category"],
                str(a["ctcae_grade"]),
                "yes" if a["serious"] else "no",
                _text(a["resolution_date"]),
            )
            for a in tl["adverse_events"]
        ],
    )
    _table(
        "Clinical events",
        ("date", "day", "event", "detail"),
        [
            (
                str(e["event_date"]),
                _text(e["study_day"]),
                e["event_type"],
                "; ".join(_text(e[k]) for k in ("severity", "cause") if e[k]),
            )
            for e in tl["clinical_events"]
        ],
    )


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        out.print(f"[dim]{title}: none[/]")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    out.print(table)


COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (("init", init),)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app (``import`` and ``export`` are groups whose
    own options keep working without a subcommand; :mod:`lupuscell.cli.interop_cmd` adds theirs)."""
    for name, command in COMMANDS:
        app.command(name)(command)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.add_typer(db_app, name="db")
    app.add_typer(patients_app, name="patients")
