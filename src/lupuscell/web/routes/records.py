"""Record forms: create, edit (a reason for every change, optimistic locking) and delete, for
every registry entity; the visit form with live scores; instrument helper panels.

One generic form for every entity (fields from the entity's schema), a dedicated template for
visits. Saving goes through :class:`lupuscell.registry.repository.Registry` (the CLI's rules);
a rejected form comes back with the problems beside their fields (422); a stale edit comes back
with what changed since it was opened (409), the user's input kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from lupuscell import units, vocab
from lupuscell.errors import ConflictError, LupuscellError, Problem, ValidationError
from lupuscell.instruments.sledai2k import DEFINITIONS, WEIGHTS
from lupuscell.registry import scoped
from lupuscell.registry.repository import SPECS
from lupuscell.schemas.errors import validate
from lupuscell.schemas.visit import LabResultIn
from lupuscell.web.access import check_write_scope
from lupuscell.web.clinical import score_visit_form
from lupuscell.web.data_management import lock_notice
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.instrument_forms import HELPERS, helper_fields, score_helper
from lupuscell.web.pages import form_fields, lab_units, parse_form, render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
EDITABLE = tuple(e for e in SPECS if e != "site")
ENTITY = Path(pattern="^(" + "|".join(EDITABLE) + ")$")
VISIT_FLAGS = (
    "on_antimalarial",
    "on_immunosuppressant",
    "on_biologic",
    "immunosuppressives_stable",
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity",
)
LAB_ROWS = 3
_LABEL_WORDS = {"cva": "CVA", "dna": "DNA"}


def descriptor_label(name: str) -> str:
    """``increased_dna_binding`` -> ``Increased DNA binding``."""
    words = [_LABEL_WORDS.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


INTERNAL = ("id", "created_at", "updated_at", "import_batch_id", "version", "patient_id", "site_id")


# --------------------------------------------------------------------------- parsing


def _visit_data(form: Mapping[str, Any]) -> dict[str, Any]:
    """Visit fields from the visit form (descriptor boxes, flags, BILAG)."""
    schema = SPECS["visit"].schema
    data = parse_form(schema, {k: v for k, v in form.items() if k not in vocab.SLEDAI_2K_DESCRIPTORS}, {})
    assessed = form.get("sledai_assessed") == "yes"
    for name in vocab.SLEDAI_2K_DESCRIPTORS:
        if not assessed or form.get(f"{name}__na") == "1":
            data[name] = None
        else:
            data[name] = form.get(name) == "yes"
    grades = {d: str(form.get(f"bilag.{d}")) for d in vocab.BILAG_DOMAINS if form.get(f"bilag.{d}")}
    data["bilag"] = grades or None
    return data


def _labs(
    form: Mapping[str, Any], patient_code: str, date: Any
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Lab rows of the visit form, validated (unknown unit refused) before anything is saved."""
    labs, problems = [], []
    for i in range(LAB_ROWS):
        analyte = str(form.get(f"lab{i}.analyte", "")).strip()
        value = str(form.get(f"lab{i}.value", "")).strip()
        unit = str(form.get(f"lab{i}.unit", "")).strip()
        if not (analyte or value or unit):
            continue
        row = {
            "patient_code": patient_code,
            "result_date": date,
            "analyte": analyte,
            "value": value,
            "unit": unit,
        }
        try:
            validate(LabResultIn, row, f"lab row {i + 1}")
            labs.append(row)
        except ValidationError as exc:
            problems += [
                Problem(p.record, f"lab{i}.{p.field.split('.')[-1]}", p.message) for p in exc.problems
            ]
    return labs, problems


async def _form(request: Request) -> tuple[dict[str, Any], dict[str, list[str]]]:
    form = await request.form()
    single = {k: v for k, v in form.items() if isinstance(v, str)}
    multi = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return single, multi


def _data(entity: str, single: Mapping[str, Any], multi: Mapping[str, list[str]]) -> dict[str, Any]:
    if entity == "visit":
        return _visit_data(single)
    return parse_form(SPECS[entity].schema, single, multi)


