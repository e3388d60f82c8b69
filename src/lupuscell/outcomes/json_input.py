"""The ``lupuscell endpoints`` JSON input: validation (pydantic) and conversion to :class:`CohortData`.

Format (docs/outcomes/endpoints.md): ``{"patients": [...]}``, one object per patient with its
day 0, therapy, visits, laboratory values, platelet transfusions, adverse events, death and
last contact. Every rejection names the patient and the field
(``patients[0].visits[2].sledai2k``), and every problem of the file is reported at once.

Follow-up comes from :mod:`lupuscell.outcomes.timeline`, the same definition as the registry's:
the last known alive date is the latest of day 0, ``last_contact``, every visit, laboratory
value, platelet transfusion and adverse-event date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from pydantic import ValidationError as PydanticValidationError

from lupuscell import vocab
from lupuscell.errors import Problem, ValidationError
from lupuscell.outcomes import timeline
from lupuscell.outcomes.cohort import (
    AE_COLUMNS,
    BILAG_DOMAINS,
    DESCRIPTORS,
    FLARE_COLUMNS,
    PATIENT_COLUMNS,
    TRANSFUSION_COLUMNS,
    VISIT_COLUMNS,
    CohortData,
    finalise,
    finalise_patients,
    finalise_visits,
    normalise_labs,
)
from lupuscell.outcomes.definitions import CTCAE_V5
from lupuscell.vocab import AE_GRADE_RANGE, AE_GRADING_BY_CATEGORY, AE_GRADING_SYSTEMS, BilagGrade

#: The registry's therapies (:data:`lupuscell.vocab.THERAPIES`) as a type; a test holds them equal.
Therapy = Literal["autologous_hsct", "allogeneic_hsct", "msc", "car_t", "other"]


def _one_of(allowed: tuple[str, ...], what: str) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not a known {what}; allowed: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisitIn(_Strict):
    """One visit of the ``lupuscell endpoints`` input."""

    date: dt.date
    sledai2k: dict[str, StrictBool | None] = Field(
        description="All 24 SLEDAI-2K descriptors (Gladman 2002; docs/instruments/sledai_2k.md) -> "
        "true/false; null = not assessed (the visit's SLEDAI-2K is then unknown)."
    )
    pga: float | None = Field(ge=0.0, le=3.0, description="Physician global assessment 0-3.")
    prednisone_mg: float | None = Field(ge=0.0, le=2000.0, description="Prednisone-equivalent mg/day.")
    on_antimalarial: StrictBool | None = None
    immunosuppressives_stable: StrictBool | None = None
    haemolytic_anaemia: StrictBool | None = None
    gastrointestinal_activity: StrictBool | None = None
    new_activity: StrictBool | None = None
    maintenance_well_tolerated: StrictBool | None = None
    bilag: dict[str, BilagGrade] | None = None
    flare: StrictBool | None = Field(default=None, description="Clinician-recorded SELENA flare.")
    severe_flare: StrictBool | None = Field(default=None, description="Clinician-recorded severe flare.")
    missing: dict[str, Literal["not_done", "unknown"]] | None = Field(
        default=None,
        description="Explicit missing-value states: field (a descriptor, pga, prednisone_mg or a flag) "
        "-> not_done / unknown; never read as absent (docs/data_management/missing_values.md).",
    )

    def _state_problems(self) -> list[str]:
        """States naming an unknown field or a field that has a value."""
        out = []
        for name in self.missing or {}:
            if name not in _STATE_FIELDS:
                out.append(f"missing: {name!r} is not a field that can be not done / unknown")
            elif (self.sledai2k.get(name) if name in DESCRIPTORS else getattr(self, name)) is not None:
                out.append(f"missing.{name}: has both a value and a missing state; give one of them")
        return out

    @model_validator(mode="after")
    def _check(self) -> VisitIn:
        problems = self._state_problems()
        if problems:
            raise ValueError("; ".join(problems))
        missing = [d for d in DESCRIPTORS if d not in self.sledai2k]
        unknown = sorted(set(self.sledai2k) - set(DESCRIPTORS))
        if unknown:
            raise ValueError(f"sledai2k: unknown descriptor(s) {unknown}; allowed: {list(DESCRIPTORS)}")
        if missing:
            raise ValueError(f"sledai2k: missing descriptor(s) {missing} (all 24 are required)")
        if self.bilag is not None:
            bad = sorted(set(self.bilag) - set(BILAG_DOMAINS))
            if bad:
                raise ValueError(f"bilag: unknown domain(s) {bad}; allowed: {list(BILAG_DOMAINS)}")
        return self


class LabIn(_Strict):
    date: dt.date
    analyte: str
    value: float
    unit: str


class DeathIn(_Strict):
    date: dt.date
    cause: str | None = None


class AdverseEventIn(_Strict):
    """An adverse event: onset ``date``, category, grade and the grading system of that grade.

    The system must be one the category is graded on and the grade within its range
    (:data:`~lupuscell.vocab.AE_GRADING_BY_CATEGORY`, ``AE_GRADE_RANGE``), the
    rules the registry applies.
    """

    date: dt.date = Field(description="Onset date.")
    category: Annotated[str, _one_of(vocab.AE_CATEGORIES, "adverse-event category")]
    grade: StrictInt = Field(ge=1, le=5)
    grading_system: Annotated[str, _one_of(AE_GRADING_SYSTEMS, "grading system")] = CTCAE_V5
    term: str | None = None
    resolution_date: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> AdverseEventIn:
        if self.resolution_date is not None and self.resolution_date < self.date:
            raise ValueError(f"resolution_date {self.resolution_date} is before the onset date {self.date}")
        allowed = AE_GRADING_BY_CATEGORY[self.category]
        if self.grading_system not in allowed:
            raise ValueError(
                f"grading_system: {self.category} is not graded on {self.grading_system} "
                f"(allowed: {', '.join(allowed)}; CTCAE_v5.0 when not given)"
            )
        low, high = AE_GRADE_RANGE[self.grading_system]
        if not low <= self.grade <= high:
            raise ValueError(f"grade: {self.grade} is outside {low}-{high} on {self.grading_system}")
        return self


class PatientIn(_Strict):
    """One patient of the ``lupuscell endpoints`` input."""

    id: str = Field(min_length=1)
    day0: dt.date
    therapy: Therapy
    visits: list[VisitIn] = Field(default_factory=list)
    labs: list[LabIn] = Field(default_factory=list)
    platelet_transfusions: list[dt.date] = Field(default_factory=list)
    adverse_events: list[AdverseEventIn] = Field(default_factory=list)
    death: DeathIn | None = None
    last_contact: dt.date
    site: str | None = None
    sex: Literal["F", "M"] | None = None
    age: float | None = Field(default=None, ge=0, le=120)
    cell_source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PatientIn:
        dates = [v.date for v in self.visits]
        if len(set(dates)) != len(dates):
            raise ValueError("visits: two visits on the same date")
        if self.last_contact < self.day0:
            raise ValueError(f"last_contact {self.last_contact} is before day0 {self.day0}")
        if self.death is not None:
            if self.death.date < self.day0:
                raise ValueError(f"death.date {self.death.date} is before day0 {self.day0}")
            after = [(what, d) for what, d in self.dated_records() if d > self.death.date]
            if after:
                what, when = min(after, key=lambda item: item[1])
                raise ValueError(f"death.date {self.death.date} is before {what} on {when}")
        return self

    def dated_records(self) -> list[tuple[str, dt.date]]:
        """Every record date that proves the patient alive, except ``last_contact`` and day 0."""
        out = [("visit(s)", v.date) for v in self.visits]
        out += [("lab value(s)", lab.date) for lab in self.labs]
        out += [("platelet transfusion(s)", d) for d in self.platelet_transfusions]
        for ae in self.adverse_events:
            out.append(("adverse event(s)", ae.date))
            if ae.resolution_date is not None:
                out.append(("adverse-event resolution(s)", ae.resolution_date))
        return out


def _pydantic_problems(record: str, prefix: str, exc: PydanticValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        path = prefix
        for part in loc:
            path += f"[{part}]" if part.isdigit() else f".{part}"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(record, path.lstrip("."), message))
    return problems


def parse_payload(payload: Any) -> list[PatientIn]:
    """Validate the ``{"patients": [...]}`` input; raise one error listing every problem."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("patients"), list):
        raise ValidationError.single("input", "patients", 'expected an object {"patients": [...]}')
    extra = sorted(set(payload) - {"patients"})
    problems: list[Problem] = []
    if extra:
        problems.append(Problem("input", extra[0], "unknown top-level field (only 'patients' is read)"))
    patients: list[PatientIn] = []
    seen: set[str] = set()
    for i, raw in enumerate(payload["patients"]):
        ident = raw.get("id") if isinstance(raw, Mapping) else None
        record = f"patient {ident}" if ident else f"patients[{i}]"
        try:
            patient = PatientIn.model_validate(raw)
        except PydanticValidationError as exc:
            problems.extend(_pydantic_problems(record, f"patients[{i}]", exc))
            continue
        if patient.id in seen:
            problems.append(Problem(record, f"patients[{i}].id", "duplicate patient id"))
        seen.add(patient.id)
        patients.append(patient)
    if problems:
        raise ValidationError(problems)
    return patients


