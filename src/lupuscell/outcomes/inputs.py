"""Loaders of the outcomes engine: every source becomes one :class:`CohortData`.

Sources
-------
* ``lupuscell endpoints`` JSON: :mod:`lupuscell.outcomes.json_input` (``from_json_payload``,
  re-exported here), validated with pydantic; every rejection names the patient id and the
  field (``patients[i].visits[j].sledai2k.fever``).
* Registry-shaped tables (one DataFrame per table of :mod:`lupuscell.registry.models`, each
  with ``patient_code``): :func:`from_tables`. The registry reads them with
  :func:`lupuscell.registry.tables.from_registry`; the synthetic cohort generates them
  (:func:`lupuscell.synth.cohort_data.from_synthetic`). Both go through this one converter.

Day 0, study days, death and the end of follow-up come from :mod:`lupuscell.outcomes.timeline`
on every path, so a patient's ``os_days`` does not depend on where the data came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.errors import ValidationError
from lupuscell.outcomes import timeline
from lupuscell.outcomes.cohort import (
    AE_COLUMNS,
    BILAG_COLUMNS,
    BILAG_DOMAINS,
    DESCRIPTORS,
    FLARE_COLUMNS,
    LAB_COLUMNS,
    PATIENT_COLUMNS,
    TRANSFUSION_COLUMNS,
    VISIT_COLUMNS,
    VISIT_FLAGS,
    CohortData,
    concat,
    empty_cohort,
    empty_frame,
    engraftment_analyte_names,
    finalise,
    finalise_patients,
    finalise_visits,
    normalise_labs,
)
from lupuscell.outcomes.definitions import default_grading_system
from lupuscell.outcomes.json_input import (
    AdverseEventIn,
    DeathIn,
    LabIn,
    PatientIn,
    VisitIn,
    from_json_payload,
    from_patients,
    parse_payload,
)

__all__ = [
    "AE_COLUMNS",
    "BILAG_COLUMNS",
    "BILAG_DOMAINS",
    "DESCRIPTORS",
    "FLARE_COLUMNS",
    "LAB_COLUMNS",
    "PATIENT_COLUMNS",
    "TABLES",
    "TRANSFUSION_COLUMNS",
    "VISIT_COLUMNS",
    "VISIT_FLAGS",
    "AdverseEventIn",
    "CohortData",
    "DeathIn",
    "LabIn",
    "PatientIn",
    "VisitIn",
    "concat",
    "empty_cohort",
    "empty_frame",
    "engraftment_analyte_names",
    "from_json_payload",
    "from_patients",
    "from_tables",
    "normalise_labs",
    "parse_payload",
]

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

#: Optional frame of :func:`from_tables`: ``patient_code, date`` rows proving the patient alive
#: (a reader that does not pass every laboratory row computes them itself, e.g. in SQL).
ALIVE_DATES = "alive_dates"

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


def _column(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(default, index=frame.index, dtype=object)


def _patients(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Patients with a therapy course, with day 0, therapy and the baseline descriptors."""
    pats = _get(frames, "patients").copy()
    pats["patient_id"] = _code(pats)
    courses = _get(frames, "therapy_courses").copy()
    courses["patient_id"] = _code(courses)
    index = timeline.index_courses(courses)
    pats = pats[pats["patient_id"].isin(index.index)].copy()
    day0 = pats["patient_id"].map(index["infusion_date"])
    pats["day0"] = day0
    pats["therapy"] = pats["patient_id"].map(index["therapy"])
    pats["cell_source"] = pats["patient_id"].map(index["cell_source"]) if "cell_source" in index else None
    site_col = next((c for c in ("site_code", "site") if c in pats.columns), None)
    pats["site"] = pats[site_col].astype(str) if site_col else None
    birth = pd.to_numeric(_column(pats, "birth_year", np.nan))
    # Only the birth year is stored (pseudonymisation): age counted from 1 July of that year.
    mid_year = pd.to_datetime(birth.astype("Int64").astype(str) + "-07-01", errors="coerce")
    pats["age"] = (day0 - mid_year).dt.days / 365.25
    diagnosis = pd.to_datetime(_column(pats, "sle_diagnosis_date"))
    pats["diagnosis_years"] = (day0 - diagnosis).dt.days / 365.25
    pats["nephritis"] = _nephritis(pats)
    pats["nephritis_class"] = _column(pats, "nephritis_class")
    pats["sex"] = _column(pats, "sex")
    return pats


def _with_day(frame: pd.DataFrame, date_col: str, columns: list[str], day0: pd.Series) -> pd.DataFrame:
    """Only ``columns`` of ``frame`` plus ``patient_id`` and study ``day`` (patients with a day 0)."""
    if frame.empty:
        return pd.DataFrame(columns=["patient_id", "day", *columns])
    out = frame.loc[:, [c for c in columns if c in frame.columns]].copy()
    out["patient_id"] = _code(frame)
    day0_rows = out["patient_id"].map(day0)
    out = out[day0_rows.notna().to_numpy()]
    out["day"] = timeline.study_days(frame.loc[out.index, date_col], day0_rows[out.index])
    return out


def _bilag_grades(visits: pd.DataFrame) -> pd.DataFrame:
    """One ``bilag_<domain>`` column per domain from the visits' JSON ``bilag`` cells."""
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
    return pd.DataFrame({f"bilag_{d}": grades[d].reindex(visits.index) for d in BILAG_DOMAINS})


def _engine_states(value: Any) -> dict[str, str] | None:
    """A registry ``missing`` cell with its keys in the engine's column names."""
    states = _json_value(value)
    if not isinstance(states, Mapping) or not states:
        return None
    return {_VISIT_RENAME.get(str(k), str(k)): str(v) for k, v in states.items()}


