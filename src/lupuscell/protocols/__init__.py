"""Protocol eligibility rules as data, and their evaluation on one patient.

A protocol is a YAML file (``lupuscell/data/protocols/<name>.yaml``) validated by
:mod:`lupuscell.protocols.schema`: criteria in screening order, each with its id, text, kind,
parameters and source. Criteria name *concept sets* (``lupuscell/data/concept_sets``, or ATLAS
exports) of OMOP concept ids (:mod:`lupuscell.protocols.concepts`).

The same definition runs in three places:

* on one person's data (:mod:`lupuscell.protocols.evaluate`, pure): met / not met / unknown per
  criterion with the evidence (date, value, unit); a registry patient is read by
  :mod:`lupuscell.registry.eligibility_read` and turned into a
  :class:`~lupuscell.protocols.record.PatientRecord` by :mod:`lupuscell.protocols.registry_record`;
* compiled to SQL over an OMOP CDM database (DuckDB, PostgreSQL, Spark) by
  :mod:`lupuscell.screening`.

Modules: ``schema`` (pydantic model), ``concepts`` (concept sets, ATLAS reader), ``catalog``
(finding and checking protocols and concept sets), ``measures`` (units of thresholds and OMOP
unit concepts), ``record`` (the per-person input), ``logic`` (three-valued verdicts),
``evaluate`` (the evaluator), ``registry_record`` (registry rows to a record), ``patient_check``
(the one path from a registry patient to a result, shared by ``lupuscell eligibility``,
``lupuscell trials find --patient`` and the web app).

Public API
----------
load_protocol, parse_protocol, shipped_protocol_names, KINDS, Window
    A protocol from the package data or a YAML text, validated; the criterion kinds; a look-back window.
load_bundle, Bundle
    A protocol with every concept set it names, resolved.
ConceptSet, load_concept_set, shipped_concept_set_names, from_atlas, from_atlas_file
    Concept sets as files, and concept sets exported from ATLAS (its JSON).
ConditionFact, DrugFact, MeasurementFact, VisitFact
    One person's dated facts, the evaluator's input.
Verdict, Evidence, CriterionResult, EligibilityResult
    Met / not met / unknown per criterion, with the evidence (date, value, unit) behind it.
"""

from __future__ import annotations

from lupuscell.protocols.catalog import (
    Bundle,
    load_bundle,
    load_concept_set,
    load_protocol,
    shipped_concept_set_names,
    shipped_protocol_names,
)
from lupuscell.protocols.concepts import ConceptSet, from_atlas, from_atlas_file
from lupuscell.protocols.evaluate import CriterionResult, EligibilityResult, Evidence, evaluate
from lupuscell.protocols.logic import Verdict
from lupuscell.protocols.record import (
    ConditionFact,
    DrugFact,
    MeasurementFact,
    PatientRecord,
    VisitFact,
)
from lupuscell.protocols.schema import KINDS, Protocol, Window, parse_protocol

__all__ = [
    "KINDS",
    "Bundle",
    "ConceptSet",
    "ConditionFact",
    "CriterionResult",
    "DrugFact",
    "EligibilityResult",
    "Evidence",
    "MeasurementFact",
    "PatientRecord",
    "Protocol",
    "Verdict",
    "VisitFact",
    "Window",
    "evaluate",
    "from_atlas",
    "from_atlas_file",
    "load_bundle",
    "load_concept_set",
    "load_protocol",
    "parse_protocol",
    "shipped_concept_set_names",
    "shipped_protocol_names",
]
