"""The programme dashboard: patients by therapy and status, overall survival by therapy,
DORIS remission and LLDAS at months 6 and 12, visits to chase (overdue, due, upcoming), recent
serious adverse events, for the sites the user may see.

Every number comes from the same path as ``lupuscell report``: the registry is read into a
:class:`~lupuscell.outcomes.inputs.CohortData`, restricted to the user's sites, and
:func:`~lupuscell.outcomes.datasets.build_datasets` derives ADSL / ADTTE / ADRS; survival is
:func:`lupuscell.analysis.survival.kaplan_meier`, drawn by :func:`lupuscell.reports.plots.km_plot`;
month responses are :func:`lupuscell.reports.build.month_responses` with Clopper-Pearson
intervals (:func:`lupuscell.analysis.tables.proportion_with_ci`). The derived cohort is cached
per set of sites and invalidated whenever the audit log grows (every write is audited).
The visits are the protocol visit calendars of :mod:`lupuscell.schedules`, read for the sites
in one call (:func:`lupuscell.registry.schedule_read.overdue_visits`): the same status rule
as ``lupuscell schedule overdue``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from lupuscell import vocab
from lupuscell.outcomes.datasets import AnalysisDatasets, build_datasets
from lupuscell.outcomes.inputs import CohortData
from lupuscell.registry import scoped
from lupuscell.registry.schedule_read import overdue_visits

_CACHE: dict[tuple[Any, ...], tuple[CohortData, AnalysisDatasets]] = {}
_LOCK = threading.Lock()
VISIT_STATUSES = ("overdue", "due", "upcoming")
"""Visit statuses the dashboard lists, in this order (:mod:`lupuscell.schedules.calendar`)."""
UPCOMING_DAYS = 30
"""An upcoming visit is listed when its window opens within this many days."""
MAX_VISITS = 15


@dataclass(frozen=True)
class Dashboard:
    counts: list[dict[str, Any]]
    survival_svg: str | None
    responses: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    """The first :data:`MAX_VISITS` visits to chase (:func:`visits_to_chase`)."""
    visits_by_status: dict[str, int]
    serious_aes: list[dict[str, Any]]
    n_patients: int


def cohort_for_sites(engine: Engine, sites: Sequence[str]) -> tuple[CohortData, AnalysisDatasets]:
    """The cohort of the visible sites and its analysis datasets (cached on the data version)."""
    key = (tuple(sorted(sites)), scoped.data_version(engine), str(engine.url))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    from lupuscell.web.clinical import registry_cohort

    cohort = registry_cohort(engine)
    cohort = cohort.subset(cohort.patients.loc[cohort.patients["site"].isin(list(sites)), "patient_id"])
    datasets = build_datasets(cohort)
    with _LOCK:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = (cohort, datasets)
    return cohort, datasets


def _counts(cohort: CohortData) -> list[dict[str, Any]]:
    pats = cohort.patients
    rows = []
    for therapy, group in pats.groupby("therapy", observed=True):
        dead = int(group["death_day"].notna().sum())
        rows.append(
            {
                "therapy": vocab.THERAPY_LABELS.get(str(therapy), str(therapy)),
                "patients": len(group),
                "alive": len(group) - dead,
                "deceased": dead,
            }
        )
    return rows


def _survival_svg(datasets: AnalysisDatasets) -> str | None:
    from lupuscell.analysis.survival import kaplan_meier
    from lupuscell.reports.plots import km_plot
    from lupuscell.web.charts import svg_data_uri

    tte = datasets.adtte[datasets.adtte["PARAMCD"] == "OS"]
    if tte.empty:
        return None
    curves, durations = {}, {}
    for therapy, group in sorted(tte.groupby("THERAPY", observed=True), key=lambda kv: str(kv[0])):
        curves[str(therapy)] = kaplan_meier(group["AVAL"], group["CNSR"] == 0, label=str(therapy))
        durations[str(therapy)] = group["AVAL"].to_numpy(dtype=float)
    fig, _ = km_plot(curves, title="Overall survival by therapy", durations_by_group=durations)
    fig.set_size_inches(6.6, 5.4)
    return svg_data_uri(fig)


def _responses(datasets: AnalysisDatasets) -> list[dict[str, Any]]:
    from lupuscell.analysis.tables import proportion_with_ci
    from lupuscell.reports.build import month_responses

    adsl = month_responses(datasets.adsl, datasets.adrs)
    rows = []
    for therapy, group in adsl.groupby("THERAPY", observed=True):
        row: dict[str, Any] = {"therapy": vocab.THERAPY_LABELS.get(str(therapy), str(therapy))}
        for m in (6, 12):
            for name in ("doris", "lldas"):
                col = f"{name}_m{m}"
                values = group[col].dropna() if col in group else pd.Series([], dtype=object)
                row[col] = proportion_with_ci(int(values.astype(bool).sum()), len(values))
        rows.append(row)
    return rows


def visits_to_chase(engine: Engine, sites: Sequence[str], today: dt.date) -> list[dict[str, Any]]:
    """Overdue, due and soon upcoming planned visits of the sites: overdue first (longest
    overdue first), then due, then upcoming within :data:`UPCOMING_DAYS` (by target date)."""
    rows = overdue_visits(engine, sites=sites, today=today, statuses=VISIT_STATUSES)
    soon = today + dt.timedelta(days=UPCOMING_DAYS)
    rows = [r for r in rows if r["status"] != "upcoming" or r["window_start"] <= soon]
    rank = {status: i for i, status in enumerate(VISIT_STATUSES)}
    return sorted(rows, key=lambda r: (rank[r["status"]], -r["days_overdue"], r["target_date"]))


def build_dashboard(engine: Engine, sites: Sequence[str], today: dt.date | None = None) -> Dashboard:
    """Everything the dashboard shows for these sites."""
    cohort, datasets = cohort_for_sites(engine, sites)
    empty = cohort.n_patients == 0
    visits = visits_to_chase(engine, sites, today or dt.date.today())
    return Dashboard(
        counts=_counts(cohort),
        survival_svg=None if empty else _survival_svg(datasets),
        responses=[] if empty else _responses(datasets),
        visits=visits[:MAX_VISITS],
        visits_by_status={s: sum(v["status"] == s for v in visits) for s in VISIT_STATUSES},
        serious_aes=scoped.recent_serious_adverse_events(engine, sites, limit=10),
        n_patients=cohort.n_patients,
    )
