"""A registry patient's eligibility for the shipped protocols, as the patient's page and the API
show it.

The evaluation is :func:`lupuscell.protocols.patient_check.check_timeline`, the same path as
``lupuscell eligibility`` (index date, record, evaluator); this module only loads the shipped
protocols once per process and flattens the results for the template (nested ``all``/``any``/
``not`` criteria become indented rows, each with its verdict, reason and evidence: date, value,
unit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from lupuscell.errors import ValidationError
from lupuscell.protocols.catalog import Bundle, load_bundle, shipped_protocol_names
from lupuscell.protocols.evaluate import CriterionResult, EligibilityResult, Evidence
from lupuscell.protocols.patient_check import NoIndexDateError, check_timeline

WEB_INDEX_RULE = "the screening date given on the page"
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
VERDICT_TEXT = {"met": "met", "not_met": "not met", "unknown": "unknown"}
VERDICT_TONE = {"met": "good", "not_met": "bad", "unknown": "unknown"}


@cache
def bundle(name: str) -> Bundle:
    """A shipped protocol with its concept sets (loaded and checked once per process)."""
    return load_bundle(name)


def protocol_names() -> tuple[str, ...]:
    return shipped_protocol_names()


def check_date(value: dt.date | None, name: str) -> dt.date | None:
    """A screening date from a form or query, refused (naming ``name``) outside 1900-2199: the
    windows of every criterion are counted back from it."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationError.single("query", name, f"{value} is outside {EARLIEST} to {LATEST}")
    return value


def evaluate_patient(
    timeline: Mapping[str, Any], name: str, index_date: dt.date | None = None
) -> EligibilityResult:
    """The patient's verdicts on shipped protocol ``name`` (NoIndexDateError without a date)."""
    check_date(index_date, "index_date")
    return check_timeline(timeline, bundle(name), index_date, WEB_INDEX_RULE)


def evidence_text(e: Evidence) -> str:
    """``2024-01-02 74 mL/min/1.73m2 (registry lab)``: date, value, unit, and what it is."""
    value = None if e.value is None else f"{e.value:g}"
    head = " ".join(str(x) for x in (e.date, value, e.unit) if x is not None)
    return f"{head} ({e.label})" if head else e.label


def _rows(results: tuple[CriterionResult, ...], depth: int = 0) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        rows.append(
            {
                "id": r.id,
                "depth": depth,
                "text": r.text,
                "kind": r.kind,
                "verdict": VERDICT_TEXT[r.verdict.label],
                "tone": VERDICT_TONE[r.verdict.label],
                "reason": r.reason,
                "evidence": [evidence_text(e) for e in r.evidence],
                "source": r.source,
            }
        )
        rows.extend(_rows(r.children, depth + 1))
    return rows


@dataclass(frozen=True)
class ProtocolPanel:
    """One protocol on the patient's page: title, overall verdict, counts, criteria rows."""

    name: str
    title: str
    verdict: str
    tone: str
    counts: dict[str, int]
    index_date: dt.date
    index_rule: str
    rows: list[dict[str, Any]]
    warnings: tuple[str, ...]


def panels(timeline: Mapping[str, Any], index_date: dt.date | None) -> tuple[list[ProtocolPanel], str | None]:
    """Every shipped protocol evaluated on the patient, or ([], why) when there is no index date."""
    out = []
    for name in protocol_names():
        try:
            result = evaluate_patient(timeline, name, index_date)
        except NoIndexDateError as exc:
            return [], exc.problems[0].message
        label = result.verdict.label
        out.append(
            ProtocolPanel(
                name=name,
                title=bundle(name).protocol.title,
                verdict=VERDICT_TEXT[label],
                tone=VERDICT_TONE[label],
                counts=result.counts,
                index_date=result.index_date,
                index_rule=result.index_date_rule,
                rows=_rows(result.criteria),
                warnings=result.warnings,
            )
        )
    return out, None
