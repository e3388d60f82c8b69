"""Loaders of the outcomes engine: JSON, registry tables and synthetic frames -> one form.

Every source is turned into a :class:`CohortData`, a handful of long pandas DataFrames keyed by
``patient_id`` with dates already converted to **study days** (date - day 0, day 0 = infusion
date of the patient's first therapy course). The engine only ever sees this form, so a number
cannot depend on where the data came from.

Sources
-------
* ``lupuscell endpoints`` JSON (issue 4, item 2), validated with pydantic; every rejection names
  the patient id and the field (``patients[i].visits[j].sledai2k.fever``).
* Registry tables (:mod:`lupuscell.registry.models`) read with SQLAlchemy Core ``select`` into
  DataFrames (SQLite and PostgreSQL alike; no dialect-specific SQL).
* The synthetic cohort (:mod:`lupuscell.synth.cohort`): per-table DataFrames carrying
  ``patient_code``; they go through the same table converter as the registry.

Lab values are converted to canonical units with :func:`lupuscell.units.normalise` once per
distinct (analyte, unit) pair (a factor), so millions of rows are converted with one multiply.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic import ValidationError as PydanticValidationError

from lupuscell import vocab
from lupuscell.errors import Problem, ValidationError
from lupuscell.outcomes.definitions import NEUTROPHIL_ANALYTE, PLATELET_ANALYTE

DESCRIPTORS: tuple[str, ...] = vocab.SLEDAI_2K_DESCRIPTORS
BILAG_DOMAINS: tuple[str, ...] = vocab.BILAG_DOMAINS
BILAG_COLUMNS: tuple[str, ...] = tuple(f"bilag_{d}" for d in BILAG_DOMAINS)

#: Per-visit flags read by LLDAS and DORIS (names of the instruments' bulk interface).
VISIT_FLAGS: tuple[str, ...] = (
    "on_antimalarial",
    "immunosuppressives_and_biologics_stable",
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity_since_previous_assessment",
    "standard_maintenance_therapy_well_tolerated",
)

PATIENT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site",
    "therapy",
    "cell_source",
    "day0",
    "sex",
    "age",
    "diagnosis_years",
    "nephritis",
    "nephritis_class",
    "last_contact_day",
    "death_day",
    "death_cause",
)
VISIT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "day",
    *DESCRIPTORS,
    "pga",
    "prednisone_mg",
    *VISIT_FLAGS,
    *BILAG_COLUMNS,
)
LAB_COLUMNS: tuple[str, ...] = ("patient_id", "day", "analyte", "value")
AE_COLUMNS: tuple[str, ...] = ("patient_id", "day", "category", "grade")
FLARE_COLUMNS: tuple[str, ...] = ("patient_id", "day", "severe")
TRANSFUSION_COLUMNS: tuple[str, ...] = ("patient_id", "day")


def engraftment_analyte_names() -> dict[str, str]:
    """Lower-case analyte code or alias -> code, for the engraftment analytes (data/units.yaml)."""
    from lupuscell import units

    wanted = {NEUTROPHIL_ANALYTE, PLATELET_ANALYTE}
    return {name: a.code for name, a in units.load_table().items() if a.code in wanted}


@dataclass(frozen=True)
class CohortData:
    """The normalised in-memory cohort every derivation reads.

    Attributes
    ----------
    patients
        One row per patient: :data:`PATIENT_COLUMNS` (``day0`` a ``datetime64``; study days as
        numbers; ``death_day`` NaN when alive).
    visits
        One row per visit: :data:`VISIT_COLUMNS` (descriptors as nullable booleans, NA = not
        assessed; ``bilag_<domain>`` grade letters or None).
    labs
        ``patient_id, day, analyte, value`` for ``anc`` and ``platelets`` in 10^9/L.
    adverse_events
        ``patient_id, day, category, grade``.
    flare_events
        Clinician-recorded flares/relapses: ``patient_id, day, severe``.
    transfusions
        Platelet transfusions: ``patient_id, day``.
    """

    patients: pd.DataFrame
    visits: pd.DataFrame
    labs: pd.DataFrame
    adverse_events: pd.DataFrame
    flare_events: pd.DataFrame
    transfusions: pd.DataFrame

    @property
    def n_patients(self) -> int:
        return len(self.patients)

    def subset(self, patient_ids: Iterable[str]) -> CohortData:
        """The cohort restricted to ``patient_ids`` (order of ``patients`` kept)."""
        ids = set(patient_ids)

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["patient_id"].isin(ids)].reset_index(drop=True)

        return CohortData(*(keep(f) for f in self.frames()))

    def frames(self) -> tuple[pd.DataFrame, ...]:
        return (
            self.patients,
            self.visits,
            self.labs,
            self.adverse_events,
            self.flare_events,
            self.transfusions,
        )


def empty_frame(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


# ------------------------------------------------------------------------------ dtype helpers


def _bool_col(series: pd.Series) -> pd.Series:
    """Nullable boolean column (NA = unknown)."""
    return series.astype("boolean")


def _sort_by_patient_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by patient (first-appearance order) and sorted by day within a patient.

    Integer codes and ``numpy.lexsort`` instead of a string sort: the engine needs each
    patient's rows contiguous and in day order, not patients in alphabetical order.
    """
    codes = pd.factorize(frame["patient_id"])[0]
    order = np.lexsort((frame["day"].to_numpy(), codes))
    return frame.iloc[order].reset_index(drop=True)


