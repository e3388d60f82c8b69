"""Cohort summary of a registry: patients by therapy, median follow-up, deaths, relapses.

Median follow-up uses the **reverse Kaplan-Meier** method (Schemper & Smith, Control Clin
Trials 1996;17:343-6): the Kaplan-Meier estimator with the event indicator reversed (being
alive at last contact is the "event", death censors), so that early deaths do not shorten
the follow-up estimate the way a crude median of observed times does. It is computed with
:func:`lupuscell.analysis.survival.median_follow_up` (lifelines underneath), the same function
the outcomes report uses.

Follow-up runs from day 0 (first infusion of the patient's first therapy course) to death,
else to the latest of last contact, last visit and last lab result. Patients without a
therapy course are counted but have no follow-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell.analysis.survival import DAYS_PER_MONTH, median_follow_up
from lupuscell.registry import models, plausibility


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
    method: str = "reverse Kaplan-Meier (lifelines), months from day 0"

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


def _frame(conn: sa.Connection, stmt: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def patient_follow_up(engine: Engine) -> pd.DataFrame:
    """One row per patient: therapy, day 0, end of follow-up, death, relapse and flare flags."""
    p, c, e = models.Patient.__table__, models.TherapyCourse.__table__, models.ClinicalEvent.__table__
    v, lab = models.Visit.__table__, models.LabResult.__table__
    ok = plausibility.analysable  # stored dates outside 1900..today are left out, never crash
    with engine.connect() as conn:
        patients = _frame(conn, sa.select(p.c.id.label("patient_id")))
        courses = _frame(
            conn,
            sa.select(c.c.patient_id, c.c.therapy, c.c.infusion_date)
            .where(ok(c))
            .order_by(c.c.patient_id, c.c.infusion_date),
        )
        events = _frame(
            conn,
            sa.select(e.c.patient_id, e.c.event_type, e.c.event_date, e.c.cause, e.c.treatment_related).where(
                ok(e)
            ),
        )
        last_visit = _frame(
            conn,
            sa.select(v.c.patient_id, sa.func.max(v.c.visit_date).label("d")).where(ok(v)).group_by(v.c.patient_id),
        )
        last_lab = _frame(
            conn,
            sa.select(lab.c.patient_id, sa.func.max(lab.c.result_date).label("d"))
            .where(ok(lab))
            .group_by(lab.c.patient_id),
        )
    first = courses.drop_duplicates("patient_id", keep="first").set_index("patient_id")
    out = patients.set_index("patient_id")
    out["therapy"] = first["therapy"]
    out["day0"] = pd.to_datetime(first["infusion_date"])
    deaths = events[events["event_type"] == "death"].drop_duplicates("patient_id").set_index("patient_id")
    out["death_date"] = pd.to_datetime(deaths["event_date"])
    out["death_cause"] = deaths["cause"]
    out["treatment_related"] = deaths["treatment_related"].astype("boolean")
    ends = [
        pd.to_datetime(
            events[events["event_type"] == "last_contact"].groupby("patient_id")["event_date"].max()
        ),
        pd.to_datetime(last_visit.set_index("patient_id")["d"]),
        pd.to_datetime(last_lab.set_index("patient_id")["d"]),
    ]
    alive_end = pd.concat(ends, axis=1).max(axis=1)
    out["end"] = out["death_date"].fillna(alive_end.reindex(out.index))
    out["dead"] = out["death_date"].notna()
    out["months"] = (out["end"] - out["day0"]).dt.days / DAYS_PER_MONTH
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
