"""The patient list (search, filters, sort, pages), one patient's timeline page with its
eligibility for the shipped protocols (:mod:`lupuscell.web.eligibility`), and the trial finder
for one patient (:mod:`lupuscell.web.trials`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lupuscell import vocab
from lupuscell.instruments.sledai2k import DEFINITIONS
from lupuscell.outcomes.definitions import DEFAULT_OPTIONS
from lupuscell.registry import scoped
from lupuscell.web.api.patients import visible_timeline
from lupuscell.web.charts import svg_data_uri, timeline_figure
from lupuscell.web.clinical import patient_outcome
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.eligibility import check_date, panels
from lupuscell.web.pages import render
from lupuscell.web.patient_list import ListQuery
from lupuscell.web.pro_chart import patient_panel
from lupuscell.web.status import current_status

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
PAGE_SIZE = 25


@router.get("/patients")
def patient_list(
    request: Request,
    q: str = Query("", max_length=32),
    therapy: str = Query("", max_length=32),
    site: str = Query("", max_length=16),
    status: str = Query("", max_length=8),
    nephritis: str = Query("", max_length=3),
    sort: str = Query("code", max_length=16),
    desc: int = Query(0, ge=0, le=1),
    page: int = Query(1, ge=1, le=100000),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    query = ListQuery(
        q=q or None,
        therapy=therapy or None,
        site=site or None,
        status=status or None,
        nephritis={"yes": True, "no": False}.get(nephritis),
        sort=sort if sort in scoped.SORT_KEYS else "code",
        descending=bool(desc),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    total, rows = app.patient_list.page(app.reader, who.sites, query)
    filters = {"q": q, "therapy": therapy, "site": site, "status": status, "nephritis": nephritis}
    context: dict[str, Any] = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "sort": sort,
        "desc": desc,
        "therapies": vocab.THERAPIES,
        "sort_keys": scoped.SORT_KEYS,
    }
    return render(request, "patients.html", context, who)


@router.get("/patients/{code}")
def patient_page(
    request: Request,
    code: str,
    index_date: dt.date | None = Query(None, description="screening date of the eligibility panel"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    check_date(index_date, "index_date")
    timeline = visible_timeline(app, who, code)
    outcome = patient_outcome(timeline)
    endpoints = outcome.endpoints or {}
    engraftment = {
        "neutrophil": endpoints.get("neutrophil_engraftment_day"),
        "platelet": endpoints.get("platelet_engraftment_day"),
    }
    chart = (
        svg_data_uri(timeline_figure(timeline, outcome.visit_scores, engraftment))
        if timeline["courses"]
        else None
    )
    eligibility, no_index = panels(timeline, index_date)
    context = {
        "t": timeline,
        "chart": chart,
        "scores": outcome.visit_scores,
        "status": current_status(timeline, outcome),
        "options": DEFAULT_OPTIONS,
        "definitions": DEFINITIONS,
        "audit": scoped.audit_trail(app.reader, who.sites, patient_code=code, limit=15),
        "eligibility": eligibility,
        "no_index": no_index,
        "index_date": index_date,
        "today": dt.date.today(),
        "pro": patient_panel(app.reader, code, who.sites, timeline["day0"]),  # RAND-36 (web/pro_chart.py)
    }
    return render(request, "patient.html", context, who)


@router.get("/patients/{code}/trials")
def patient_trials(
    request: Request,
    code: str,
    as_of: dt.date | None = Query(None, description="screening date (default today)"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Response:
    """Recruiting cell-therapy trials in SLE, each screened against this patient."""
    from lupuscell.interop.ctgov import TrialsUnavailableError
    from lupuscell.protocols.patient_check import trial_record
    from lupuscell.web.trials import patient_rows

    timeline = visible_timeline(app, who, code)
    day = check_date(as_of, "as_of") or dt.date.today()
    context: dict[str, Any] = {"t": timeline, "as_of": day, "rows": [], "found": None, "offline": None}
    try:
        found = app.trials.trials()
    except TrialsUnavailableError as exc:
        context["offline"] = str(exc)
    else:
        context["found"] = found
        context["rows"] = patient_rows(trial_record(timeline, day), found.trials)
    return render(request, "patient_trials.html", context, who)
