"""The rules every row of the curated evidence (and of a user's own rows) must follow.

One row is one study x outcome (x arm, x timepoint). Its *kind* follows from what it carries:

``binary``
    ``events`` and ``total``: events <= total, both whole numbers, total > 0.
``continuous``
    ``mean`` (with ``sd`` and ``total``, the n behind the mean); ``events`` empty.
``km``
    outcome code ending in ``_KM``: a Kaplan-Meier estimate published without counts, kept in
    ``definition``; ``events`` must be empty, so it can never be pooled as a count.

Every row needs a source (``source_note``: where in the paper the number was read), a known
therapy code, a plausible year and, when given, a known ``evidence_level``. A continuous row
without ``sd`` or ``total`` is a published summary that cannot be pooled: it loads (the
curated version 2 keeps seven such rows, e.g. Gu 2014's BILAG scores whose n is not stated),
is marked ``poolable = False`` with the reason, and every pooling leaves it out. With
``strict=True`` (``lupuscell evidence add``) such a row is an error instead.

Hand-written because every problem must name the file, row, study and field
(:class:`lupuscell.errors.Problem`), in the form the curated dataset's README states its rules.

References
----------
Curated evidence README, version 2 (columns, kinds, ``_KM`` rows, cohort groups, evidence
levels): docs/evidence/studies.md.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from lupuscell.errors import Problem

THERAPIES: dict[str, str] = {
    "hsct": "autologous haematopoietic stem-cell transplantation",
    "msc": "mesenchymal stromal/stem cells (bone marrow, adipose, umbilical cord)",
    "car_t": "CAR T cells (CD19, BCMA-CD19; autologous or allogeneic)",
}

#: ``evidence_level`` values and what each means (curated README, version 2).
EVIDENCE_LEVELS: dict[str, str] = {
    "table": "read from a results table of the paper",
    "abstract": "read from the abstract",
    "conference_abstract": "read from a conference abstract",
    "secondary": "read from a review or summary, not the paper",
    "low_confidence": "a third-party copy still to verify",
}

KM_SUFFIX = "_KM"
FIRST_YEAR = 1990  # first autologous HSCT for SLE was reported in the late 1990s
_COUNTS = ("events", "total", "n")


def where(r: pd.Series) -> str:
    """``<file> row <line> (study <id>)``: the place a problem is reported at."""
    return f"{r['source']} row {r['row']} (study {r['study_id'] or '?'})"


def row_kind(outcome: str, events: float, mean: float) -> str:
    """``km``, ``continuous``, ``binary`` or ``other`` (see the module docstring)."""
    if str(outcome).endswith(KM_SUFFIX):
        return "km"
    if np.isfinite(mean):
        return "continuous"
    if np.isfinite(events):
        return "binary"
    return "other"


def incomplete_reason(r: pd.Series) -> str:
    """Why a continuous row cannot be pooled (empty string when it can)."""
    missing = [c for c in ("sd", "total") if not np.isfinite(r[c])]
    return f"{' and '.join(missing)} not reported: a summary that cannot be pooled" if missing else ""


def _identity(r: pd.Series, w: str, out: list[Problem]) -> None:
    for col in ("study_id", "outcome"):
        if not str(r[col]).strip():
            out.append(Problem(w, col, "missing"))
    if not str(r["source_note"]).strip():
        out.append(Problem(w, "source_note", "missing: every row needs a source (where the number was read)"))
    if r["therapy"] not in THERAPIES:
        out.append(
            Problem(w, "therapy", f"unknown therapy code {r['therapy']!r}; one of {', '.join(THERAPIES)}")
        )
    level = str(r["evidence_level"]).strip()
    if level and level not in EVIDENCE_LEVELS:
        out.append(
            Problem(w, "evidence_level", f"unknown level {level!r}; one of {', '.join(EVIDENCE_LEVELS)}")
        )
    this_year = _dt.date.today().year
    year = r["year"]
    if not np.isfinite(year) or year != int(year) or not FIRST_YEAR <= year <= this_year + 1:
        out.append(
            Problem(w, "year", f"implausible year {r['year']!r}; expected {FIRST_YEAR}-{this_year + 1}")
        )


def _numbers(r: pd.Series, w: str, out: list[Problem]) -> None:
    for name in _COUNTS:
        value = r[name]
        if np.isfinite(value) and (value < 0 or value != int(value)):
            out.append(Problem(w, name, f"must be a whole number >= 0, got {value:g}"))
    if np.isfinite(r["total"]) and r["total"] == 0:
        out.append(Problem(w, "total", "must be > 0"))
    if np.isfinite(r["sd"]) and r["sd"] < 0:
        out.append(Problem(w, "sd", "must be >= 0"))
    for name in ("timepoint_months", "median_followup_months"):
        if np.isfinite(r[name]) and r[name] < 0:
            out.append(Problem(w, name, "must be >= 0"))


def _by_kind(r: pd.Series, w: str, out: list[Problem], strict: bool) -> None:
    ev, tot, mean = r["events"], r["total"], r["mean"]
    if str(r["outcome"]).endswith(KM_SUFFIX):
        if np.isfinite(ev):
            out.append(
                Problem(
                    w,
                    "events",
                    "must be empty on a Kaplan-Meier (_KM) row: a KM estimate is never pooled as "
                    "events/total (keep the estimate in definition)",
                )
            )
        return
    if np.isfinite(mean) or np.isfinite(r["sd"]):
        if not np.isfinite(mean):
            out.append(Problem(w, "mean", "missing: sd given without a mean"))
        if np.isfinite(ev):
            out.append(Problem(w, "events", "must be empty on a continuous row (mean/sd)"))
        if strict:
            for col in ("sd", "total"):
                if not np.isfinite(r[col]):
                    out.append(Problem(w, col, "missing: a continuous row needs mean, sd and total"))
        return
    if np.isfinite(ev) and not np.isfinite(tot):
        out.append(Problem(w, "total", "events given without a total"))
    if np.isfinite(ev) and np.isfinite(tot) and ev > tot:
        out.append(Problem(w, "events", f"events ({ev:g}) exceed total ({tot:g})"))
    if strict and not np.isfinite(ev):
        out.append(Problem(w, "events", "missing: a binary row needs events and total (or give mean, sd)"))


def _duplicates(df: pd.DataFrame) -> list[Problem]:
    key = df[["study_id", "outcome"]].copy()
    key["tp"] = df["timepoint_months"].fillna(-1.0)
    out = []
    for (_, r), is_dup in zip(df.iterrows(), key.duplicated(keep="first"), strict=True):
        if is_dup:
            tp = r["timepoint_months"]
            at = f"{tp:g} months" if np.isfinite(tp) else "no timepoint"
            out.append(Problem(where(r), "outcome", f"duplicate row for outcome {r['outcome']!r} at {at}"))
    return out


ROW_RULES: tuple[Callable[[pd.Series, str, list[Problem]], None], ...] = (_identity, _numbers)


def validate(df: pd.DataFrame, *, strict: bool = False) -> list[Problem]:
    """Every problem in a numeric-converted studies frame (empty list = valid).

    ``strict`` also rejects rows that could never be pooled: a continuous row without ``sd`` or
    ``total`` and a row with neither counts nor a mean (used for rows a user adds).
    """
    problems: list[Problem] = []
    for _, r in df.iterrows():
        w = where(r)
        for rule in ROW_RULES:
            rule(r, w, problems)
        _by_kind(r, w, problems, strict)
    problems.extend(_duplicates(df))
    return problems
