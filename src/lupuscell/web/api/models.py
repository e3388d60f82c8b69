"""Response and request models of the JSON API, generated from the registry's tables and
schemas so that the OpenAPI schema cannot drift from what the registry stores."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, create_model

from lupuscell.registry.repository import SPECS


def _utc(value: dt.datetime) -> str:
    """RFC 3339 with offset: the registry stores UTC, but SQLite hands timestamps back naive."""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


UtcDatetime = Annotated[dt.datetime, PlainSerializer(_utc, return_type=str)]
"""A timestamp always written with its UTC offset."""

PLURALS: dict[str, str] = {
    "site": "sites",
    "patient": "patients",
    "therapy_course": "therapy-courses",
    "drug_administration": "drug-administrations",
    "visit": "visits",
    "lab_result": "lab-results",
    "adverse_event": "adverse-events",
    "clinical_event": "clinical-events",
}
EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "patient": {"site_code": (str, ...)},
    "lab_result": {"value_canonical": (float, ...), "unit_canonical": (str, ...)},
}
HIDDEN_COLUMNS = frozenset({"import_batch_id"})


def _python_type(column: Any) -> Any:
    if isinstance(column.type, sa.JSON):
        base: Any = Any
    elif isinstance(column.type, sa.DateTime):
        base = UtcDatetime
    elif isinstance(column.type, sa.Date):
        base = dt.date
    elif isinstance(column.type, sa.Boolean):
        base = bool
    elif isinstance(column.type, sa.Integer):
        base = int
    elif isinstance(column.type, sa.Float | sa.Numeric):
        base = float
    else:
        base = str
    return base | None if column.nullable else base


def _camel(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


@cache
def record_model(entity: str) -> type[BaseModel]:
    """The JSON shape of one stored record of ``entity`` (columns + codes)."""
    spec = SPECS[entity]
    fields: dict[str, Any] = {}
    for column in spec.model.__table__.columns:
        if column.key not in HIDDEN_COLUMNS:
            fields[column.key] = (_python_type(column), ...)
    if entity not in ("site", "patient"):
        fields["patient_code"] = (str, ...)
    fields.update(EXTRA_FIELDS.get(entity, {}))
    return create_model(f"{_camel(entity)}Out", __config__=ConfigDict(extra="ignore"), **fields)


@cache
def page_model(entity: str) -> type[BaseModel]:
    """A page of records of ``entity``."""
    return create_model(
        f"{_camel(entity)}Page",
        total=(int, ...),
        offset=(int, ...),
        limit=(int, ...),
        items=(list[record_model(entity)], ...),  # type: ignore[valid-type,misc,arg-type]
    )


class UpdateIn(BaseModel):
    """Fields to change, why, and the version read (a stale version is refused with 409)."""

    model_config = ConfigDict(extra="forbid")

    changes: dict[str, Any] = Field(description="field -> new value (the record's schema applies)")
    reason: str = Field(min_length=1, max_length=2000, description="why the saved data change")
    version: int | None = Field(default=None, ge=1, description="the record's version you read")


class DeletedOut(BaseModel):
    deleted: int = Field(description="rows deleted (the record and its dependants)")


class ErrorOut(BaseModel):
    detail: str


class ConflictOut(BaseModel):
    detail: str
    current: dict[str, Any]


class ProblemItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    record: str | None = None


class ProblemsOut(BaseModel):
    detail: list[ProblemItem]


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "malformed request body (not JSON)"},
    401: {"model": ErrorOut, "description": "not authenticated"},
    403: {"model": ErrorOut, "description": "role or CSRF check refuses"},
    404: {"model": ErrorOut, "description": "no such record among the sites you may see"},
    422: {"model": ProblemsOut, "description": "rejected input: record, field and reason"},
}
