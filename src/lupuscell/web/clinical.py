"""Adapters from what the web app holds (a patient's timeline, a visit form) to the single
clinical rules of :mod:`lupuscell.outcomes` (day 0, follow-up, SLEDAI-2K / clinical SLEDAI /
LLDAS / DORIS per visit, remission, flare, survival). Nothing here decides a clinical question:
the records are put in the registry's table shape and handed to
:func:`lupuscell.outcomes.inputs.from_tables`, :func:`lupuscell.outcomes.endpoints.derive_endpoints`
and :func:`lupuscell.outcomes.endpoints.score_visits`, the same path as ``lupuscell endpoints``
and the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lupuscell.outcomes.cohort import CohortData
from lupuscell.outcomes.definitions import DEFAULT_OPTIONS, EndpointOptions
from lupuscell.outcomes.endpoints import derive_endpoints, records, score_visits
from lupuscell.outcomes.inputs import from_tables
from lupuscell.registry.tables import from_registry
from lupuscell.vocab import SLEDAI_2K_DESCRIPTORS


@dataclass(frozen=True)
class PatientOutcome:
    """One patient's endpoints (ADSL-like fields) and the scored visits by visit date."""

    endpoints: dict[str, Any] | None
    visit_scores: dict[dt.date, dict[str, Any]]
    options: EndpointOptions


def timeline_frames(timeline: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The registry-shaped tables of one patient's timeline (:func:`registry.views.patient_timeline`)."""
    patient = dict(timeline["patient"])
    code = patient["code"]
    courses = [{k: v for k, v in c.items() if k != "drugs"} for c in timeline["courses"]]
    drugs = [{**d, "patient_code": code} for c in timeline["courses"] for d in c["drugs"]]
    frames = {
        "patients": [patient],
        "therapy_courses": courses,
        "drug_administrations": drugs,
        "visits": timeline["visits"],
        "lab_results": timeline["labs"],
        "adverse_events": timeline["adverse_events"],
        "clinical_events": timeline["clinical_events"],
    }
    return {name: pd.DataFrame([{**r, "patient_code": code} for r in rows]) for name, rows in frames.items()}


def registry_cohort(engine: Any) -> CohortData:
    """The whole registry as a cohort (:func:`lupuscell.registry.tables.from_registry`)."""
    return from_registry(engine)


def patient_outcome(
    timeline: Mapping[str, Any], options: EndpointOptions = DEFAULT_OPTIONS
) -> PatientOutcome:
    """Endpoints and per-visit scores of one patient (no therapy course: no endpoints)."""
    cohort = from_tables(timeline_frames(timeline))
    if cohort.n_patients == 0:
        return PatientOutcome(None, {}, options)
    result = derive_endpoints(cohort, options)
    day0 = timeline["day0"]
    scores: dict[dt.date, dict[str, Any]] = {}
    for row in records(result.visits):
        date = day0 + dt.timedelta(days=int(row["day"]))
        scores[date] = row
    return PatientOutcome(records(result.patients)[0], scores, options)


def score_visit_form(visit: Mapping[str, Any], options: EndpointOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """SLEDAI-2K, clinical SLEDAI, LLDAS and DORIS of one visit as entered (not yet saved).

    ``visit`` has the registry's visit fields (descriptors True / False / None, ``pga``,
    ``prednisone_mg_per_day``, the therapy flags). Scored by the instruments' vectorised path
    through :func:`lupuscell.outcomes.endpoints.score_visits`, exactly as saved visits are.
    """
    date = dt.date(2000, 1, 1)
    frames = {
        "patients": pd.DataFrame([{"patient_code": "FORM", "birth_year": 1980, "sex": "F"}]),
        "therapy_courses": pd.DataFrame(
            [{"patient_code": "FORM", "therapy": "other", "infusion_date": date, "cell_source": None}]
        ),
        "visits": pd.DataFrame([{**dict(visit), "patient_code": "FORM", "visit_date": date}]),
    }
    cohort = from_tables(frames)
    row = records(score_visits(cohort.visits, options))[0]
    return {k: row.get(k) for k in ("sledai_2k", "clinical_sledai", "lldas", "doris_remission")}


def descriptor_values(form: Mapping[str, Any]) -> dict[str, bool | None]:
    """Descriptors from a form: ``yes`` -> True, ``no`` -> False, anything else -> not assessed."""
    out: dict[str, bool | None] = {}
    for name in SLEDAI_2K_DESCRIPTORS:
        value = form.get(name)
        out[name] = True if value == "yes" else False if value == "no" else None
    return out
