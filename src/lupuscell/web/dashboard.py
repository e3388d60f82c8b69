"""The programme dashboard: patients by therapy and status, overall survival by therapy,
DORIS remission and LLDAS at months 6 and 12, upcoming and overdue visits, recent serious
adverse events, for the sites the user may see.

Every number comes from the same path as ``lupuscell report``: the registry is read into a
:class:`~lupuscell.outcomes.inputs.CohortData`, restricted to the user's sites, and
:func:`~lupuscell.outcomes.datasets.build_datasets` derives ADSL / ADTTE / ADRS; survival is
:func:`lupuscell.analysis.survival.kaplan_meier`, drawn by :func:`lupuscell.reports.plots.km_plot`;
month responses are :func:`lupuscell.reports.build.month_responses` with Clopper-Pearson
intervals (:func:`lupuscell.analysis.tables.proportion_with_ci`). The derived cohort is cached
per set of sites and invalidated whenever the audit log grows (every write is audited).
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
from lupuscell.web.schedule import PlannedVisit, planned_visits

_CACHE: dict[tuple[Any, ...], tuple[CohortData, AnalysisDatasets]] = {}
_LOCK = threading.Lock()



@dataclass(frozen=True)
class Dashboard:
    counts: list[dict[str, Any]]
    survival_svg: str | None
    responses: list[dict[str, Any]]
    visits: list[PlannedVisit]
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


def build_dashboard(engine: Engine, sites: Sequence[str], today: dt.date | None = None) -> Dashboard:
    """Everything the dashboard shows for these sites."""
    cohort, datasets = cohort_for_sites(engine, sites)
    empty = cohort.n_patients == 0
    return Dashboard(
        counts=_counts(cohort),
        survival_svg=None if empty else _survival_svg(datasets),
        responses=[] if empty else _responses(datasets),
        visits=planned_visits(cohort, today or dt.date.today())[:15],
        serious_aes=scoped.recent_serious_adverse_events(engine, sites, limit=10),
        n_patients=cohort.n_patients,
    )
