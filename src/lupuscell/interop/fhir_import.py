"""Import a FHIR R4 Bundle into the registry (parsed and validated with ``fhir.resources`` R4B).

``lupuscell import fhir --bundle FILE.json`` reads the resources the FHIR export writes
(:mod:`lupuscell.interop.fhir_export`, where the mapping is tabulated) and the same resources
from a hospital's FHIR server:

* Patient: the registry code is the identifier with system ``urn:lupuscell:patient-code``
  (another system can be named); sex from ``gender`` (female/male: the registry records F or
  M, other values are refused, not guessed); birth year from ``birthDate`` (a full date is
  reduced to its year); ``deceasedDateTime`` becomes a death when no death Observation says
  more; the site from ``managingOrganization`` (identifier ``urn:lupuscell:site-code``) or
  the ``site`` given.
* Condition SNOMED CT 55464009 (SLE; required for every patient), 68815009 (lupus nephritis,
  ISN/RPS class in ``stage``); Procedure with a lupuscell therapy code (therapy courses,
  numbered in infusion order); MedicationAdministration (``partOf`` its course);
  MedicationStatement ``prior-therapy``; Observation: laboratory results by LOINC (confirmed
  codes only, :mod:`lupuscell.interop.terminology`) or lupuscell analyte code, visit
  assessments, clinical events; AdverseEvent. A visit component or course extension carrying a
  ``dataAbsentReason`` (``not-performed`` -> ``not_done``; ``unknown`` and its children
  ``asked-unknown``, ``temp-unknown``, ``not-asked``, ``asked-declined`` -> ``unknown``) becomes
  the field's explicit missing-value state; any other reason is a problem.

Resources of other kinds or with other codes (a hospital's blood pressure, a hypertension
Condition) are not registry data: they are counted as skipped, never silently turned into
something else. A laboratory Observation whose LOINC code is not one the registry records is a
problem. Everything then goes through the registry's import path
(:mod:`lupuscell.interop._registry_io`): every problem names the Bundle entry, the resource and
the element; nothing is written unless all is well (or ``partial``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
from sqlalchemy.engine import Engine

from lupuscell.errors import Problem, ValidationError
from lupuscell.interop import _registry_io as rio
from lupuscell.interop import terminology as term
from lupuscell.interop.fhir_common import (
    ABSENT_REASON_TO_STATE,
    AE_CATEGORY,
    ANALYTE,
    BILAG,
    CLINICAL_EVENT,
    CODE_LIST,
    DATA_ABSENT_REASON,
    DRUG_PURPOSE,
    FIELD,
    MEDICATION_CATEGORY,
    MISSING,
    OBSERVATION,
    PATIENT_CODE,
    PRIOR_THERAPY,
    SITE_CODE,
    THERAPY,
    VISIT_ASSESSMENT,
    plain,
    untyped,
)

MAX_BUNDLE_BYTES = 500_000_000


class _Bad(Exception):
    def __init__(self, element: str, message: str) -> None:
        super().__init__(message)
        self.element = element


@dataclass
class _Entry:
    index: int
    url: str
    resource: Any

    @property
    def kind(self) -> str:
        return str(self.resource.get_resource_type())

    def where(self, name: str) -> str:
        rid = f"/{self.resource.id}" if self.resource.id else ""
        return f"{name} entry[{self.index}] ({self.kind}{rid})"


@dataclass
class _Reader:
    name: str
    entries: list[_Entry]
    identifier_system: str
    site: str | None
    rows: rio.Rows = field(default_factory=rio.Rows)
    by_ref: dict[str, _Entry] = field(default_factory=dict)
    patients: dict[int, dict[str, Any]] = field(default_factory=dict)
    sle: set[int] = field(default_factory=set)
    skipped: Counter[str] = field(default_factory=Counter)
    course_of: dict[int, tuple[str, int]] = field(default_factory=dict)

    def problem(self, entry: _Entry, element: str, message: str, table: str = "") -> None:
        self.rows.problem(entry.where(self.name), table, element, message)


# --------------------------------------------------------------------------- helpers


def _codes(cc: Any) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept (or a list of them)."""
    concepts = cc if isinstance(cc, list) else [cc]
    return [(c.system or "", c.code or "") for x in concepts if x is not None for c in (x.coding or [])]


