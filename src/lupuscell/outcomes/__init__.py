"""Outcomes of a cell-therapy programme for SLE: per-patient endpoints and analysis datasets (pure).

Every source becomes one normalised :class:`CohortData` (JSON input, registry-shaped tables);
:func:`derive_endpoints` derives remission, flare, survival, engraftment and safety endpoints
with the definitions of one :class:`EndpointOptions`; :func:`build_datasets` turns them into
ADSL, ADTTE and ADRS. Day 0, study day and the end of follow-up have one definition,
:mod:`lupuscell.outcomes.timeline`, that the registry, the reports and the web app use too.
Nothing here reads a database or writes a file (registry: :mod:`lupuscell.registry.tables`;
files: :mod:`lupuscell.reports.dataset_files`).

Public API
----------
EndpointOptions, DEFAULT_OPTIONS
    Every endpoint definition as a named, documented option (docs/outcomes/endpoints.md).
CohortData, from_json_payload, parse_payload, from_tables, concat, empty_cohort
    The engine's input form and its loaders (``lupuscell endpoints`` JSON; registry tables).
derive_endpoints, derive_patient, records, EndpointResult
    Vectorised derivation over a cohort; one patient as a dict; JSON-ready rows.
reference_endpoints
    The independent per-patient implementation the engine is tested against.
build_datasets, AnalysisDatasets
    ADSL, ADTTE and ADRS (docs/outcomes/datasets.md).
study_day, follow_up, index_courses, first_deaths, alive_dates, ALIVE_SOURCES
    Day 0, study day, last known alive date and end of follow-up (one definition for all).

See docs/outcomes/ for the definitions with their sources and worked examples.
"""

from lupuscell.outcomes.cohort import CohortData, concat, empty_cohort
from lupuscell.outcomes.datasets import AnalysisDatasets, build_datasets
from lupuscell.outcomes.definitions import DEFAULT_OPTIONS, EndpointOptions
from lupuscell.outcomes.endpoints import EndpointResult, derive_endpoints, derive_patient, records
from lupuscell.outcomes.inputs import from_tables
from lupuscell.outcomes.json_input import from_json_payload, parse_payload
from lupuscell.outcomes.reference import reference_endpoints
from lupuscell.outcomes.timeline import (
    ALIVE_SOURCES,
    alive_dates,
    first_deaths,
    follow_up,
    index_courses,
    study_day,
)

__all__ = [
    "ALIVE_SOURCES",
    "DEFAULT_OPTIONS",
    "AnalysisDatasets",
    "CohortData",
    "EndpointOptions",
    "EndpointResult",
    "alive_dates",
    "build_datasets",
    "concat",
    "derive_endpoints",
    "derive_patient",
    "empty_cohort",
    "first_deaths",
    "follow_up",
    "from_json_payload",
    "from_tables",
    "index_courses",
    "parse_payload",
    "records",
    "reference_endpoints",
    "study_day",
]
