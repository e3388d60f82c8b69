"""Boundary schemas of adverse events and clinical events.

Adverse events are graded with CTCAE v5.0 (grade 1-5, 5 = death related to the AE; NCI,
2017); CRS and ICANS with the ASTCT consensus (Lee DW et al., Biol Blood Marrow Transplant
2019;25:625-638) mapped to the same 1-5 scale. Resolution is not before onset.

Clinical events are death (with a cause category), flare / relapse (with severity, SELENA
flare index: mild-moderate or severe) and last contact. ``cause`` and ``treatment_related``
belong to deaths only; ``severity`` to flares and relapses only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from lupuscell import vocab
from lupuscell.schemas.base import Code, RecordIn, cross_field_error, date_order_problems, one_of

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "death": ("cause", "treatment_related"),
    "flare": ("severity",),
    "relapse": ("severity",),
    "last_contact": (),
}
"""Optional fields each clinical event type may carry (the others must be empty)."""


class AdverseEventIn(RecordIn):
    """An adverse event of one patient, optionally attributed to a therapy course."""

    patient_code: Code
    course_id: Annotated[int | None, Field(ge=1)] = None
    term: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, AfterValidator(one_of(vocab.AE_CATEGORIES, "adverse-event category"))]
    ctcae_grade: Annotated[int, Field(ge=1, le=5)]
    onset_date: dt.date
    resolution_date: dt.date | None = None
    serious: bool = False
    relatedness: Annotated[str | None, AfterValidator(one_of(vocab.RELATEDNESS, "relatedness"))] = None

    @model_validator(mode="after")
    def _cross_field(self) -> AdverseEventIn:
        problems = date_order_problems(self, (("onset_date", "resolution_date", "resolution >= onset"),))
        if problems:
            raise cross_field_error(problems)
        return self


class ClinicalEventIn(RecordIn):
    """Death, flare, relapse or last contact."""

    patient_code: Code
    event_type: Annotated[str, AfterValidator(one_of(vocab.CLINICAL_EVENT_TYPES, "clinical event type"))]
    event_date: dt.date
    cause: Annotated[str | None, Field(max_length=2000)] = None
    treatment_related: bool | None = None
    severity: Annotated[str | None, AfterValidator(one_of(vocab.FLARE_SEVERITIES, "flare severity"))] = None

    @model_validator(mode="after")
    def _cross_field(self) -> ClinicalEventIn:
        allowed = EVENT_FIELDS[self.event_type]
        problems = [
            (name, f"{name} applies only to {', '.join(t for t, f in EVENT_FIELDS.items() if name in f)}")
            for name in ("cause", "treatment_related", "severity")
            if getattr(self, name) is not None and name not in allowed
        ]
        if problems:
            raise cross_field_error(problems)
        return self
