"""The numbers behind the plain-language patient page, each traced to its curated rows.

Patients ask seven questions (what cells are used; how HSCT and MSC therapy work; the benefits;
the risks; whether it is a cure; how long recovery takes; where to find trials). The page that
answers them (:mod:`lupuscell.reports.patient_page`) may only show numbers computed here at
build time from the curated evidence, each as a :class:`Fact` that names the rows it comes
from and the arithmetic, so a reader (and a test) can check every number against its studies.

The arithmetic is deliberately simple, because it is read by patients: "about X in 100" is the
share of all patients in the cited studies (sum of events over sum of patients, rounded), not a
random-effects estimate; the study count is the number of distinct studies; "patients" is the
sum of their denominators. The same selection rules as every pooled analysis apply: one row per
study and one study per group of studies that share patients
(:func:`lupuscell.evidence.studies.select_for_pooling`).

References
----------
Plain-language summaries: Cochrane, "Guidance for writing a Cochrane Plain language summary"
(2022); natural frequencies ("X in 100") rather than percentages: Gigerenzer G, et al. Helping
doctors and patients make sense of health statistics. Psychol Sci Public Interest 2007;8:53-96.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.evidence.questions import cell_source_category
from lupuscell.evidence.studies import dataset_version, select_for_pooling


@dataclass(frozen=True)
class RowRef:
    """One curated row: study, outcome and timepoint (months; ``None`` when not given)."""

    study_id: str
    outcome: str
    timepoint: float | None

    def key(self) -> str:
        tp = "" if self.timepoint is None else f"{self.timepoint:g}"
        return f"{self.study_id}:{self.outcome}:{tp}"


#: How each kind of fact is computed from its rows, in words (shown on the page, so no digits;
#: the test recomputes every fact independently).
STATS: dict[str, str] = {
    "studies": "the number of studies",
    "patients": "the number of patients in these studies",
    "per_100": "patients with the outcome out of every hundred patients in these studies, rounded",
    "events": "the number of patients with the outcome in these studies",
    "max_followup_years": "the longest median follow-up, in whole years",
    "timepoint_months": "the time of the check, in months",
}


@dataclass(frozen=True)
class Fact:
    """A number on the patient page: its value, how it was computed and from which rows."""

    key: str
    stat: str
    value: int
    rows: tuple[RowRef, ...]
    about: str = ""

    @property
    def studies(self) -> list[str]:
        return list(dict.fromkeys(r.study_id for r in self.rows))


def _refs(rows: pd.DataFrame) -> tuple[RowRef, ...]:
    return tuple(
        RowRef(
            str(r["study_id"]),
            str(r["outcome"]),
            None if r["timepoint_months"] != r["timepoint_months"] else float(r["timepoint_months"]),
        )
        for _, r in rows.iterrows()
    )


_COMPUTE: dict[str, Callable[[pd.DataFrame], float]] = {
    "studies": lambda r: r["study_id"].nunique(),
    "patients": lambda r: r["total"].sum(),
    "per_100": lambda r: 100 * r["events"].sum() / r["total"].sum(),
    "events": lambda r: r["events"].sum(),
    "max_followup_years": lambda r: r["median_followup_months"].max() / 12,
    "timepoint_months": lambda r: r["timepoint_months"].max(),
}


#: What a fact is about, by the topic part of its key (``hsct_remission_per_100`` -> remission).
TOPICS: dict[str, str] = {
    "studies": "published studies",
    "cord_studies": "studies with cells from the umbilical cord",
    "remission": "remission",
    "trm": "deaths caused by the treatment",
    "relapse": "lupus coming back after remission",
    "longest_followup": "follow-up",
    "crs": "cytokine release syndrome",
    "icans": "brain and nerve side effects (ICANS)",
    "remission_month": "time of the remission check",
}
_THERAPY_WORDS = {"hsct": "HSCT", "msc": "MSC", "car_t": "CAR-T"}


def _about(key: str) -> str:
    therapy = next(t for t in ("car_t", "hsct", "msc") if key.startswith(t))
    rest = key[len(therapy) + 1 :]
    topic = next((TOPICS[t] for t in sorted(TOPICS, key=len, reverse=True) if rest.startswith(t)), rest)
    return f"{_THERAPY_WORDS[therapy]}, {topic}"


def fact(key: str, stat: str, rows: pd.DataFrame) -> Fact:
    """A :class:`Fact` of ``stat`` over ``rows`` (rounded half away from zero to a whole number)."""
    raw = float(_COMPUTE[stat](rows))
    value = int(np.floor(raw + 0.5)) if np.isfinite(raw) else 0
    return Fact(key, stat, value, _refs(rows), _about(key))


@dataclass(frozen=True)
class PatientFacts:
    """Every number of the patient page, by key, and the evidence it was built from."""

    facts: dict[str, Fact]
    version: int
    newest_year: int
    rows: pd.DataFrame  # the curated rows (for the reference list)

    def __getitem__(self, key: str) -> Fact:
        return self.facts[key]

    def cited_rows(self) -> pd.DataFrame:
        """The rows any fact cites, one per study, for the reference list."""
        ids = list(dict.fromkeys(s for f in self.facts.values() for s in f.studies))
        first = self.rows.groupby("study_id", sort=False).first()
        return first.loc[ids].reset_index()


def _therapy_facts(df: pd.DataFrame, therapy: str, out: dict[str, Fact]) -> None:
    rem = select_for_pooling(df, "remission", therapy).rows
    if len(rem):
        out[f"{therapy}_remission_studies"] = fact(f"{therapy}_remission_studies", "studies", rem)
        out[f"{therapy}_remission_patients"] = fact(f"{therapy}_remission_patients", "patients", rem)
        out[f"{therapy}_remission_per_100"] = fact(f"{therapy}_remission_per_100", "per_100", rem)
    trm = select_for_pooling(df, "treatment_related_mortality", therapy).rows
    if len(trm):
        out[f"{therapy}_trm_studies"] = fact(f"{therapy}_trm_studies", "studies", trm)
        out[f"{therapy}_trm_patients"] = fact(f"{therapy}_trm_patients", "patients", trm)
        out[f"{therapy}_trm_events"] = fact(f"{therapy}_trm_events", "events", trm)
    relapse = select_for_pooling(df, "relapse_after_remission", therapy, exact=True).rows
    if len(relapse):
        out[f"{therapy}_relapse_studies"] = fact(f"{therapy}_relapse_studies", "studies", relapse)
        out[f"{therapy}_relapse_per_100"] = fact(f"{therapy}_relapse_per_100", "per_100", relapse)
    followed = df[(df["therapy"] == therapy) & df["median_followup_months"].notna()]
    if len(followed):
        longest = followed[
            followed["median_followup_months"] == followed["median_followup_months"].max()
        ].head(1)
        out[f"{therapy}_longest_followup_years"] = fact(
            f"{therapy}_longest_followup_years", "max_followup_years", longest
        )


def _car_t_facts(df: pd.DataFrame, out: dict[str, Fact]) -> None:
    for family in ("crs", "icans"):
        rows = select_for_pooling(df, family, "car_t").rows
        out[f"car_t_{family}_studies"] = fact(f"car_t_{family}_studies", "studies", rows)
        out[f"car_t_{family}_patients"] = fact(f"car_t_{family}_patients", "patients", rows)
        out[f"car_t_{family}_per_100"] = fact(f"car_t_{family}_per_100", "per_100", rows)
    doris = df[
        (df["therapy"] == "car_t") & (df["outcome"] == "doris_remission") & df["timepoint_months"].notna()
    ]
    if len(doris):
        first = doris.sort_values(["year", "study_id"]).head(1)
        out["car_t_remission_month"] = fact("car_t_remission_month", "timepoint_months", first)


def _cell_facts(df: pd.DataFrame, out: dict[str, Fact]) -> None:
    for therapy in ("hsct", "msc", "car_t"):
        out[f"{therapy}_studies"] = fact(
            f"{therapy}_studies", "studies", df[df["therapy"] == therapy].drop_duplicates("study_id")
        )
    msc = df[df["therapy"] == "msc"].drop_duplicates("study_id")
    cords = msc[[cell_source_category(t) == "Umbilical cord" for t in msc["cell_source"]]]
    out["msc_cord_studies"] = fact("msc_cord_studies", "studies", cords)


def patient_facts(df: pd.DataFrame) -> PatientFacts:
    """Every number the patient page shows, computed from ``df`` (the curated rows)."""
    facts: dict[str, Fact] = {}
    _cell_facts(df, facts)
    for therapy in ("hsct", "msc", "car_t"):
        _therapy_facts(df, therapy, facts)
    _car_t_facts(df, facts)
    version = dataset_version(df)
    return PatientFacts(facts, version.version, int(df["year"].max()), df)


def fact_table(facts: PatientFacts) -> list[dict[str, Any]]:
    """Every fact as a plain dict (key, value, how, rows) for JSON output and checks."""
    return [
        {"key": f.key, "value": f.value, "how": STATS[f.stat], "rows": [r.key() for r in f.rows]}
        for f in facts.facts.values()
    ]
