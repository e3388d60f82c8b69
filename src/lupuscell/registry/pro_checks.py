"""Cross-record rules of patient-reported outcome assessments (hooks of the repository).

* The visit an assessment is attached to exists and belongs to the same patient, and the
  assessment date is the visit date (a questionnaire filled in at the visit).
* One assessment per patient, instrument and date (a form submitted twice is refused naming the
  existing one, never stored twice).
* A visit with assessments attached is not deleted; a deleted patient takes their assessments
  (each audited with its last values, as every other record of the patient).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.models import Patient, Visit
from lupuscell.registry.pro_models import ProAssessment


def record_problems(session: Session, row: dict[str, Any], row_id: int | None, label: str) -> list[Problem]:
    """Problems of a PRO assessment's row (codes already resolved to ids) against the database."""
    patient_id = row.get("patient_id")
    if patient_id is None:
        return []  # the unknown patient is reported by the repository
    problems: list[Problem] = []
    if row.get("visit_id") is not None:
        visit = session.get(Visit, row["visit_id"])
        if visit is None:
            problems.append(Problem(label, "visit_id", f"unknown visit {row['visit_id']}"))
        elif visit.patient_id != patient_id:
            problems.append(Problem(label, "visit_id", f"visit {visit.id} belongs to another patient"))
        elif visit.visit_date != row["assessment_date"]:
            problems.append(
                Problem(
                    label,
                    "assessment_date",
                    f"assessment_date {row['assessment_date']} is not the date of visit {visit.id} "
                    f"({visit.visit_date})",
                )
            )
    clash = session.scalar(
        sa.select(ProAssessment.id).where(
            ProAssessment.patient_id == patient_id,
            ProAssessment.instrument == row["instrument"],
            ProAssessment.assessment_date == row["assessment_date"],
            ProAssessment.id != (row_id or -1),
        )
    )
    if clash is not None:
        problems.append(
            Problem(
                label,
                "assessment_date",
                f"the patient already has a {row['instrument']} assessment on {row['assessment_date']} "
                f"(pro_assessment {clash})",
            )
        )
    return problems


def dependants(session: Session, entity: str, obj: Any, label: str) -> list[Any]:
    """Assessments deleted with a patient; ValidationError for a visit that assessments refer to."""
    if entity == "patient" and isinstance(obj, Patient):
        return list(session.scalars(sa.select(ProAssessment).where(ProAssessment.patient_id == obj.id)))
    if entity == "visit":
        n = session.scalar(
            sa.select(sa.func.count()).select_from(ProAssessment).where(ProAssessment.visit_id == obj.id)
        )
        if n:
            raise ValidationError(
                Problem(label, "visit_id", f"{n} patient-reported outcome assessment(s) refer to this visit")
            )
    return []
