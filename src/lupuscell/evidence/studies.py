"""The curated evidence dataset: published outcomes of HSCT, MSC and CAR-T in SLE.

``lupuscell/data/studies.csv`` (version 2: 149 rows from 33 studies) holds one row per study x
outcome (x arm, x timepoint), with DOI/PMID, the ``evidence_level`` of each number and where in
the source it was read (``source_note``); ``studies_CHANGES.md`` beside it lists what changed
between versions. This module loads it as a pandas DataFrame, appends a user's own rows (a CSV
given with ``--data``, and the local file written by ``lupuscell evidence add``, marked
``local``), validates every row on load (:mod:`lupuscell.evidence.study_rules`), filters rows by
evidence level and cohort group, and selects the rows a pooled analysis may use.

Independence rule. Studies that share (or may share) patients carry one ``cohort_group``
(e.g. ``nanjing_msc``: eight reports of the Nanjing MSC programme). :func:`select_for_pooling`
keeps one study per cohort group (default: the one with the largest denominator for the
outcome, ties to the most recent; or ``"latest"``: the most recent), and reports the others as
excluded, so they are never pooled as independent studies.

Pure pandas; the package data are read with :mod:`importlib.resources`. See
docs/evidence/studies.md for the studies, the columns and the cautions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.study_rules import (
    EVIDENCE_LEVELS,
    KM_SUFFIX,
    THERAPIES,
    incomplete_reason,
    row_kind,
    validate,
    where,
)

__all__ = [
    "COLUMNS",
    "EVIDENCE_LEVELS",
    "OUTCOME_FAMILIES",
    "THERAPIES",
    "THERAPY_LABELS",
    "DatasetVersion",
    "Selection",
    "StudyFilter",
    "dataset_version",
    "load_studies",
    "outcome_codes",
    "select_for_pooling",
    "validate",
]

#: Short display names for plots and tables.
THERAPY_LABELS: dict[str, str] = {"hsct": "Autologous HSCT", "msc": "MSC", "car_t": "CAR-T"}

#: Outcome families: a family name selects every listed outcome code (within one study, the
#: row with the largest denominator wins, then the code listed first). Definitions still
#: differ between studies (SLEDAI < 3, DORIS, renal remission...): ``definition`` keeps each.
#: Deng 2017's ``remission_msc_arm`` (9/12) is complete + partial renal remission (version 2
#: correction), so the remission family takes its complete remission row instead.
OUTCOME_FAMILIES: dict[str, tuple[str, ...]] = {
    "remission": (
        "remission",
        "complete_remission",
        "doris_remission",
        "complete_remission_msc_arm",
        "lldas_and_doris",
        "medication_free_remission",
    ),
    "renal_response": ("complete_renal_response", "renal_remission", "sustained_renal_remission"),
    "response": ("sri4_response", "sri4_last_visit", "major_clinical_response"),
    "treatment_related_mortality": ("treatment_related_mortality",),
    "overall_survival": ("overall_survival",),
    "death": ("all_cause_death", "death_msc_arm", "death", "death_within_5y"),
    "relapse": ("relapse",),
    "crs": ("crs_any",),
    "icans": ("icans",),
    "infection": ("infection", "pneumonia"),
    "malignancy": ("malignancy", "secondary_malignancy"),
}
#: Remission, renal response or clinical response, as each study defines it (in this order).
OUTCOME_FAMILIES["efficacy"] = (
    *OUTCOME_FAMILIES["remission"],
    *OUTCOME_FAMILIES["renal_response"],
    *OUTCOME_FAMILIES["response"],
)

#: Short evidence-level labels for plot columns.
LEVEL_SHORT: dict[str, str] = {
    "table": "table",
    "abstract": "abstract",
    "conference_abstract": "conf. abs.",
    "secondary": "secondary",
    "low_confidence": "unverified",
}

REQUIRED_COLUMNS = ("study_id", "year", "therapy", "outcome", "events", "total")
COLUMNS = (
    "study_id",
    "first_author",
    "year",
    "journal",
    "doi",
    "pmid",
    "design",
    "therapy",
    "cell_source",
    "n",
    "median_followup_months",
    "outcome",
    "events",
    "total",
    "mean",
    "sd",
    "timepoint_months",
    "definition",
    "cohort_group",
    "evidence_level",
    "source_note",
)
_NUMERIC = ("year", "n", "median_followup_months", "events", "total", "mean", "sd", "timepoint_months")
PACKAGED_SOURCE = "studies.csv"
LOCAL_SOURCE = "local"


def _packaged_csv() -> Path:
    return Path(str(resources.files("lupuscell") / "data" / "studies.csv"))


@dataclass(frozen=True)
class DatasetVersion:
    """Version of the shipped curated dataset and its change log."""

    version: int
    studies: int
    rows: int
    changes: str

    def line(self) -> str:
        """``curated SLE cell-therapy evidence, version 2: 33 studies, 149 rows``."""
        return (
            f"curated SLE cell-therapy evidence, version {self.version}: "
            f"{self.studies} studies, {self.rows} rows"
        )


def dataset_version(df: pd.DataFrame | None = None) -> DatasetVersion:
    """The shipped dataset's version (the highest ``## Version N`` of its change log) and size."""
    changes = (resources.files("lupuscell") / "data" / "studies_CHANGES.md").read_text(encoding="utf-8")
    versions = [int(v) for v in re.findall(r"^## Version (\d+)", changes, flags=re.M)]
    shipped = load_studies() if df is None else df
    shipped = shipped[shipped["source"] == PACKAGED_SOURCE]
    return DatasetVersion(max(versions), int(shipped["study_id"].nunique()), len(shipped), changes.strip())


