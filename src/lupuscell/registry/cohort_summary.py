"""Cohort summary of a registry: patients by therapy, median follow-up, deaths, relapses.

Median follow-up uses the **reverse Kaplan-Meier** method (Schemper & Smith, Control Clin
Trials 1996;17:343-6): the Kaplan-Meier estimator with the event indicator reversed (being
alive at last contact is the "event", death censors), so that early deaths do not shorten
the follow-up estimate the way a crude median of observed times does. It is computed with
:func:`lupuscell.analysis.survival.median_follow_up` (checked against R survival), the same function
the outcomes report uses.

Follow-up runs from day 0 to the end of follow-up as :mod:`lupuscell.outcomes.timeline`
defines them (death, else the last date any record shows the patient alive), the definition
ADSL's ``os_days`` and the patient list use too. Patients without a therapy course are
counted but have no follow-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell.analysis.survival import DAYS_PER_MONTH, median_follow_up
from lupuscell.registry import models
from lupuscell.registry.plausibility import analysable
from lupuscell.registry.tables import read_follow_up


@dataclass(frozen=True)
class GroupSummary:
    """Summary of one therapy group (or of the whole cohort, ``therapy="all"``)."""

    therapy: str
    patients: int
    median_follow_up_months: float | None
    deaths: int
    treatment_related_deaths: int
    patients_with_relapse: int
    patients_with_flare: int


@dataclass(frozen=True)
class CohortSummary:
    """Per-therapy rows, the total, and deaths by cause."""

    groups: tuple[GroupSummary, ...]
    total: GroupSummary
    death_causes: dict[str, int] = field(default_factory=dict)
    method: str = "reverse Kaplan-Meier, months from day 0"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(g) for g in (*self.groups, self.total)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [asdict(g) for g in self.groups],
            "total": asdict(self.total),
            "death_causes": dict(self.death_causes),
            "follow_up_method": self.method,
        }


def reverse_km_median(durations: np.ndarray, dead: np.ndarray) -> float | None:
    """Median follow-up by reverse Kaplan-Meier (``None`` when not estimable)."""
    if len(durations) == 0:
        return None
    return median_follow_up(durations, dead).median


def _event_flags(conn: sa.Connection) -> pd.DataFrame:
    e = models.ClinicalEvent.__table__
    # events dated outside 1900..today are left out, as everywhere analyses read the registry
    result = conn.execute(sa.select(e.c.patient_id, e.c.event_type).where(analysable(e)).distinct())
    return pd.DataFrame(result.fetchall(), columns=["patient_id", "event_type"])


def patient_follow_up(engine: Engine) -> pd.DataFrame:
    """One row per patient: therapy, day 0, end of follow-up, death, relapse and flare flags.

    Day 0, death and the end of follow-up are :func:`lupuscell.registry.tables.read_follow_up`
    (the definition of :mod:`lupuscell.outcomes.timeline`, shared with ADSL and the patient
    list); ``months`` is the follow-up time in display months.
    """
    with engine.connect() as conn:
        out = read_follow_up(conn)
        events = _event_flags(conn)
    out = out.rename(columns={"end_date": "end"})
    out["treatment_related"] = out["treatment_related"].astype("boolean")
    out["months"] = out["end_day"] / DAYS_PER_MONTH
    for kind in ("relapse", "flare"):
        ids = set(events.loc[events["event_type"] == kind, "patient_id"])
        out[kind] = out.index.isin(ids)
    return out.reset_index()


def _group(name: str, frame: pd.DataFrame) -> GroupSummary:
    fu = frame.dropna(subset=["months"])
    fu = fu[fu["months"] >= 0]
    median = reverse_km_median(fu["months"].to_numpy(dtype=float), fu["dead"].to_numpy(dtype=bool))
    return GroupSummary(
        therapy=name,
        patients=len(frame),
        median_follow_up_months=None if median is None else round(median, 1),
        deaths=int(frame["dead"].sum()),
        treatment_related_deaths=int((frame["treatment_related"].fillna(False) & frame["dead"]).sum()),
        patients_with_relapse=int(frame["relapse"].sum()),
        patients_with_flare=int(frame["flare"].sum()),
    )


def summarise(engine: Engine) -> CohortSummary:
    """The cohort summary of the registry behind ``engine``."""
    data = patient_follow_up(engine)
    data["therapy"] = data["therapy"].fillna("no course")
    groups = tuple(_group(str(t), g) for t, g in data.groupby("therapy", sort=True))
    causes = data.loc[data["dead"], "death_cause"].fillna("unknown").value_counts()
    return CohortSummary(
        groups=groups,
        total=_group("all", data),
        death_causes={str(k): int(n) for k, n in causes.items()},
    )
