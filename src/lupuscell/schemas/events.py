"""Boundary schemas of adverse events and clinical events.

An adverse event carries its ``grade`` and the ``grading_system`` that produced it
(:data:`lupuscell.vocab.AE_GRADING_SYSTEMS`): CTCAE v5.0 (grades 1-5, 5 = death related to
the AE; NCI, 2017) for most events; the ASTCT consensus for CRS and ICANS (Lee DW et al.,
Biol Blood Marrow Transplant 2019;25:625-638; grades 1-4, 5 = death due to CRS/ICANS); MAGIC
for acute GVHD (Harris AC et al., Biol Blood Marrow Transplant 2016;22:4-10; grades I-IV
stored 1-4). The systems a category may use are :data:`lupuscell.vocab.AE_GRADING_BY_CATEGORY`;
when ``grading_system`` is not given, the category's first one is assumed
(:func:`lupuscell.vocab.default_grading_system`). The legacy field name ``ctcae_grade`` (files
and callers written before migration 0002) is accepted for ``grade``. Resolution is not
before onset.

Clinical events are death (with a cause category), flare / relapse (with severity, SELENA
flare index: mild-moderate or severe) and last contact. ``cause`` and ``treatment_related``
belong to deaths only; ``severity`` to flares and relapses only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from lupuscell import vocab
from lupuscell.schemas.base import Code, RecordIn, RowId, cross_field_error, one_of
from lupuscell.schemas.rules import AllowedWith, DateOrder, GradeInRange, OnlyFor, Rule

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "death": ("cause", "treatment_related"),
    "flare": ("severity",),
    "relapse": ("severity",),
    "last_contact": (),
}
"""Optional fields each clinical event type may carry (the others must be empty)."""

LEGACY_GRADE_FIELD = "ctcae_grade"
"""Name of the grade field before migration 0002 (accepted on input as ``grade``)."""

AE_RULES: tuple[Rule, ...] = (
    DateOrder("resolution_date", earlier="onset_date", wording="resolution >= onset"),
    AllowedWith(
        "grading_system",
        depends_on="category",
        allowed=vocab.AE_GRADING_BY_CATEGORY,
        wording="a grading system for category",
    ),
    GradeInRange("grade", system="grading_system", ranges=vocab.AE_GRADE_RANGE),
)

EVENT_RULES: tuple[Rule, ...] = tuple(
    OnlyFor(name, kind="event_type", kinds=tuple(t for t, f in EVENT_FIELDS.items() if name in f))
    for name in ("cause", "treatment_related", "severity")
)


def legacy_grade(data: Any) -> Any:
    """Input with ``ctcae_grade`` renamed ``grade`` and the category's default grading system.

    Files and callers written before migration 0002 stored every grade as ``ctcae_grade``
    (CRS and ICANS graded by ASTCT all the same); the default system per category is the
    one migration 0002 gave the stored rows. Giving both names with different values is an
    error.
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if LEGACY_GRADE_FIELD in data:
        legacy = data.pop(LEGACY_GRADE_FIELD)
        if data.get("grade") is not None and legacy is not None and str(data["grade"]) != str(legacy):
            raise cross_field_error([("grade", f"grade {data['grade']} and ctcae_grade {legacy} disagree")])
        if data.get("grade") is None:
            data["grade"] = legacy
    if data.get("grading_system") is None and isinstance(data.get("category"), str):
        data["grading_system"] = vocab.default_grading_system(data["category"].strip())
    return data


def ae_frame_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`legacy_grade` for a data frame: ``ctcae_grade`` read as ``grade``, and the
    category's default grading system where none is given."""
    if LEGACY_GRADE_FIELD in frame.columns:
        legacy = frame[LEGACY_GRADE_FIELD]
        frame = frame.drop(columns=[LEGACY_GRADE_FIELD])
        frame["grade"] = frame["grade"].where(frame["grade"].notna(), legacy) if "grade" in frame else legacy
    if "category" in frame.columns:
        defaults = frame["category"].map(
            lambda c: vocab.default_grading_system(c) if isinstance(c, str) else None
        )
        given = frame["grading_system"] if "grading_system" in frame.columns else None
        frame = frame.assign(
            grading_system=defaults if given is None else given.where(given.notna(), defaults)
        )
    return frame


class AdverseEventIn(RecordIn):
    """An adverse event of one patient, optionally attributed to a therapy course."""

    patient_code: Code
    course_id: RowId | None = None
    term: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, AfterValidator(one_of(vocab.AE_CATEGORIES, "adverse-event category"))]
    grade: Annotated[int, Field(ge=1, le=5)]
    grading_system: Annotated[
        str, AfterValidator(one_of(vocab.AE_GRADING_SYSTEMS, "adverse-event grading system"))
    ]
    onset_date: dt.date
    resolution_date: dt.date | None = None
    serious: bool = False
    relatedness: Annotated[str | None, AfterValidator(one_of(vocab.RELATEDNESS, "relatedness"))] = None

    RULES: ClassVar[tuple[Rule, ...]] = AE_RULES

    @model_validator(mode="before")
    @classmethod
    def _legacy_grade(cls, data: Any) -> Any:
        return legacy_grade(data)


class ClinicalEventIn(RecordIn):
    """Death, flare, relapse or last contact."""

    patient_code: Code
    event_type: Annotated[str, AfterValidator(one_of(vocab.CLINICAL_EVENT_TYPES, "clinical event type"))]
    event_date: dt.date
    cause: Annotated[str | None, Field(max_length=2000)] = None
    treatment_related: bool | None = None
    severity: Annotated[str | None, AfterValidator(one_of(vocab.FLARE_SEVERITIES, "flare severity"))] = None

    RULES: ClassVar[tuple[Rule, ...]] = EVENT_RULES