def _visits(frames: Mapping[str, pd.DataFrame], day0: pd.Series) -> pd.DataFrame:
    raw_name = {new: old for old, new in _VISIT_RENAME.items()} | {"missing_states": "missing"}
    keep = [raw_name.get(c, c) for c in (*VISIT_COLUMNS[2:], "bilag")]
    visits = _with_day(_get(frames, "visits"), "visit_date", keep, day0).rename(columns=_VISIT_RENAME)
    if "missing" in visits.columns:  # explicit missing-value states (registry migration 0006)
        visits["missing_states"] = visits.pop("missing").map(_engine_states)
    if "bilag" in visits.columns and visits["bilag"].notna().any():  # a registry may hold no grades
        grades = _bilag_grades(visits)
        visits[list(grades.columns)] = grades
    return visits


def _labs(frames: Mapping[str, pd.DataFrame], day0: pd.Series) -> pd.DataFrame:
    """The engraftment analytes' rows (any spelling of data/units.yaml), with study day."""
    labs = _get(frames, "lab_results")
    if not labs.empty:
        names = engraftment_analyte_names()
        wanted = [a for a in pd.unique(labs["analyte"].to_numpy()) if str(a).strip().lower() in names]
        labs = labs[labs["analyte"].isin(wanted).to_numpy()]
    return _with_day(labs, "result_date", ["analyte", "value", "unit"], day0)


def _adverse_events(frames: Mapping[str, pd.DataFrame], day0: pd.Series) -> pd.DataFrame:
    """Adverse events with onset day, grade and grading system.

    A row without a grading system (registries from before the column, the synthetic cohort)
    holds a grade on its category's default system
    (:func:`~lupuscell.outcomes.definitions.default_grading_system`: ASTCT 2019 for CRS and
    ICANS, CTCAE v5.0 otherwise), as the registry's migration assigns it.
    """
    aes = _get(frames, "adverse_events")
    if "grade" not in aes.columns and "ctcae_grade" in aes.columns:
        aes = aes.rename(columns={"ctcae_grade": "grade"})
    aes = _with_day(aes, "onset_date", ["category", "grade", "grading_system"], day0)
    default = aes["category"].map(default_grading_system) if len(aes) else None
    aes["grading_system"] = _column(aes, "grading_system").where(
        _column(aes, "grading_system").notna(), default
    )
    return aes


def _transfusions(frames: Mapping[str, pd.DataFrame], day0: pd.Series) -> pd.DataFrame:
    """Platelet transfusions: drug administrations for ``transfusion`` naming platelets."""
    drugs = _get(frames, "drug_administrations")
    if not drugs.empty:
        drugs = drugs[drugs["purpose"].eq("transfusion").to_numpy()]
        drugs = drugs[drugs["drug"].astype(str).str.lower().str.contains("platelet").to_numpy()]
    return _with_day(drugs, "admin_date", [], day0)


def _follow_up(frames: Mapping[str, pd.DataFrame], pats: pd.DataFrame) -> pd.DataFrame:
    """:func:`lupuscell.outcomes.timeline.follow_up` of the patients, with the death cause."""
    events = _get(frames, "clinical_events")
    deaths = (
        timeline.first_deaths(events.assign(patient_id=_code(events)))
        if "event_type" in events.columns
        else pd.DataFrame({"event_date": pd.Series([], dtype="datetime64[ns]"), "cause": []})
    )
    alive = frames.get(ALIVE_DATES)
    if alive is None:
        alive = timeline.alive_dates(frames, key="patient_code")
    ids = pd.Index(pats["patient_id"])
    follow = timeline.follow_up(
        ids,
        pats.set_index("patient_id")["day0"],
        deaths["event_date"],
        alive.assign(patient_id=alive["patient_code"].astype(str)),
    )
    follow["death_cause"] = deaths["cause"].reindex(ids) if "cause" in deaths else None
    return follow


def from_tables(frames: Mapping[str, pd.DataFrame]) -> CohortData:
    """Convert registry-shaped DataFrames (one per table of :data:`TABLES`, with ``patient_code``).

    Day 0, the therapy and the cell source come from the patient's index course, death is the
    first ``death`` clinical event and ``last_contact_day`` the end of follow-up, all as
    :mod:`lupuscell.outcomes.timeline` defines them; patients without a course have no day 0
    and are left out. The last known alive date is read from every table's dates, or from an
    optional :data:`ALIVE_DATES` frame (``patient_code, date``) when the reader computed it.
    """
    if _get(frames, "patients").empty or _get(frames, "therapy_courses").empty:
        return empty_cohort()
    pats = _patients(frames)
    day0 = pats.set_index("patient_id")["day0"]
    follow = _follow_up(frames, pats)
    pats["last_contact_day"] = follow["end_day"].to_numpy()
    pats["death_day"] = follow["death_day"].to_numpy()
    pats["death_cause"] = follow["death_cause"].to_numpy()
    events = _with_day(_get(frames, "clinical_events"), "event_date", ["event_type", "severity"], day0)
    flares = events[events["event_type"].isin(["flare", "relapse"])].copy()
    flares["severe"] = flares["severity"].eq("severe")
    return CohortData(
        patients=finalise_patients(pats.reindex(columns=list(PATIENT_COLUMNS))),
        visits=finalise_visits(_visits(frames, day0)),
        labs=normalise_labs(_labs(frames, day0), "lab_results"),
        adverse_events=finalise(_adverse_events(frames, day0), AE_COLUMNS),
        flare_events=finalise(flares, FLARE_COLUMNS),
        transfusions=finalise(_transfusions(frames, day0), TRANSFUSION_COLUMNS),
    )
