"""Evaluate a protocol's criteria on one person: met / not met / unknown, with the evidence.

Pure: a :class:`~lupuscell.protocols.schema.Protocol`, a
:class:`~lupuscell.protocols.record.PatientRecord` and the resolved concept sets in, an
:class:`EligibilityResult` out. Every verdict carries a one-line reason and the evidence it rests
on (date, value, unit), so a coordinator sees why.

The rules are the ones the SQL compiler (:mod:`lupuscell.screening.compile`) implements for a
whole OMOP database; the cross-engine tests hold the two to the same answers:

* windows are day offsets from the index date, inclusive at both ends;
* a condition counts distinct record dates in the window; a drug history counts distinct
  member drugs with an exposure starting in the window;
* a measurement criterion takes the latest result in the window whose unit converts to the
  threshold's unit; when several results share that latest date, all must satisfy the
  comparison (the smallest decides ``>=``/``>``, the largest ``<=``/``<``); no usable result
  means *unknown*, never "not met";
* absence of a record is "absent" only in a domain the source captures completely
  (:attr:`PatientRecord.complete`); elsewhere it is *unknown*;
* ``all``/``any``/``not`` combine verdicts in Kleene's three-valued logic
  (:mod:`lupuscell.protocols.logic`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lupuscell.protocols import measures
from lupuscell.protocols.logic import Verdict, all_of, any_of, counted, not_
from lupuscell.protocols.record import PatientRecord, Timing
from lupuscell.protocols.schema import (
    AgeCriterion,
    AllCriterion,
    AnyCriterion,
    ConditionCriterion,
    Criterion,
    DrugHistoryCriterion,
    MeasurementCriterion,
    NotCriterion,
    ObservationCriterion,
    Protocol,
    SexCriterion,
    VisitCountCriterion,
    Window,
)

ConceptSets = Mapping[str, frozenset[int]]


@dataclass(frozen=True)
class Evidence:
    """One fact behind a verdict."""

    date: dt.date | None
    value: float | None
    unit: str | None
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": None if self.date is None else self.date.isoformat(),
            "value": self.value,
            "unit": self.unit,
            "label": self.label,
        }


@dataclass(frozen=True)
class CriterionResult:
    """The verdict on one criterion, why, and the facts it rests on."""

    id: str
    kind: str
    text: str
    source: str | None
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...] = ()
    children: tuple[CriterionResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "source": self.source,
            "verdict": self.verdict.label,
            "reason": self.reason,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass(frozen=True)
class EligibilityResult:
    """A person's verdict on every top-level criterion of a protocol."""

    protocol: str
    person: str
    index_date: dt.date
    index_date_rule: str
    criteria: tuple[CriterionResult, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        """Eligible (met) only when every criterion is met; unknown while none fails."""
        return all_of(c.verdict for c in self.criteria)

    @property
    def counts(self) -> dict[str, int]:
        labels = [c.verdict.label for c in self.criteria]
        return {label: labels.count(label) for label in ("met", "not_met", "unknown")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "person": self.person,
            "index_date": self.index_date.isoformat(),
            "index_date_rule": self.index_date_rule,
            "verdict": self.verdict.label,
            "counts": self.counts,
            "criteria": [c.to_dict() for c in self.criteria],
            "warnings": list(self.warnings),
        }


def window_bounds(window: Window, index: dt.date) -> tuple[dt.date | None, dt.date]:
    """Calendar dates of a window around ``index`` (None = no lower bound)."""
    start = None if window.start is None else index + dt.timedelta(days=window.start)
    return start, index + dt.timedelta(days=window.end)


def _placement(date: dt.date | None, timing: Timing, window: Window, index: dt.date) -> str:
    """``in``, ``out`` or ``maybe`` (a fact whose timing cannot place it in or out)."""
    start, end = window_bounds(window, index)
    if timing == "dated" and date is not None:
        return "in" if (start is None or date >= start) and date <= end else "out"
    if timing == "before_index" and window.start is None and window.end >= -1:
        return "in"
    return "maybe"


def _result(c: Criterion, verdict: Verdict, reason: str, evidence: tuple[Evidence, ...] = (), children=()):
    return CriterionResult(c.id, c.kind, c.text, c.source, verdict, reason, evidence, tuple(children))


def _observation(c: ObservationCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    if r.observation_periods is None:
        return _result(c, Verdict.UNKNOWN, "no observation periods recorded for this source")
    need = r.index_date - dt.timedelta(days=c.prior_days)
    for start, end in r.observation_periods:
        if start <= need and end >= r.index_date:
            ev = (Evidence(start, float((r.index_date - start).days), "days", f"observed {start} to {end}"),)
            return _result(c, Verdict.MET, f"observed from {start}, >= {c.prior_days} days before index", ev)
    return _result(c, Verdict.NOT_MET, f"not observed at index with {c.prior_days} days of prior observation")


def _age(c: AgeCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    if r.birth_year is None:
        return _result(c, Verdict.UNKNOWN, "year of birth not recorded")
    age = r.index_date.year - r.birth_year
    ok = (c.min is None or age >= c.min) and (c.max is None or age <= c.max)
    limits = f"[{'-' if c.min is None else c.min}, {'-' if c.max is None else c.max}]"
    ev = (Evidence(r.index_date, float(age), "years", f"born {r.birth_year}"),)
    return _result(c, Verdict.MET if ok else Verdict.NOT_MET, f"age {age} at index, limits {limits}", ev)


def _sex(c: SexCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    if r.sex not in ("F", "M"):
        return _result(c, Verdict.UNKNOWN, "sex not recorded")
    ok = r.sex in c.allowed
    return _result(c, Verdict.MET if ok else Verdict.NOT_MET, f"sex {r.sex}, allowed {'/'.join(c.allowed)}")


def _condition(c: ConditionCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    ids = sets.get(c.concept_set, frozenset())
    inside: set[dt.date | None] = set()
    maybe, confirmed = 0, False
    evidence = []
    for f in r.conditions:
        if f.concept_id not in ids:
            continue
        where = _placement(f.date, f.timing, c.window, r.index_date)
        if where == "in":
            inside.add(f.date)
            confirmed = confirmed or f.confirmed
            evidence.append(Evidence(f.date, None, None, f.label))
        elif where == "maybe":
            maybe += c.min_occurrences if f.confirmed else 1
            evidence.append(Evidence(f.date, None, None, f"{f.label} (timing unknown)"))
    found = c.min_occurrences if confirmed else len(inside)
    present = counted(found, maybe, c.min_occurrences, "condition" in r.complete)
    verdict = present if c.presence == "present" else not_(present)
    reason = (
        f"{len(inside)} record date(s) of {c.concept_set} in {c.window.describe()}"
        + (" (adjudicated diagnosis)" if confirmed else "")
        + (f", {maybe} more undated" if maybe else "")
        + f"; need {'>=' if c.presence == 'present' else '<'} {c.min_occurrences}"
        + _capture_note(verdict, "condition" in r.complete, "conditions")
    )
    return _result(c, verdict, reason, tuple(sorted(evidence, key=_by_date)))


def _capture_note(verdict: Verdict, complete: bool, what: str) -> str:
    if verdict is Verdict.UNKNOWN and not complete:
        return f" ({what} not completely captured by this source: absence is unknown)"
    return ""


def _by_date(e: Evidence) -> tuple[bool, dt.date]:
    return (e.date is None, e.date or dt.date.min)


def _drug_history(c: DrugHistoryCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    found: dict[str, Evidence] = {}
    maybe: set[str] = set()
    for member in c.members:
        ids = frozenset().union(*(sets.get(cs, frozenset()) for cs in member.concept_sets))
        for f in r.drugs:
            if f.concept_id not in ids and f.concept_set not in member.concept_sets:
                continue
            where = _placement(f.date, f.timing, c.window, r.index_date)
            if where == "in":
                prev = found.get(member.name)
                if prev is None or (f.date is not None and (prev.date is None or f.date > prev.date)):
                    found[member.name] = Evidence(f.date, None, None, f"{member.name}: {f.label}")
            elif where == "maybe":
                maybe.add(member.name)
    maybe -= set(found)
    verdict = counted(len(found), len(maybe), c.min_distinct, "drug" in r.complete)
    names = ", ".join(found) or "none"
    reason = f"{len(found)} distinct drug(s) in {c.window.describe()} ({names}); need >= {c.min_distinct}"
    if maybe:
        reason += f"; timing unknown for {', '.join(sorted(maybe))}"
    reason += _capture_note(verdict, "drug" in r.complete, "drug history")
    evidence = (*found.values(), Evidence(None, float(len(found)), "distinct drugs", "count"))
    return _result(c, verdict, reason, evidence)


def _measurement(c: MeasurementCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    ids = sets.get(c.concept_set, frozenset())
    start, end = window_bounds(c.window, r.index_date)
    usable: list[tuple[dt.date, float, str]] = []
    unusable = 0
    for f in r.measurements:
        if f.concept_id not in ids and f.analyte != measures.measure(c.analyte).code:
            continue
        if (start is not None and f.date < start) or f.date > end or f.value is None:
            continue
        k = None if f.unit is None else measures.factor(c.analyte, f.unit, c.threshold.unit)
        if k is None:
            unusable += 1
            continue
        usable.append((f.date, f.value * k, f"{f.value:g} {f.unit}"))
    skipped = (
        f"; {unusable} result(s) with a unit not convertible to {c.threshold.unit} ignored"
        if unusable
        else ""
    )
    if not usable:
        return _result(c, Verdict.UNKNOWN, f"no {c.analyte} result in {c.window.describe()}{skipped}")
    last = max(d for d, _, _ in usable)
    day = [(v, label) for d, v, label in usable if d == last]
    value, label = (min if c.lower_bound else max)(day)
    ok = c.holds(value)
    comparison = f"{value:g} {c.threshold.unit} {c.operator} {c.threshold.value:g}"
    reason = f"latest {c.analyte} on {last}: {comparison} is {'true' if ok else 'false'}{skipped}"
    ev = (Evidence(last, value, c.threshold.unit, f"{c.analyte} {label}"),)
    return _result(c, Verdict.MET if ok else Verdict.NOT_MET, reason, ev)


def _visit_count(c: VisitCountCriterion, r: PatientRecord, sets: ConceptSets) -> CriterionResult:
    ids = sets.get(c.concept_set, frozenset())
    start, end = window_bounds(c.window, r.index_date)
    hits = [
        v for v in r.visits if v.concept_id in ids and (start is None or v.date >= start) and v.date <= end
    ]
    verdict = counted(len(hits), 0, c.min_count, "visit" in r.complete)
    last = max((v.date for v in hits), default=None)
    reason = f"{len(hits)} visit(s) in {c.window.describe()}; need >= {c.min_count}"
    reason += _capture_note(verdict, "visit" in r.complete, "visits")
    return _result(c, verdict, reason, (Evidence(last, float(len(hits)), "visits", "count"),))


def _combination(c: AllCriterion | AnyCriterion | NotCriterion, r: PatientRecord, sets: ConceptSets):
    children = tuple(evaluate_criterion(child, r, sets) for child in c.children())
    verdicts = [child.verdict for child in children]
    if isinstance(c, AllCriterion):
        verdict, how = all_of(verdicts), "all of"
    elif isinstance(c, AnyCriterion):
        verdict, how = any_of(verdicts), "any of"
    else:
        verdict, how = not_(verdicts[0]), "not"
    parts = ", ".join(f"{child.id}={child.verdict.label}" for child in children)
    return _result(c, verdict, f"{how} ({parts})", children=children)


_EVALUATORS: dict[str, Callable[[Any, PatientRecord, ConceptSets], CriterionResult]] = {
    "observation": _observation,
    "age": _age,
    "sex": _sex,
    "condition": _condition,
    "drug_history": _drug_history,
    "measurement": _measurement,
    "visit_count": _visit_count,
    "all": _combination,
    "any": _combination,
    "not": _combination,
}


def evaluate_criterion(criterion: Criterion, record: PatientRecord, sets: ConceptSets) -> CriterionResult:
    """The verdict of one criterion (recursively for combinations)."""
    return _EVALUATORS[criterion.kind](criterion, record, sets)


def evaluate(
    protocol: Protocol, record: PatientRecord, sets: ConceptSets, warnings: tuple[str, ...] = ()
) -> EligibilityResult:
    """Every top-level criterion of ``protocol`` on ``record``, in protocol order."""
    results = tuple(evaluate_criterion(c, record, sets) for c in protocol.criteria)
    return EligibilityResult(
        protocol.name, record.person, record.index_date, record.index_date_rule, results, warnings
    )
