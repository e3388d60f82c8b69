"""Boundary schemas: every byte from outside (a form, a file, an API call) is validated here.

One pydantic model per registry entity - :class:`SiteIn`, :class:`PatientIn`,
:class:`TherapyCourseIn`, :class:`DrugAdministrationIn`, :class:`VisitIn`, :class:`LabResultIn`,
:class:`AdverseEventIn`, :class:`ClinicalEventIn` - with its field rules and its cross-field
``RULES`` (:mod:`.rules`), which apply per record (the repository, the import, the web forms)
and per column of a data frame (:func:`frame_problems`, the bulk loader). :func:`validate`
turns a rejection into :class:`lupuscell.errors.ValidationError` naming record, field and
reason. Users' guide: docs/registry/data_model.md.
"""

from __future__ import annotations

from lupuscell.schemas.errors import validate
from lupuscell.schemas.events import AdverseEventIn, ClinicalEventIn
from lupuscell.schemas.frames import frame_problems
from lupuscell.schemas.patient import PatientIn, SiteIn
from lupuscell.schemas.therapy import DrugAdministrationIn, TherapyCourseIn
from lupuscell.schemas.visit import LabResultIn, VisitIn

__all__ = [
    "AdverseEventIn",
    "ClinicalEventIn",
    "DrugAdministrationIn",
    "LabResultIn",
    "PatientIn",
    "SiteIn",
    "TherapyCourseIn",
    "VisitIn",
    "frame_problems",
    "validate",
]