def from_json_payload(payload: Any) -> CohortData:
    """Validate the endpoints JSON and convert it to a :class:`CohortData`."""
    return from_patients(parse_payload(payload))


# ------------------------------------------------------------------------------- conversion


_FLAG_COLUMNS: dict[str, str] = {
    "on_antimalarial": "on_antimalarial",
    "immunosuppressives_stable": "immunosuppressives_and_biologics_stable",
    "haemolytic_anaemia": "haemolytic_anaemia",
    "gastrointestinal_activity": "gastrointestinal_activity",
    "new_activity": "new_activity_since_previous_assessment",
    "maintenance_well_tolerated": "standard_maintenance_therapy_well_tolerated",
}
"""JSON visit flag -> engine column."""
_STATE_FIELDS: dict[str, str] = {
    **{d: d for d in DESCRIPTORS},
    "pga": "pga",
    "prednisone_mg": "prednisone_mg",
    **_FLAG_COLUMNS,
}
"""JSON field that may carry a missing-value state -> engine column."""


def _visit_row(pid: str, day: int, v: VisitIn) -> dict[str, Any]:
    row: dict[str, Any] = {"patient_id": pid, "day": day, **v.sledai2k}
    row.update(
        pga=v.pga,
        prednisone_mg=v.prednisone_mg,
        on_antimalarial=v.on_antimalarial,
        immunosuppressives_and_biologics_stable=v.immunosuppressives_stable,
        haemolytic_anaemia=v.haemolytic_anaemia,
        gastrointestinal_activity=v.gastrointestinal_activity,
        new_activity_since_previous_assessment=v.new_activity,
        standard_maintenance_therapy_well_tolerated=v.maintenance_well_tolerated,
    )
    for domain in BILAG_DOMAINS:
        row[f"bilag_{domain}"] = None if v.bilag is None else v.bilag.get(domain)
    row["missing_states"] = {_STATE_FIELDS[k]: s for k, s in v.missing.items()} if v.missing else None
    return row


