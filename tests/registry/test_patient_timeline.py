"""``views.patient_timeline`` (Core selects, the one timeline of the CLI and the web API) equals a
plain ORM reading of the same records for every patient of a synthetic cohort, with day 0 from
``outcomes.timeline``; ``sites`` hides other sites' patients."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.errors import NotFoundError
from lupuscell.outcomes.timeline import day0_by_patient, study_day
from lupuscell.registry import views
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.models import Patient
from lupuscell.registry.repository import as_dict
from lupuscell.synth.cohort import iter_cohort_tables


def _orm_timeline(engine: Engine, code: str) -> dict[str, Any]:
    """The reference: ORM objects through ``as_dict``, day 0 from the vectorised rule."""

    def by(items: list[Any], field: str) -> list[Any]:
        return sorted(items, key=lambda obj: (getattr(obj, field), obj.id))

    with Session(engine) as session:
        patient = session.scalars(sa.select(Patient).where(Patient.code == code)).one()
        courses = by(patient.courses, "infusion_date")
        frame = pd.DataFrame(
            {
                "patient_id": [c.patient_id for c in courses],
                "infusion_date": [c.infusion_date for c in courses],
            }
        )
        day0s = day0_by_patient(frame) if courses else pd.Series(dtype="datetime64[ns]")
        day0 = day0s.iloc[0].date() if len(day0s) else None

        def dated(obj: Any, field: str) -> dict[str, Any]:
            return {**as_dict(obj), "study_day": study_day(getattr(obj, field), day0)}

        return {
            "patient": as_dict(patient),
            "day0": day0,
            "courses": [
                {
                    **dated(course, "infusion_date"),
                    "course_no": n,
                    "drugs": [dated(d, "admin_date") for d in by(course.drugs, "admin_date")],
                }
                for n, course in enumerate(courses, start=1)
            ],
            "visits": [dated(v, "visit_date") for v in by(patient.visits, "visit_date")],
            "labs": [dated(lab, "result_date") for lab in by(patient.labs, "result_date")],
            "adverse_events": [dated(ae, "onset_date") for ae in by(patient.adverse_events, "onset_date")],
            "clinical_events": [dated(ev, "event_date") for ev in by(patient.clinical_events, "event_date")],
        }


def test_the_timeline_equals_an_orm_reading_and_hides_other_sites(engine: Engine) -> None:
    load_tables(engine, iter_cohort_tables(40, 7, chunk_size=40), actor="t", source="test", reason="test")
    with engine.connect() as conn:
        codes = [
            (code, site)
            for code, site in conn.execute(
                sa.text("SELECT p.code, s.code FROM patients p JOIN sites s ON s.id = p.site_id")
            )
        ]
    assert len(codes) == 40
    for code, site in codes:
        expected = _orm_timeline(engine, code)
        assert views.patient_timeline(engine, code) == expected, code
        assert views.patient_timeline(engine, code, [site]) == expected, code
    code, site = codes[0]
    with pytest.raises(NotFoundError):
        views.patient_timeline(engine, code, [s for _, s in codes if s != site] or ["none"])
    with pytest.raises(NotFoundError):
        views.patient_timeline(engine, "NO-SUCH-CODE")