def _code(cc: Any, system: str) -> str | None:
    return next((code for s, code in _codes(cc) if s == system), None)


def _date(value: Any, element: str, required: bool = True) -> dt.date | None:
    if value is None:
        if required:
            raise _Bad(element, "is required")
        return None
    value = plain(value)
    if isinstance(value, dt.date):
        return value
    raise _Bad(element, f"date {value!r} is partial (year or month only); a day is never guessed")


class _AbsentReason(ValueError):
    """A data-absent-reason code that is no registry missing-value state."""


def _absent_state(cc: Any) -> str | None:
    """The registry state of a data-absent-reason CodeableConcept (None when there is none)."""
    code = _code(cc, DATA_ABSENT_REASON) if cc is not None else None
    if code is None:
        return None
    if code not in ABSENT_REASON_TO_STATE:
        raise _AbsentReason(
            f"data-absent-reason {code!r} is not a registry missing-value state; "
            f"accepted: {', '.join(ABSENT_REASON_TO_STATE)}"
        )
    return ABSENT_REASON_TO_STATE[code]


def _extensions(resource: Any) -> dict[str, Any]:
    """Registry-field extensions of a resource: name -> value (repeated ones as a list); an
    extension holding a data-absent-reason becomes the field's state in ``missing``."""
    out: dict[str, Any] = {}
    for ext in resource.extension or []:
        state = _absent_state(ext.valueCodeableConcept) if ext.url.startswith(FIELD + ":") else None
        if state is not None:
            out.setdefault(MISSING, {})[ext.url[len(FIELD) + 1 :]] = state
        elif ext.url.startswith(FIELD + ":"):
            name, value = ext.url[len(FIELD) + 1 :], untyped(ext)
            if name in out:
                out[name] = [*(out[name] if isinstance(out[name], list) else [out[name]]), value]
            else:
                out[name] = value
    return out


def _reference(reader: _Reader, ref: Any) -> _Entry | None:
    if ref is None or not ref.reference:
        return None
    return reader.by_ref.get(ref.reference)


# --------------------------------------------------------------------------- parsing


def parse_bundle(text: str, name: str) -> list[_Entry]:
    """Bundle entries validated by ``fhir.resources``; problems name the entry and element."""
    from fhir.resources.R4B.bundle import Bundle

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            Problem(name, "--bundle", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
        ) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise ValidationError(Problem(name, "resourceType", "the file must hold one FHIR Bundle"))
    try:
        bundle = Bundle.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False)[: rio.MAX_PROBLEMS]:
            loc = list(error["loc"])
            where = name
            if len(loc) >= 2 and loc[0] == "entry" and isinstance(loc[1], int):
                resource = (data.get("entry") or [{}])[loc[1]].get("resource") or {}
                kind, rid = resource.get("resourceType", "?"), resource.get("id")
                where = (
                    f"{name} entry[{loc[1]}] ({kind}/{rid})" if rid else f"{name} entry[{loc[1]}] ({kind})"
                )
                loc = loc[3:] if len(loc) > 2 and loc[2] == "resource" else loc[2:]
            problems.append(Problem(where, ".".join(str(p) for p in loc) or "(resource)", error["msg"]))
        raise ValidationError(problems) from None
    return [
        _Entry(i, e.fullUrl or "", e.resource)
        for i, e in enumerate(bundle.entry or [])
        if e.resource is not None
    ]


def _index(entries: list[_Entry]) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    for entry in entries:
        if entry.url:
            out[entry.url] = entry
        if entry.resource.id:
            out[f"{entry.kind}/{entry.resource.id}"] = entry
    return out


