"""De-identification of an export: what leaves the registry by default.

The rules (:data:`DEIDENTIFICATION`, written into every de-identified export's manifest) and,
field by field, what happens to free text (:data:`FREE_TEXT`): every free-text field is either
coded against a vocabulary of :mod:`lupuscell.vocab` (an unlisted value becomes ``other``) or
dropped, so a name, record number or date typed into any of them cannot leave the registry.
Users' documentation: docs/registry/import_export.md.

Written by hand: the transformations are specific to this registry's tables (study days from
the patient's own day 0, coded causes); general tools (ARX, sdcMicro) address k-anonymity of
released tables, which is a further step a data-release committee may take.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from lupuscell import units, vocab
from lupuscell.errors import ValidationError
from lupuscell.outcomes.timeline import day0_by_patient

AGE_TOP_CODE = 90
"""Ages above 89 are reported as 90 ("90 or older"), HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(C)."""

DEATH_CAUSE_CATEGORIES = (
    "sle_activity",
    "infection",
    "treatment_related",
    "cardiovascular",
    "malignancy",
    "other",
    "unknown",
)
"""Coded death causes kept by the de-identified export (see :func:`death_cause_category`)."""

DEATH_CAUSE_SYNONYMS = {
    "active sle": "sle_activity",
    "sle activity": "sle_activity",
    "lupus activity": "sle_activity",
    "active lupus": "sle_activity",
    "sepsis": "infection",
    "cancer": "malignancy",
}
"""Exact (case-insensitive) spellings mapped to a category; no free-text parsing beyond this."""

FREE_TEXT: dict[str, str] = {
    "sites.name": "dropped (the site code and country are kept)",
    "patients.prior_therapies": "each entry coded against vocab.DRUGS; unlisted entries become 'other'",
    "therapy_courses.protocol_id": "dropped",
    "drug_administrations.drug": "coded against vocab.DRUGS; unlisted names become 'other'",
    "drug_administrations.unit": "coded against vocab.DOSE_UNITS; unlisted units become 'other'",
    "lab_results.analyte": "replaced by the analyte's code in data/units.yaml",
    "lab_results.unit": "replaced by the unit's primary spelling in data/units.yaml (value unchanged)",
    "adverse_events.term": "dropped (category, grade and grading system are kept)",
    "clinical_events.cause": "coded as cause_category (death_cause_category)",
}
"""Every free-text field of the registry and its treatment in a de-identified export."""

DEIDENTIFICATION: tuple[str, ...] = (
    "patient codes are replaced by new random subject ids (SUBJ-000001...) assigned in a random "
    "order; the mapping is not stored anywhere, so subject ids cannot be linked back to codes",
    "every calendar date is replaced by a study day: days from the patient's day 0 (infusion of "
    "the first therapy course, else the earliest recorded date); intervals are preserved exactly "
    "and columns are renamed *_date -> *_day",
    "birth year is replaced by the age in whole years at day 0 (day-0 year minus birth year); "
    "ages above 89 are top-coded as 90",
    "free text never leaves verbatim: "
    + "; ".join(f"{field} {treatment}" for field, treatment in FREE_TEXT.items()),
    "database ids, import batch ids and row timestamps are not exported",
)


def death_cause_category(cause: str | None, treatment_related: bool | None) -> str | None:
    """The coded category of a recorded death cause.

    A cause that is a category (or a listed synonym) is kept; any other text becomes
    ``treatment_related`` when the death is flagged treatment-related, else ``other``. The
    free text itself is never exported.
    """
    if cause is None or (isinstance(cause, float) and math.isnan(cause)):
        return None
    key = str(cause).strip().lower()
    if key in DEATH_CAUSE_CATEGORIES:
        return key
    if key in DEATH_CAUSE_SYNONYMS:
        return DEATH_CAUSE_SYNONYMS[key]
    return "treatment_related" if treatment_related is True else "other"


def _day0(frames: Mapping[str, pd.DataFrame]) -> dict[str, dt.date]:
    """Day 0 per patient code (:mod:`lupuscell.outcomes.timeline`), else the earliest recorded date."""
    courses = frames["therapy_courses"]
    day0 = {str(code): ts.date() for code, ts in day0_by_patient(courses, key="patient_code").items()}
    fallback: dict[str, dt.date] = {}
    for name, frame in frames.items():
        if name in ("sites", "patients", "therapy_courses") or "patient_code" not in frame:
            continue
        for column in [c for c in frame.columns if c.endswith("_date")]:
            for code, date in zip(frame["patient_code"], frame[column], strict=True):
                if date is not None and not pd.isna(date):
                    fallback[code] = min(date, fallback.get(code, date))
    for code, date in zip(frames["patients"]["code"], frames["patients"]["sle_diagnosis_date"], strict=True):
        if date is not None and not pd.isna(date):
            fallback[code] = min(date, fallback.get(code, date))
    return {**fallback, **day0}


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, list | dict) and bool(pd.isna(value)))


def _coded(values: pd.Series, codes: dict[str, tuple[str, ...]]) -> list[Any]:
    return [None if _is_missing(v) else vocab.code_free_text(v, codes) for v in values]


def _dose_unit(value: Any) -> Any:
    if _is_missing(value):
        return None
    key = "".join(str(value).lower().split())
    return key if key in vocab.DOSE_UNITS else "other"


def _lab_spelling(analyte: Any, unit: Any) -> tuple[Any, Any]:
    """(analyte code, primary unit spelling) of a stored lab result, as tabulated
    (``other`` for a pair the table no longer accepts)."""
    try:
        return units.get_analyte(str(analyte)).code, units.unit_rule(str(analyte), str(unit)).unit
    except ValidationError:
        return "other", "other"


def _code_free_text(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :data:`FREE_TEXT` to one table."""
    if name == "sites":
        frame = frame.drop(columns=["name"])
    elif name == "patients":
        frame["prior_therapies"] = [
            []
            if _is_missing(items)
            else list(dict.fromkeys(_coded(pd.Series(list(items), dtype=object), vocab.DRUGS)))
            for items in frame["prior_therapies"]
        ]
    elif name == "therapy_courses":
        frame = frame.drop(columns=["protocol_id"])
    elif name == "drug_administrations":
        frame["drug"] = _coded(frame["drug"], vocab.DRUGS)
        frame["unit"] = [_dose_unit(u) for u in frame["unit"]]
    elif name == "lab_results" and len(frame):
        spelled = [_lab_spelling(a, u) for a, u in zip(frame["analyte"], frame["unit"], strict=True)]
        frame["analyte"], frame["unit"] = [s[0] for s in spelled], [s[1] for s in spelled]
    elif name == "adverse_events":
        frame = frame.drop(columns=["term"])
    elif name == "clinical_events":
        frame["cause"] = [
            death_cause_category(c, None if _is_missing(t) else bool(t))
            for c, t in zip(frame["cause"], frame["treatment_related"], strict=True)
        ]
        frame = frame.rename(columns={"cause": "cause_category"})
    return frame


