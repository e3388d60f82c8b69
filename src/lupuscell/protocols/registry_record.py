"""Turn a registry patient's timeline into a :class:`~lupuscell.protocols.record.PatientRecord`.

Pure: the timeline dict comes from :func:`lupuscell.registry.eligibility_read.read_patient`.
What the registry holds, and how it is read:

* the SLE diagnosis (``sle_diagnosis_date``) becomes condition 257628, *adjudicated*: the
  registry records a classified diagnosis, so it satisfies a "coded on two days" rule by itself;
* the lupus nephritis class (ISN/RPS) becomes the matching WHO-class concept (III -> 4297164,
  IV -> 4267801, V -> 4178133, ...; "renal" organ involvement without a class -> 4285717),
  undated (the registry does not date it);
* prior therapies (free text) become drug facts known to precede the index date, matched to a
  concept set through the set's ``aliases``; a visit's recorded prednisone dose above 0 is a
  glucocorticoid exposure on the visit date; the therapy course's own drugs (mobilisation,
  conditioning, lymphodepletion) are treatment, not history, and are not read; the registry
  does not hold a complete drug history, so a drug's absence is unknown, never "not taken";
* laboratory results keep their analyte code, value and unit (converted per criterion);
* a visit whose SLEDAI-2K descriptors were all assessed gives a SLEDAI-2K total (scored with
  :func:`lupuscell.instruments.sledai2k.score_sledai_2k`), recorded as measurement ``sledai2k``;
* visits are outpatient visits (9202).

The registry does not capture comorbid conditions (infections, malignancy, pregnancy), LVEF or
observation periods: criteria that need them are *unknown* for a registry patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lupuscell import vocab
from lupuscell.instruments.sledai2k import score_sledai_2k
from lupuscell.protocols.concepts import ConceptSet
from lupuscell.protocols.record import ConditionFact, DrugFact, MeasurementFact, PatientRecord, VisitFact

SLE_CONCEPT = 257628
LUPUS_NEPHRITIS_CONCEPT = 4285717
OUTPATIENT_VISIT = 9202
NEPHRITIS_CLASS_CONCEPTS: Mapping[str, tuple[int, ...]] = {
    "I": (4250483,),
    "II": (4186940,),
    "III": (4297164,),
    "IV": (4267801,),
    "V": (4178133,),
    "VI": (4002526,),
    "III+V": (4297164, 4178133),
    "IV+V": (4267801, 4178133),
}


def _conditions(patient: Mapping[str, Any]) -> list[ConditionFact]:
    facts = []
    diagnosed = patient.get("sle_diagnosis_date")
    facts.append(
        ConditionFact(
            SLE_CONCEPT,
            diagnosed,
            f"SLE diagnosis ({patient.get('classification_criteria') or 'criteria not recorded'})",
            "dated" if diagnosed else "before_index",
            confirmed=True,
        )
    )
    klass = patient.get("nephritis_class")
    if klass:
        for concept in NEPHRITIS_CLASS_CONCEPTS[klass]:
            facts.append(
                ConditionFact(concept, None, f"lupus nephritis class {klass}", "before_index", confirmed=True)
            )
    elif "renal" in (patient.get("organ_involvement") or []):
        facts.append(
            ConditionFact(LUPUS_NEPHRITIS_CONCEPT, None, "renal involvement", "before_index", confirmed=True)
        )
    return facts


def alias_index(concept_sets: Mapping[str, ConceptSet]) -> dict[str, str]:
    """Lower-case drug name or alias -> concept-set name."""
    index: dict[str, str] = {}
    for name, cs in concept_sets.items():
        for alias in (name, *cs.aliases):
            index[alias.strip().lower()] = name
    return index


def _drugs(patient: Mapping[str, Any], aliases: Mapping[str, str]) -> tuple[list[DrugFact], list[str]]:
    facts, unmatched = [], []
    for therapy in patient.get("prior_therapies") or []:
        name = aliases.get(str(therapy).strip().lower())
        if name is None:
            unmatched.append(str(therapy))
            continue
        facts.append(DrugFact(None, name, None, f"prior therapy {therapy}", "before_index"))
    return facts, unmatched


def _glucocorticoids(timeline: Mapping[str, Any], aliases: Mapping[str, str]) -> list[DrugFact]:
    name = aliases.get("prednisone")
    if name is None:
        return []
    return [
        DrugFact(None, name, v["visit_date"], f"prednisone {v['prednisone_mg_per_day']:g} mg/day at visit")
        for v in timeline.get("visits") or []
        if (v.get("prednisone_mg_per_day") or 0) > 0
    ]


def _sledai(visit: Mapping[str, Any]) -> float | None:
    descriptors = {key: visit.get(key) for key in vocab.SLEDAI_2K_DESCRIPTORS}
    if any(value is None for value in descriptors.values()):
        return None
    window = visit.get("sledai_window_days") if visit.get("sledai_window_days") in (10, 30) else 10
    result = score_sledai_2k({"descriptors": descriptors, "window_days": window})
    return float(result["sledai_2k"])


def _measurements(timeline: Mapping[str, Any]) -> list[MeasurementFact]:
    facts = [
        MeasurementFact(None, lab["analyte"], lab["result_date"], lab["value"], lab["unit"], "registry lab")
        for lab in timeline.get("labs") or []
    ]
    for visit in timeline.get("visits") or []:
        score = _sledai(visit)
        if score is not None:
            facts.append(
                MeasurementFact(None, "sledai2k", visit["visit_date"], score, "{score}", "visit SLEDAI-2K")
            )
    return facts


def record_from_timeline(
    timeline: Mapping[str, Any],
    index_date: dt.date,
    index_rule: str,
    concept_sets: Mapping[str, ConceptSet],
) -> tuple[PatientRecord, tuple[str, ...]]:
    """The patient's :class:`PatientRecord` and warnings (e.g. prior therapies matching no set)."""
    patient = timeline["patient"]
    aliases = alias_index(concept_sets)
    drugs, unmatched = _drugs(patient, aliases)
    drugs += _glucocorticoids(timeline, aliases)
    warnings = tuple(
        f"prior therapy {name!r} matches no concept set of this protocol (not counted)" for name in unmatched
    )
    record = PatientRecord(
        person=patient["code"],
        index_date=index_date,
        birth_year=patient.get("birth_year"),
        sex=patient.get("sex"),
        observation_periods=None,
        conditions=tuple(_conditions(patient)),
        drugs=tuple(drugs),
        measurements=tuple(_measurements(timeline)),
        visits=tuple(
            VisitFact(OUTPATIENT_VISIT, v["visit_date"], "registry visit")
            for v in timeline.get("visits") or []
        ),
        complete=frozenset(),
        source="registry",
        index_date_rule=index_rule,
    )
    return record, warnings
