"""``/api/v1/patients/{code}/timeline`` and ``/api/v1/patients/{code}/endpoints``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.encoders import jsonable_encoder

from lupuscell.errors import NotFoundError
from lupuscell.registry import scoped, views
from lupuscell.web.clinical import patient_outcome
from lupuscell.web.deps import AppState, Principal, require, state

router = APIRouter(prefix="/patients", tags=["patients"])
CODE = Path(min_length=1, max_length=32, description="patient code")


def visible_timeline(app: AppState, who: Principal, code: str) -> dict[str, Any]:
    """The timeline of a patient of the caller's sites (NotFoundError otherwise)."""
    if scoped.patient_site(app.engine, code) not in who.sites:
        raise NotFoundError(f"patient {code!r} does not exist")
    return views.patient_timeline(app.engine, code)


@router.get("/{code}/timeline", summary="Everything recorded for one patient, on the study-day axis")
def timeline(code: str = CODE, who: Principal = require("read"), app: AppState = Depends(state)) -> Any:
    return jsonable_encoder(visible_timeline(app, who, code))


@router.get("/{code}/endpoints", summary="The patient's derived endpoints (as `lupuscell endpoints`)")
def endpoints(code: str = CODE, who: Principal = require("read"), app: AppState = Depends(state)) -> Any:
    outcome = patient_outcome(visible_timeline(app, who, code))
    return jsonable_encoder(
        {"patient_code": code, "endpoints": outcome.endpoints, "options": outcome.options.to_dict()}
    )
