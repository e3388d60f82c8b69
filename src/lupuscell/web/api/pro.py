"""``/api/v1/patients/{code}/pro-assessments``: patient-reported outcomes (RAND-36) of a patient.

``POST`` stores one completed RAND 36-Item Health Survey 1.0 (body: ``assessment_date``,
``responses`` ``{"q1": 1, ..., "q36": 3}`` with unanswered items left out, optional ``visit_id``,
``patient_global_assessment`` with its ``patient_global_assessment_scale``, ``completed_by``);
``GET`` lists them by date; ``GET .../{id}`` reads one. Every assessment comes back with
``scores``: the eight RAND scales under the field names of ``lupuscell score rand36 --json``
(``physical_functioning``, ``role_physical``, ``role_emotional``, ``energy_fatigue``,
``emotional_wellbeing``, ``social_functioning``, ``pain``, ``general_health``; 0-100, null when
no item of the scale was answered), ``health_change`` (item 2) and the answered items per scale.

The same repository as every other write (:class:`lupuscell.registry.repository.Registry`,
entity ``pro_assessment``): validation naming item and value (422), audit row, site isolation
(a patient or visit of another site is 404 / unknown).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, status

from lupuscell.registry import pro_read
from lupuscell.web.api.patients import json_response
from lupuscell.web.deps import AppState, Principal, require, state

router = APIRouter(prefix="/patients/{code}/pro-assessments", tags=["patient-reported outcomes"])
CODE = Path(min_length=1, max_length=32, description="patient code")
EXAMPLE = {
    "assessment_date": "2024-05-02",
    "responses": {"q1": 2, "q2": 3, "q3": 1, "q4": 2, "q21": 3, "q22": 2},
    "patient_global_assessment": 3.5,
    "patient_global_assessment_scale": "nrs_0_10",
    "completed_by": "patient",
}


@router.get("", summary="The patient's RAND-36 assessments with their scale scores, by date")
def list_assessments(
    code: str = CODE, who: Principal = require("read"), app: AppState = Depends(state)
) -> Any:
    pro_read.check_patient_and_visit(app.engine, code, None, who.sites)
    return json_response(
        {"patient_code": code, "items": pro_read.patient_assessments(app.engine, code, who.sites)}
    )


@router.get("/{assessment_id}", summary="One RAND-36 assessment with its scale scores")
def read_assessment(
    code: str = CODE,
    assessment_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return json_response(pro_read.patient_assessment(app.engine, code, assessment_id, who.sites))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Store a completed RAND-36 (scored on read)")
def create_assessment(
    code: str = CODE,
    data: dict[str, Any] = Body(
        ...,
        description="assessment_date, responses {q1..q36} (unanswered left out), optional visit_id, "
        "patient_global_assessment (+ _scale: nrs_0_10 or vas_0_100_mm), completed_by "
        "(patient, proxy or staff)",
        examples=[EXAMPLE],
    ),
    who: Principal = require("write"),
    app: AppState = Depends(state),
) -> Any:
    pro_read.check_patient_and_visit(app.engine, code, data.get("visit_id"), who.sites)
    created = app.registry.create(pro_read.ENTITY, {**data, "patient_code": code}, actor=who.username)
    response = json_response(pro_read.with_scores(created))
    response.status_code = status.HTTP_201_CREATED
    return response
