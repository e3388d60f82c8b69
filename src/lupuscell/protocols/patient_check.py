"""One registry patient checked against a protocol, or prepared for the trial finder: the one
path shared by ``lupuscell eligibility``, ``lupuscell trials find --patient`` and the web app
(the eligibility panel of a patient's page, ``/api/v1/patients/{code}/eligibility`` and the
patient's trial finder).

The patient's data are the registry's single timeline read,
:func:`lupuscell.registry.views.patient_timeline` (``lupuscell eligibility`` reads it through
:func:`lupuscell.registry.eligibility_read.read_patient`; the web app through the same function
with the caller's sites, so a patient of another site is not found). From a timeline,
:func:`check_timeline` takes the index date (the one given, else
:func:`lupuscell.registry.eligibility_read.default_index_date`: the first treatment step of the
first course), builds the :class:`~lupuscell.protocols.record.PatientRecord`
(:func:`lupuscell.protocols.registry_record.record_from_timeline`) and evaluates the protocol
(:func:`lupuscell.protocols.evaluate.evaluate`). Nothing is guessed: a patient without a therapy
course and without a given screening date is refused, naming ``index_date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell.errors import Problem, ValidationError
from lupuscell.protocols.catalog import Bundle, load_bundle, load_concept_set, shipped_concept_set_names
from lupuscell.protocols.concepts import ConceptSet
from lupuscell.protocols.evaluate import EligibilityResult, evaluate
from lupuscell.protocols.record import PatientRecord
from lupuscell.protocols.registry_record import record_from_timeline
from lupuscell.registry.eligibility_read import default_index_date, read_patient

GIVEN_INDEX_RULE = "given by the user"


class NoIndexDateError(ValidationError):
    """No screening date given and none to derive (the patient has no therapy course)."""


def check_timeline(
    timeline: Mapping[str, Any],
    bundle: Bundle,
    index_date: dt.date | None = None,
    index_rule: str = GIVEN_INDEX_RULE,
) -> EligibilityResult:
    """The per-criterion verdicts of the patient in ``timeline`` on ``bundle``'s protocol.

    Parameters
    ----------
    timeline
        :func:`lupuscell.registry.views.patient_timeline` of the patient.
    bundle
        The protocol with its concept sets (:func:`lupuscell.protocols.catalog.load_bundle`).
    index_date
        The screening date; default: the first treatment step of the first therapy course.
    index_rule
        How a given ``index_date`` was chosen (shown with the result).

    Raises
    ------
    NoIndexDateError
        A :class:`~lupuscell.errors.ValidationError` naming ``index_date`` when none is given
        and the patient has no therapy course.
    """
    if index_date is None:
        found, rule = default_index_date(dict(timeline))
        if found is None:
            raise NoIndexDateError(Problem(f"patient {timeline['patient']['code']}", "index_date", rule))
        index_date, index_rule = found, rule
    record, warnings = record_from_timeline(timeline, index_date, index_rule, bundle.concept_sets)
    sets = {name: cs.listed_ids() for name, cs in bundle.concept_sets.items()}
    return evaluate(bundle.protocol, record, sets, warnings)


def check_registry_patient(
    engine: Engine,
    code: str,
    protocol: str,
    *,
    index_date: dt.date | None = None,
    index_rule: str = GIVEN_INDEX_RULE,
    concept_dirs: Sequence[Path] = (),
) -> EligibilityResult:
    """Read patient ``code`` (:func:`~lupuscell.registry.eligibility_read.read_patient`) and check
    it on ``protocol`` (a shipped name or a .yaml path) with :func:`check_timeline`."""
    bundle = load_bundle(protocol, list(concept_dirs))
    return check_timeline(read_patient(engine, code), bundle, index_date, index_rule)


@cache
def shipped_concept_sets() -> Mapping[str, ConceptSet]:
    """Every shipped concept set by name (the trial finder matches prior therapies to them)."""
    return {name: load_concept_set(name) for name in shipped_concept_set_names()}


def trial_record(timeline: Mapping[str, Any], as_of: dt.date) -> PatientRecord:
    """The patient's record for the trial finder (:func:`lupuscell.interop.ctgov.screen_patient`):
    the search date is the index date, prior therapies matched to every shipped concept set."""
    record, _ = record_from_timeline(timeline, as_of, "the search date", shipped_concept_sets())
    return record
