"""The one in-memory form of a cohort the outcomes engine reads: :class:`CohortData`.

Every source (the ``lupuscell endpoints`` JSON, :mod:`lupuscell.outcomes.json_input`;
registry-shaped tables, :func:`lupuscell.outcomes.inputs.from_tables`) is turned into a handful
of long pandas DataFrames keyed by ``patient_id``, with dates already converted to **study
days** (:mod:`lupuscell.outcomes.timeline`). The engine only ever sees this form, so a number
cannot depend on where the data came from.

Lab values are converted to canonical units with :func:`lupuscell.units.normalise` once per
distinct (analyte, unit) pair (a factor), so millions of rows are converted with one multiply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    "missing_states",
)
LAB_COLUMNS: tuple[str, ...] = ("patient_id", "day", "analyte", "value")
AE_COLUMNS: tuple[str, ...] = ("patient_id", "day", "category", "grade", "grading_system")
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
        numbers; ``death_day`` NaN when alive; ``last_contact_day`` is the end of follow-up of
        :func:`lupuscell.outcomes.timeline.follow_up`: the death day for a patient who died,
        else the last day known alive).
    visits
        One row per visit: :data:`VISIT_COLUMNS` (descriptors as nullable booleans, NA = not
        assessed; ``bilag_<domain>`` grade letters or None).
    labs
        ``patient_id, day, analyte, value`` for ``anc`` and ``platelets`` in 10^9/L.
    adverse_events
        ``patient_id, day, category, grade, grading_system`` (onset day; grading system codes
        of :data:`lupuscell.outcomes.definitions.AE_GRADING_SYSTEMS`).
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
    """A frame without rows with ``columns`` (object dtype)."""
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


def finalise_visits(visits: pd.DataFrame) -> pd.DataFrame:
    """Visits in :data:`VISIT_COLUMNS` with the engine's dtypes, sorted by patient and day."""
    out = visits.reindex(columns=list(VISIT_COLUMNS))  # a new frame; absent columns all-missing
    out["day"] = out["day"].astype(np.int64)
    for col in (*DESCRIPTORS, *VISIT_FLAGS):
        out[col] = _bool_col(out[col])
    for col in ("pga", "prednisone_mg"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col in (*BILAG_COLUMNS, "missing_states"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return _sort_by_patient_day(out)


def finalise(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of a long per-patient frame, integer ``day``, sorted by patient and day."""
    if frame.empty:
        return empty_frame(columns).astype({"patient_id": str})
    out = frame.loc[:, list(columns)]  # patient_id is already str (every loader makes it so)
    if "day" in out.columns:
        out["day"] = out["day"].astype(np.int64)
    return _sort_by_patient_day(out)


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
        return finalise(labs, LAB_COLUMNS)
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
    return finalise(work[~np.isnan(work["value"].to_numpy())], LAB_COLUMNS)


def finalise_patients(frame: pd.DataFrame) -> pd.DataFrame:
    """Patients in :data:`PATIENT_COLUMNS` with the engine's dtypes (input order kept)."""
    out = frame.loc[:, list(PATIENT_COLUMNS)].copy()
    out["patient_id"] = out["patient_id"].astype(str)
    out["day0"] = pd.to_datetime(out["day0"])
    for col in ("age", "diagnosis_years", "death_day"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["last_contact_day"] = out["last_contact_day"].astype(np.int64)
    out["nephritis"] = out["nephritis"].astype("boolean")
    return out.reset_index(drop=True)


def empty_cohort() -> CohortData:
    """A cohort without patients (every frame empty, with its columns)."""
    patients = pd.DataFrame({c: pd.Series([], dtype=object) for c in PATIENT_COLUMNS})
    patients["last_contact_day"] = patients["last_contact_day"].astype(np.int64)
    visits = pd.DataFrame({c: pd.Series([], dtype=object) for c in VISIT_COLUMNS})
    visits["day"] = visits["day"].astype(np.int64)
    return CohortData(
        patients=finalise_patients(patients),
        visits=finalise_visits(visits),
        labs=finalise(pd.DataFrame(), LAB_COLUMNS),
        adverse_events=finalise(pd.DataFrame(), AE_COLUMNS),
        flare_events=finalise(pd.DataFrame(), FLARE_COLUMNS),
        transfusions=finalise(pd.DataFrame(), TRANSFUSION_COLUMNS),
    )


def concat(cohorts: Iterable[CohortData]) -> CohortData:
    """Concatenate cohorts with disjoint patient ids (e.g. synthetic chunks)."""
    parts = list(cohorts)
    return CohortData(*(pd.concat([c.frames()[i] for c in parts], ignore_index=True) for i in range(6)))
