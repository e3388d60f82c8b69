"""The RAND-36 questionnaire on a tablet at the visit: ``/patients/{code}/pro/new`` (form) and
``/patients/{code}/pro/{id}`` (the eight scale scores of a saved questionnaire).

The form is patient-facing: its pages use a layout without the navigation, the user bar or any
other record of the patient (only the patient code, so that staff hand the right tablet over).
Staff with the ``write`` permission (coordinator, investigator, admin) open it; saving goes
through the repository (audited create, the patient's site checked), CSRF-protected like every
form; the result page shows the scales as RAND scores them (:mod:`lupuscell.registry.pro_read`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from lupuscell.errors import ValidationError
from lupuscell.registry import pro_read, scoped
from lupuscell.web import pro_form
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
CODE = Path(min_length=1, max_length=32)


def _form_page(
    request: Request,
    who: Principal,
    app: AppState,
    code: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    visits = scoped.list_records(app.engine, "visit", who.sites, patient_code=code, limit=500).items
    context = {
        "patient_code": code,
        "survey": pro_form.survey(),
        "sections": pro_form.sections(),
        "values": values,
        "errors": errors or {},
        "visits": sorted(visits, key=lambda v: v["visit_date"], reverse=True),
        "completed_by": pro_form.COMPLETED_BY_LABELS,
        "pga_text": pro_form.PGA_TEXT,
    }
    return render(request, "pro_form.html", context, who, status=status)


@router.get("/patients/{code}/pro/new")
def new_form(
    request: Request,
    code: str = CODE,
    visit_id: int | None = None,
    who: Principal = require("write"),
    app: AppState = Depends(state),
) -> Response:
    pro_read.check_patient_and_visit(app.engine, code, None, who.sites)
    values = {"assessment_date": str(pro_form.today()), "visit_id": visit_id, "completed_by": "patient"}
    return _form_page(request, who, app, code, values)


@router.post("/patients/{code}/pro/new")
async def save_form(
    request: Request, code: str = CODE, who: Principal = require("write"), app: AppState = Depends(state)
) -> Response:
    pro_read.check_patient_and_visit(app.engine, code, None, who.sites)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    data = pro_form.parse(form)
    try:
        pro_read.check_patient_and_visit(app.engine, code, data["visit_id"], who.sites)
        created = app.registry.create(
            pro_read.ENTITY,
            {**data, "patient_code": code},
            actor=who.username,
            reason="entered on the tablet form",
        )
    except ValidationError as exc:
        values = {**form, "responses": data["responses"]}
        return _form_page(request, who, app, code, values, pro_form.field_errors(exc), status=422)
    return RedirectResponse(f"/patients/{code}/pro/{created['id']}", status_code=303)


@router.get("/patients/{code}/pro/{assessment_id}")
def result_page(
    request: Request,
    code: str = CODE,
    assessment_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    scored = pro_read.patient_assessment(app.engine, code, assessment_id, who.sites)
    context = {
        "patient_code": code,
        "record": scored,
        "rows": pro_form.score_rows(scored["scores"]),
        "survey": pro_form.survey(),
        "completed_by": pro_form.COMPLETED_BY_LABELS,
    }
    return render(request, "pro_result.html", context, who)