# --------------------------------------------------------------------------- rendering


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in exc.problems:
        key = p.field.split(".")[0] if not p.field.startswith("lab") else p.field
        out[key] = f"{out[key]}; {p.message}" if key in out else p.message
    return out


def _page(
    request: Request,
    who: Principal,
    entity: str,
    values: Mapping[str, Any],
    *,
    record_id: int | None = None,
    version: int | None = None,
    errors: Mapping[str, str] | None = None,
    conflict: Mapping[str, Any] | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
    lock: Mapping[str, Any] | None = None,
) -> Response:
    schema = SPECS[entity].schema
    context: dict[str, Any] = {
        "lock_state": lock,  # a signed record's lock (data management), shown before editing
        "entity": entity,
        "title": entity.replace("_", " "),
        "record_id": record_id,
        "version": version,
        "values": values,
        "errors": errors or {},
        "conflict": conflict,
        "form": form or {},
        "patient_code": values.get("patient_code") or values.get("code"),
        "helpers": [(name, helper_fields(name)) for name in HELPERS.get(_helper_key(entity), ())],
    }
    if entity == "visit":
        context.update(
            descriptors=[
                (d, descriptor_label(d), WEIGHTS[d], DEFINITIONS[d]) for d in vocab.SLEDAI_2K_DESCRIPTORS
            ],
            flags=VISIT_FLAGS,
            bilag_domains=vocab.BILAG_DOMAINS,
            bilag_grades=vocab.BILAG_GRADES,
            analytes=units.analyte_codes(),
            lab_units=lab_units(),
            lab_rows=range(LAB_ROWS),
            scores=score_visit_form(_visit_score_input(values)),
            fields=form_fields(
                schema, values, skip=(*vocab.SLEDAI_2K_DESCRIPTORS, *VISIT_FLAGS, "bilag", "patient_code")
            ),
            flag_fields=form_fields(
                schema, values, skip=tuple(n for n in schema.model_fields if n not in VISIT_FLAGS)
            ),
        )
        return render(request, "visit_form.html", context, who, status=status)
    context["fields"] = form_fields(schema, values)
    return render(request, "record_form.html", context, who, status=status)


def _helper_key(entity: str) -> str:
    return "course" if entity == "therapy_course" else entity


def _visit_score_input(values: Mapping[str, Any]) -> dict[str, Any]:
    keys = (*vocab.SLEDAI_2K_DESCRIPTORS, *VISIT_FLAGS, "pga", "prednisone_mg_per_day")
    return {k: values.get(k) for k in keys}


def _patient_url(entity: str, values: Mapping[str, Any]) -> str:
    code = values.get("code") if entity == "patient" else values.get("patient_code")
    return f"/patients/{code}" if code else "/patients"


def _stored_values(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in INTERNAL}


# --------------------------------------------------------------------------- routes


@router.get("/records/{entity}/new")
def new_form(
    request: Request,
    entity: str = ENTITY,
    patient_code: str = "",
    who: Principal = require("write"),
) -> Response:
    values: dict[str, Any] = {"patient_code": patient_code} if patient_code else {}
    if entity == "patient" and len(who.sites) == 1:
        values["site_code"] = who.sites[0]
    return _page(request, who, entity, values)


@router.post("/records/{entity}/new")
async def create(
    request: Request, entity: str = ENTITY, who: Principal = require("write"), app: AppState = Depends(state)
) -> Response:
    single, multi = await _form(request)
    data = _data(entity, single, multi)
    try:
        labs: list[dict[str, Any]] = []
        problems: list[Problem] = []
        if entity == "visit":
            labs, problems = _labs(single, str(data.get("patient_code", "")), data.get("visit_date"))
        check_write_scope(app, who, entity, data)
        if problems:
            raise ValidationError(problems)
        # the visit and the labs of its form in one transaction: all of them or none
        group = [(entity, data)] + [("lab_result", lab) for lab in labs]
        saved = app.registry.create_together(group, actor=who.username)[0]
    except ValidationError as exc:
        return _page(request, who, entity, data, errors=_errors(exc), form=single, status=422)
    return RedirectResponse(_patient_url(entity, saved), status_code=303)


