"""Boundary schemas of sites and patients.

A patient is pseudonymous: ``code`` (site code + sequence), sex, birth *year* only, SLE
diagnosis date, the classification criteria met (EULAR/ACR 2019, SLICC 2012 or ACR 1997),
organ involvement and, for lupus nephritis, the ISN/RPS 2003 class (Weening JJ et al.,
J Am Soc Nephrol 2004;15:241-250). Code lists: :mod:`lupuscell.vocab`.

Cross-field rules: the diagnosis date is not before the birth year; a nephritis class
requires ``renal`` in the organ involvement.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from lupuscell import vocab
from lupuscell.schemas.base import Code, RecordIn, each_one_of, one_of
from lupuscell.schemas.rules import NotAfterCurrentYear, RequiresMember, Rule, YearNotBefore

PATIENT_RULES: tuple[Rule, ...] = (
    NotAfterCurrentYear("birth_year"),
    YearNotBefore("sle_diagnosis_date", year_field="birth_year"),
    RequiresMember("nephritis_class", container="organ_involvement", member="renal"),
)


class SiteIn(RecordIn):
    """A treating centre."""

    code: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    country: Annotated[str | None, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")] = None


class PatientIn(RecordIn):
    """A pseudonymous SLE patient (no direct identifiers: birth year, not date of birth)."""

    code: Code
    site_code: Annotated[str, Field(min_length=1, max_length=16)]
    sex: Annotated[str, AfterValidator(one_of(vocab.SEXES, "sex"))]
    birth_year: Annotated[int, Field(ge=1900)]
    sle_diagnosis_date: dt.date | None = None
    classification_criteria: Annotated[
        str | None, AfterValidator(one_of(vocab.CLASSIFICATION_CRITERIA, "classification criteria"))
    ] = None
    organ_involvement: Annotated[
        list[str], AfterValidator(each_one_of(vocab.ORGAN_INVOLVEMENT, "organ involvement"))
    ] = Field(default_factory=list)
    nephritis_class: Annotated[
        str | None, AfterValidator(one_of(vocab.NEPHRITIS_CLASSES, "ISN/RPS nephritis class"))
    ] = None
    prior_therapies: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list)

    RULES: ClassVar[tuple[Rule, ...]] = PATIENT_RULES
