"""Public pages (no login): the patient information page with the trial finder beside it.

``GET /patient-info`` shows the plain-language answers of ``lupuscell evidence patient-info``
(:mod:`lupuscell.web.patient_info`) and a search of the recruiting and not-yet-recruiting
cell-therapy trials in SLE on ClinicalTrials.gov (:mod:`lupuscell.web.trials`), filtered by
treatment and place. Nothing on these pages comes from the registry, nothing depends on who
is asking, and no cookie is set. When ClinicalTrials.gov cannot be reached the page says so in a
sentence and shows the rest.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lupuscell.interop.ctgov import TrialsUnavailableError
from lupuscell.web.deps import state_of
from lupuscell.web.trials import THERAPY_NAMES, public_rows

router = APIRouter(include_in_schema=False)


@router.get("/patient-info")
def patient_info(
    request: Request,
    find: str = Query("", max_length=1),
    therapy: str = Query("", max_length=8),
    place: str = Query("", max_length=60),
) -> Response:
    app = state_of(request)
    finder: dict[str, Any] = {
        "therapy": therapy if therapy in THERAPY_NAMES else "",
        "place": place.strip(),
        "therapies": THERAPY_NAMES,
        "searched": find == "1",
        "rows": [],
        "found": None,
        "offline": None,
    }
    if finder["searched"]:
        try:
            found = app.trials.trials()
        except TrialsUnavailableError as exc:
            finder["offline"] = str(exc)
        else:
            finder["found"] = found
            finder["rows"] = public_rows(found, finder["therapy"], finder["place"])
    context = {"info": app.patient_info.get(), "finder": finder, "user": None, "nav": [], "csrf": None}
    return app.templates.TemplateResponse(request, "patient_info.html", context)
