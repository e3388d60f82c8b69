"""Boundary schema of a patient-reported outcome (PRO) assessment (RAND-36 with a patient global).

The answers reuse :class:`lupuscell.instruments.rand36.Rand36Responses` (the input model of
``lupuscell score rand36``): ``q1`` .. ``q36``, each the number of the answer printed on the form
(1 = first), unanswered items left out; a value outside an item's answers is refused naming the
item, the value and the answers (``responses.q3: answer 7 is not one of the 3 answers of q3``).
The patient global assessment is checked against the scale it was recorded on
(:data:`lupuscell.instruments.rand36.PGA_MAXIMUM`: 0-10 rating or 0-100 mm VAS).

Source: Hays RD, Sherbourne CD, Mazel RM. The RAND 36-Item Health Survey 1.0. Health Econ
1993;2(3):217-227 (items and answers); RAND scoring instructions (Table 1).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_serializer, field_validator

from lupuscell.instruments.rand36 import PGA_MAXIMUM, PgaScale, Rand36Responses
from lupuscell.schemas.base import Code, RecordIn, RowId

ProInstrument = Literal["rand36"]
CompletedBy = Literal["patient", "proxy", "staff"]


class ProAssessmentFields(RecordIn):
    """A completed RAND-36 without the patient (the body of ``POST .../pro-assessments``)."""

    visit_id: RowId | None = None
    assessment_date: dt.date
    instrument: ProInstrument = "rand36"
    responses: Rand36Responses = Field(default_factory=Rand36Responses)
    patient_global_assessment_scale: PgaScale = "nrs_0_10"
    patient_global_assessment: float | None = None
    completed_by: CompletedBy = "patient"

    @field_validator("patient_global_assessment")
    @classmethod
    def _pga_within_scale(cls, value: float | None, info: ValidationInfo) -> float | None:
        """The value lies on the scale recorded (as :class:`~lupuscell.instruments.rand36.Rand36Input`)."""
        scale = info.data.get("patient_global_assessment_scale", "nrs_0_10")
        top = PGA_MAXIMUM.get(scale, PGA_MAXIMUM["nrs_0_10"])
        if value is not None and not (math.isfinite(value) and 0 <= value <= top):
            raise ValueError(f"{value:g} is outside the range [0, {top:g}] of the {scale} scale")
        return value

    @field_serializer("responses")
    def _answered_only(self, responses: Rand36Responses) -> dict[str, Any]:
        """Stored and returned as entered: the answered items only, in item order."""
        return {key: value for key, value in responses.model_dump().items() if value is not None}


class ProAssessmentIn(ProAssessmentFields):
    """One completed RAND-36 of a patient, optionally attached to a visit of the same patient."""

    patient_code: Code