@router.get("/records/{entity}/{record_id}/edit")
def edit_form(
    request: Request,
    entity: str = ENTITY,
    record_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = require("write"),
    app: AppState = Depends(state),
) -> Response:
    record = scoped.get_record(app.engine, entity, record_id, who.sites)
    lock = lock_notice(app, who, entity, record_id)
    return _page(
        request,
        who,
        entity,
        _stored_values(record),
        record_id=record_id,
        version=record["version"],
        lock=lock,
    )


def _conflict(exc: ConflictError, submitted: Mapping[str, Any]) -> dict[str, Any]:
    """What changed since the form was opened: fields whose saved value differs from the user's."""
    rows = [
        {"field": k, "yours": v, "saved": exc.current.get(k)}
        for k, v in submitted.items()
        if k in exc.current and exc.current.get(k) != v and str(exc.current.get(k)) != str(v)
    ]
    return {"message": str(exc), "rows": rows, "version": exc.current_version}


@router.post("/records/{entity}/{record_id}/edit")
async def update(
    request: Request,
    entity: str = ENTITY,
    record_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = require("write"),
    app: AppState = Depends(state),
) -> Response:
    single, multi = await _form(request)
    scoped.get_record(app.engine, entity, record_id, who.sites)
    data = _data(entity, single, multi)
    reason = str(single.get("reason", "")).strip()
    try:
        version = int(single.get("version", ""))
    except ValueError:
        version = None
    try:
        check_write_scope(app, who, entity, data)
        saved = app.registry.update(
            entity, record_id, data, actor=who.username, reason=reason, expected_version=version
        )
    except ValidationError as exc:
        return _page(
            request,
            who,
            entity,
            data,
            record_id=record_id,
            version=version,
            errors=_errors(exc),
            form=single,
            status=422,
        )
    except ConflictError as exc:
        conflict = _conflict(exc, data)
        return _page(
            request,
            who,
            entity,
            data,
            record_id=record_id,
            version=exc.current_version,
            conflict=conflict,
            form=single,
            status=409,
        )
    return RedirectResponse(_patient_url(entity, saved), status_code=303)


@router.post("/records/{entity}/{record_id}/delete")
async def delete(
    request: Request,
    entity: str = ENTITY,
    record_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = require("delete"),
    app: AppState = Depends(state),
) -> Response:
    single, _ = await _form(request)
    record = scoped.get_record(app.engine, entity, record_id, who.sites)
    try:
        version = int(single.get("version", ""))
    except ValueError:
        version = None
    try:
        app.registry.delete(
            entity,
            record_id,
            actor=who.username,
            reason=str(single.get("reason", "")),
            expected_version=version,
        )
    except (ValidationError, ConflictError) as exc:
        values = _stored_values(record)
        errors = _errors(exc) if isinstance(exc, ValidationError) else {"reason": str(exc)}
        return _page(
            request,
            who,
            entity,
            values,
            record_id=record_id,
            version=record["version"],
            errors=errors,
            status=422,
        )
    return RedirectResponse(
        "/patients" if entity == "patient" else _patient_url(entity, record), status_code=303
    )


@router.post("/forms/visit/score")
async def live_score(request: Request, who: Principal = require("write")) -> Response:
    """The score box of the visit form, recomputed from the boxes as ticked (HTMX)."""
    single, _ = await _form(request)
    try:
        scores = score_visit_form(_visit_score_input(_visit_data(single)))
        error = None
    except (ValidationError, LupuscellError, ValueError) as exc:
        scores, error = {}, str(exc)
    return render(request, "_scores.html", {"scores": scores, "score_error": error}, who)


@router.post("/forms/helper/{instrument}")
async def helper(
    request: Request,
    instrument: str = Path(pattern="^(body_size|astct_crs|astct_icans|magic_agvhd|ctcae_v5)$"),
    who: Principal = require("write"),
) -> Response:
    """An instrument helper panel's result (HTMX): BSA, ASTCT CRS / ICANS, MAGIC, CTCAE."""
    single, _ = await _form(request)
    try:
        result, error = score_helper(instrument, single), None
    except (ValidationError, LupuscellError) as exc:
        result, error = None, str(exc)
    return render(
        request, "_helper_result.html", {"instrument": instrument, "result": result, "error": error}, who
    )
