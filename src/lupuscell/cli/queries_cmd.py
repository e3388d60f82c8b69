"""CLI commands ``queries list|show|raise|answer|close|reopen``: discrepancy notes on record fields.

Thin layer over :mod:`lupuscell.registry.queries`: each write is one transaction with its audit
rows; bad input (an unknown field, a closed query answered, a closer who did not raise it and
is not an admin) exits 2 with the record, the field and the reason. ``--actor`` as for every
registry command (default ``$LUPUSCELL_ACTOR``, else the operating-system user).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import (
    ACTOR_OPTION,
    DB_OPTION,
    actor_of,
    emit,
    engine_of,
    err,
    print_table,
)

queries_app = typer.Typer(
    help="Queries (discrepancy notes) on record fields: raise, answer, close.", no_args_is_help=True
)

TEXT_OPTION = typer.Option(
    ..., "--text", help="The question, answer or note (kept in the thread and the audit log)."
)
ID_ARG = typer.Argument(..., help="Query id (see `lupuscell queries list`).")
LIST_COLUMNS = (
    "id",
    "status",
    "site_code",
    "patient_code",
    "record_type",
    "record_id",
    "field",
    "raised_by",
    "text",
)


def _read(db: str | None, work: Callable[[Any], Any]) -> Any:
    from sqlalchemy.orm import Session

    engine = engine_of(db)
    try:
        with Session(engine) as session:
            return work(session)
    finally:
        engine.dispose()


def _write(db: str | None, work: Callable[[Any], Any]) -> Any:
    from lupuscell.registry.session import transaction

    engine = engine_of(db)
    try:
        with transaction(engine) as session:
            return work(session)
    finally:
        engine.dispose()


@queries_app.command("list")
def queries_list(
    site: str | None = typer.Option(None, "--site", help="Only this site's queries."),
    patient: str | None = typer.Option(None, "--patient", help="Only this patient's queries."),
    status: str | None = typer.Option(None, "--status", help="open, answered or closed."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """List queries (oldest first), by site, patient and status."""
    from lupuscell.registry import queries

    with registry_errors():
        rows = _read(db, lambda s: queries.list_queries(s, site=site, patient=patient, status=status))
    if as_json:
        emit({"queries": rows})
        return
    print_table(f"queries ({len(rows)})", LIST_COLUMNS, [tuple(r[c] for c in LIST_COLUMNS) for r in rows])


@queries_app.command("show")
def queries_show(query_id: int = ID_ARG, db: str | None = DB_OPTION) -> None:
    """Print one query with its thread as JSON."""
    from lupuscell.registry import queries

    with registry_errors():
        emit(_read(db, lambda s: queries.get_query(s, query_id)))


@queries_app.command("raise")
def queries_raise(
    record_type: str = typer.Argument(
        ..., help="visit, therapy_course, adverse_event, patient, lab_result, ..."
    ),
    record_id: str = typer.Argument(..., help="Record id (a patient also by code)."),
    field: str = typer.Argument(..., help="The field the query is about, e.g. pga."),
    text: str = TEXT_OPTION,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Raise a query on a field of a record."""
    from lupuscell.registry import queries
    from lupuscell.registry.dm_records import locate

    def work(session: Any) -> int:
        ref = locate(session, record_type, record_id)
        return queries.raise_query(
            session,
            record_type=record_type,
            record_id=ref.record_id,
            field=field,
            text=text,
            actor=actor_of(actor),
        )

    with registry_errors():
        query_id = _write(db, work)
    err.print(f"raised query {query_id}", markup=False, highlight=False)
    emit({"id": query_id, "status": "open"})


def _step(name: str, past: str) -> Callable[..., None]:
    def command(
        query_id: int = ID_ARG,
        text: str = TEXT_OPTION,
        db: str | None = DB_OPTION,
        actor: str | None = ACTOR_OPTION,
    ) -> None:
        from lupuscell.registry import queries

        step = getattr(queries, f"{name}_query")
        with registry_errors():
            _write(db, lambda s: step(s, query_id, text=text, actor=actor_of(actor)))
            data = _read(db, lambda s: queries.get_query(s, query_id))
        err.print(f"{past} query {query_id}", markup=False, highlight=False)
        emit({"id": query_id, "status": data["status"]})

    command.__doc__ = {
        "answer": "Answer a query (coordinator or investigator).",
        "close": "Close a query (whoever raised it, or an admin).",
        "reopen": "Re-open an answered or closed query.",
    }[name]
    return command


queries_app.command("answer")(_step("answer", "answered"))
queries_app.command("close")(_step("close", "closed"))
queries_app.command("reopen")(_step("reopen", "re-opened"))


def register(app: typer.Typer) -> None:
    app.add_typer(queries_app, name="queries")
