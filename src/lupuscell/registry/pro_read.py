"""Reads of patient-reported outcome assessments with their RAND-36 scale scores.

The scores are computed on read by :func:`lupuscell.instruments.rand36.score_rand36` (RAND
scoring: every item recoded to 0-100 by RAND Table 1, a scale is the mean of its answered items,
RAND Table 2), from the answers stored; nothing derived is stored. Field names are those of
``lupuscell score rand36 --json``.

:func:`cohort_frame` gives one row per assessment with the patient's first cellular-therapy
course (therapy and day 0) for the cohort report (:mod:`lupuscell.reports.pro_section`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError, Problem, ValidationError
from lupuscell.instruments.rand36 import SCALES, score_rand36
from lupuscell.registry import scoped
from lupuscell.registry.models import Patient, Site, TherapyCourse
from lupuscell.registry.pro_models import ProAssessment

ENTITY = "pro_assessment"
DAYS_PER_MONTH = 30.4375
"""Average Gregorian month (365.25 / 12), for months since day 0."""
MAX_PER_PATIENT = 10_000
"""More assessments than a patient can have in a lifetime of monthly visits: one read is all."""


def scores_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The RAND-36 result of a stored assessment: the eight scales (0-100 or None), item 2 as
    ``health_change``, the answered items per scale, ``complete`` and the patient global."""
    result = score_rand36(
        {
            "responses": dict(record["responses"]),
            "patient_global_assessment": record["patient_global_assessment"],
            "patient_global_assessment_scale": record["patient_global_assessment_scale"],
        }
    )
    out: dict[str, Any] = {scale: result[scale] for scale in SCALES}
    out["health_change"] = result.health_change
    out["items_answered"] = dict(result.items_answered)
    out["complete"] = result.complete
    out["version"] = result.version
    return out


def with_scores(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored assessment (as the repository reads it) plus ``scores`` (:func:`scores_of`)."""
    return {**record, "scores": scores_of(record)}


def check_patient_and_visit(engine: Engine, patient_code: str, visit_id: Any, sites: Sequence[str]) -> None:
    """NotFoundError when the patient is not one of ``sites``; a ValidationError naming
    ``visit_id`` when the visit is unknown or of another site (it reads as unknown, never found)."""
    scoped.get_record(engine, "patient", patient_code, sites)
    if visit_id is None:
        return
    try:
        scoped.get_record(engine, "visit", int(visit_id), sites)
    except (NotFoundError, TypeError, ValueError):
        raise ValidationError(
            Problem(f"pro_assessment {patient_code}", "visit_id", f"unknown visit {visit_id}")
        ) from None


def patient_assessment(
    engine: Engine, patient_code: str, assessment_id: int, sites: Sequence[str]
) -> dict[str, Any]:
    """One assessment of ``patient_code`` (of ``sites``) with its scale scores; NotFoundError when
    it does not exist, is of another site, or belongs to another patient."""
    record = scoped.get_record(engine, ENTITY, assessment_id, sites)
    if record["patient_code"] != patient_code:
        raise NotFoundError(f"pro_assessment {assessment_id} does not exist for patient {patient_code!r}")
    return with_scores(record)


def patient_assessments(engine: Engine, patient_code: str, sites: Sequence[str]) -> list[dict[str, Any]]:
    """The assessments of a visible patient, by date, each with its scores (site-scoped)."""
    page = scoped.list_records(engine, ENTITY, sites, patient_code=patient_code, limit=MAX_PER_PATIENT)
    items = sorted(page.items, key=lambda r: (r["assessment_date"], r["id"]))
    return [with_scores(r) for r in items]


def _first_therapy(session: Session) -> dict[int, str]:
    """patient id -> therapy of the patient's first course (earliest infusion, then lowest id)."""
    query = sa.select(TherapyCourse.patient_id, TherapyCourse.therapy).order_by(
        TherapyCourse.patient_id, TherapyCourse.infusion_date.desc(), TherapyCourse.id.desc()
    )
    return {pid: therapy for pid, therapy in session.execute(query)}  # the first course comes last, wins


def cohort_frame(engine: Engine, sites: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per assessment: patient, site, therapy and day 0 of the first course, the date,
    months since day 0 (days / 30.4375; None without a course) and the eight scales."""
    first = (
        sa.select(TherapyCourse.patient_id, sa.func.min(TherapyCourse.infusion_date).label("day0"))
        .group_by(TherapyCourse.patient_id)
        .subquery()
    )
    query = (
        sa.select(ProAssessment, Patient.code, Site.code, first.c.day0)
        .join(Patient, Patient.id == ProAssessment.patient_id)
        .join(Site, Site.id == Patient.site_id)
        .outerjoin(first, first.c.patient_id == Patient.id)
        .order_by(Patient.code, ProAssessment.assessment_date, ProAssessment.id)
    )
    if sites is not None:
        query = query.where(Site.code.in_(list(sites)))
    rows: list[dict[str, Any]] = []
    with Session(engine) as session:
        therapy_of = _first_therapy(session)
        for found in session.execute(query):
            pro: ProAssessment = found[0]
            code, site, day0 = found[1], found[2], found[3]
            record = {c.key: getattr(pro, c.key) for c in ProAssessment.__table__.columns}
            days = (pro.assessment_date - day0).days if day0 is not None else None
            scores = scores_of(record)
            rows.append(
                {
                    "patient_code": code,
                    "site_code": site,
                    "therapy": therapy_of.get(pro.patient_id),
                    "day0": day0,
                    "assessment_date": pro.assessment_date,
                    "months": None if days is None else days / DAYS_PER_MONTH,
                    "completed_by": pro.completed_by,
                    **{scale: scores[scale] for scale in SCALES},
                }
            )
    columns = ["patient_code", "site_code", "therapy", "day0", "assessment_date", "months", "completed_by"]
    return pd.DataFrame(rows, columns=[*columns, *SCALES])
