"""The exchange layout: one CSV or Parquet file per table, keyed by patient code.

Shared by the import (:mod:`lupuscell.registry.exchange`) and the export
(:mod:`lupuscell.registry.export`); described for users in docs/registry/import_export.md.
Column names are the field names of :mod:`lupuscell.schemas`; a therapy course is referred to
by its ``course_no`` within the patient (a ``course_key`` ``<patient code>/<n>`` is accepted
instead, as ``lupuscell synth --out`` writes it). List fields are ``;``-separated text (a
JSON array is accepted too), the BILAG mapping is JSON text, booleans ``true``/``false``,
dates ISO ``YYYY-MM-DD``, empty = unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from lupuscell.registry.models import (
    AdverseEvent,
    Base,
    ClinicalEvent,
    DrugAdministration,
    LabResult,
    Patient,
    Site,
    TherapyCourse,
    Visit,
)
from lupuscell.registry.repository import SPECS
from lupuscell.schemas.events import LEGACY_GRADE_FIELD

FORMATS = ("csv", "parquet")
LIST_FIELDS = ("organ_involvement", "prior_therapies")
JSON_FIELDS = ("bilag", "missing")


@dataclass(frozen=True)
class TableLayout:
    """One exchange file: the entity it holds and its key columns."""

    name: str
    entity: str
    model: type[Base]
    keys: tuple[str, ...]
    """Columns placed before the schema fields (codes and ``course_no``)."""

    @property
    def fields(self) -> tuple[str, ...]:
        schema_fields = [f for f in SPECS[self.entity].schema.model_fields if f not in ("course_id",)]
        return (*self.keys, *(f for f in schema_fields if f not in self.keys))

    @property
    def accepted(self) -> frozenset[str]:
        """Column names an import accepts: the fields, plus ``course_key`` and legacy names."""
        extra = {"course_key"} if "course_no" in self.keys else set()
        if self.entity == "adverse_event":
            extra.add(LEGACY_GRADE_FIELD)
        return frozenset(self.fields) | extra

    @property
    def required(self) -> tuple[str, ...]:
        """Columns a non-empty file must have (a course may be given as ``course_key``)."""
        schema = SPECS[self.entity].schema
        needed = [f for f in self.fields if f in schema.model_fields and schema.model_fields[f].is_required()]
        needed = [f for f in needed if f not in ("grading_system", "course_id")]
        if "patient_code" in self.keys and "patient_code" not in needed:
            needed.insert(0, "patient_code")
        return tuple(needed)


TABLES: tuple[TableLayout, ...] = (
    TableLayout("sites", "site", Site, ()),
    TableLayout("patients", "patient", Patient, ()),
    TableLayout("therapy_courses", "therapy_course", TherapyCourse, ("patient_code", "course_no")),
    TableLayout(
        "drug_administrations", "drug_administration", DrugAdministration, ("patient_code", "course_no")
    ),
    TableLayout("visits", "visit", Visit, ("patient_code",)),
    TableLayout("lab_results", "lab_result", LabResult, ("patient_code",)),
    TableLayout("adverse_events", "adverse_event", AdverseEvent, ("patient_code", "course_no")),
    TableLayout("clinical_events", "clinical_event", ClinicalEvent, ("patient_code",)),
)
TABLE_BY_NAME = {t.name: t for t in TABLES}
