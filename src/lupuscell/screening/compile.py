"""Compile a protocol's criteria to Ibis expressions over OMOP CDM tables (one SQL per engine).

Ibis builds each query and SQLGlot renders it in the engine's dialect (DuckDB, PostgreSQL,
Spark SQL); no SQL text is written by hand here. The rules are exactly those of the per-person
evaluator (:mod:`lupuscell.protocols.evaluate`), for an OMOP source in which conditions, drugs
and visits are completely captured (absence of a record = absent):

* one pass per OMOP table computes every criterion on that table: the table is joined to a
  small parameter table of ``(criterion key, concept id, window start, window end, ...)`` and
  grouped by ``(person_id, key)``, giving ``verdict`` (0 not met, 1 unknown, 2 met),
  ``ev_date`` and ``ev_value`` (the evidence);
* a person without rows gets the criterion's default (condition present: not met; absent:
  met; drug history and visits: not met; measurement: unknown);
* a measurement criterion converts ``value_as_number`` with a factor chosen by
  ``unit_concept_id`` (:func:`lupuscell.protocols.measures.omop_unit_factors`; a NULL unit
  counts as concept 0, accepted only by dimensionless scores), keeps the latest date in the
  window and requires every value of that date to satisfy the comparison;
* age is the index year minus ``year_of_birth`` (OHDSI Circe convention), sex maps
  8532 -> F and 8507 -> M (another gender concept: unknown);
* ``all`` / ``any`` / ``not`` are ``LEAST`` / ``GREATEST`` / ``2 - v`` of the verdict codes
  (:mod:`lupuscell.protocols.logic`).

References
----------
Ibis project, https://ibis-project.org (expression API and per-backend compilers);
OHDSI Circe-be cohort SQL (age, windows, concept-set expansion).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lupuscell.protocols import measures
from lupuscell.protocols.logic import Verdict
from lupuscell.protocols.schema import (
    AgeCriterion,
    ConditionCriterion,
    Criterion,
    DrugHistoryCriterion,
    LeafCriterion,
    MeasurementCriterion,
    Protocol,
    SexCriterion,
    VisitCountCriterion,
    Window,
)

GENDER_CONCEPTS = {"F": 8532, "M": 8507}
OPERATOR_CODES = {">=": 0, ">": 1, "<=": 2, "<": 3}
LONG_COLUMNS = ("person_id", "key", "verdict", "ev_date", "ev_value")


@dataclass(frozen=True)
class Leaf:
    """A leaf criterion with its numeric key in the compiled queries."""

    key: int
    criterion: LeafCriterion

    @property
    def default(self) -> int:
        """Verdict of a person with no matching row."""
        c = self.criterion
        if isinstance(c, MeasurementCriterion):
            return int(Verdict.UNKNOWN)
        if isinstance(c, ConditionCriterion) and c.presence == "absent":
            return int(Verdict.MET)
        return int(Verdict.NOT_MET)

    @property
    def evidence_unit(self) -> str:
        c = self.criterion
        return {
            "observation": "days observed",
            "age": "years",
            "sex": "",
            "condition": "record days",
            "drug_history": "distinct drugs",
            "visit_count": "visits",
        }.get(c.kind) or (c.threshold.unit if isinstance(c, MeasurementCriterion) else "")


def leaves_of(protocol: Protocol) -> tuple[Leaf, ...]:
    return tuple(Leaf(key, c) for key, c in enumerate(protocol.leaves()))


def _bounds(window: Window, index: dt.date) -> tuple[dt.date | None, dt.date]:
    start = None if window.start is None else index + dt.timedelta(days=window.start)
    return start, index + dt.timedelta(days=window.end)


_DTYPES: dict[str, Any] = {
    "key": "int64",
    "member": "int64",
    "concept_id": "int64",
    "unit_id": "int64",
    "factor": "float64",
}


def _param_frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Criteria parameters as a typed frame (typed even when empty, so every engine can hold it)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for name in columns:
        if name in ("start_date", "end_date"):
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
        else:
            frame[name] = frame[name].astype(_DTYPES[name])
    return frame


def _in_window(table: Any, date: Any) -> Any:
    return (table.start_date.isnull() | (date >= table.start_date.cast("date"))) & (
        date <= table.end_date.cast("date")
    )


# --------------------------------------------------------------------------- per-table passes


def condition_pass(
    source: Any, leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date
) -> Any:
    """Long rows (person, key, verdict, evidence) for the condition criteria."""
    rows, meta = [], []
    for leaf in leaves:
        c = leaf.criterion
        assert isinstance(c, ConditionCriterion)
        start, end = _bounds(c.window, index)
        rows += [
            {"key": leaf.key, "concept_id": cid, "start_date": start, "end_date": end}
            for cid in sorted(sets[c.concept_set])
        ]
        meta.append({"key": leaf.key, "needed": c.min_occurrences, "present": c.presence == "present"})
    params = source.small_table(
        "lc_condition_params", _param_frame(rows, ("key", "concept_id", "start_date", "end_date"))
    )
    info = source.small_table("lc_condition_meta", pd.DataFrame(meta, columns=["key", "needed", "present"]))
    t = source.table("condition_occurrence")
    j = t.join(params, t.condition_concept_id == params.concept_id)
    j = j.filter(_in_window(j, j.condition_start_date))
    agg = j.group_by([j.person_id, j.key]).aggregate(
        n=j.condition_start_date.nunique(), last_date=j.condition_start_date.max()
    )
    agg = agg.join(info, "key")
    hit = agg.n >= agg.needed
    import ibis

    verdict = ibis.ifelse(hit == agg.present, int(Verdict.MET), int(Verdict.NOT_MET))
    return agg.select(
        person_id=agg.person_id,
        key=agg.key,
        verdict=verdict,
        ev_date=agg.last_date,
        ev_value=agg.n.cast("float64"),
    )


def drug_pass(source: Any, leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date) -> Any:
    """Long rows for the drug-history criteria (distinct member drugs started in the window)."""
    import ibis

    rows, meta = [], []
    for leaf in leaves:
        c = leaf.criterion
        assert isinstance(c, DrugHistoryCriterion)
        start, end = _bounds(c.window, index)
        for m, member in enumerate(c.members):
            ids = sorted(frozenset().union(*(sets[cs] for cs in member.concept_sets)))
            rows += [
                {"key": leaf.key, "member": m, "concept_id": cid, "start_date": start, "end_date": end}
                for cid in ids
            ]
        meta.append({"key": leaf.key, "needed": c.min_distinct})
    params = source.small_table(
        "lc_drug_params", _param_frame(rows, ("key", "member", "concept_id", "start_date", "end_date"))
    )
    info = source.small_table("lc_drug_meta", pd.DataFrame(meta, columns=["key", "needed"]))
    t = source.table("drug_exposure")
    j = t.join(params, t.drug_concept_id == params.concept_id)
    j = j.filter(_in_window(j, j.drug_exposure_start_date))
    agg = j.group_by([j.person_id, j.key]).aggregate(
        n=j.member.nunique(), last_date=j.drug_exposure_start_date.max()
    )
    agg = agg.join(info, "key")
    verdict = ibis.ifelse(agg.n >= agg.needed, int(Verdict.MET), int(Verdict.NOT_MET))
    return agg.select(
        person_id=agg.person_id,
        key=agg.key,
        verdict=verdict,
        ev_date=agg.last_date,
        ev_value=agg.n.cast("float64"),
    )


def _measurement_params(leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date):
    rows, meta = [], []
    for leaf in leaves:
        c = leaf.criterion
        assert isinstance(c, MeasurementCriterion)
        start, end = _bounds(c.window, index)
        factors = measures.omop_unit_factors(c.analyte, c.threshold.unit)
        rows += [
            {
                "key": leaf.key,
                "concept_id": cid,
                "unit_id": unit,
                "factor": f,
                "start_date": start,
                "end_date": end,
            }
            for cid in sorted(sets[c.concept_set])
            for unit, f in sorted(factors.items())
        ]
        meta.append({"key": leaf.key, "opcode": OPERATOR_CODES[c.operator], "threshold": c.threshold.value})
    columns = ("key", "concept_id", "unit_id", "factor", "start_date", "end_date")
    return _param_frame(rows, columns), pd.DataFrame(meta, columns=["key", "opcode", "threshold"])


def measurement_pass(
    source: Any, leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date
) -> Any:
    """Long rows for the measurement criteria: latest usable value in the window vs threshold."""
    import ibis

    rows, meta = _measurement_params(leaves, sets, index)
    params = source.small_table("lc_measurement_params", rows)
    info = source.small_table("lc_measurement_meta", meta)
    t = source.table("measurement")
    unit = t.unit_concept_id.fill_null(0)
    j = t.join(params, [t.measurement_concept_id == params.concept_id, unit == params.unit_id])
    j = j.filter(_in_window(j, j.measurement_date) & j.value_as_number.notnull())
    j = j.select(
        person_id=j.person_id, key=j.key, d=j.measurement_date, v=j.value_as_number.cast("float64") * j.factor
    )
    j = j.mutate(last_date=j.d.max().over(group_by=[j.person_id, j.key]))
    day = j.filter(j.d == j.last_date)
    agg = day.group_by([day.person_id, day.key]).aggregate(
        lo=day.v.min(), hi=day.v.max(), last_date=day.d.max()
    )
    agg = agg.join(info, "key")
    lower = agg.opcode <= 1
    value = ibis.ifelse(lower, agg.lo, agg.hi)
    holds = ibis.cases(
        (agg.opcode == 0, value >= agg.threshold),
        (agg.opcode == 1, value > agg.threshold),
        (agg.opcode == 2, value <= agg.threshold),
        else_=value < agg.threshold,
    )
    verdict = ibis.ifelse(holds, int(Verdict.MET), int(Verdict.NOT_MET))
    return agg.select(
        person_id=agg.person_id, key=agg.key, verdict=verdict, ev_date=agg.last_date, ev_value=value
    )


def visit_pass(
    source: Any, leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date
) -> Any:
    """Long rows for the visit-count criteria."""
    import ibis

    rows, meta = [], []
    for leaf in leaves:
        c = leaf.criterion
        assert isinstance(c, VisitCountCriterion)
        start, end = _bounds(c.window, index)
        rows += [
            {"key": leaf.key, "concept_id": cid, "start_date": start, "end_date": end}
            for cid in sorted(sets[c.concept_set])
        ]
        meta.append({"key": leaf.key, "needed": c.min_count})
    params = source.small_table(
        "lc_visit_params", _param_frame(rows, ("key", "concept_id", "start_date", "end_date"))
    )
    info = source.small_table("lc_visit_meta", pd.DataFrame(meta, columns=["key", "needed"]))
    t = source.table("visit_occurrence")
    j = t.join(params, t.visit_concept_id == params.concept_id)
    j = j.filter(_in_window(j, j.visit_start_date))
    agg = j.group_by([j.person_id, j.key]).aggregate(
        n=j.visit_occurrence_id.nunique(), last_date=j.visit_start_date.max()
    )
    agg = agg.join(info, "key")
    verdict = ibis.ifelse(agg.n >= agg.needed, int(Verdict.MET), int(Verdict.NOT_MET))
    return agg.select(
        person_id=agg.person_id,
        key=agg.key,
        verdict=verdict,
        ev_date=agg.last_date,
        ev_value=agg.n.cast("float64"),
    )


def observation_pass(
    source: Any, leaves: Sequence[Leaf], sets: Mapping[str, frozenset[int]], index: dt.date
) -> Any:
    """Long rows for observation criteria: a period covering the index and the prior days."""
    import ibis

    rows = [
        {"key": leaf.key, "need": index - dt.timedelta(days=leaf.criterion.prior_days)}  # type: ignore[union-attr]
        for leaf in leaves
    ]
    frame = pd.DataFrame(rows, columns=["key", "need"])
    frame["need"] = pd.to_datetime(frame["need"]).astype("datetime64[s]")
    params = source.small_table("lc_observation_params", frame)
    t = source.table("observation_period")
    j = t.cross_join(params)
    j = j.filter(
        (j.observation_period_start_date <= j.need.cast("date"))
        & (j.observation_period_end_date >= ibis.date(index))
    )
    agg = j.group_by([j.person_id, j.key]).aggregate(first_date=j.observation_period_start_date.min())
    return agg.select(
        person_id=agg.person_id,
        key=agg.key,
        verdict=ibis.literal(int(Verdict.MET)),
        ev_date=agg.first_date,
        ev_value=(ibis.date(index) - agg.first_date).cast("int64").cast("float64"),
    )


PASSES = {
    "observation": observation_pass,
    "condition": condition_pass,
    "drug_history": drug_pass,
    "measurement": measurement_pass,
    "visit_count": visit_pass,
}


# --------------------------------------------------------------------------- person level


def person_leaf(person: Any, leaf: Leaf, index: dt.date) -> tuple[Any, Any, Any]:
    """(verdict, evidence date, evidence value) of an age or sex leaf, from the person table."""
    import ibis

    c = leaf.criterion
    if isinstance(c, AgeCriterion):
        age = index.year - person.year_of_birth
        ok = ibis.literal(True)
        if c.min is not None:
            ok = ok & (age >= c.min)
        if c.max is not None:
            ok = ok & (age <= c.max)
        verdict = ibis.cases(
            (person.year_of_birth.isnull(), int(Verdict.UNKNOWN)),
            (ok, int(Verdict.MET)),
            else_=int(Verdict.NOT_MET),
        )
        return verdict, ibis.date(index), age.cast("float64")
    assert isinstance(c, SexCriterion)
    allowed = [GENDER_CONCEPTS[s] for s in c.allowed]
    verdict = ibis.cases(
        (person.gender_concept_id.isin(allowed), int(Verdict.MET)),
        (person.gender_concept_id.isin(list(GENDER_CONCEPTS.values())), int(Verdict.NOT_MET)),
        else_=int(Verdict.UNKNOWN),
    )
    return verdict, ibis.null().cast("date"), ibis.null().cast("float64")


def combine(criterion: Criterion, leaf_columns: Mapping[str, Any]) -> Any:
    """The verdict expression of a (possibly combined) criterion from its leaves' columns."""
    import ibis

    if criterion.kind == "all":
        return ibis.least(*(combine(c, leaf_columns) for c in criterion.children()))
    if criterion.kind == "any":
        return ibis.greatest(*(combine(c, leaf_columns) for c in criterion.children()))
    if criterion.kind == "not":
        return 2 - combine(criterion.children()[0], leaf_columns)
    return leaf_columns[criterion.id]
