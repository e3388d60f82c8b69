"""What the FHIR export and import share: code systems, registry-field extensions, value types.

Registry data with a standard FHIR element go there (Patient.gender, Observation.valueQuantity,
Procedure.performedDateTime, AdverseEvent.seriousness...). Registry fields with no standard
element (a course's cell dose, a visit's SLEDAI-2K descriptors) travel as extensions or
Observation components named by the registry field, ``urn:lupuscell:field:<name>``, with the
FHIR type of the value (valueDate, valueBoolean, valueInteger, valueDecimal, valueString), so
an export round-trips without loss.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from lupuscell.interop.terminology import local_system

PATIENT_CODE = local_system("patient-code")
SUBJECT_ID = local_system("subject-id")
SITE_CODE = local_system("site-code")
FIELD = local_system("field")
THERAPY = local_system("therapy")
DRUG_PURPOSE = local_system("drug-purpose")
ANALYTE = local_system("analyte")
OBSERVATION = local_system("observation")
CLINICAL_EVENT = local_system("clinical-event")
AE_CATEGORY = local_system("ae-category")
MEDICATION_CATEGORY = local_system("medication-category")
CODE_LIST = local_system("code")
VISIT_ASSESSMENT = "sle-visit-assessment"
PRIOR_THERAPY = "prior-therapy"
BILAG = "bilag"
MISSING = "missing"
"""Registry field of the explicit missing-value states (lupuscell.schemas.missing)."""

DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
"""FHIR R4 CodeSystem data-absent-reason (hl7.org/fhir/R4/codesystem-data-absent-reason.html)."""

STATE_TO_ABSENT_REASON: dict[str, str] = {"not_done": "not-performed", "unknown": "unknown"}
"""Registry missing-value state -> data-absent-reason code written by the export."""

ABSENT_REASON_TO_STATE: dict[str, str] = {
    "not-performed": "not_done",
    "unknown": "unknown",
    # children of "unknown" in the CodeSystem's hierarchy: the value is not known
    "asked-unknown": "unknown",
    "temp-unknown": "unknown",
    "not-asked": "unknown",
    "asked-declined": "unknown",
}
"""data-absent-reason code -> registry state read by the import (other codes, e.g. ``masked``
or ``not-applicable``, are not a registry state and are refused)."""


def field_url(name: str) -> str:
    """Extension / component code of a registry field: ``urn:lupuscell:field:<name>``."""
    return f"{FIELD}:{name}"


def typed(value: Any) -> dict[str, Any]:
    """``{"valueX": value}`` of a Python value (date, bool, int, float, str)."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, dt.date):
        return {"valueDate": value.isoformat()}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": repr(value)}
    return {"valueString": str(value)}


def extension(name: str, value: Any) -> dict[str, Any]:
    return {"url": field_url(name), **typed(value)}


def plain(value: Any) -> Any:
    """A FHIR model value as a plain Python value (Decimal -> float, FHIR date -> date)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def untyped(element: Any) -> Any:
    """The value of an extension or component (the first valueX that is set)."""
    for name in (
        "valueDate",
        "valueDateTime",
        "valueBoolean",
        "valueInteger",
        "valueDecimal",
        "valueString",
        "valueCode",
    ):
        value = getattr(element, name, None)
        if value is not None:
            return plain(value)
    return None


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out