def _finalise_visits(visits: pd.DataFrame) -> pd.DataFrame:
    out = visits.reindex(columns=list(VISIT_COLUMNS))  # a new frame; absent columns all-missing
    out["day"] = out["day"].astype(np.int64)
    for col in (*DESCRIPTORS, *VISIT_FLAGS):
        out[col] = _bool_col(out[col])
    for col in ("pga", "prednisone_mg"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col in BILAG_COLUMNS:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return _sort_by_patient_day(out)


def _finalise(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    if frame.empty:
        return empty_frame(columns).astype({"patient_id": str})
    out = frame.loc[:, list(columns)]  # patient_id is already str (every loader makes it so)
    if "day" in out.columns:
        out["day"] = out["day"].astype(np.int64)
    return _sort_by_patient_day(out)


def _study_day(dates: pd.Series, day0: pd.Series) -> pd.Series:
    """``date - day0`` in whole days (both aligned on the same index)."""
    return (pd.to_datetime(dates) - pd.to_datetime(day0)).dt.days


# ------------------------------------------------------------------------------ unit handling


def _unit_factor(analyte: str, unit: str, record: str) -> float:
    """Factor to the canonical unit of ``analyte`` (:func:`lupuscell.units.normalise` of 1.0)."""
    from lupuscell import units

    return float(units.normalise(analyte, 1.0, unit, record=record)[0])


def normalise_labs(labs: pd.DataFrame, record: str = "labs") -> pd.DataFrame:
    """Keep the engraftment analytes and convert ``value`` to 10^9/L.

    ``labs`` has ``patient_id, day, analyte, value, unit``. Unknown units for a kept analyte
    raise :class:`ValidationError` naming the first patient and the unit.
    """
    if labs.empty:
        return _finalise(labs, LAB_COLUMNS)
    lookup = engraftment_analyte_names()
    # work on the distinct (analyte, unit) spellings: one factor each, applied by group code
    a_codes, a_uniques = pd.factorize(labs["analyte"].to_numpy())
    u_codes, u_uniques = pd.factorize(labs["unit"].to_numpy())
    codes, pair_keys = pd.factorize(a_codes.astype(np.int64) * len(u_uniques) + u_codes)
    uniques = [(a_uniques[k // len(u_uniques)], u_uniques[k % len(u_uniques)]) for k in pair_keys]
    factor_of = np.full(len(uniques), np.nan)
    canonical_of = np.full(len(uniques), None, dtype=object)
    problems: list[Problem] = []
    first_row = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    for k, (analyte, unit) in enumerate(uniques):
        code = lookup.get(str(analyte).strip().lower())
        if code is None:
            continue
        canonical_of[k] = code
        first = labs["patient_id"].iloc[first_row[k]]
        try:
            factor_of[k] = _unit_factor(code, str(unit), f"patient {first}")
        except ValidationError as exc:
            problems.extend(
                Problem(p.record, f"{record}.unit", f"{unit!r} for {analyte}: {p.message}")
                for p in exc.problems
            )
    if problems:
        raise ValidationError(problems)
    keep = pd.notna(canonical_of[codes])
    work = labs.loc[keep, ["patient_id", "day"]].copy()
    work["analyte"] = canonical_of[codes[keep]]
    values = pd.to_numeric(labs["value"], errors="coerce").to_numpy(dtype=float)[keep]
    work["value"] = values * factor_of[codes[keep]]
    return _finalise(work[~np.isnan(work["value"].to_numpy())], LAB_COLUMNS)


# ------------------------------------------------------------------------------- JSON input

BilagGrade = Literal["A", "B", "C", "D", "E"]
Therapy = Literal["autologous_hsct", "allogeneic_hsct", "msc", "car_t", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisitIn(_Strict):
    """One visit of the ``lupuscell endpoints`` input."""

    date: dt.date
    sledai2k: dict[str, StrictBool | None] = Field(
        description="All 24 SLEDAI-2K descriptors (spec section 1.1) -> true/false (null = not assessed)."
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

    @model_validator(mode="after")
    def _check(self) -> VisitIn:
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


class PatientIn(_Strict):
    """One patient of the ``lupuscell endpoints`` input (issue 4, item 2)."""

    id: str = Field(min_length=1)
    day0: dt.date
    therapy: Therapy
    visits: list[VisitIn] = Field(default_factory=list)
    labs: list[LabIn] = Field(default_factory=list)
    platelet_transfusions: list[dt.date] = Field(default_factory=list)
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
            later = [d for d in dates if d > self.death.date]
            if later:
                raise ValueError(f"death.date {self.death.date} is before visit(s) on {later[0]}")
        return self


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


def from_patients(patients: list[PatientIn]) -> CohortData:
    """Convert validated :class:`PatientIn` records (study day = date - day0)."""
    prow: list[dict[str, Any]] = []
    vrows: list[dict[str, Any]] = []
    lrows: list[dict[str, Any]] = []
    frows: list[dict[str, Any]] = []
    trows: list[dict[str, Any]] = []
    for p in patients:
        visit_days = [(v.date - p.day0).days for v in p.visits]
        last = max([(p.last_contact - p.day0).days, *visit_days])
        death_day = None if p.death is None else (p.death.date - p.day0).days
        prow.append(
            {
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
                "last_contact_day": last if death_day is None else max(last, death_day),
                "death_day": death_day,
                "death_cause": None if p.death is None else p.death.cause,
            }
        )
        for v, day in zip(p.visits, visit_days, strict=True):
            row: dict[str, Any] = {"patient_id": p.id, "day": day, **v.sledai2k}
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
            vrows.append(row)
            if v.flare or v.severe_flare:
                frows.append({"patient_id": p.id, "day": day, "severe": bool(v.severe_flare)})
        for lab in p.labs:
            lrows.append(
                {
                    "patient_id": p.id,
                    "day": (lab.date - p.day0).days,
                    "analyte": lab.analyte,
                    "value": lab.value,
                    "unit": lab.unit,
                }
            )
        trows.extend({"patient_id": p.id, "day": (d - p.day0).days} for d in p.platelet_transfusions)
    patients_frame = _finalise_patients(pd.DataFrame(prow, columns=list(PATIENT_COLUMNS)))
    visits = pd.DataFrame(vrows, columns=list(VISIT_COLUMNS))
    labs = pd.DataFrame(lrows, columns=["patient_id", "day", "analyte", "value", "unit"])
    return CohortData(
        patients=patients_frame,
        visits=_finalise_visits(visits),
        labs=normalise_labs(labs),
        adverse_events=_finalise(pd.DataFrame([], columns=list(AE_COLUMNS)), AE_COLUMNS),
        flare_events=_finalise(pd.DataFrame(frows, columns=list(FLARE_COLUMNS)), FLARE_COLUMNS),
        transfusions=_finalise(pd.DataFrame(trows, columns=list(TRANSFUSION_COLUMNS)), TRANSFUSION_COLUMNS),
    )


def _finalise_patients(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.loc[:, list(PATIENT_COLUMNS)].copy()
    out["patient_id"] = out["patient_id"].astype(str)
    out["day0"] = pd.to_datetime(out["day0"])
    for col in ("age", "diagnosis_years", "death_day"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["last_contact_day"] = out["last_contact_day"].astype(np.int64)
    out["nephritis"] = out["nephritis"].astype("boolean")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------- registry-shaped tables

#: Registry table names read by :func:`from_tables`.
TABLES: tuple[str, ...] = (
    "patients",
    "therapy_courses",
    "visits",
    "lab_results",
    "adverse_events",
    "clinical_events",
    "drug_administrations",
)

_VISIT_RENAME = {
    "prednisone_mg_per_day": "prednisone_mg",
    "immunosuppressives_stable": "immunosuppressives_and_biologics_stable",
    "new_activity": "new_activity_since_previous_assessment",
}


def _code(frame: pd.DataFrame) -> pd.Series:
    for col in ("patient_code", "code"):
        if col in frame.columns:
            return frame[col].astype(str)
    raise ValidationError.single("tables", "patient_code", "every table needs a patient_code column")


def _get(frames: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    frame = frames.get(name)
    return frame if frame is not None else pd.DataFrame({"patient_code": pd.Series([], dtype=str)})


def _json_value(value: Any) -> Any:
    """A JSON column cell: decoded objects pass through, JSON text (CSV/synthetic) is parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _nephritis(patients: pd.DataFrame) -> pd.Series:
    organ = patients.get("organ_involvement")
    if organ is not None:
        organ = organ.map(_json_value)
    by_class = patients.get("nephritis_class", pd.Series(None, index=patients.index)).notna()
    if organ is None:
        return by_class
    by_organ = organ.map(lambda v: isinstance(v, list | tuple | np.ndarray) and "renal" in list(v))
    return by_class | by_organ.astype(bool)


def from_tables(frames: Mapping[str, pd.DataFrame]) -> CohortData:
    """Convert registry-shaped DataFrames (one per table, with ``patient_code``).

    Day 0 is the earliest ``infusion_date`` of the patient's therapy courses and the therapy is
    that course's therapy; patients without a course have no day 0 and are left out. Death is
    the first ``death`` clinical event; last contact is the latest of every dated record
    (``last_contact`` events, visits, labs, adverse events, flares) and never before death.
    """
    pats = _get(frames, "patients").copy()
    if pats.empty or _get(frames, "therapy_courses").empty:
        return empty_cohort()
    pats["patient_id"] = _code(pats)
    courses = _get(frames, "therapy_courses").copy()
    courses["patient_id"] = _code(courses)
    courses["infusion_date"] = pd.to_datetime(courses["infusion_date"])
    first = courses.sort_values(["patient_id", "infusion_date"], kind="stable").drop_duplicates("patient_id")
    first = first.set_index("patient_id")
    pats = pats[pats["patient_id"].isin(first.index)].copy()
    day0 = pats["patient_id"].map(first["infusion_date"])
    pats["day0"] = day0
    pats["therapy"] = pats["patient_id"].map(first["therapy"])
    pats["cell_source"] = pats["patient_id"].map(first["cell_source"]) if "cell_source" in first else None
    site_col = next((c for c in ("site_code", "site") if c in pats.columns), None)
    pats["site"] = pats[site_col].astype(str) if site_col else None
    birth = pd.to_numeric(pats["birth_year"] if "birth_year" in pats else pd.Series(np.nan, index=pats.index))
    # Only the birth year is stored (pseudonymisation): age counted from 1 July of that year.
    mid_year = pd.to_datetime(birth.astype("Int64").astype(str) + "-07-01", errors="coerce")
    pats["age"] = (day0 - mid_year).dt.days / 365.25
    if "sle_diagnosis_date" in pats.columns:
        pats["diagnosis_years"] = (day0 - pd.to_datetime(pats["sle_diagnosis_date"])).dt.days / 365.25
    else:
        pats["diagnosis_years"] = np.nan
    pats["nephritis"] = _nephritis(pats)
    if "nephritis_class" not in pats.columns:
        pats["nephritis_class"] = None
    if "sex" not in pats.columns:
        pats["sex"] = None
    day0_by_id = pats.set_index("patient_id")["day0"]

    def with_day(frame: pd.DataFrame, date_col: str, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` of ``frame`` plus ``patient_id`` and study ``day``."""
        if frame.empty:
            return pd.DataFrame(columns=["patient_id", "day", *columns])
        out = frame.loc[:, [c for c in columns if c in frame.columns]].copy()
        out["patient_id"] = _code(frame)
        day0_rows = out["patient_id"].map(day0_by_id)
        out = out[day0_rows.notna().to_numpy()]
        out["day"] = _study_day(frame.loc[out.index, date_col], day0_rows[out.index])
        return out

    raw_name = {new: old for old, new in _VISIT_RENAME.items()}
    keep_visit = [raw_name.get(c, c) for c in (*VISIT_COLUMNS[2:], "bilag")]
    visits = with_day(_get(frames, "visits"), "visit_date", keep_visit).rename(columns=_VISIT_RENAME)
    if "bilag" in visits.columns and visits["bilag"].notna().any():
        # parse only the visits that carry grades (JSON objects, or JSON text from CSV/synthetic)
        given = visits["bilag"].notna().to_numpy()
        cells = visits["bilag"].to_numpy()[given]
        if all(isinstance(c, str) for c in cells):  # JSON text: parse each distinct string once
            codes, distinct = pd.factorize(cells)
            parsed = [_json_value(c) for c in distinct]
            records = [parsed[k] for k in codes]
        else:
            records = [_json_value(c) for c in cells]
        grades = pd.DataFrame.from_records(
            [g if isinstance(g, Mapping) else {} for g in records],
            index=visits.index[given],
            columns=list(BILAG_DOMAINS),
        )
        for domain in BILAG_DOMAINS:
            visits[f"bilag_{domain}"] = grades[domain].reindex(visits.index)

    labs = _get(frames, "lab_results")
    if not labs.empty:
        names = engraftment_analyte_names()
        unique = pd.unique(labs["analyte"].to_numpy())
        wanted = [a for a in unique if str(a).strip().lower() in names]
        labs = labs[labs["analyte"].isin(wanted).to_numpy()]
    labs = with_day(labs, "result_date", ["analyte", "value", "unit"])

    aes = _get(frames, "adverse_events").rename(columns={"ctcae_grade": "grade"})
    aes = with_day(aes, "onset_date", ["category", "grade"])

    events = with_day(_get(frames, "clinical_events"), "event_date", ["event_type", "cause", "severity"])
    deaths = (
        events[events["event_type"] == "death"]
        .sort_values(["patient_id", "day"])
        .drop_duplicates("patient_id")
    ).set_index("patient_id")
    flares = events[events["event_type"].isin(["flare", "relapse"])].copy()
    flares["severe"] = flares["severity"].eq("severe")

    drugs = _get(frames, "drug_administrations")
    if not drugs.empty:
        drugs = drugs[drugs["purpose"].eq("transfusion").to_numpy()]
        drugs = drugs[drugs["drug"].astype(str).str.lower().str.contains("platelet").to_numpy()]
    transfusions = with_day(drugs, "admin_date", [])

    pats["death_day"] = pats["patient_id"].map(deaths["day"]) if not deaths.empty else np.nan
    pats["death_cause"] = pats["patient_id"].map(deaths["cause"]) if not deaths.empty else None
    dated = pd.concat(
        [f[["patient_id", "day"]] for f in (visits, labs, aes, events) if not f.empty]
        or [pd.DataFrame(columns=["patient_id", "day"])]
    )
    latest = dated.groupby("patient_id")["day"].max() if not dated.empty else pd.Series(dtype=float)
    last = pats["patient_id"].map(latest).fillna(0).clip(lower=0)
    pats["last_contact_day"] = np.fmax(last.to_numpy(dtype=float), pats["death_day"].to_numpy(dtype=float))
    return CohortData(
        patients=_finalise_patients(pats),
        visits=_finalise_visits(visits),
        labs=normalise_labs(labs, "lab_results"),
        adverse_events=_finalise(aes, AE_COLUMNS),
        flare_events=_finalise(flares, FLARE_COLUMNS),
        transfusions=_finalise(transfusions, TRANSFUSION_COLUMNS),
    )


def empty_cohort() -> CohortData:
    """A cohort without patients (every frame empty, with its columns)."""
    patients = pd.DataFrame({c: pd.Series([], dtype=object) for c in PATIENT_COLUMNS})
    patients["last_contact_day"] = patients["last_contact_day"].astype(np.int64)
    visits = pd.DataFrame({c: pd.Series([], dtype=object) for c in VISIT_COLUMNS})
    visits["day"] = visits["day"].astype(np.int64)
    return CohortData(
        patients=_finalise_patients(patients),
        visits=_finalise_visits(visits),
        labs=_finalise(pd.DataFrame(), LAB_COLUMNS),
        adverse_events=_finalise(pd.DataFrame(), AE_COLUMNS),
        flare_events=_finalise(pd.DataFrame(), FLARE_COLUMNS),
        transfusions=_finalise(pd.DataFrame(), TRANSFUSION_COLUMNS),
    )


def from_synthetic(n: int, seed: int = 0) -> CohortData:
    """Generate ``n`` synthetic patients (:mod:`lupuscell.synth.cohort`) in normalised form."""
    from lupuscell.synth.cohort import generate_cohort_tables

    return from_tables(generate_cohort_tables(n, seed))


def concat(cohorts: Iterable[CohortData]) -> CohortData:
    """Concatenate cohorts with disjoint patient ids (e.g. synthetic chunks)."""
    parts = list(cohorts)
    return CohortData(*(pd.concat([c.frames()[i] for c in parts], ignore_index=True) for i in range(6)))


# ------------------------------------------------------------------------------------- registry


def read_registry_tables(engine: Any) -> dict[str, pd.DataFrame]:
    """Read the registry tables needed by the engine with SQLAlchemy Core selects.

    Each frame carries ``patient_code`` (joined from ``patients``); only portable ``select``
    and ``join`` are used, so SQLite and PostgreSQL give the same frames.
    """
    import sqlalchemy as sa

    from lupuscell.registry import models as m

    pt = m.Patient.__table__
    code = pt.c.code.label("patient_code")

    def by_patient(table: Any) -> Any:
        return sa.select(*table.c, code).join_from(table, pt, table.c.patient_id == pt.c.id)

    courses = m.TherapyCourse.__table__
    drugs = m.DrugAdministration.__table__
    labs = m.LabResult.__table__
    statements = {
        "patients": sa.select(*pt.c, code, m.Site.__table__.c.code.label("site_code")).join_from(
            pt, m.Site.__table__, pt.c.site_id == m.Site.__table__.c.id
        ),
        "therapy_courses": by_patient(courses),
        "visits": by_patient(m.Visit.__table__),
        "lab_results": by_patient(labs).where(
            sa.func.lower(labs.c.analyte).in_(sorted(engraftment_analyte_names()))
        ),
        "adverse_events": by_patient(m.AdverseEvent.__table__),
        "clinical_events": by_patient(m.ClinicalEvent.__table__),
        "drug_administrations": sa.select(*drugs.c, code)
        .join_from(drugs, courses, drugs.c.course_id == courses.c.id)
        .join(pt, courses.c.patient_id == pt.c.id),
    }
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for name, stmt in statements.items():
            result = conn.execute(stmt)
            frames[name] = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frames


def from_registry(engine: Any) -> CohortData:
    """Load the whole registry behind ``engine`` into a :class:`CohortData`."""
    return from_tables(read_registry_tables(engine))