# --------------------------------------------------------------------------- resources


def _organizations(reader: _Reader) -> dict[int, str]:
    sites: dict[int, str] = {}
    for entry in reader.entries:
        if entry.kind != "Organization":
            continue
        org = entry.resource
        code = next((i.value for i in org.identifier or [] if i.system == SITE_CODE), None)
        if code is None:
            reader.skipped["Organization"] += 1
            continue
        country = next((a.country for a in org.address or [] if a.country), None)
        row = {"code": code, "name": org.name, "country": country}
        reader.rows.add(
            "sites",
            row,
            rio.SourceRef(
                entry.where(reader.name), {"code": "identifier", "name": "name", "country": "address.country"}
            ),
        )
        sites[entry.index] = code
    return sites


def _patient(reader: _Reader, entry: _Entry, sites: dict[int, str]) -> None:
    p = entry.resource
    code = next((i.value for i in p.identifier or [] if i.system == reader.identifier_system), None)
    if code is None:
        reader.problem(
            entry,
            "identifier",
            f"no identifier with system {reader.identifier_system} (the registry patient code)",
            "patients",
        )
        return
    org = _reference(reader, p.managingOrganization)
    site = sites.get(org.index) if org is not None else reader.site
    if site is None:
        reader.problem(
            entry,
            "managingOrganization",
            "no site: reference an Organization with a urn:lupuscell:site-code identifier, or give --site",
            "patients",
        )
        return
    sex = {"female": "F", "male": "M"}.get(p.gender or "")
    if sex is None:
        reader.problem(
            entry,
            "gender",
            f"gender {p.gender!r} cannot be recorded: the registry records female (F) or male (M)",
            "patients",
        )
        return
    birth = plain(p.birthDate)
    reader.patients[entry.index] = {
        "code": code,
        "site_code": site,
        "sex": sex,
        "birth_year": None if birth is None else int(str(birth)[:4]),
        "sle_diagnosis_date": None,
        "classification_criteria": None,
        "organ_involvement": [],
        "nephritis_class": None,
        "prior_therapies": [],
    }


def _subject(reader: _Reader, entry: _Entry, element: str = "subject") -> dict[str, Any] | None:
    ref = getattr(entry.resource, element, None)
    target = _reference(reader, ref)
    if target is None or target.index not in reader.patients:
        shown = ref.reference if ref is not None and ref.reference else "(none)"
        reader.problem(entry, element, f"reference {shown} is not a Patient read from this Bundle")
        return None
    return reader.patients[target.index]


def _condition(reader: _Reader, entry: _Entry) -> None:
    codes = _codes(entry.resource.code)
    snomed = {c for s, c in codes if s == term.system("snomed")}
    if term.condition("sle")["snomed"] in snomed:
        patient = _subject(reader, entry)
        if patient is None:
            return
        reader.sle.add(id(patient))
        asserted = next(
            (e for e in entry.resource.extension or [] if e.url == term.system("asserted_date")), None
        )
        extensions = _extensions(entry.resource)
        try:
            patient["sle_diagnosis_date"] = _date(
                asserted.valueDateTime if asserted else None, "extension(assertedDate)", False
            )
        except _Bad as exc:
            reader.problem(entry, exc.element, str(exc), "patients")
        patient["classification_criteria"] = extensions.get("classification_criteria")
        organs = extensions.get("organ_involvement", [])
        patient["organ_involvement"] = organs if isinstance(organs, list) else [organs]
    elif term.condition("lupus_nephritis")["snomed"] in snomed:
        patient = _subject(reader, entry)
        stage = [_code(s.summary, f"{CODE_LIST}:isn-rps-class") for s in entry.resource.stage or []]
        if patient is not None:
            patient["nephritis_class"] = next((s for s in stage if s), None)
    else:
        reader.skipped["Condition (not SLE or lupus nephritis)"] += 1


