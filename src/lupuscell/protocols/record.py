"""One person's data in the form the eligibility evaluator reads, whatever the source.

A :class:`PatientRecord` holds dated facts (conditions, drug exposures, measurements, visits,
observation periods) and says which domains are *complete*: in a complete domain the absence of
a record means the thing did not happen (the OMOP CDM convention for an EHR extract); in an
incomplete domain (most of the registry) absence means "not known", and a criterion that needs
the absence is *unknown*, never "met".

A fact's ``timing`` is ``dated`` (it has a date), ``before_index`` (known to precede the index
date, date not recorded: a registry "prior therapy") or ``undated``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Timing = Literal["dated", "before_index", "undated"]
Domain = Literal["condition", "drug", "measurement", "visit"]


@dataclass(frozen=True)
class ConditionFact:
    """A condition record; ``confirmed`` = an adjudicated diagnosis (registry), which satisfies a
    "coded on N different days" rule by itself."""

    concept_id: int | None
    date: dt.date | None
    label: str
    timing: Timing = "dated"
    confirmed: bool = False


@dataclass(frozen=True)
class DrugFact:
    """A drug exposure matched by concept id (OMOP) or by concept-set name (registry text)."""

    concept_id: int | None
    concept_set: str | None
    date: dt.date | None
    label: str
    timing: Timing = "dated"


@dataclass(frozen=True)
class MeasurementFact:
    """A result matched by concept id (OMOP) or analyte code (registry); ``unit`` as recorded."""

    concept_id: int | None
    analyte: str | None
    date: dt.date
    value: float | None
    unit: str | None
    label: str


@dataclass(frozen=True)
class VisitFact:
    concept_id: int | None
    date: dt.date
    label: str = "visit"


@dataclass(frozen=True)
class PatientRecord:
    """Everything the evaluator may look at for one person, around one index date."""

    person: str
    index_date: dt.date
    birth_year: int | None
    sex: str | None
    observation_periods: tuple[tuple[dt.date, dt.date], ...] | None = None
    conditions: tuple[ConditionFact, ...] = ()
    drugs: tuple[DrugFact, ...] = ()
    measurements: tuple[MeasurementFact, ...] = ()
    visits: tuple[VisitFact, ...] = ()
    complete: frozenset[Domain] = field(default_factory=frozenset)
    source: str = ""
    index_date_rule: str = ""
