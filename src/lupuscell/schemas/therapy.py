"""Boundary schemas of therapy courses and drug administrations.

Categories follow the EBMT/CIBMTR cellular-therapy forms (:mod:`lupuscell.vocab`). Day 0 is
the infusion date (first infusion for repeated MSC). Phase dates must be in clinical order:

* mobilisation <= apheresis/harvest <= infusion (autologous HSCT: Burt RK et al.,
  JAMA 2006;295:527-535; CAR-T: apheresis before infusion, Mackensen A et al.,
  Nat Med 2022;28:2124-2132);
* conditioning / lymphodepletion start <= infusion;
* discharge >= infusion.

Doses are positive; viability is a percentage 0-100; an autologous HSCT cannot have an
allogeneic donor type and vice versa.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from lupuscell import vocab
from lupuscell.schemas.base import Code, FiniteFloat, PositiveFloat, RecordIn, RowId, one_of
from lupuscell.schemas.missing import MissingStates, value_or_state_rules
from lupuscell.schemas.rules import AllowedWith, DateOrder, Rule

PHASE_ORDER: tuple[tuple[str, str, str], ...] = (
    ("mobilisation_date", "harvest_date", "mobilisation <= harvest"),
    ("mobilisation_date", "infusion_date", "mobilisation <= infusion"),
    ("harvest_date", "infusion_date", "harvest <= infusion"),
    ("conditioning_start_date", "infusion_date", "conditioning start <= infusion"),
    ("infusion_date", "discharge_date", "discharge >= infusion"),
)
"""(earlier, later, rule) pairs checked on every course."""

DONOR_BY_THERAPY: dict[str, tuple[str, ...]] = {
    "autologous_hsct": ("autologous",),
    "allogeneic_hsct": ("allogeneic_related", "allogeneic_unrelated"),
}
"""Donor types compatible with a therapy (therapies not listed accept any donor type)."""

COURSE_RULES: tuple[Rule, ...] = (
    *(DateOrder(later, earlier=earlier, wording=wording) for earlier, later, wording in PHASE_ORDER),
    AllowedWith(
        "donor_type", depends_on="therapy", allowed=DONOR_BY_THERAPY, wording="compatible with therapy"
    ),
    *value_or_state_rules("therapy_course"),
)
"""Every cross-field rule of a therapy course: the repository and the import check them per
record (pydantic), the bulk loader per column (:mod:`lupuscell.schemas.frames`)."""


class TherapyCourseIn(RecordIn):
    """One cellular-therapy course of a patient."""

    patient_code: Code
    therapy: Annotated[str, AfterValidator(one_of(vocab.THERAPIES, "therapy"))]
    cell_source: Annotated[str | None, AfterValidator(one_of(vocab.CELL_SOURCES, "cell source"))] = None
    donor_type: Annotated[str | None, AfterValidator(one_of(vocab.DONOR_TYPES, "donor type"))] = None
    protocol_id: Annotated[str | None, Field(max_length=64)] = None
    mobilisation_date: dt.date | None = None
    harvest_date: dt.date | None = None
    conditioning_start_date: dt.date | None = None
    infusion_date: dt.date
    discharge_date: dt.date | None = None
    total_cell_dose: PositiveFloat | None = None
    cell_dose_per_kg: PositiveFloat | None = None
    cd34_per_kg: PositiveFloat | None = None
    viability_percent: Annotated[FiniteFloat | None, Field(ge=0, le=100)] = None
    route: Annotated[str | None, AfterValidator(one_of(vocab.ROUTES, "route"))] = None
    number_of_infusions: Annotated[int, Field(ge=1, le=100)] = 1
    missing: Annotated[dict[str, str] | None, AfterValidator(MissingStates("therapy_course"))] = None
    """Explicit states of minimum-data fields without a value (:mod:`lupuscell.schemas.missing`)."""

    RULES: ClassVar[tuple[Rule, ...]] = COURSE_RULES


class DrugAdministrationIn(RecordIn):
    """A drug given within a therapy course (mobilisation, conditioning, steroids...)."""

    course_id: RowId
    drug: Annotated[str, Field(min_length=1, max_length=100)]
    dose: PositiveFloat
    unit: Annotated[str, Field(min_length=1, max_length=32)]
    admin_date: dt.date
    purpose: Annotated[str, AfterValidator(one_of(vocab.DRUG_PURPOSES, "purpose"))]
