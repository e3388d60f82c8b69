"""The curated evidence dataset: published outcomes of HSCT, MSC and CAR-T in SLE.

``lupuscell/data/studies.csv`` holds one row per study x outcome (x timepoint), with DOI/PMID
and where in the source each number was read (``source_note``); see docs/evidence/studies.md
for the studies and the cautions. This module loads it as a pandas DataFrame, appends a user's
own CSV, validates every row on load and selects the rows a pooled analysis may use.

Independence rule. Liang 2010, Wang 2013 and Wang 2018 report one Nanjing MSC programme and
probably share patients (column ``cohort_group = nanjing_msc``). :func:`select_for_pooling`
keeps one study per cohort group (default: the one with the largest denominator for the
outcome, ties to the most recent; or ``"latest"``: the most recent), and reports the others as
excluded, so they are never pooled as independent studies.

Pure pandas; the validation is hand-written because every problem must name the row, study and
field (``lupuscell.errors.Problem``), which schema libraries do not do in this form.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lupuscell.errors import Problem, ValidationError

THERAPIES: dict[str, str] = {
    "hsct": "autologous haematopoietic stem-cell transplantation",
    "msc": "mesenchymal stromal/stem cells (bone marrow, adipose, umbilical cord)",
    "car_t": "CD19 CAR T cells",
}

#: Short display names for plots and tables.
THERAPY_LABELS: dict[str, str] = {"hsct": "Autologous HSCT", "msc": "MSC", "car_t": "CD19 CAR-T"}

#: Outcome families: a family name selects every listed outcome code. Definitions still differ
#: between studies (SLEDAI < 3, DORIS, renal remission...): the ``definition`` column keeps each.
OUTCOME_FAMILIES: dict[str, tuple[str, ...]] = {
    "remission": ("remission", "complete_remission", "doris_remission", "remission_msc_arm"),
    "treatment_related_mortality": ("treatment_related_mortality",),
    "overall_survival": ("overall_survival",),
    "death": ("all_cause_death", "death_msc_arm"),
    "relapse": ("relapse",),
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
    "timepoint_months",
    "definition",
    "cohort_group",
    "source_note",
)
_NUMERIC = ("year", "n", "median_followup_months", "events", "total", "timepoint_months")
FIRST_YEAR = 1990  # first autologous HSCT for SLE was reported in the late 1990s


def _packaged_csv() -> Path:
    return Path(str(resources.files("lupuscell") / "data" / "studies.csv"))


def _read(path: Path | str, source: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise ValidationError.single(source, "path", f"file not found: {path}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError.single(source, "path", f"not a readable CSV: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError([Problem(source, c, "required column missing") for c in missing])
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
                problems.append(Problem(_where(r), col, f"not a number: {raw!r}"))
                values.append(np.nan)
        out[col] = values
    return out


def _where(r: pd.Series) -> str:
    return f"{r['source']} row {r['row']} (study {r['study_id'] or '?'})"


def validate(df: pd.DataFrame) -> list[Problem]:
    """Every problem in a numeric-converted studies frame (empty list = valid)."""
    problems: list[Problem] = []
    this_year = _dt.date.today().year
    for _, r in df.iterrows():
        where = _where(r)
        if not str(r["study_id"]).strip():
            problems.append(Problem(where, "study_id", "missing"))
        if not str(r["outcome"]).strip():
            problems.append(Problem(where, "outcome", "missing"))
        if r["therapy"] not in THERAPIES:
            problems.append(
                Problem(
                    where, "therapy", f"unknown therapy code {r['therapy']!r}; one of {', '.join(THERAPIES)}"
                )
            )
        year = r["year"]
        if not np.isfinite(year) or year != int(year) or not FIRST_YEAR <= year <= this_year + 1:
            problems.append(
                Problem(
                    where, "year", f"implausible year {r['year']!r}; expected {FIRST_YEAR}-{this_year + 1}"
                )
            )
        ev, tot = r["events"], r["total"]
        for name, value in (("events", ev), ("total", tot), ("n", r["n"])):
            if np.isfinite(value) and (value < 0 or value != int(value)):
                problems.append(Problem(where, name, f"must be a whole number >= 0, got {value:g}"))
        if np.isfinite(tot) and tot == 0:
            problems.append(Problem(where, "total", "must be > 0"))
        if np.isfinite(ev) and not np.isfinite(tot):
            problems.append(Problem(where, "total", "events given without a total"))
        if np.isfinite(ev) and np.isfinite(tot) and ev > tot:
            problems.append(Problem(where, "events", f"events ({ev:g}) exceed total ({tot:g})"))
        for name in ("timepoint_months", "median_followup_months"):
            if np.isfinite(r[name]) and r[name] < 0:
                problems.append(Problem(where, name, "must be >= 0"))
    key = df[["study_id", "outcome"]].copy()
    key["tp"] = df["timepoint_months"].fillna(-1.0)
    dup = key.duplicated(keep="first")
    for (_, r), is_dup in zip(df.iterrows(), dup, strict=True):
        if is_dup:
            tp = r["timepoint_months"]
            tp = f"{tp:g} months" if np.isfinite(tp) else "no timepoint"
            problems.append(
                Problem(_where(r), "outcome", f"duplicate row for outcome {r['outcome']!r} at {tp}")
            )
    return problems


def load_studies(extra: Path | str | None = None, *, include_packaged: bool = True) -> pd.DataFrame:
    """Load the curated dataset (and optionally a user CSV appended to it), validated.

    Parameters
    ----------
    extra
        A CSV with at least the columns :data:`REQUIRED_COLUMNS` (others optional, see
        :data:`COLUMNS`); its rows are appended after the packaged ones.
    include_packaged
        ``False`` loads only ``extra``.

    Raises
    ------
    ValidationError
        Listing every problem with the file, row, study and field.
    """
    frames = []
    if include_packaged:
        frames.append(_read(_packaged_csv(), "studies.csv"))
    if extra is not None:
        frames.append(_read(extra, Path(extra).name))
    if not frames:
        raise ValidationError.single("", "extra", "no dataset to load")
    raw = pd.concat(frames, ignore_index=True)
    problems: list[Problem] = []
    df = _to_numeric(raw, problems)
    problems.extend(validate(df))
    if problems:
        raise ValidationError(problems)
    df["year"] = df["year"].astype(int)
    return df.reset_index(drop=True)


def outcome_codes(outcome: str, *, exact: bool = False) -> tuple[str, ...]:
    """Outcome codes selected by ``outcome``: its family, or the code itself."""
    if not exact and outcome in OUTCOME_FAMILIES:
        return OUTCOME_FAMILIES[outcome]
    return (outcome,)


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
        """``First-author year`` per selected study (the study id when no author is recorded)."""
        return [
            f"{r['first_author']} {r['year']}" if r["first_author"] else str(r["study_id"])
            for r in self.table()
        ]

    def counts(self) -> list[str]:
        """``events/total`` per selected study."""
        return [f"{int(r['events'])}/{int(r['total'])}" for r in self.table()]


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

    Rules, in order: rows without event counts (Kaplan-Meier estimates only) are excluded;
    ``timepoint`` (months) keeps only that timepoint; within a study, the row with the largest
    denominator (ties: earliest timepoint) is kept; within a ``cohort_group`` (shared patients)
    one study is kept by ``cohort_rule``.
    """
    if therapy is not None and therapy not in THERAPIES:
        raise ValidationError.single(
            "", "therapy", f"unknown therapy code {therapy!r}; one of {', '.join(THERAPIES)}"
        )
    codes = outcome_codes(outcome, exact=exact)
    sel = df[df["outcome"].isin(codes)]
    if therapy is not None:
        sel = sel[sel["therapy"] == therapy]
    excluded: list[tuple[str, str, str]] = []

    def drop(part: pd.DataFrame, reason: str) -> None:
        for r in part.to_dict(orient="records"):
            tp = r["timepoint_months"]
            at = f" at {tp:g} months" if tp == tp else ""
            excluded.append((str(r["study_id"]), f"{r['outcome']}{at}", reason))

    no_counts = ~np.isfinite(sel["events"].astype(float))
    drop(sel[no_counts], "no event counts (Kaplan-Meier estimate only)")
    sel = sel[~no_counts]
    if timepoint is not None:
        off = sel["timepoint_months"] != timepoint
        drop(sel[off], f"timepoint is not {timepoint:g} months")
        sel = sel[~off]
    sel = sel.assign(_tp=sel["timepoint_months"].fillna(np.inf)).sort_values(
        ["study_id", "total", "_tp"], ascending=[True, False, True]
    )
    dup = sel.duplicated("study_id", keep="first")
    drop(sel[dup], "one row per study: kept the row with the larger denominator (ties: earlier timepoint)")
    sel = sel[~dup]
    grouped = sel[sel["cohort_group"].astype(str).str.len() > 0]
    drop_idx: list[int] = []
    for group, part in grouped.groupby("cohort_group"):
        order = ["total", "year"] if cohort_rule == "largest" else ["year", "total"]
        ranked = part.sort_values(order, ascending=False)
        kept = str(ranked["study_id"].iloc[0])
        rest = ranked.iloc[1:]
        drop_idx.extend(rest.index.tolist())
        drop(rest, f"shares patients with {kept} (cohort group {group}; rule: keep the {cohort_rule})")
    sel = sel.drop(index=drop_idx).drop(columns="_tp").sort_values(["year", "study_id"])
    return Selection(outcome, therapy or "all", sel.reset_index(drop=True), tuple(excluded))
