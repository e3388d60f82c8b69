"""CLI commands ``record list|show|update|delete|history``: correct any registry record.

Every record of the registry can be found (``record list ENTITY``, with ``--patient`` or
``--out-of-window`` for dates outside the plausible window), read (``record show``),
corrected (``record update ENTITY ID --set field=value --reason ...``) or deleted
(``record delete ENTITY ID --reason ...``), through :class:`lupuscell.registry.repository.Registry`:
the same validation as every other write, one audit row per changed field (who, when, old,
new, reason), a reason required. ``record history`` prints the audit trail of a record.

Entities are the repository's names (``site``, ``patient``, ``therapy_course``,
``drug_administration``, ``visit``, ``lab_result``, ``adverse_event``, ``clinical_event``);
``ID`` is the record id (or the code of a site or patient). ``--set`` values are text as in an
import file: empty = clear the field, lists ``;``-separated, BILAG grades as JSON.
"""

from __future__ import annotations

from typing import Any

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import (
    ACTOR_OPTION,
    DB_OPTION,
    MAX_LIMIT,
    actor_of,
    emit,
    engine_of,
    err,
    print_table,
)
from lupuscell.errors import Problem, ValidationError

record_app = typer.Typer(help="Find, correct or delete any registry record (audited).", no_args_is_help=True)

ENTITY_ARG = typer.Argument(..., help="site, patient, therapy_course, drug_administration, visit, ...")
KEY_ARG = typer.Argument(..., help="Record id (or the code of a site or patient).")
REASON_OPTION = typer.Option(..., "--reason", help="Why (audit log; required).", show_default=False)
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "site": ("id", "code", "name", "country"),
    "patient": ("id", "code", "site_code", "sex", "birth_year", "sle_diagnosis_date"),
    "therapy_course": ("id", "patient_code", "therapy", "infusion_date", "discharge_date"),
    "drug_administration": ("id", "patient_code", "course_id", "admin_date", "drug", "dose", "unit"),
    "visit": ("id", "patient_code", "visit_date", "pga", "prednisone_mg_per_day"),
    "lab_result": ("id", "patient_code", "result_date", "analyte", "value", "unit"),
    "adverse_event": ("id", "patient_code", "onset_date", "term", "category", "grade", "grading_system"),
    "clinical_event": ("id", "patient_code", "event_date", "event_type", "cause"),
}
"""Columns of ``record list``'s table per entity (``--json`` gives every field)."""


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["visit_date=2023-01-02", "pga="]`` -> ``{"visit_date": "2023-01-02", "pga": None}``.

    Values are decoded as in an import file (:mod:`lupuscell.registry.exchange`): empty =
    None, list fields ``;``-separated, JSON for the BILAG mapping.
    """
    from lupuscell.registry.exchange import decode_row

    raw: dict[str, Any] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(
                Problem("--set", item, "expected field=value (empty value clears the field)")
            )
        raw[name.strip()] = value
    return decode_row(raw)


def _registry(db: str | None) -> Any:
    from lupuscell.registry.repository import Registry

    return Registry(engine_of(db))


@record_app.command("list")
def record_list(
    entity: str = ENTITY_ARG,
    patient: str | None = typer.Option(None, "--patient", help="Only this patient's records."),
    out_of_window: bool = typer.Option(
        False, "--out-of-window", help="Only records with a date before 1900 or in the future."
    ),
    limit: int = typer.Option(50, min=1, max=MAX_LIMIT, help="At most this many records."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """List records of an entity (id and fields), e.g. to find the one to correct."""
    from lupuscell.registry.plausibility import out_of_window_records

    with registry_errors():
        registry = _registry(db)
        try:
            if out_of_window:
                rows = out_of_window_records(registry.engine, entity, patient_code=patient, limit=limit)
            else:
                rows = registry.list_records(entity, patient_code=patient, limit=limit)
        finally:
            registry.engine.dispose()
    if as_json:
        emit({"records": rows})
        return
    columns = LIST_COLUMNS.get(entity, ("id",))
    print_table(
        f"{entity} ({len(rows)} shown, limit {limit})", columns, [tuple(r[c] for c in columns) for r in rows]
    )


@record_app.command("show")
def record_show(entity: str = ENTITY_ARG, key: str = KEY_ARG, db: str | None = DB_OPTION) -> None:
    """Print one record as JSON."""
    with registry_errors():
        registry = _registry(db)
        try:
            record = registry.get(entity, key)
        finally:
            registry.engine.dispose()
    emit(record)


@record_app.command("update")
def record_update(
    entity: str = ENTITY_ARG,
    key: str = KEY_ARG,
    assignments: list[str] = typer.Option(..., "--set", help="field=value (repeat for several fields)."),
    reason: str = REASON_OPTION,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Correct fields of a record; validated like any write, one audit row per changed field."""
    with registry_errors():
        changes = parse_assignments(assignments)
        registry = _registry(db)
        try:
            record = registry.update(entity, key, changes, actor=actor_of(actor), reason=reason)
        finally:
            registry.engine.dispose()
    err.print(f"updated {entity} {key}", markup=False, highlight=False)
    emit(record)


@record_app.command("delete")
def record_delete(
    entity: str = ENTITY_ARG,
    key: str = KEY_ARG,
    reason: str = REASON_OPTION,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Delete a record (a patient with all their records, a course with its drugs); audited."""
    with registry_errors():
        registry = _registry(db)
        try:
            deleted = registry.delete(entity, key, actor=actor_of(actor), reason=reason)
        finally:
            registry.engine.dispose()
    err.print(f"deleted {entity} {key} ({deleted} row(s) with its dependants)", markup=False, highlight=False)
    emit({"deleted": deleted, "entity": entity, "key": key})


@record_app.command("history")
def record_history(
    entity: str = ENTITY_ARG,
    key: str | None = typer.Argument(None, help="Record id (all records of the entity if omitted)."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """The audit trail of a record: who changed what, when, from which value to which, why."""
    with registry_errors():
        registry = _registry(db)
        try:
            if key is not None and not key.isdigit():
                key = str(registry.get(entity, key)["id"])
            rows = registry.history(entity, key)
        finally:
            registry.engine.dispose()
    if as_json:
        emit({"history": rows})
        return
    columns = ("changed_at", "actor", "action", "entity_id", "field", "old_value", "new_value", "reason")
    print_table(
        f"history of {entity} {key or ''}".strip(), columns, [tuple(r[c] for c in columns) for r in rows]
    )
