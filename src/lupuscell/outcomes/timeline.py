"""A patient's clinical time: day 0, study day, last known alive date and end of follow-up.

This module is the one definition of these four quantities. Every caller uses it: the outcomes
engine on each of its sources (``lupuscell endpoints`` JSON, registry tables, synthetic frames),
the registry's patient list and timeline (:mod:`lupuscell.registry.views`), the cohort summary
(:mod:`lupuscell.registry.cohort_summary`), the de-identified export
(:mod:`lupuscell.registry.exchange`) and the report. So the cohort summary's follow-up, the
patient list's follow-up and ADSL's ``os_days`` cannot disagree for one patient.

Definitions
-----------
Day 0
    The infusion date of the patient's **index course**: the first therapy course by infusion
    date (ties: the first recorded). HSCT: the graft infusion; MSC: the first infusion; CAR-T:
    the cell infusion. A patient without a course has no day 0. This is the "day 0" from which
    the EBMT and CIBMTR transplant and cellular-therapy registry forms count every follow-up
    (day +100, 1 year), and the infusion date of the EBMT autoimmune-disease guidelines
    (Snowden JA et al., Bone Marrow Transplant 2012;47:770-790).
Study day
    ``date - day 0`` in whole days: day 0 is 0, the day before is -1. This is CDISC ADaM's
    ``ADY`` *without* its "no day 0" rule (ADaM IG v1.3 counts the reference day as day 1),
    because transplant literature counts from day 0 (day +100 is 100 days after infusion).
Last known alive date
    The latest date on which any record shows the patient alive, over :data:`ALIVE_SOURCES`:
    therapy-course infusions, drug administrations (including transfusions), visits,
    laboratory results of **any** analyte, adverse-event onset and resolution dates, and every
    clinical event except death (``last_contact``, ``flare``, ``relapse``). A visit or a
    laboratory value after the stated last contact therefore moves it (a patient with last
    contact on day 200, a visit on day 240 and an ANC on day 260 was alive on day 260). For a
    patient who died it is never after the death date. This is ADSL's ``LSTALVDT`` ("date last
    known alive") as the CDISC ADaM community derives it: the latest of adverse-event start and
    end dates, laboratory dates, exposure (administration) dates and disposition/contact dates
    (pharmaverse ``admiral``, "Creating ADSL" vignette, ``LSTALVDT``). The CIBMTR and EBMT
    follow-up forms call it the "date of last contact"; overall survival of patients alive at
    analysis is censored at it (US FDA, Clinical Trial Endpoints for the Approval of Cancer
    Drugs and Biologics, guidance for industry, 2018).
End of follow-up
    The death date (the first recorded death) for a patient who died, else the last known
    alive date. Overall survival runs from day 0 to it (event if death, censored otherwise);
    the follow-up time is never negative: a death or last contact before day 0 is an input
    error the loaders refuse, and would give 0.

All functions are vectorised over a cohort (pandas) except :func:`study_day` and :func:`day0_of`,
the scalar ones (one patient).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Clinical event type that ends follow-up (:data:`lupuscell.vocab.CLINICAL_EVENT_TYPES`).
DEATH_EVENT = "death"


@dataclass(frozen=True)
class AliveSource:
    """A dated column whose dates prove the patient alive (registry table and column names)."""

    table: str
    column: str
    exclude_event_types: tuple[str, ...] = ()


ALIVE_SOURCES: tuple[AliveSource, ...] = (
    AliveSource("therapy_courses", "infusion_date"),
    AliveSource("drug_administrations", "admin_date"),
    AliveSource("visits", "visit_date"),
    AliveSource("lab_results", "result_date"),
    AliveSource("adverse_events", "onset_date"),
    AliveSource("adverse_events", "resolution_date"),
    AliveSource("clinical_events", "event_date", exclude_event_types=(DEATH_EVENT,)),
)
"""Every dated record that proves the patient alive on its date (the last-known-alive sources)."""

#: Columns of :func:`follow_up`'s result.
FOLLOW_UP_COLUMNS: tuple[str, ...] = (
    "day0",
    "death_date",
    "last_alive_date",
    "end_date",
    "dead",
    "death_day",
    "last_alive_day",
    "end_day",
)


def study_day(date: dt.date | None, day0: dt.date | None) -> int | None:
    """Days from day 0 to ``date`` (day 0 itself is 0); None when either is unknown."""
    if date is None or day0 is None:
        return None
    return (date - day0).days


def study_days(dates: pd.Series, day0: pd.Series) -> pd.Series:
    """Vectorised :func:`study_day` over aligned series (float; NaN when either is missing)."""
    delta = pd.to_datetime(dates) - pd.to_datetime(day0)
    return delta.dt.days.astype(float)


def index_courses(courses: pd.DataFrame, key: str = "patient_id") -> pd.DataFrame:
    """The index course of each patient: the first by ``infusion_date``, ties in row order.

    ``courses`` has ``key`` and ``infusion_date`` (plus any course columns, kept); the result
    has one row per patient, indexed by ``key``, with ``infusion_date`` as ``datetime64``.
    """
    frame = courses.assign(infusion_date=pd.to_datetime(courses["infusion_date"]))
    first = frame.sort_values([key, "infusion_date"], kind="stable").drop_duplicates(key)
    return first.set_index(key)


def day0_of(infusion_dates: Sequence[dt.date | None]) -> dt.date | None:
    """Day 0 of one patient from its courses' infusion dates: the scalar :func:`day0_by_patient`.

    The infusion date of the index course (:func:`index_courses`: the first by infusion date;
    ties do not change the date); None for a patient without a dated course. Used where one
    patient's records are already in hand (the patient timeline of the CLI and the web API).
    """
    dates = [d for d in infusion_dates if d is not None]
    return min(dates) if dates else None


def day0_by_patient(courses: pd.DataFrame, key: str = "patient_id") -> pd.Series:
    """Day 0 (``datetime64``) per patient ``key`` from its therapy courses (:func:`index_courses`)."""
    return index_courses(courses.loc[:, [key, "infusion_date"]], key)["infusion_date"].rename("day0")


def first_deaths(events: pd.DataFrame, key: str = "patient_id") -> pd.DataFrame:
    """The first death event of each patient (by ``event_date``, ties in row order).

    ``events`` has ``key``, ``event_type`` and ``event_date``; the result is indexed by
    ``key`` and keeps the other columns (cause, treatment_related), ``event_date`` as
    ``datetime64``.
    """
    deaths = events[events["event_type"].to_numpy() == DEATH_EVENT]
    deaths = deaths.assign(event_date=pd.to_datetime(deaths["event_date"]))
    return deaths.sort_values([key, "event_date"], kind="stable").drop_duplicates(key).set_index(key)


def alive_dates(frames: Mapping[str, pd.DataFrame], key: str = "patient_code") -> pd.DataFrame:
    """Long frame ``key, date``: per patient, the latest date of each :data:`ALIVE_SOURCES` column.

    ``frames`` are registry-shaped tables (names as in :mod:`lupuscell.registry.models`), each
    with the patient ``key`` column; absent tables and columns are skipped. The registry reads
    the same sources with SQL ``GROUP BY`` (:func:`lupuscell.registry.tables.read_alive_dates`).
    """
    parts = []
    for source in ALIVE_SOURCES:
        frame = frames.get(source.table)
        if frame is None or frame.empty or source.column not in frame.columns:
            continue
        if source.exclude_event_types:
            frame = frame[~frame["event_type"].isin(source.exclude_event_types).to_numpy()]
        dates = pd.DataFrame({key: frame[key].to_numpy(), "date": pd.to_datetime(frame[source.column])})
        parts.append(dates.dropna().groupby(key, sort=False)["date"].max().reset_index())
    if not parts:
        return pd.DataFrame({key: pd.Series([], dtype=object), "date": pd.Series([], dtype="datetime64[ns]")})
    return pd.concat(parts, ignore_index=True)


def follow_up(
    patients: pd.Index,
    day0: pd.Series,
    death_date: pd.Series,
    alive: pd.DataFrame,
    key: str = "patient_id",
) -> pd.DataFrame:
    """Day 0, death, last known alive and end of follow-up of every patient.

    Parameters
    ----------
    patients
        The patient keys (the result's index, in this order).
    day0
        Day 0 per key (missing: no therapy course).
    death_date
        First death date per key (absent: alive).
    alive
        Long frame ``key, date`` of dates that prove the patient alive (several per patient;
        e.g. :func:`alive_dates`).

    Returns
    -------
    pandas.DataFrame
        :data:`FOLLOW_UP_COLUMNS`, indexed by ``patients``: dates as ``datetime64`` (NaT when
        unknown), ``dead`` bool, ``death_day``, ``last_alive_day`` and ``end_day`` as study
        days (float, NaN when unknown or without day 0; ``end_day`` never below 0).
    """
    out = pd.DataFrame(index=patients)
    out["day0"] = pd.to_datetime(day0.reindex(patients))
    out["death_date"] = pd.to_datetime(death_date.reindex(patients))
    latest = pd.to_datetime(alive["date"]).groupby(alive[key].to_numpy()).max()
    last = pd.concat([latest.reindex(patients), out["day0"]], axis=1).max(axis=1)
    dead = out["death_date"].notna().to_numpy()
    out["last_alive_date"] = last.where(~dead | (last <= out["death_date"]), out["death_date"])
    out["end_date"] = out["death_date"].where(dead, out["last_alive_date"])
    out["dead"] = dead
    out["death_day"] = study_days(out["death_date"], out["day0"])
    out["last_alive_day"] = study_days(out["last_alive_date"], out["day0"])
    out["end_day"] = np.fmax(study_days(out["end_date"], out["day0"]).to_numpy(dtype=float), 0.0)
    out.loc[out["day0"].isna().to_numpy(), "end_day"] = np.nan
    return out
