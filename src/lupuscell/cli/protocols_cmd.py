"""CLI commands ``protocols list``, ``protocols show NAME`` and ``eligibility``.

* ``lupuscell protocols list``: the shipped protocol names, one per line.
* ``lupuscell protocols show NAME``: the protocol's criteria in screening order with their
  sources, and its references.
* ``lupuscell eligibility --protocol NAME --patient CODE [--json] [--index-date D] [--db URL]``:
  the per-criterion verdict (met / not met / unknown) of one registry patient with the
  evidence (date, value, unit) and the reason (:mod:`lupuscell.protocols.evaluate`).

Thin by design: parse, call the library, render. Invalid input exits with code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lupuscell.cli.common import fail, fail_validation
from lupuscell.errors import LupuscellError, NotFoundError, ValidationError

protocols_app = typer.Typer(
    help="Eligibility protocols shipped as data (criteria with sources).", no_args_is_help=True
)
out = Console()

CONCEPT_SETS_OPTION = typer.Option(
    None,
    "--concept-sets",
    help="A directory of extra concept sets (<name>.yaml, or ATLAS <name>.json exports), searched first.",
    show_default=False,
)
VERDICT_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow"}


@contextmanager
def errors() -> Iterator[None]:
    """Bad input -> ``error:`` lines on stderr and exit code 2, never a traceback."""
    import sqlalchemy as sa

    try:
        yield
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except (NotFoundError, LupuscellError) as exc:
        raise fail(str(exc)) from None
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"registry database error: {first}") from None


def list_protocols() -> None:
    """Print the shipped protocol names, one per line."""
    from lupuscell.protocols.catalog import shipped_protocol_names

    for name in shipped_protocol_names():
        typer.echo(name)


def _describe(criterion: Any, depth: int = 0) -> list[tuple[str, str, str, str]]:
    indent = "  " * depth
    params = {
        k: v
        for k, v in criterion.model_dump(exclude_none=True).items()
        if k not in ("id", "text", "source", "role", "kind", "criteria", "criterion")
    }
    detail = ", ".join(f"{k}={v}" for k, v in params.items())
    rows = [
        (
            f"{indent}{criterion.id}",
            criterion.kind,
            f"{criterion.text}\n[dim]{escape(detail)}[/]",
            criterion.source or "",
        )
    ]
    for child in criterion.children():
        rows.extend(_describe(child, depth + 1))
    return rows


def show_protocol(
    name: str = typer.Argument(..., help="Protocol name (see `lupuscell protocols list`) or a .yaml path."),
    as_json: bool = typer.Option(False, "--json", help="Print the validated protocol as JSON."),
) -> None:
    """Print a protocol's criteria (screening order) with their sources and references."""
    from lupuscell.protocols.catalog import load_protocol

    with errors():
        protocol = load_protocol(name)
    if as_json:
        typer.echo(json.dumps(protocol.model_dump(mode="json", exclude_none=True), indent=2))
        return
    out.print(
        f"[bold]{escape(protocol.title)}[/] ({protocol.name}, therapy {protocol.therapy}, version {protocol.version})"
    )
    out.print(escape(protocol.summary), highlight=False)
    out.print(f"Index date: {escape(protocol.index_date)}", highlight=False)
    table = Table(title="Criteria in screening order", show_lines=True)
    for column in ("id", "kind", "criterion", "source"):
        table.add_column(column, overflow="fold")
    for criterion in protocol.criteria:
        for row in _describe(criterion):
            table.add_row(escape(row[0]), row[1], row[2], escape(row[3]))
    out.print(table)
    out.print("[bold]References[/]")
    for ref in protocol.references:
        out.print(
            f"  [{escape(ref.id)}] {escape(ref.citation)}" + (f" {ref.url}" if ref.url else ""),
            highlight=False,
        )
    for note in protocol.notes:
        out.print(f"Note: {escape(note)}", highlight=False)


def _render(result: Any) -> None:
    verdict = result.verdict.label
    out.print(
        f"[bold]{escape(result.person)}[/] on protocol {result.protocol}: "
        f"[{VERDICT_STYLE[verdict]}]{verdict}[/] "
        f"(met {result.counts['met']}, not met {result.counts['not_met']}, unknown {result.counts['unknown']})"
    )
    out.print(f"Index date {result.index_date} ({escape(result.index_date_rule)})", highlight=False)
    table = Table(show_lines=False)
    for column in ("criterion", "verdict", "evidence", "reason"):
        table.add_column(column, overflow="fold")

    def add(res: Any, depth: int) -> None:
        evidence = "; ".join(
            " ".join(
                str(x) for x in (e.date, None if e.value is None else f"{e.value:g}", e.unit) if x is not None
            )
            or e.label
            for e in res.evidence
        )
        label = res.verdict.label
        table.add_row(
            "  " * depth + res.id, f"[{VERDICT_STYLE[label]}]{label}[/]", escape(evidence), escape(res.reason)
        )
        for child in res.children:
            add(child, depth + 1)

    for res in result.criteria:
        add(res, 0)
    out.print(table)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def eligibility(
    protocol: str = typer.Option(..., "--protocol", help="Protocol name or .yaml path."),
    patient: str = typer.Option(..., "--patient", help="Registry patient code."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    index_date: dt.datetime | None = typer.Option(
        None, "--index-date", formats=["%Y-%m-%d"], help="Screening date (default: first treatment step)."
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Registry database URL. Default: $LUPUSCELL_DATABASE_URL, else the embedded SQLite registry.",
    ),
    concept_sets: Path | None = CONCEPT_SETS_OPTION,
) -> None:
    """Evaluate one registry patient against a protocol: met / not met / unknown per criterion."""
    from lupuscell.protocols.patient_check import NoIndexDateError, check_registry_patient
    from lupuscell.registry.session import make_engine

    with errors():
        engine = make_engine(db)
        try:
            result = check_registry_patient(
                engine,
                patient,
                protocol,
                index_date=None if index_date is None else index_date.date(),
                index_rule="given with --index-date",
                concept_dirs=[concept_sets] if concept_sets else [],
            )
        except NoIndexDateError as exc:
            raise fail(f"patient {patient}: {exc.problems[0].message} (--index-date YYYY-MM-DD)") from None
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _render(result)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    protocols_app.command("list")(list_protocols)
    protocols_app.command("show")(show_protocol)
    app.add_typer(protocols_app, name="protocols")
    app.command("eligibility")(eligibility)
