"""Data-management pages: queries (list per site / patient, thread, raise, answer, close,
re-open), the data-management view of a record (fields with "raise a query", SDV status,
lock), the SDV report per site, and signing / unlocking.

The rules are in :mod:`lupuscell.web.data_management` and the registry; a rejected form comes
back with the problem beside its field (422), never a traceback. Every form carries the CSRF
token (:func:`lupuscell.web.deps.csrf_guard`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.dm_models import QUERY_STATUSES, SDV_STATUSES
from lupuscell.registry.dm_records import fields_of
from lupuscell.web import data_management as dm
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
RECORD = Path(pattern="^(" + "|".join(dm.REVIEWED) + ")$")
SIGNED = Path(pattern="^(patient|visit)$")
RECORD_ID = Path(ge=1, le=2**31 - 1)
QUERY_ID = Path(ge=1, le=2**31 - 1)


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in exc.problems:
        out[p.field] = f"{out[p.field]}; {p.message}" if p.field in out else p.message
    return out


def _record_url(record_type: str, record_id: int) -> str:
    return f"/records/{record_type}/{record_id}"


# --------------------------------------------------------------------------- queries


@router.get("/queries")
def query_list(
    request: Request,
    site: str = Query("", max_length=16),
    patient: str = Query("", max_length=32),
    status: str = Query("", pattern="^(|" + "|".join(QUERY_STATUSES) + ")$"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    rows = dm.list_queries(app, who, site=site or None, patient=patient or None, status=status or None)
    context = {
        "rows": rows,
        "counts": dm.open_counts(app, who),
        "patients": dm.patient_counts(app, who, site or None),
        "filters": {"site": site, "patient": patient, "status": status},
        "statuses": QUERY_STATUSES,
    }
    return render(request, "queries.html", context, who)


def _raise_page(
    request: Request,
    who: Principal,
    app: AppState,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    view = dm.record_view(app, who, values["record_type"], int(values["record_id"]))
    context = {
        "r": view,
        "values": values,
        "errors": errors or {},
        "field_names": fields_of(view["record_type"]),
    }
    return render(request, "query_new.html", context, who, status=status)


@router.get("/queries/new")
def raise_form(
    request: Request,
    record_type: str = Query(..., pattern="^(" + "|".join(dm.REVIEWED) + ")$"),
    record_id: int = Query(..., ge=1, le=2**31 - 1),
    field: str = Query("", max_length=64),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    dm.need(who, "query_raise")
    values = {"record_type": record_type, "record_id": record_id, "field": field, "text": ""}
    return _raise_page(request, who, app, values)


@router.post("/queries/new")
async def raise_query(
    request: Request, who: Principal = require("read"), app: AppState = Depends(state)
) -> Response:
    dm.need(who, "query_raise")
    form = await _fields(request)
    record_type = form.get("record_type", "")
    if record_type not in dm.REVIEWED or not form.get("record_id", "").isdigit():
        raise ValidationError(Problem("query", "record_type", "a query is raised from a record's page"))
    values = {k: form.get(k, "") for k in ("record_type", "record_id", "field", "text")}
    try:
        query = dm.raise_query(
            app, who, record_type, int(values["record_id"]), values["field"], values["text"]
        )
    except ValidationError as exc:
        return _raise_page(request, who, app, values, _errors(exc), status=422)
    return RedirectResponse(f"/queries/{query['id']}", status_code=303)


def _query_page(
    request: Request,
    who: Principal,
    app: AppState,
    query_id: int,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    query = dm.get_query(app, who, query_id)
    context = {"q": query, "errors": errors or {}, "can_edit": who.can("write")}
    return render(request, "query.html", context, who, status=status)


@router.get("/queries/{query_id}")
def query_page(
    request: Request,
    query_id: int = QUERY_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    return _query_page(request, who, app, query_id)


@router.post("/queries/{query_id}/{step}")
async def query_step(
    request: Request,
    query_id: int = QUERY_ID,
    step: str = Path(pattern="^(answer|close|reopen)$"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    form = await _fields(request)
    try:
        dm.step_query(app, who, query_id, step, form.get("text", ""))
    except ValidationError as exc:
        return _query_page(request, who, app, query_id, {step: "; ".join(_errors(exc).values())}, status=422)
    return RedirectResponse(f"/queries/{query_id}", status_code=303)


# --------------------------------------------------------------------------- record view and SDV


def _record_page(
    request: Request,
    who: Principal,
    app: AppState,
    record_type: str,
    record_id: int,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    view = dm.record_view(app, who, record_type, record_id)
    context = {"r": view, "errors": errors or {}, "sdv_statuses": SDV_STATUSES}
    return render(request, "dm_record.html", context, who, status=status)


@router.get("/records/{record_type}/{record_id}")
def record_page(
    request: Request,
    record_type: str = RECORD,
    record_id: int = RECORD_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    return _record_page(request, who, app, record_type, record_id)


@router.post("/records/{record_type}/{record_id}/sdv")
async def set_sdv(
    request: Request,
    record_type: str = RECORD,
    record_id: int = RECORD_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    form = await _fields(request)
    try:
        dm.set_sdv(app, who, record_type, record_id, form.get("status", ""), form.get("findings") or None)
    except ValidationError as exc:
        return _record_page(request, who, app, record_type, record_id, _errors(exc), status=422)
    return RedirectResponse(_record_url(record_type, record_id), status_code=303)


@router.get("/sdv")
def sdv_report(
    request: Request,
    site: str = Query("", max_length=16),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    context = {"reports": dm.sdv_reports(app, who, site or None), "site": site, "statuses": SDV_STATUSES}
    return render(request, "sdv.html", context, who)


# --------------------------------------------------------------------------- signing


def _sign_page(
    request: Request,
    who: Principal,
    app: AppState,
    record_type: str,
    record_id: int | str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {"s": dm.signature_state(app, who, record_type, record_id), "errors": errors or {}}
    return render(request, "sign.html", context, who, status=status)


@router.get("/sign/{record_type}/{record_id}")
def sign_page(
    request: Request,
    record_type: str = SIGNED,
    record_id: str = Path(min_length=1, max_length=32),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    return _sign_page(request, who, app, record_type, record_id)


@router.post("/sign/{record_type}/{record_id}")
async def sign(
    request: Request,
    record_type: str = SIGNED,
    record_id: str = Path(min_length=1, max_length=32),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    form = await request.form()  # the password is not stripped: it is checked as typed
    password = form.get("password")
    try:
        dm.sign(app, who, record_type, record_id, password if isinstance(password, str) else "")
    except ValidationError as exc:
        return _sign_page(request, who, app, record_type, record_id, _errors(exc), status=422)
    return RedirectResponse(f"/sign/{record_type}/{record_id}", status_code=303)


@router.post("/unlock/{record_type}/{record_id}")
async def unlock(
    request: Request,
    record_type: str = SIGNED,
    record_id: str = Path(min_length=1, max_length=32),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    form = await _fields(request)
    try:
        dm.unlock(app, who, record_type, record_id, form.get("reason", ""))
    except ValidationError as exc:
        return _sign_page(request, who, app, record_type, record_id, _errors(exc), status=422)
    return RedirectResponse(f"/sign/{record_type}/{record_id}", status_code=303)
