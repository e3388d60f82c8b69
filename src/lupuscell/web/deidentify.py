"""De-identification of the analysis datasets a web user downloads or a report shows.

Patient codes are replaced by random subject ids (a new mapping each download, never stored, the
same across the tables of one download); the calendar day-0 date is dropped (times are study
days); death causes are coded; age is in whole years, top-coded at 90: the registry export's rules
(:mod:`lupuscell.registry.deidentify`) applied to ADSL / ADTTE / ADRS. Statisticians use these
pages and never see patient codes.
"""

from __future__ import annotations

from typing import Any

SUBJECT_COLUMNS = ("USUBJID", "SUBJID", "patient_id", "patient_code")

DATE_COLUMNS = ("TRTSDT",)


def deidentify(frames: dict[str, Any]) -> dict[str, Any]:
    """The registry export's de-identification applied to the analysis datasets: random subject
    ids (:func:`pseudonymise`), no calendar date (``TRTSDT`` dropped; every time is a study day),
    death cause coded by :func:`lupuscell.registry.deidentify.death_cause_category` (free text is
    never exported), age in whole years top-coded at 90
    (:func:`lupuscell.registry.deidentify.age_in_whole_years`)."""
    from lupuscell.registry.deidentify import age_in_whole_years, death_cause_category

    out = {}
    for name, frame in pseudonymise(frames).items():
        frame = frame.drop(columns=[c for c in DATE_COLUMNS if c in frame.columns])
        if "DTHCAUS" in frame.columns:
            frame["DTHCAUS"] = [death_cause_category(c, None) for c in frame["DTHCAUS"]]
        if "AGE" in frame.columns:
            frame["AGE"] = age_in_whole_years(frame["AGE"])
        out[name] = frame
    return out


def pseudonymous_cohort(cohort: Any) -> Any:
    """The cohort with patient codes replaced by random subject ids (for users who may not see
    codes: the report's swimmer plot labels its rows by patient)."""
    from lupuscell.outcomes.inputs import CohortData

    named = {str(i): frame for i, frame in enumerate(cohort.frames())}
    renamed = pseudonymise({k: f.rename(columns={"patient_id": "patient_code"}) for k, f in named.items()})
    return CohortData(*(renamed[k].rename(columns={"patient_code": "patient_id"}) for k in named))


def pseudonymise(frames: dict[str, Any]) -> dict[str, Any]:
    """Replace patient codes by random subject ids, consistently across the frames
    (:func:`lupuscell.registry.deidentify.subject_ids`, as the registry export)."""
    from lupuscell.registry.deidentify import subject_ids

    codes: set[str] = set()
    for frame in frames.values():
        for col in SUBJECT_COLUMNS:
            if col in frame.columns:
                codes.update(frame[col].astype(str))
    mapping = subject_ids(sorted(codes))
    out = {}
    for name, frame in frames.items():
        frame = frame.copy()
        for col in SUBJECT_COLUMNS:
            if col in frame.columns:
                frame[col] = frame[col].astype(str).map(mapping)
        out[name] = frame
    return out