def _patient_row(p: PatientIn) -> dict[str, Any]:
    return {
        "patient_id": p.id,
        "site": p.site,
        "therapy": p.therapy,
        "cell_source": p.cell_source,
        "day0": pd.Timestamp(p.day0),
        "sex": p.sex,
        "age": p.age,
        "diagnosis_years": None,
        "nephritis": None,
        "nephritis_class": None,
        "death_cause": None if p.death is None else p.death.cause,
    }


def _follow_up(patients: list[PatientIn]) -> pd.DataFrame:
    """:func:`lupuscell.outcomes.timeline.follow_up` of the validated patients."""
    alive = [
        (p.id, d) for p in patients for d in (p.day0, p.last_contact, *(d for _, d in p.dated_records()))
    ]
    ids = pd.Index([p.id for p in patients])
    return timeline.follow_up(
        ids,
        pd.Series({p.id: pd.Timestamp(p.day0) for p in patients}, dtype="datetime64[ns]"),
        pd.Series({p.id: pd.Timestamp(p.death.date) for p in patients if p.death}, dtype="datetime64[ns]"),
        pd.DataFrame(alive, columns=["patient_id", "date"]),
    )


def _patients_frame(patients: list[PatientIn]) -> pd.DataFrame:
    frame = pd.DataFrame([_patient_row(p) for p in patients], columns=list(PATIENT_COLUMNS))
    follow = _follow_up(patients)
    frame["last_contact_day"] = follow["end_day"].to_numpy()
    frame["death_day"] = follow["death_day"].to_numpy()
    return finalise_patients(frame)


def from_patients(patients: list[PatientIn]) -> CohortData:
    """Convert validated :class:`PatientIn` records (study day = date - day0)."""
    vrows: list[dict[str, Any]] = []
    lrows: list[dict[str, Any]] = []
    arows: list[dict[str, Any]] = []
    frows: list[dict[str, Any]] = []
    trows: list[dict[str, Any]] = []
    for p in patients:
        for v in p.visits:
            day = (v.date - p.day0).days
            vrows.append(_visit_row(p.id, day, v))
            if v.flare or v.severe_flare:
                frows.append({"patient_id": p.id, "day": day, "severe": bool(v.severe_flare)})
        lrows.extend(
            {"patient_id": p.id, "day": (lab.date - p.day0).days, **lab.model_dump(exclude={"date"})}
            for lab in p.labs
        )
        arows.extend(
            {"patient_id": p.id, "day": (a.date - p.day0).days, **a.model_dump(include=set(AE_COLUMNS))}
            for a in p.adverse_events
        )
        trows.extend({"patient_id": p.id, "day": (d - p.day0).days} for d in p.platelet_transfusions)
    labs = pd.DataFrame(lrows, columns=["patient_id", "day", "analyte", "value", "unit"])
    return CohortData(
        patients=_patients_frame(patients),
        visits=finalise_visits(pd.DataFrame(vrows, columns=list(VISIT_COLUMNS))),
        labs=normalise_labs(labs),
        adverse_events=finalise(pd.DataFrame(arows, columns=list(AE_COLUMNS)), AE_COLUMNS),
        flare_events=finalise(pd.DataFrame(frows, columns=list(FLARE_COLUMNS)), FLARE_COLUMNS),
        transfusions=finalise(pd.DataFrame(trows, columns=list(TRANSFUSION_COLUMNS)), TRANSFUSION_COLUMNS),
    )
