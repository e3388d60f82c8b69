"""Boundary schemas of clinical visits and laboratory results.

A visit carries the 24 SLEDAI-2K descriptors as clinician-adjudicated booleans (Gladman DD
et al., J Rheumatol 2002;29:288-291); ``None`` means *not assessed*, never *absent*. The
physician global assessment (PGA) is on the 0-3 visual analogue scale recorded at 0.1
precision (Petri M et al., NEJM 2005;353:2550; SELENA trial PGA). Prednisone-equivalent dose
is in mg/day and non-negative. BILAG-2004 domain grades (Isenberg DA et al., Rheumatology
2005;44:902-906) are an optional mapping domain -> A..E.

Lab results are stored as entered; the analyte must be known and the unit accepted for it
(``data/units.yaml``, :mod:`lupuscell.units`) - an unknown unit is rejected, never guessed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from lupuscell import units, vocab
from lupuscell.errors import ValidationError as LupuscellValidationError
from lupuscell.schemas.base import Code, FiniteFloat, RecordIn, cross_field_error, one_of

PGA_STEP = 0.1


def _pga_precision(value: float | None) -> float | None:
    if value is None:
        return None
    tenths = value / PGA_STEP
    if abs(tenths - round(tenths)) > 1e-9:
        raise PydanticCustomError(
            "pga_precision", "PGA {value} is not on the 0.1 grid of the 0-3 scale", {"value": value}
        )
    return round(value, 1)


class VisitIn(RecordIn):
    """A clinical assessment of one patient on one date."""

    patient_code: Code
    visit_date: dt.date
    sledai_window_days: Annotated[int, Field(ge=1, le=365)] = 10
    seizure: bool | None = None
    psychosis: bool | None = None
    organic_brain_syndrome: bool | None = None
    visual_disturbance: bool | None = None
    cranial_nerve_disorder: bool | None = None
    lupus_headache: bool | None = None
    cva: bool | None = None
    vasculitis: bool | None = None
    arthritis: bool | None = None
    myositis: bool | None = None
    urinary_casts: bool | None = None
    hematuria: bool | None = None
    proteinuria: bool | None = None
    pyuria: bool | None = None
    rash: bool | None = None
    alopecia: bool | None = None
    mucosal_ulcers: bool | None = None
    pleurisy: bool | None = None
    pericarditis: bool | None = None
    low_complement: bool | None = None
    increased_dna_binding: bool | None = None
    fever: bool | None = None
    thrombocytopenia: bool | None = None
    leukopenia: bool | None = None
    pga: Annotated[FiniteFloat | None, Field(ge=0, le=3), AfterValidator(_pga_precision)] = None
    prednisone_mg_per_day: Annotated[FiniteFloat | None, Field(ge=0)] = None
    on_antimalarial: bool | None = None
    on_immunosuppressant: bool | None = None
    on_biologic: bool | None = None
    immunosuppressives_stable: bool | None = None
    haemolytic_anaemia: bool | None = None
    gastrointestinal_activity: bool | None = None
    new_activity: bool | None = None
    bilag: dict[str, str] | None = None

    @field_validator("bilag")
    @classmethod
    def _bilag(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for domain, grade in value.items():
            one_of(vocab.BILAG_DOMAINS, "BILAG domain")(domain)
            one_of(vocab.BILAG_GRADES, "BILAG grade")(grade)
        return value

    def descriptors(self) -> dict[str, bool | None]:
        """The SLEDAI-2K descriptors of this visit (None = not assessed)."""
        return {name: getattr(self, name) for name in vocab.SLEDAI_2K_DESCRIPTORS}


_missing = set(vocab.SLEDAI_2K_DESCRIPTORS) - set(VisitIn.model_fields)
assert not _missing, f"VisitIn lacks SLEDAI-2K descriptors {_missing}"


class LabResultIn(RecordIn):
    """A laboratory value as entered; the unit must be accepted for the analyte."""

    patient_code: Code
    result_date: dt.date
    analyte: Annotated[str, Field(min_length=1, max_length=32)]
    value: FiniteFloat
    unit: Annotated[str, Field(min_length=1, max_length=32)]

    @model_validator(mode="after")
    def _known_unit(self) -> LabResultIn:
        try:
            units.unit_rule(self.analyte, self.unit)
        except LupuscellValidationError as exc:
            raise cross_field_error([(p.field, p.message) for p in exc.problems]) from None
        return self


def lab_canonical(analyte: str, value: float, unit: str, **kwargs: Any) -> tuple[float, str]:
    """Canonical (value, unit) of a stored lab result (see :func:`lupuscell.units.normalise`)."""
    return units.normalise(analyte, value, unit, **kwargs)