def _read(path: Path | str, source: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise ValidationError.single(source, "path", f"file not found: {path}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError.single(source, "path", f"not a readable CSV: {exc}") from exc
    return frame_from_strings(df, source)


def frame_from_strings(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check the columns of an all-string frame, add the missing optional ones and the origin."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError([Problem(source, c, "required column missing") for c in missing])
    unknown = [c for c in df.columns if c not in COLUMNS]
    if unknown:
        raise ValidationError(
            [Problem(source, c, f"unknown column; known: {', '.join(COLUMNS)}") for c in unknown]
        )
    df = df.copy()
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df[list(COLUMNS)].copy()
    df["source"] = source
    df["row"] = np.arange(2, len(df) + 2)  # 1-based line number incl. header
    return df


def _to_numeric(df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    out = df.copy()
    for col in _NUMERIC:
        values = []
        for _, r in df.iterrows():
            raw = str(r[col]).strip()
            if raw == "":
                values.append(np.nan)
                continue
            try:
                values.append(float(raw))
            except ValueError:
                problems.append(Problem(where(r), col, f"not a number: {raw!r}"))
                values.append(np.nan)
        out[col] = values
    return out


def _annotate(df: pd.DataFrame) -> pd.DataFrame:
    kinds = [row_kind(o, e, m) for o, e, m in zip(df["outcome"], df["events"], df["mean"], strict=True)]
    reasons = [
        incomplete_reason(r) if k == "continuous" else ("Kaplan-Meier estimate only" if k == "km" else "")
        for k, (_, r) in zip(kinds, df.iterrows(), strict=True)
    ]
    return df.assign(
        kind=kinds,
        poolable=[not r for r in reasons],
        not_poolable=reasons,
        local=df["source"] == LOCAL_SOURCE,
    )


def parse_rows(frames: Sequence[pd.DataFrame], *, strict: bool = False) -> pd.DataFrame:
    """Concatenate string frames (see :func:`frame_from_strings`), convert and validate them.

    Raises
    ------
    ValidationError
        Listing every problem with the file, row, study and field.
    """
    raw = pd.concat(frames, ignore_index=True)
    problems: list[Problem] = []
    df = _to_numeric(raw, problems)
    problems.extend(validate(df, strict=strict))
    if problems:
        raise ValidationError(problems)
    df["year"] = df["year"].astype(int)
    return _annotate(df).reset_index(drop=True)


def load_studies(
    extra: Path | str | None = None,
    *,
    include_packaged: bool = True,
    local: Path | str | None = None,
) -> pd.DataFrame:
    """Load the curated dataset (and optionally a user CSV and the local file), validated.

    Parameters
    ----------
    extra
        A CSV with at least the columns :data:`REQUIRED_COLUMNS` (others optional, see
        :data:`COLUMNS`); its rows are appended after the packaged ones.
    include_packaged
        ``False`` loads only ``extra`` (and ``local``).
    local
        The user-level evidence file written by ``lupuscell evidence add``; its rows are
        appended with ``source = "local"`` and ``local = True``. Ignored when it does not exist.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS` plus ``source``, ``row`` (line in its file), ``kind`` (binary,
        continuous, km, other), ``poolable``, ``not_poolable`` (the reason) and ``local``.

    Raises
    ------
    ValidationError
        Listing every problem with the file, row, study and field.
    """
    frames = []
    if include_packaged:
        frames.append(_read(_packaged_csv(), PACKAGED_SOURCE))
    if extra is not None:
        frames.append(_read(extra, Path(extra).name))
    if local is not None and Path(local).exists():
        frames.append(_read(local, LOCAL_SOURCE))
    if not frames:
        raise ValidationError.single("", "extra", "no dataset to load")
    return parse_rows(frames)


@dataclass(frozen=True)
class StudyFilter:
    """Keep or drop rows by ``evidence_level`` and ``cohort_group`` (and therapy).

    Empty tuples mean "no filter". ``"none"`` in a cohort-group list stands for rows that
    belong to no group.
    """

    evidence_levels: tuple[str, ...] = ()
    exclude_evidence_levels: tuple[str, ...] = ()
    cohort_groups: tuple[str, ...] = ()
    exclude_cohort_groups: tuple[str, ...] = ()

    def check(self, df: pd.DataFrame) -> None:
        """Reject unknown levels and groups, naming the option."""
        problems: list[Problem] = []
        for name, values in (
            ("evidence_level", self.evidence_levels),
            ("exclude_evidence_level", self.exclude_evidence_levels),
        ):
            for v in values:
                if v not in EVIDENCE_LEVELS:
                    problems.append(
                        Problem("filter", name, f"unknown level {v!r}; one of {', '.join(EVIDENCE_LEVELS)}")
                    )
        groups = {g for g in df["cohort_group"].astype(str) if g} | {"none"}
        for name, values in (
            ("cohort_group", self.cohort_groups),
            ("exclude_cohort_group", self.exclude_cohort_groups),
        ):
            for v in values:
                if v not in groups:
                    problems.append(
                        Problem(
                            "filter", name, f"unknown cohort group {v!r}; one of {', '.join(sorted(groups))}"
                        )
                    )
        if problems:
            raise ValidationError(problems)

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows that pass the filter (a copy)."""
        self.check(df)
        group = df["cohort_group"].astype(str).replace("", "none")
        keep = pd.Series(True, index=df.index)
        if self.evidence_levels:
            keep &= df["evidence_level"].isin(self.evidence_levels)
        if self.exclude_evidence_levels:
            keep &= ~df["evidence_level"].isin(self.exclude_evidence_levels)
        if self.cohort_groups:
            keep &= group.isin(self.cohort_groups)
        if self.exclude_cohort_groups:
            keep &= ~group.isin(self.exclude_cohort_groups)
        return df[keep].copy()

    def describe(self) -> str:
        """One line naming the active filters (empty when none)."""
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("evidence level in", self.evidence_levels),
                ("evidence level not in", self.exclude_evidence_levels),
                ("cohort group in", self.cohort_groups),
                ("cohort group not in", self.exclude_cohort_groups),
            )
            if values
        ]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "evidence_level": list(self.evidence_levels),
            "exclude_evidence_level": list(self.exclude_evidence_levels),
            "cohort_group": list(self.cohort_groups),
            "exclude_cohort_group": list(self.exclude_cohort_groups),
        }


def outcome_codes(outcome: str, *, exact: bool = False) -> tuple[str, ...]:
    """Outcome codes selected by ``outcome``: its family, or the code itself."""
    if not exact and outcome in OUTCOME_FAMILIES:
        return OUTCOME_FAMILIES[outcome]
    return (outcome,)


def study_label(r: dict[str, Any] | pd.Series) -> str:
    """``First-author year``; ``(local)`` if added with ``evidence add``.

    Congress abstracts and reports often record no author; they are named by where they
    appeared (the journal without its supplement note, else the PubMed id), the year and the
    trial registration when the design names one, e.g. ``Lupus Sci Med 2024 (NCT05798117)`` —
    never by the study id, which is a key, not a name a reader can look up.
    """
    label = f"{r['first_author']} {r['year']}" if r["first_author"] else _authorless_label(r)
    return f"{label} (local)" if bool(r.get("local", False)) else label


def _authorless_label(r: dict[str, Any] | pd.Series) -> str:
    journal = str(r.get("journal") or "").split("(")[0].strip()
    pmid = str(r.get("pmid") or "").strip()
    where = journal or (f"PMID {pmid}," if pmid else "")
    if not where:  # nothing published to name it by (e.g. a centre's own local series)
        return str(r["study_id"])
    trial = re.search(r"NCT\d{8}", str(r.get("design") or ""))
    return f"{where} {r['year']}" + (f" ({trial.group(0)})" if trial else "")


@dataclass(frozen=True)
class Selection:
    """Rows chosen for pooling, and every row left out with the reason."""

    outcome: str
    therapy: str
    rows: pd.DataFrame
    excluded: tuple[tuple[str, str, str], ...]

    def table(self) -> list[dict[str, Any]]:
        """The selected rows as plain dicts."""
        return [{str(k): v for k, v in row.items()} for row in self.rows.to_dict(orient="records")]

    def records(self) -> list[dict[str, object]]:
        """Study records for :func:`lupuscell.evidence.effects.escalc` (proportions)."""
        return [
            {"id": str(r["study_id"]), "events": int(r["events"]), "total": int(r["total"])}
            for r in self.table()
        ]

    def labels(self) -> list[str]:
        """``First-author year`` per selected study (see :func:`study_label`)."""
        return [study_label(r) for r in self.table()]

    def counts(self) -> list[str]:
        """``events/total`` per selected study."""
        return [f"{int(r['events'])}/{int(r['total'])}" for r in self.table()]

    def levels(self, short: bool = False) -> list[str]:
        """``evidence_level`` per selected study (empty when not given; ``short`` for plots)."""
        return [
            LEVEL_SHORT.get(str(r["evidence_level"]), str(r["evidence_level"]))
            if short
            else str(r["evidence_level"])
            for r in self.table()
        ]


class Excluded:
    """Collects the rows left out, with the reason."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def add(self, part: pd.DataFrame, reason: str) -> None:
        for r in part.to_dict(orient="records"):
            tp = r["timepoint_months"]
            at = f" at {tp:g} months" if tp == tp else ""
            self.items.append((str(r["study_id"]), f"{r['outcome']}{at}", reason))


def _one_row_per_study(sel: pd.DataFrame, codes: Sequence[str], out: Excluded) -> pd.DataFrame:
    rank = {c: i for i, c in enumerate(codes)}
    sel = sel.assign(_tp=sel["timepoint_months"].fillna(np.inf), _code=sel["outcome"].map(rank)).sort_values(
        ["study_id", "total", "_code", "_tp"], ascending=[True, False, True, True]
    )
    dup = sel.duplicated("study_id", keep="first")
    out.add(
        sel[dup],
        "one row per study: kept the row with the larger denominator (ties: the outcome listed first "
        "in the family, then the earlier timepoint)",
    )
    return sel[~dup].drop(columns=["_tp", "_code"])


def one_study_per_cohort(
    sel: pd.DataFrame, cohort_rule: Literal["largest", "latest"], out: Excluded, size: str = "total"
) -> pd.DataFrame:
    """Keep one study per ``cohort_group``; the others go to ``out`` with the reason."""
    grouped = sel[sel["cohort_group"].astype(str).str.len() > 0]
    drop_idx: list[Any] = []
    for group, part in grouped.groupby("cohort_group"):
        order = [size, "year"] if cohort_rule == "largest" else ["year", size]
        ranked = part.sort_values(order, ascending=False)
        kept = str(ranked["study_id"].iloc[0])
        rest = ranked.iloc[1:]
        drop_idx.extend(rest.index.tolist())
        out.add(rest, f"shares patients with {kept} (cohort group {group}; rule: keep the {cohort_rule})")
    return sel.drop(index=drop_idx)


def check_therapy(therapy: str | None) -> None:
    """Reject an unknown therapy code, naming the option."""
    if therapy is not None and therapy not in THERAPIES:
        raise ValidationError.single(
            "", "therapy", f"unknown therapy code {therapy!r}; one of {', '.join(THERAPIES)}"
        )


def select_for_pooling(
    df: pd.DataFrame,
    outcome: str,
    therapy: str | None = None,
    *,
    timepoint: float | None = None,
    exact: bool = False,
    cohort_rule: Literal["largest", "latest"] = "largest",
) -> Selection:
    """One row per independent study for ``outcome`` (family or exact code) and ``therapy``.

    Rules, in order: rows without event counts (Kaplan-Meier estimates, continuous summaries)
    are excluded; ``timepoint`` (months) keeps only that timepoint; within a study, the row with
    the largest denominator (ties: the code listed first in the family, then the earliest
    timepoint) is kept; within a ``cohort_group`` (shared patients) one study is kept by
    ``cohort_rule``. Every row left out is listed in :attr:`Selection.excluded` with the reason.
    """
    check_therapy(therapy)
    codes = outcome_codes(outcome, exact=exact)
    sel = df[df["outcome"].isin(codes)]
    if therapy is not None:
        sel = sel[sel["therapy"] == therapy]
    out = Excluded()
    km = sel["outcome"].astype(str).str.endswith(KM_SUFFIX)
    out.add(sel[km], "no event counts (Kaplan-Meier estimate only)")
    sel = sel[~km]
    no_counts = ~np.isfinite(sel["events"].astype(float))
    out.add(sel[no_counts], "no event counts (a continuous summary: pool it with MD, SMD, MC or SMCR)")
    sel = sel[~no_counts]
    if timepoint is not None:
        off = sel["timepoint_months"] != timepoint
        out.add(sel[off], f"timepoint is not {timepoint:g} months")
        sel = sel[~off]
    sel = _one_row_per_study(sel, codes, out)
    sel = one_study_per_cohort(sel, cohort_rule, out).sort_values(["year", "study_id"])
    return Selection(outcome, therapy or "all", sel.reset_index(drop=True), tuple(out.items))
