"""The audit trail: per patient and per site (who, when, what, old and new value, why)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lupuscell.registry import scoped
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
PAGE = 50


@router.get("/audit")
def site_audit(
    request: Request,
    site: str = Query("", max_length=16),
    page: int = Query(1, ge=1, le=100000),
    who: Principal = require("audit"),
    app: AppState = Depends(state),
) -> Response:
    chosen = site if site in who.sites else None
    trail = scoped.audit_trail(app.engine, who.sites, site=chosen, offset=(page - 1) * PAGE, limit=PAGE)
    context = {
        "trail": trail,
        "site": chosen,
        "patient_code": None,
        "page": page,
        "pages": max(1, -(-trail.total // PAGE)),
    }
    return render(request, "audit.html", context, who)


@router.get("/patients/{code}/audit")
def patient_audit(
    request: Request,
    code: str,
    page: int = Query(1, ge=1, le=100000),
    who: Principal = require("audit"),
    app: AppState = Depends(state),
) -> Response:
    trail = scoped.audit_trail(app.engine, who.sites, patient_code=code, offset=(page - 1) * PAGE, limit=PAGE)
    context = {
        "trail": trail,
        "site": None,
        "patient_code": code,
        "page": page,
        "pages": max(1, -(-trail.total // PAGE)),
    }
    return render(request, "audit.html", context, who)
