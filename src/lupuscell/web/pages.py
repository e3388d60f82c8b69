"""Rendering helpers shared by the page routers: the template context every page gets (the
user, the CSRF token, the navigation the role allows) and the fields of record forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from lupuscell import units, vocab
from lupuscell.web.deps import Principal, csrf_token, state_of

NAV: tuple[tuple[str, str, str | None], ...] = (
    ("Dashboard", "/dashboard", None),
    ("Patients", "/patients", "read"),
    ("Queries", "/queries", "read"),
    ("SDV", "/sdv", "read"),
    ("Audit trail", "/audit", "audit"),
    ("Reports", "/reports", "report"),
    ("Evidence", "/evidence", None),
    ("Trial design", "/design", None),
    ("Users", "/admin/users", "manage_users"),
    ("API tokens", "/account/tokens", None),
)

CHOICES: dict[str, tuple[str, ...]] = {
    "sex": vocab.SEXES,
    "therapy": vocab.THERAPIES,
    "cell_source": vocab.CELL_SOURCES,
    "donor_type": vocab.DONOR_TYPES,
    "route": vocab.ROUTES,
    "classification_criteria": vocab.CLASSIFICATION_CRITERIA,
    "nephritis_class": vocab.NEPHRITIS_CLASSES,
    "category": vocab.AE_CATEGORIES,
    "grading_system": vocab.AE_GRADING_SYSTEMS,
    "relatedness": vocab.RELATEDNESS,
    "event_type": vocab.CLINICAL_EVENT_TYPES,
    "severity": vocab.FLARE_SEVERITIES,
    "purpose": vocab.DRUG_PURPOSES,
}
"""Code lists of select fields (from :mod:`lupuscell.vocab`, the source of the schemas)."""


def render(
    request: Request, template: str, context: Mapping[str, Any], who: Principal | None, status: int = 200
) -> Response:
    """A page with the common context."""
    nav = [(label, href) for label, href, perm in NAV if who is not None and (perm is None or who.can(perm))]
    ctx = {"user": who, "nav": nav, "csrf": csrf_token(request), "path": request.url.path, **context}
    return state_of(request).templates.TemplateResponse(request, template, ctx, status_code=status)


def field_kind(schema: type, name: str) -> str:
    """How a schema field is entered: select, multi, bool, date, int, number, list or text."""
    if name in CHOICES:
        return "select"
    if name == "organ_involvement":
        return "multi"
    annotation = str(schema.model_fields[name].annotation)  # type: ignore[attr-defined]
    for needle, kind in (
        ("bool", "bool"),
        ("date", "date"),
        ("list", "list"),
        ("int", "int"),
        ("float", "number"),
    ):
        if needle in annotation:
            return kind
    return "text"


def form_fields(schema: type, values: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The fields of a record form with their kind, current value, choices and required flag."""
    fields = []
    for name, info in schema.model_fields.items():  # type: ignore[attr-defined]
        if name in skip:
            continue
        kind = field_kind(schema, name)
        choices = CHOICES.get(name, vocab.ORGAN_INVOLVEMENT if kind == "multi" else ())
        fields.append(
            {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "kind": kind,
                "value": values.get(name),
                "choices": choices,
                "required": info.is_required(),
                "help": info.description or "",
            }
        )
    return fields


def parse_form(schema: type, form: Mapping[str, Any], multi: Mapping[str, list[str]]) -> dict[str, Any]:
    """Form text -> record fields (empty = not given; yes/no -> booleans; lists split)."""
    data: dict[str, Any] = {}
    for name in schema.model_fields:  # type: ignore[attr-defined]
        kind = field_kind(schema, name)
        if kind == "multi":
            if name in multi or f"{name}__present" in form:
                data[name] = list(multi.get(name, []))
            continue
        raw = form.get(name)
        if raw is None:
            continue
        text = str(raw).strip()
        if kind == "bool":
            data[name] = True if text == "yes" else False if text == "no" else None
        elif kind == "list":
            data[name] = [part.strip() for part in text.split(",") if part.strip()]
        elif text == "":
            default = schema.model_fields[name].default  # type: ignore[attr-defined]
            if default is None or schema.model_fields[name].is_required():  # type: ignore[attr-defined]
                data[name] = None  # cleared (a required field then fails validation, by name)
        else:
            data[name] = text
    return data


def lab_units() -> dict[str, tuple[str, ...]]:
    """Accepted units per analyte (data/units.yaml)."""
    return {code: units.accepted_units(code) for code in units.analyte_codes()}


def shown(value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
