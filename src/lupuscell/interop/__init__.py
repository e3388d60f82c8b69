"""Exchange with systems outside the registry: REDCap, FHIR R4, CDISC ADaM, OMOP CDM, ClinicalTrials.gov.

Every converter turns an outside format into the registry's own exchange layout and back;
imports go through the registry's one import path (:mod:`lupuscell.interop._registry_io`: the
boundary schemas, the cross-record rules, one audited import batch, all or nothing, every
problem named by source record and field), and every export is audited and de-identified by
default. Docs: docs/interop/.

Public API
----------
import_redcap_files, import_redcap_api
    A REDCap project (data dictionary + raw records CSV, or the live API through PyCap with the
    token from an environment variable) imported with a mapping file
    (:mod:`lupuscell.interop.redcap`).
RedcapMapping, load_mapping, check_mapping
    The mapping file (YAML) of a REDCap import, read and checked against the data dictionary.
export_redcap
    The registry as a REDCap project: data dictionary, records and the mapping back.
export_fhir, build_bundle
    Registry patients as a FHIR R4 Bundle validated by the ``fhir.resources`` R4B models.
import_fhir, parse_bundle
    A FHIR R4 Bundle (Patient, Condition, Observation, Procedure, MedicationAdministration,
    MedicationStatement, AdverseEvent) imported into the registry.
export_cdisc, adam_datasets
    ADSL, ADTTE and ADRS as CDISC ADaM datasets (SAS transport v5, CSV, Parquet) with
    Define-XML 2.0, from the outcomes engine's analysis datasets.
export_omop, omop_rows
    The registry as OMOP CDM v5.4 tables (one Parquet file per table), readable by the
    screening engine.
ImportReport, Reject
    What an import wrote (rows per table) and, for a partial import, the rejected records.
ClinicalTrialsClient, TrialsUnavailableError, parse_studies, Trial
    The ClinicalTrials.gov API v2 client, its offline error, its study parser and a trial.
screen_patient, screen_trials, TrialMatch
    A registry patient screened against each trial's age and sex limits and structured criteria.

Submodules are imported on first use (PEP 562), so ``lupuscell --help`` does not load
pandas, fhir.resources or pyreadstat.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and the API reference
    from lupuscell.interop._registry_io import ImportReport, Reject
    from lupuscell.interop.cdisc import adam_datasets, export_cdisc
    from lupuscell.interop.ctgov import (
        ClinicalTrialsClient,
        Trial,
        TrialMatch,
        TrialsUnavailableError,
        parse_studies,
        screen_patient,
        screen_trials,
    )
    from lupuscell.interop.fhir_export import build_bundle, export_fhir
    from lupuscell.interop.fhir_import import import_fhir, parse_bundle
    from lupuscell.interop.omop_export import export_omop, omop_rows
    from lupuscell.interop.redcap import import_redcap_api, import_redcap_files
    from lupuscell.interop.redcap_export import export_redcap
    from lupuscell.interop.redcap_mapping import RedcapMapping, check_mapping, load_mapping

_WHERE = {
    "ImportReport": "_registry_io",
    "Reject": "_registry_io",
    "adam_datasets": "cdisc",
    "export_cdisc": "cdisc",
    "ClinicalTrialsClient": "ctgov",
    "Trial": "ctgov",
    "TrialMatch": "ctgov",
    "TrialsUnavailableError": "ctgov",
    "parse_studies": "ctgov",
    "screen_patient": "ctgov",
    "screen_trials": "ctgov",
    "build_bundle": "fhir_export",
    "export_fhir": "fhir_export",
    "import_fhir": "fhir_import",
    "parse_bundle": "fhir_import",
    "export_omop": "omop_export",
    "omop_rows": "omop_export",
    "import_redcap_api": "redcap",
    "import_redcap_files": "redcap",
    "export_redcap": "redcap_export",
    "RedcapMapping": "redcap_mapping",
    "check_mapping": "redcap_mapping",
    "load_mapping": "redcap_mapping",
}

__all__ = [
    "ClinicalTrialsClient",
    "ImportReport",
    "RedcapMapping",
    "Reject",
    "Trial",
    "TrialMatch",
    "TrialsUnavailableError",
    "adam_datasets",
    "build_bundle",
    "check_mapping",
    "export_cdisc",
    "export_fhir",
    "export_omop",
    "export_redcap",
    "import_fhir",
    "import_redcap_api",
    "import_redcap_files",
    "load_mapping",
    "omop_rows",
    "parse_bundle",
    "parse_studies",
    "screen_patient",
    "screen_trials",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'lupuscell.interop' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lupuscell.interop.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
