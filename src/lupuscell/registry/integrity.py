"""A row the database refused, told as a problem a person can act on.

The checks of every write path run before the database sees a row, so the database's
constraints refuse a row only when a concurrent writer raced past the checks (PostgreSQL) or
when a caller skipped them (``load_tables(validate=False)``). Either way the user gets a
:class:`lupuscell.errors.ValidationError` naming the field and what the constraint means,
never an ``IntegrityError`` traceback.
"""

from __future__ import annotations

import re
from functools import cache

import sqlalchemy as sa

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.models import DEATH_INDEX, Base

CONSTRAINT_MEANINGS: dict[str, tuple[str, str]] = {
    DEATH_INDEX: ("event_type", "the patient already has a recorded death"),
    "uq_visits_patient_date": ("visit_date", "the patient already has a visit on this date"),
    "uq_patients_code": ("code", "a patient with this code already exists"),
    "uq_patients_code_ci": ("code", "a patient code differing only in case already exists"),
    "uq_sites_code": ("code", "a site with this code already exists"),
    "uq_sites_code_ci": ("code", "a site code differing only in case already exists"),
}
"""Constraint name -> (field, meaning) for the constraints a concurrent writer can trip."""


@cache
def constraint_fields() -> dict[str, str]:
    """Constraint name -> the column it protects (for database-level rejections)."""
    fields: dict[str, str] = {name: field for name, (field, _) in CONSTRAINT_MEANINGS.items()}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            name = str(constraint.name) if constraint.name else None
            if not name or name in fields:
                continue
            columns = [c.name for c in getattr(constraint, "columns", [])]
            if not columns and isinstance(constraint, sa.CheckConstraint):
                text = str(constraint.sqltext)
                columns = [c.name for c in table.columns if re.search(rf"\b{c.name}\b", text)]
            if columns:
                fields[name] = columns[-1]
    return fields


@cache
def _unique_by_columns() -> dict[str, str]:
    """``"table.col, table.col"`` (SQLite's wording of a UNIQUE failure) -> constraint name."""
    names: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        uniques: list[sa.UniqueConstraint | sa.Index] = [
            c for c in table.constraints if isinstance(c, sa.UniqueConstraint)
        ]
        uniques += [
            i for i in table.indexes if i.unique and all(isinstance(e, sa.Column) for e in i.expressions)
        ]
        for item in uniques:
            key = ", ".join(f"{table.name}.{c.name}" for c in item.columns)
            names[key] = str(item.name)
    return names


def _constraint_name(text: str) -> str | None:
    for name in sorted(constraint_fields(), key=len, reverse=True):
        if name in text:
            return name
    match = re.search(r"UNIQUE constraint failed: ([\w., ]+)", text)
    return _unique_by_columns().get(match.group(1).strip()) if match else None


def integrity_problem(exc: sa.exc.DBAPIError, label: str) -> ValidationError:
    """A readable ValidationError for a constraint the database rejected."""
    text = str(exc.orig)
    name = _constraint_name(text)
    if name is not None:
        field, meaning = CONSTRAINT_MEANINGS.get(name, (constraint_fields().get(name, "(record)"), ""))
        if meaning:
            why = f"{meaning} (database constraint {name}; another writer may have saved it just now)"
        else:
            why = f"rejected by database constraint {name}"
        return ValidationError(Problem(label, field, why))
    match = re.search(r"constraint failed: \w+\.(\w+)", text)
    field = match.group(1) if match else "(record)"
    first = text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
    return ValidationError(Problem(label, field, f"rejected by the database: {first}"))
