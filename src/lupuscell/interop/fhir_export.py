"""Export registry patients as a FHIR R4 Bundle (validated with the ``fhir.resources`` R4B models).

``lupuscell export fhir --out FILE.json [--patient CODE]`` writes one Bundle (type
``collection``) holding, per patient:

============================  ===================================================================
Registry                      FHIR R4 resource
============================  ===================================================================
site                          Organization (identifier ``urn:lupuscell:site-code``, name, country)
patient                       Patient (identifier ``urn:lupuscell:patient-code``, gender, birth year
                              as a year-only ``birthDate``, ``deceasedDateTime``)
SLE diagnosis                 Condition, SNOMED CT 55464009; diagnosis date as the core extension
                              ``condition-assertedDate``; criteria and organ involvement as
                              registry-field extensions
lupus nephritis class         Condition, SNOMED CT 68815009, ISN/RPS class in ``stage.summary``
prior therapies               MedicationStatement (category ``prior-therapy``), RxNorm where known
therapy course                Procedure (lupuscell therapy code; infusion date = performedDateTime;
                              the other phase dates, doses and route as registry-field extensions;
                              a not done / unknown field as its extension with a data-absent-reason
                              ``valueCodeableConcept``)
drug administration           MedicationAdministration (``partOf`` the course's Procedure; dose;
                              purpose as category), RxNorm where known
visit                         Encounter (ambulatory) + Observation ``sle-visit-assessment`` with one
                              component per recorded field (SLEDAI-2K descriptors, PGA, prednisone
                              mg/day, treatment flags, BILAG-2004 grades); a minimum-data field
                              recorded as not done / unknown is a component with
                              ``dataAbsentReason`` ``not-performed`` / ``unknown``
laboratory result             Observation (category laboratory; LOINC where confirmed plus the
                              lupuscell analyte code; value and unit as entered, UCUM code where
                              known)
adverse event                 AdverseEvent (term, category, onset ``date``, seriousness, course as
                              ``suspectEntity``; grade, resolution and relatedness as extensions)
death, flare, relapse,        Observation ``urn:lupuscell:clinical-event`` (cause, relation to
last contact                  treatment and severity as components)
============================  ===================================================================

Codes: :mod:`lupuscell.interop.terminology` (each standard code confirmed from a cited source).
Every resource is validated by ``fhir.resources`` before the file is written. De-identified by
default (subject ids; study days written as dates from 2000-01-01, see
:mod:`lupuscell.interop.frames`); ``identified=True`` exports the records as stored and is
what round-trips into another registry (:mod:`lupuscell.interop.fhir_import`).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell import __version__, units
from lupuscell.errors import NotFoundError
from lupuscell.interop import _registry_io as rio
from lupuscell.interop import terminology as term
from lupuscell.interop.fhir_common import (
    AE_CATEGORY,
    ANALYTE,
    BILAG,
    CLINICAL_EVENT,
    CODE_LIST,
    DATA_ABSENT_REASON,
    DRUG_PURPOSE,
    MEDICATION_CATEGORY,
    MISSING,
    OBSERVATION,
    PATIENT_CODE,
    PRIOR_THERAPY,
    SITE_CODE,
    STATE_TO_ABSENT_REASON,
    SUBJECT_ID,
    THERAPY,
    VISIT_ASSESSMENT,
    coding,
    concept,
    extension,
    field_url,
)
from lupuscell.interop.frames import as_records

COURSE_EXTENSIONS = tuple(
    f
    for f in rio.LAYOUT["therapy_courses"].fields
    if f not in ("patient_code", "course_no", "therapy", "infusion_date", MISSING)
)
VISIT_COMPONENTS = tuple(
    f for f in rio.LAYOUT["visits"].fields if f not in ("patient_code", "visit_date", MISSING)
)
UCUM_MG_PER_DAY = "mg/d"


def _uuid(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'lupuscell:{kind}:{key}')}"


@dataclass
class _Builder:
    entries: list[dict[str, Any]]

    def add(self, resource: dict[str, Any], kind: str, key: str) -> str:
        url = _uuid(kind, key)
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _ref(url: str) -> dict[str, str]:
    return {"reference": url}


def _organization(site: dict[str, Any]) -> dict[str, Any]:
    org: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [{"system": SITE_CODE, "value": site["code"]}],
    }
    if site.get("name"):  # a de-identified export drops the site's name (its code stays)
        org["name"] = site["name"]
    if site.get("country"):
        org["address"] = [{"country": site["country"]}]
    return org


def _patient(p: dict[str, Any], org: str | None, death: Any, system: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": p["code"]}],
        "gender": {"F": "female", "M": "male"}[p["sex"]],
    }
    if p.get("birth_year") is not None:
        out["birthDate"] = f"{int(p['birth_year']):04d}"
    if org:
        out["managingOrganization"] = _ref(org)
    if death is not None:
        out["deceasedDateTime"] = death.isoformat()
    return out


def _conditions(p: dict[str, Any], subject: str) -> Iterator[tuple[dict[str, Any], str]]:
    sle = term.condition("sle")
    extensions = []
    if p.get("sle_diagnosis_date") is not None:
        extensions.append(
            {"url": term.system("asserted_date"), "valueDateTime": p["sle_diagnosis_date"].isoformat()}
        )
    if p.get("classification_criteria"):
        extensions.append(extension("classification_criteria", p["classification_criteria"]))
    extensions += [extension("organ_involvement", organ) for organ in p.get("organ_involvement") or []]
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "subject": _ref(subject),
        "code": concept(term.system("snomed"), sle["snomed"], sle["display"], "Systemic lupus erythematosus"),
    }
    if extensions:
        condition["extension"] = extensions
    yield condition, "sle"
    if p.get("nephritis_class"):
        ln = term.condition("lupus_nephritis")
        yield (
            {
                "resourceType": "Condition",
                "subject": _ref(subject),
                "code": concept(term.system("snomed"), ln["snomed"], ln["display"], "Lupus nephritis"),
                "stage": [
                    {
                        "summary": concept(
                            f"{CODE_LIST}:isn-rps-class",
                            p["nephritis_class"],
                            text=f"ISN/RPS class {p['nephritis_class']}",
                        )
                    }
                ],
            },
            "ln",
        )


def _medication(name: str) -> dict[str, Any]:
    known = term.drug(name)
    out: dict[str, Any] = {"text": name}
    if known is not None:
        out["coding"] = [coding(term.system("rxnorm"), known["rxnorm"])]
    return out


def _absent(state: str) -> dict[str, Any]:
    """The data-absent-reason CodeableConcept of a registry missing-value state."""
    return concept(DATA_ABSENT_REASON, STATE_TO_ABSENT_REASON[state])


def _states(record: dict[str, Any]) -> list[tuple[str, str]]:
    states = record.get(MISSING)
    return sorted(states.items()) if isinstance(states, dict) else []


def _course(c: dict[str, Any], subject: str) -> dict[str, Any]:
    """Procedure; a field's missing-value state is its registry-field extension holding a
    data-absent-reason ``valueCodeableConcept`` instead of a value."""
    extensions = [extension(name, c[name]) for name in COURSE_EXTENSIONS if c.get(name) is not None]
    extensions += [
        {"url": field_url(name), "valueCodeableConcept": _absent(state)} for name, state in _states(c)
    ]
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": _ref(subject),
        "code": concept(THERAPY, c["therapy"], text=f"Cellular therapy: {c['therapy']}"),
        "performedDateTime": c["infusion_date"].isoformat(),
        "extension": extensions,
    }


def _drug(d: dict[str, Any], subject: str, course: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": _medication(d["drug"]),
        "subject": _ref(subject),
        "partOf": [_ref(course)],
        "effectiveDateTime": d["admin_date"].isoformat(),
        "category": concept(DRUG_PURPOSE, d["purpose"]),
        "dosage": {"dose": {"value": d["dose"], "unit": d["unit"]}},
    }


def _component(name: str, value: Any) -> Iterator[dict[str, Any]]:
    if name == BILAG:
        for domain, grade in sorted((value or {}).items()):
            yield {
                "code": concept(field_url(BILAG), domain),
                "valueCodeableConcept": concept(f"{CODE_LIST}:bilag-grade", grade),
            }
        return
    code = {"coding": [coding(field_url(name), name)]}
    if isinstance(value, bool):
        yield {"code": code, "valueBoolean": value}
    elif isinstance(value, int):
        yield {"code": code, "valueInteger": value}
    elif name == "prednisone_mg_per_day":
        yield {
            "code": code,
            "valueQuantity": {
                "value": value,
                "unit": "mg/day",
                "system": term.system("ucum"),
                "code": UCUM_MG_PER_DAY,
            },
        }
    elif isinstance(value, float):
        yield {"code": code, "valueQuantity": {"value": value}}
    else:
        yield {"code": code, "valueString": str(value)}


def _visit(v: dict[str, Any], subject: str, encounter: str) -> dict[str, Any]:
    components = [
        c for name in VISIT_COMPONENTS if v.get(name) is not None for c in _component(name, v[name])
    ]
    components += [  # explicit missing-value states: a component without value, with its reason
        {"code": {"coding": [coding(field_url(name), name)]}, "dataAbsentReason": _absent(state)}
        for name, state in _states(v)
    ]
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [concept(term.system("observation_category"), "exam")],
        "code": concept(
            OBSERVATION,
            VISIT_ASSESSMENT,
            "SLE disease activity assessment",
            "SLEDAI-2K descriptors, physician global assessment and treatment",
        ),
        "subject": _ref(subject),
        "encounter": _ref(encounter),
        "effectiveDateTime": v["visit_date"].isoformat(),
    }
    if components:
        out["component"] = components
    return out


def _lab(lab: dict[str, Any], subject: str) -> dict[str, Any]:
    code = term.analyte_code(lab["analyte"])
    codings = [coding(ANALYTE, lab["analyte"])]
    if code.loinc:
        codings.insert(0, coding(term.system("loinc"), code.loinc, code.display))
    quantity: dict[str, Any] = {"value": lab["value"], "unit": lab["unit"]}
    known = term.unit_codes(lab["analyte"], lab["unit"])
    if known is not None:
        quantity.update(system=term.system("ucum"), code=known[1])
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [concept(term.system("observation_category"), "laboratory")],
        "code": {"coding": codings, "text": units.get_analyte(lab["analyte"]).label},
        "subject": _ref(subject),
        "effectiveDateTime": lab["result_date"].isoformat(),
        "valueQuantity": quantity,
    }


def _adverse_event(a: dict[str, Any], subject: str, course: str | None) -> dict[str, Any]:
    extra = [
        rio.AE_GRADE,
        "resolution_date",
        "relatedness",
        "grading_system",
    ]
    out: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "actuality": "actual",
        "subject": _ref(subject),
        "category": [concept(AE_CATEGORY, a["category"])],
        "date": a["onset_date"].isoformat(),
        "seriousness": concept(
            term.system("ae_seriousness"), "serious" if a.get("serious") else "non-serious"
        ),
        "extension": [extension(name, a[name]) for name in extra if a.get(name) is not None],
    }
    if a.get("term"):
        out["event"] = {"text": a["term"]}
    if course is not None:
        out["suspectEntity"] = [{"instance": _ref(course)}]
    return out


def _clinical_event(e: dict[str, Any], subject: str) -> dict[str, Any]:
    components = [
        c
        for name in ("cause", "treatment_related", "severity")
        if e.get(name) is not None
        for c in _component(name, e[name])
    ]
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": concept(CLINICAL_EVENT, e["event_type"], text=e["event_type"].replace("_", " ")),
        "subject": _ref(subject),
        "effectiveDateTime": e["event_date"].isoformat(),
    }
    if components:
        out["component"] = components
    return out


def _prior_therapy(name: str, subject: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "category": concept(MEDICATION_CATEGORY, PRIOR_THERAPY, text="Prior therapy before cellular therapy"),
        "medicationCodeableConcept": _medication(name),
        "subject": _ref(subject),
    }


def _by_patient(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[str(row["patient_code"])].append(row)
    return out


def _patient_entries(
    b: _Builder,
    p: dict[str, Any],
    org: str | None,
    tables: dict[str, dict[str, list[dict[str, Any]]]],
    system: str,
) -> None:
    code = str(p["code"])
    events = tables["clinical_events"].get(code, [])
    death = next((e["event_date"] for e in events if e["event_type"] == "death"), None)
    subject = b.add(_patient(p, org, death, system), "patient", code)
    for resource, kind in _conditions(p, subject):
        b.add(resource, f"condition-{kind}", code)
    for i, name in enumerate(p.get("prior_therapies") or []):
        b.add(_prior_therapy(name, subject), "prior-therapy", f"{code}/{i}")
    courses = {}
    for c in tables["therapy_courses"].get(code, []):
        courses[c["course_no"]] = b.add(_course(c, subject), "course", f"{code}/{c['course_no']}")
    for i, d in enumerate(tables["drug_administrations"].get(code, [])):
        b.add(_drug(d, subject, courses[d["course_no"]]), "drug", f"{code}/{i}")
    for v in tables["visits"].get(code, []):
        key = f"{code}/{v['visit_date']}"
        encounter = b.add(
            {
                "resourceType": "Encounter",
                "status": "finished",
                "class": coding(term.system("act_code"), "AMB", "ambulatory"),
                "subject": _ref(subject),
                "period": {"start": v["visit_date"].isoformat()},
            },
            "encounter",
            key,
        )
        b.add(_visit(v, subject, encounter), "visit", key)
    for i, lab in enumerate(tables["lab_results"].get(code, [])):
        b.add(_lab(lab, subject), "lab", f"{code}/{i}")
    for i, a in enumerate(tables["adverse_events"].get(code, [])):
        b.add(_adverse_event(a, subject, courses.get(a.get("course_no"))), "ae", f"{code}/{i}")
    for i, e in enumerate(events):
        b.add(_clinical_event(e, subject), "event", f"{code}/{i}")


def build_bundle(
    records: dict[str, list[dict[str, Any]]], patient: str | None = None, *, identified: bool = True
) -> dict[str, Any]:
    """The Bundle (JSON-ready dict, validated by ``fhir.resources``) of registry records.

    Patients are identified by ``urn:lupuscell:patient-code`` (identified records) or
    ``urn:lupuscell:subject-id`` (de-identified ones, which do not import as registry patients).
    """
    from fhir.resources.R4B.bundle import Bundle

    patients = records["patients"]
    if patient is not None:
        patients = [p for p in patients if str(p["code"]) == patient]
        if not patients:
            raise NotFoundError(f"--patient: no patient {patient!r} in the registry")
    tables = {
        name: _by_patient(records[name]) for name in rio.TABLE_NAMES if name not in ("sites", "patients")
    }
    b = _Builder(entries=[])
    used = {p["site_code"] for p in patients}  # the cohort: every site, also those without patients
    orgs = {
        s["code"]: b.add(_organization(s), "site", s["code"])
        for s in records["sites"]
        if patient is None or s["code"] in used
    }
    for p in patients:
        _patient_entries(b, p, orgs.get(p["site_code"]), tables, PATIENT_CODE if identified else SUBJECT_ID)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": b.entries}
    return json.loads(Bundle.model_validate(bundle).model_dump_json(exclude_none=True))


@dataclass(frozen=True)
class FhirExport:
    out: Path
    resources: int
    patients: int
    identified: bool


def export_fhir(
    engine: Engine,
    out: Path,
    *,
    patient: str | None = None,
    identified: bool = False,
    actor: str,
    reason: str | None = None,
    overwrite: bool = False,
) -> FhirExport:
    """Write one patient (``patient``, a code, or a subject id when de-identified) or the cohort
    as a FHIR Bundle JSON file (audited, see :func:`lupuscell.interop._registry_io.audited_output`)."""
    frames = rio.read_tables(engine, identified=identified)
    bundle = build_bundle(as_records(frames, identified=identified), patient, identified=identified)
    n_patients = sum(1 for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    rows = {"patients": n_patients, "resources": len(bundle["entry"])}
    bundle["meta"] = {
        "tag": [
            coding(
                f"{CODE_LIST}:export",
                "identified" if identified else "de-identified",
                f"lupuscell {__version__}",
            )
        ]
    }
    with rio.audited_output(
        engine,
        out,
        kind="fhir",
        identified=identified,
        actor=actor,
        reason=reason,
        rows=rows,
        directory=False,
        overwrite=overwrite,
    ) as target:
        target.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return FhirExport(out=out, resources=len(bundle["entry"]), patients=n_patients, identified=identified)
