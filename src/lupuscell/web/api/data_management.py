"""``/api/v1`` data management: queries (discrepancy notes), source-data verification and
electronic signatures / locks.

The same rules as the pages (:mod:`lupuscell.web.data_management`): a monitor or an admin
raises a query, a coordinator or an investigator answers, whoever raised it or an admin closes
and re-opens; a monitor or an admin sets the SDV status of a visit, therapy course or adverse
event; an investigator or an admin signs by sending the password again (21 CFR Part 11
§11.200(a)(1)); only an admin unlocks, with a reason. A query or record of another site is 404;
a role without the right is 403; bad input is 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from lupuscell.registry.dm_models import QUERY_STATUSES, SDV_FORMS, SDV_STATUSES, SIGNABLE
from lupuscell.registry.dm_records import RECORD_MODELS
from lupuscell.web import data_management as dm
from lupuscell.web.api.models import UtcDatetime
from lupuscell.web.deps import AppState, Principal, require, state

router = APIRouter(tags=["data management"])

RECORD_TYPES = "^(" + "|".join(RECORD_MODELS) + ")$"
STATUS_PATTERN = "^(" + "|".join(QUERY_STATUSES) + ")$"
RECORD_ID = Path(ge=1, le=2**31 - 1, description="record id")
QUERY_ID = Path(ge=1, le=2**31 - 1, description="query id")
FORM = Path(pattern="^(" + "|".join(SDV_FORMS) + ")$", description="visit, therapy_course or adverse_event")
SIGNED = Path(pattern="^(" + "|".join(SIGNABLE) + ")$", description="patient or visit")
SIGNED_ID = Path(min_length=1, max_length=32, description="record id (a patient also by code)")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QueryIn(_In):
    """A new query on one field of one record."""

    record_type: str = Field(pattern=RECORD_TYPES, description="visit, therapy_course, adverse_event, ...")
    record_id: int = Field(ge=1, le=2**31 - 1)
    field: str = Field(min_length=1, max_length=64, description="the record's field the query is about")
    text: str = Field(min_length=1, max_length=4000, description="the question")


class StepIn(_In):
    text: str = Field(
        min_length=1, max_length=4000, description="the answer, or why it is closed / re-opened"
    )


class MessageOut(BaseModel):
    kind: str
    text: str
    actor: str
    at: UtcDatetime
    status_after: str


class QueryOut(BaseModel):
    id: int
    record_type: str
    record_id: int
    field: str
    patient_code: str
    site_code: str
    status: str
    text: str
    rule_id: str | None
    raised_by: str
    raised_at: UtcDatetime
    updated_at: UtcDatetime
    messages: list[MessageOut] | None = Field(default=None, description="the thread (one query only)")


class QueryList(BaseModel):
    items: list[QueryOut]


class StatusCounts(BaseModel):
    open: int
    answered: int


class QueryCounts(BaseModel):
    sites: dict[str, StatusCounts] = Field(description="site code -> open and answered queries")
    patients: dict[str, StatusCounts] = Field(
        description="patient code -> open and answered (patients with any)"
    )


class SdvIn(_In):
    status: str = Field(pattern="^(" + "|".join(SDV_STATUSES) + ")$")
    findings: str | None = Field(default=None, max_length=4000, description="with verified_with_findings")


class SdvOut(BaseModel):
    record_type: str
    record_id: int
    status: str
    findings: str | None
    set_by: str | None
    set_at: UtcDatetime | None


class SdvFormCounts(BaseModel):
    total: int
    counts: dict[str, int]
    percent: dict[str, float]


class UnverifiedForm(BaseModel):
    record_type: str
    record_id: int
    patient_code: str
    site_code: str
    date: Any
    status: str


class SdvReportOut(BaseModel):
    site: str | None
    forms: dict[str, SdvFormCounts]
    unverified: list[UnverifiedForm]


class SdvReports(BaseModel):
    reports: list[SdvReportOut]


class SignIn(_In):
    password: str = Field(min_length=1, max_length=1024, description="the caller's password, entered again")


class SignatureOut(BaseModel):
    id: int
    record_type: str
    record_id: int
    signer: str
    printed_name: str
    meaning: str
    signed_at: UtcDatetime
    active: bool
    unlocked_by: str | None
    unlocked_at: UtcDatetime | None
    unlock_reason: str | None


class SignaturesOut(BaseModel):
    record_type: str
    record_id: int
    patient_code: str
    site_code: str
    lock: SignatureOut | None = Field(
        description="the active signature locking the record (its own or its patient's)"
    )
    signatures: list[SignatureOut]
    meaning: str | None = Field(description="what signing this record means (patient and visit)")


class UnlockIn(_In):
    reason: str = Field(min_length=1, max_length=4000, description="why the signed record is unlocked")


class UnlockOut(BaseModel):
    record_type: str
    record_id: int
    signatures_ended: int


# --------------------------------------------------------------------------- queries


@router.get("/queries", response_model=QueryList, summary="Queries of your sites (oldest first)")
def list_queries(
    site: str | None = Query(None, max_length=16),
    patient: str | None = Query(None, max_length=32, description="patient code"),
    status_: str | None = Query(None, alias="status", pattern=STATUS_PATTERN),
    record_type: str | None = Query(None, pattern=RECORD_TYPES),
    record_id: int | None = Query(None, ge=1, le=2**31 - 1),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    record = (record_type, record_id) if record_type and record_id else None
    rows = dm.list_queries(app, who, site=site, patient=patient, status=status_, record=record)
    return {"items": rows}


@router.get(
    "/query-counts", response_model=QueryCounts, summary="Open and answered queries per site and patient"
)
def query_counts(
    site: str | None = Query(None, max_length=16, description="only this site's patients"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return {"sites": dm.open_counts(app, who), "patients": dm.patient_counts(app, who, site)}


@router.post(
    "/queries", response_model=QueryOut, status_code=status.HTTP_201_CREATED, summary="Raise a query"
)
def raise_query(body: QueryIn, who: Principal = require("read"), app: AppState = Depends(state)) -> Any:
    return dm.raise_query(app, who, body.record_type, body.record_id, body.field, body.text)


@router.get("/queries/{query_id}", response_model=QueryOut, summary="One query with its thread")
def get_query(
    query_id: int = QUERY_ID, who: Principal = require("read"), app: AppState = Depends(state)
) -> Any:
    return dm.get_query(app, who, query_id)


@router.post(
    "/queries/{query_id}/{step}", response_model=QueryOut, summary="Answer, close or re-open a query"
)
def step_query(
    body: StepIn,
    query_id: int = QUERY_ID,
    step: str = Path(pattern="^(answer|close|reopen)$"),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return dm.step_query(app, who, query_id, step, body.text)


# --------------------------------------------------------------------------- SDV


@router.get("/sdv/{record_type}/{record_id}", response_model=SdvOut, summary="SDV status of a form")
def get_sdv(
    record_type: str = FORM,
    record_id: int = RECORD_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return dm.get_sdv(app, who, record_type, record_id)


@router.put("/sdv/{record_type}/{record_id}", response_model=SdvOut, summary="Set the SDV status of a form")
def set_sdv(
    body: SdvIn,
    record_type: str = FORM,
    record_id: int = RECORD_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return dm.set_sdv(app, who, record_type, record_id, body.status, body.findings)


@router.get("/sdv-report", response_model=SdvReports, summary="SDV report per site (your sites)")
def sdv_report(
    site: str | None = Query(None, max_length=16),
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return {"reports": dm.sdv_reports(app, who, site)}


# --------------------------------------------------------------------------- signatures


@router.get(
    "/signatures/{record_type}/{record_id}",
    response_model=SignaturesOut,
    summary="Lock and signatures of a record",
)
def signatures(
    record_type: str = Path(pattern=RECORD_TYPES),
    record_id: str = SIGNED_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return dm.signature_state(app, who, record_type, record_id)


@router.post(
    "/signatures/{record_type}/{record_id}",
    response_model=SignatureOut,
    status_code=status.HTTP_201_CREATED,
    summary="Sign (and lock) a patient's record or a visit; the password is sent again",
)
def sign(
    body: SignIn = Body(...),
    record_type: str = SIGNED,
    record_id: str = SIGNED_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    return dm.sign(app, who, record_type, record_id, body.password)


@router.post(
    "/signatures/{record_type}/{record_id}/unlock",
    response_model=UnlockOut,
    summary="Unlock a signed record (admin, with a reason)",
)
def unlock(
    body: UnlockIn,
    record_type: str = SIGNED,
    record_id: str = SIGNED_ID,
    who: Principal = require("read"),
    app: AppState = Depends(state),
) -> Any:
    state_ = dm.signature_state(app, who, record_type, record_id)
    ended = dm.unlock(app, who, record_type, record_id, body.reason)
    return {"record_type": record_type, "record_id": state_["record_id"], "signatures_ended": ended}