def _prior(reader: _Reader, entry: _Entry) -> None:
    if _code(entry.resource.category, MEDICATION_CATEGORY) != PRIOR_THERAPY:
        reader.skipped["MedicationStatement (not a prior therapy)"] += 1
        return
    patient = _subject(reader, entry)
    med = entry.resource.medicationCodeableConcept
    name = (
        (med.text if med else None) or next((c.display for c in (med.coding or []) if c.display), None)
        if med
        else None
    )
    if patient is not None and name:
        patient["prior_therapies"].append(name)
    elif patient is not None:
        reader.problem(entry, "medicationCodeableConcept.text", "the prior therapy has no name", "patients")


def _fields(reader: _Reader, entry: _Entry, table: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """Registry-field extensions checked against the table's fields."""
    known = set(rio.LAYOUT[table].fields)
    unknown = [name for name in values if name not in known]
    if unknown:
        reader.problem(
            entry, "extension", f"unknown registry field(s) {', '.join(unknown)} for {table}", table
        )
        return None
    return values


def _course(
    reader: _Reader,
    entry: _Entry,
    courses: dict[str, list[tuple[dt.date, int, dict[str, Any], rio.SourceRef]]],
) -> None:
    proc = entry.resource
    therapy = _code(proc.code, THERAPY)
    if therapy is None:
        reader.skipped["Procedure (not a cellular-therapy course)"] += 1
        return
    patient = _subject(reader, entry)
    performed = proc.performedDateTime or (proc.performedPeriod.start if proc.performedPeriod else None)
    try:
        infusion = _date(performed, "performedDateTime")
    except _Bad as exc:
        reader.problem(entry, exc.element, str(exc), "therapy_courses")
        return
    extras = _fields(reader, entry, "therapy_courses", _extensions(proc))
    if patient is None or extras is None or infusion is None:
        return
    row = {"patient_code": patient["code"], "therapy": therapy, "infusion_date": infusion, **extras}
    ref = rio.SourceRef(
        entry.where(reader.name),
        {
            "therapy": "code.coding",
            "infusion_date": "performedDateTime",
            **{k: f"extension({k})" for k in extras},
        },
    )
    courses[patient["code"]].append((infusion, entry.index, row, ref))


def _number_courses(
    reader: _Reader, courses: dict[str, list[tuple[dt.date, int, dict[str, Any], rio.SourceRef]]]
) -> None:
    """Course numbers in infusion order (the registry's export order), then the rows."""
    for code, items in courses.items():
        for number, (_, index, row, ref) in enumerate(sorted(items, key=lambda x: (x[0], x[1])), start=1):
            reader.rows.add("therapy_courses", {**row, "course_no": number}, ref)
            reader.course_of[index] = (code, number)


def _course_ref(reader: _Reader, ref: Any) -> tuple[str, int] | None:
    target = _reference(reader, ref)
    return None if target is None else reader.course_of.get(target.index)


def _drug(reader: _Reader, entry: _Entry) -> None:
    ma = entry.resource
    course = _course_ref(reader, (ma.partOf or [None])[0])
    if course is None:
        reader.problem(
            entry,
            "partOf",
            "must reference the therapy course (Procedure) the drug belongs to",
            "drug_administrations",
        )
        return
    med = ma.medicationCodeableConcept
    name = (med.text or next((c.display or c.code for c in med.coding or []), None)) if med else None
    dose = ma.dosage.dose if ma.dosage else None
    try:
        admin = _date(
            ma.effectiveDateTime or (ma.effectivePeriod.start if ma.effectivePeriod else None),
            "effectiveDateTime",
        )
    except _Bad as exc:
        reader.problem(entry, exc.element, str(exc), "drug_administrations")
        return
    row = {
        "patient_code": course[0],
        "course_no": course[1],
        "drug": name,
        "admin_date": admin,
        "dose": plain(dose.value) if dose else None,
        "unit": (dose.unit or dose.code) if dose else None,
        "purpose": _code(ma.category, DRUG_PURPOSE),
    }
    ref = rio.SourceRef(
        entry.where(reader.name),
        {
            "drug": "medicationCodeableConcept.text",
            "admin_date": "effectiveDateTime",
            "dose": "dosage.dose.value",
            "unit": "dosage.dose.unit",
            "purpose": "category",
        },
    )
    reader.rows.add("drug_administrations", row, ref)


def _component_values(reader: _Reader, entry: _Entry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for comp in entry.resource.component or []:
        for system, code in _codes(comp.code):
            if system == f"{FIELD}:{BILAG}":
                out.setdefault(BILAG, {})[code] = _code(comp.valueCodeableConcept, f"{CODE_LIST}:bilag-grade")
            elif system.startswith(FIELD + ":") and comp.dataAbsentReason is not None:
                out.setdefault(MISSING, {})[code] = _absent_state(comp.dataAbsentReason)
            elif system.startswith(FIELD + ":"):
                value = plain(comp.valueQuantity.value) if comp.valueQuantity is not None else untyped(comp)
                if comp.valueCodeableConcept is not None:
                    value = (
                        comp.valueCodeableConcept.coding[0].code if comp.valueCodeableConcept.coding else None
                    )
                out[code] = value
    return out


def _observation(reader: _Reader, entry: _Entry) -> None:
    obs = entry.resource
    if _code(obs.code, OBSERVATION) == VISIT_ASSESSMENT:
        _visit(reader, entry)
    elif _code(obs.code, CLINICAL_EVENT) is not None:
        _clinical_event(reader, entry)
    elif (
        _code(obs.code, ANALYTE)
        or _code(obs.code, term.system("loinc"))
        or ("laboratory",) in [(c,) for _, c in _codes(obs.category)]
    ):
        _lab(reader, entry)
    else:
        reader.skipped["Observation (not a registry record)"] += 1


def _effective(reader: _Reader, entry: _Entry, table: str) -> dt.date | None:
    try:
        return _date(entry.resource.effectiveDateTime, "effectiveDateTime")
    except _Bad as exc:
        reader.problem(entry, exc.element, str(exc), table)
        return None


def _visit(reader: _Reader, entry: _Entry) -> None:
    patient = _subject(reader, entry)
    date = _effective(reader, entry, "visits")
    values = _fields(reader, entry, "visits", _component_values(reader, entry))
    if patient is None or date is None or values is None:
        return
    ref = rio.SourceRef(
        entry.where(reader.name),
        {"visit_date": "effectiveDateTime", **{k: f"component({k})" for k in values}},
    )
    reader.rows.add("visits", {"patient_code": patient["code"], "visit_date": date, **values}, ref)


def _clinical_event(reader: _Reader, entry: _Entry) -> None:
    patient = _subject(reader, entry)
    date = _effective(reader, entry, "clinical_events")
    values = _fields(reader, entry, "clinical_events", _component_values(reader, entry))
    if patient is None or date is None or values is None:
        return
    row = {
        "patient_code": patient["code"],
        "event_type": _code(entry.resource.code, CLINICAL_EVENT),
        "event_date": date,
        **values,
    }
    ref = rio.SourceRef(
        entry.where(reader.name),
        {
            "event_type": "code.coding",
            "event_date": "effectiveDateTime",
            **{k: f"component({k})" for k in values},
        },
    )
    reader.rows.add("clinical_events", row, ref)


def _analyte(reader: _Reader, entry: _Entry) -> str | None:
    code = _code(entry.resource.code, ANALYTE)
    if code is not None:
        return code
    loinc = _code(entry.resource.code, term.system("loinc"))
    known = term.analyte_by_loinc()
    if loinc is None:
        reader.problem(
            entry,
            "code.coding",
            "a laboratory result needs a LOINC code (or a urn:lupuscell:analyte code)",
            "lab_results",
        )
        return None
    if loinc not in known:
        reader.problem(
            entry,
            "code.coding",
            f"unknown LOINC code {loinc!r}: not an analyte of the registry "
            f"(known: {', '.join(f'{c} {a}' for c, a in sorted(known.items(), key=lambda x: x[1]))})",
            "lab_results",
        )
        return None
    return known[loinc]


def _lab(reader: _Reader, entry: _Entry) -> None:
    patient = _subject(reader, entry)
    analyte = _analyte(reader, entry)
    date = _effective(reader, entry, "lab_results")
    quantity = entry.resource.valueQuantity
    if patient is None or analyte is None or date is None:
        return
    row = {
        "patient_code": patient["code"],
        "result_date": date,
        "analyte": analyte,
        "value": plain(quantity.value) if quantity else None,
        "unit": (quantity.unit or quantity.code) if quantity else None,
    }
    ref = rio.SourceRef(
        entry.where(reader.name),
        {
            "result_date": "effectiveDateTime",
            "analyte": "code.coding",
            "value": "valueQuantity.value",
            "unit": "valueQuantity.unit",
        },
    )
    reader.rows.add("lab_results", row, ref)


def _adverse_event(reader: _Reader, entry: _Entry) -> None:
    ae = entry.resource
    patient = _subject(reader, entry)
    extras = _fields(reader, entry, "adverse_events", _extensions(ae))
    seriousness = _code(ae.seriousness, term.system("ae_seriousness"))
    if seriousness not in (None, "serious", "non-serious"):
        reader.problem(
            entry, "seriousness", f"code {seriousness!r} is not serious or non-serious", "adverse_events"
        )
        return
    try:
        onset = _date(ae.date, "date")
    except _Bad as exc:
        reader.problem(entry, exc.element, str(exc), "adverse_events")
        return
    if patient is None or extras is None:
        return
    course = _course_ref(reader, ae.suspectEntity[0].instance) if ae.suspectEntity else None
    event = ae.event
    row = {
        "patient_code": patient["code"],
        "course_no": course[1] if course else None,
        "term": (event.text or next((c.display for c in event.coding or [] if c.display), None))
        if event
        else None,
        "category": _code(ae.category, AE_CATEGORY),
        "onset_date": onset,
        "serious": seriousness == "serious",
        **extras,
    }
    ref = rio.SourceRef(
        entry.where(reader.name),
        {
            "term": "event.text",
            "category": "category",
            "onset_date": "date",
            "serious": "seriousness",
            "course_no": "suspectEntity",
            **{k: f"extension({k})" for k in extras},
        },
    )
    reader.rows.add("adverse_events", row, ref)


# --------------------------------------------------------------------------- assembly


def _deaths(reader: _Reader) -> None:
    """Patient.deceasedDateTime as a death, unless a death Observation records it already."""
    recorded = {
        r["patient_code"] for r in reader.rows.tables.get("clinical_events", []) if r["event_type"] == "death"
    }
    for entry in reader.entries:
        patient = reader.patients.get(entry.index)
        if entry.kind != "Patient" or patient is None or patient["code"] in recorded:
            continue
        if entry.resource.deceasedBoolean:
            reader.problem(
                entry,
                "deceasedBoolean",
                "death without a date cannot be recorded; give deceasedDateTime",
                "clinical_events",
            )
        elif entry.resource.deceasedDateTime is not None:
            try:
                date = _date(entry.resource.deceasedDateTime, "deceasedDateTime")
            except _Bad as exc:
                reader.problem(entry, exc.element, str(exc), "clinical_events")
                continue
            reader.rows.add(
                "clinical_events",
                {"patient_code": patient["code"], "event_type": "death", "event_date": date},
                rio.SourceRef(entry.where(reader.name), {"event_date": "deceasedDateTime"}),
            )


HANDLERS: dict[str, Callable[[_Reader, _Entry], None]] = {
    "Condition": _condition,
    "MedicationStatement": _prior,
    "MedicationAdministration": _drug,
    "Observation": _observation,
    "AdverseEvent": _adverse_event,
}
KNOWN = {"Organization", "Patient", "Procedure", "Encounter", *HANDLERS}


def _guarded(handler: Callable[..., None], reader: _Reader, entry: _Entry, *args: Any) -> None:
    """Run one entry's handler; a data-absent-reason that is no registry state is a problem
    naming the entry, never an exception."""
    try:
        handler(reader, entry, *args)
    except _AbsentReason as exc:
        reader.problem(entry, "dataAbsentReason", str(exc))


def bundle_rows(
    entries: list[_Entry], name: str, *, identifier_system: str = PATIENT_CODE, site: str | None = None
) -> tuple[rio.Rows, Counter[str]]:
    """Registry rows (with provenance) of Bundle entries, and the count of skipped resources."""
    reader = _Reader(name=name, entries=entries, identifier_system=identifier_system, site=site)
    reader.by_ref = _index(entries)
    sites = _organizations(reader)
    for entry in entries:
        if entry.kind == "Patient":
            _guarded(_patient, reader, entry, sites)
    courses: dict[str, list[Any]] = defaultdict(list)
    for entry in entries:
        if entry.kind == "Procedure":
            _guarded(_course, reader, entry, courses)
        elif entry.kind not in KNOWN:
            reader.skipped[entry.kind] += 1
    for entry in entries:
        if entry.kind == "Condition":
            _condition(reader, entry)
    _number_courses(reader, courses)
    for entry in entries:
        if entry.kind in HANDLERS and entry.kind != "Condition":
            _guarded(HANDLERS[entry.kind], reader, entry)
    _deaths(reader)
    _patient_rows(reader)
    return reader.rows, reader.skipped


def _patient_rows(reader: _Reader) -> None:
    patients = rio.Rows()
    for entry in reader.entries:
        patient = reader.patients.get(entry.index)
        if patient is None:
            continue
        where = entry.where(reader.name)
        if id(patient) not in reader.sle:
            reader.rows.problem(
                where,
                "patients",
                "Condition",
                "no Condition coded SNOMED CT 55464009 (systemic lupus erythematosus) for this patient",
            )
            continue
        patients.add(
            "patients",
            patient,
            rio.SourceRef(
                where,
                {
                    "code": "identifier",
                    "site_code": "managingOrganization",
                    "sex": "gender",
                    "birth_year": "birthDate",
                    "sle_diagnosis_date": "Condition.extension(assertedDate)",
                    "nephritis_class": "Condition.stage",
                },
            ),
        )
    reader.rows.tables["patients"] = patients.tables["patients"]
    reader.rows.refs["patients"] = patients.refs["patients"]


@dataclass(frozen=True)
class FhirImport:
    report: rio.ImportReport
    skipped: dict[str, int]


def read_bundle_file(path: Path) -> list[_Entry]:
    if not path.is_file():
        raise ValidationError(
            Problem(str(path), "--bundle", "file not found" if not path.exists() else "is not a file")
        )
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise ValidationError(
            Problem(
                str(path), "--bundle", f"larger than {MAX_BUNDLE_BYTES // 1_000_000} MB; split the Bundle"
            )
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(Problem(str(path), "--bundle", f"not UTF-8 text ({exc.reason})")) from None
    return parse_bundle(text, path.name)


def import_fhir(
    engine: Engine,
    bundle: Path,
    *,
    actor: str,
    reason: str,
    identifier_system: str = PATIENT_CODE,
    site: str | None = None,
    partial: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> FhirImport:
    """Import a Bundle file through the registry's import path (see the module docstring)."""
    entries = read_bundle_file(bundle)
    rows, skipped = bundle_rows(entries, bundle.name, identifier_system=identifier_system, site=site)
    report = rio.import_rows(
        engine, rows, actor=actor, reason=reason, source=f"fhir:{bundle}", partial=partial, progress=progress
    )
    return FhirImport(report=report, skipped=dict(skipped))