def _to_study_days(
    frame: pd.DataFrame, original: pd.DataFrame, codes: pd.Series, day0: dict[str, dt.date]
) -> pd.DataFrame:
    for column in [c for c in frame.columns if c.endswith("_date")]:
        frame[column] = pd.array(
            [
                None if _is_missing(d) or c not in day0 else (d - day0[c]).days
                for c, d in zip(codes, original[column], strict=True)
            ],
            dtype="Int64",
        )
        frame = frame.rename(columns={column: column[: -len("_date")] + "_day"})
    return frame


def age_in_whole_years(age: pd.Series) -> pd.Series:
    """Ages as de-identified output gives them: whole years (rounded down), top-coded at
    :data:`AGE_TOP_CODE` (the analysis datasets' ``AGE`` in the web and CDISC exports)."""
    years = np.floor(pd.to_numeric(age, errors="coerce").to_numpy(dtype=float))
    return pd.Series(np.minimum(years, AGE_TOP_CODE), index=age.index, name=age.name)


def subject_ids(codes: Iterable[str], rng: secrets.SystemRandom | None = None) -> dict[str, str]:
    """New subject ids ``SUBJ-000001``... for the distinct ``codes``, assigned in a random order.

    The mapping is returned to the caller only, never stored, so a subject id cannot be linked
    back to its patient code (:data:`DEIDENTIFICATION`).
    """
    order = list(dict.fromkeys(str(c) for c in codes))
    (rng or secrets.SystemRandom()).shuffle(order)
    return {code: f"SUBJ-{i:06d}" for i, code in enumerate(order, start=1)}


def deidentify(
    frames: Mapping[str, pd.DataFrame], rng: secrets.SystemRandom | None = None
) -> dict[str, pd.DataFrame]:
    """Apply :data:`DEIDENTIFICATION` (and :data:`FREE_TEXT`) to identified exchange frames."""
    subject = subject_ids(frames["patients"]["code"], rng)
    day0 = _day0(frames)
    out: dict[str, pd.DataFrame] = {}
    for name, original in frames.items():
        frame = _code_free_text(name, original.copy())
        if name != "sites":
            code_col = "code" if name == "patients" else "patient_code"
            frame = _to_study_days(frame, original, original[code_col], day0)
            frame[code_col] = original[code_col].map(subject)
            frame = frame.rename(columns={code_col: "subject_id"})
        if name == "patients":
            frame["age_at_day0"] = pd.array(
                [
                    None if c not in day0 else min(day0[c].year - int(y), AGE_TOP_CODE)
                    for c, y in zip(original["code"], original["birth_year"], strict=True)
                ],
                dtype="Int64",
            )
            frame = frame.drop(columns=["birth_year"])
        if "subject_id" in frame:
            frame = frame.sort_values([c for c in ("subject_id", "course_no") if c in frame], kind="stable")
        out[name] = frame.reset_index(drop=True)
    return out
