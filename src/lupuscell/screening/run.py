"""Run a protocol's screen on OMOP data: the candidates, their evidence and the attrition.

Steps, each a query built by Ibis on the chosen engine:

1. the protocol and its concept sets are loaded and checked, and the OMOP tables and columns
   they need are checked from metadata, before any query runs;
2. the index date (default: the data cut-off, the latest ``observation_period_end_date``);
3. concept sets are resolved against the source's own vocabulary (``concept_ancestor``,
   ``concept.invalid_reason IS NULL`` for descendants), as OHDSI Circe does;
4. one pass per OMOP table computes every criterion on it (:mod:`lupuscell.screening.compile`),
   each pass materialised as a temporary table; progress advances per criterion;
5. the per-person verdicts are combined into one temporary table; attrition is counted from it in
   one aggregate query, and the candidates are fetched.

Unknown verdicts (a missing measurement) keep a person in the screen by default
(``unknown="keep"``: the coordinator orders the missing test); ``unknown="exclude"`` keeps only
persons with every criterion met.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lupuscell.errors import ValidationError
from lupuscell.protocols.catalog import Bundle, load_bundle
from lupuscell.protocols.concepts import ConceptSet
from lupuscell.protocols.logic import Verdict
from lupuscell.protocols.schema import Protocol
from lupuscell.screening.compile import PASSES, Leaf, combine, leaves_of, person_leaf
from lupuscell.screening.omop import OmopSource, tables_needed

UNKNOWN_POLICIES = ("keep", "exclude")
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ScreenResult:
    """What a screen found: attrition in protocol order, candidates and their evidence."""

    protocol: Protocol
    engine: str
    source: str
    index_date: dt.date
    persons: int
    attrition: pd.DataFrame
    candidates: pd.DataFrame
    evidence: pd.DataFrame
    concept_counts: Mapping[str, int]
    unknown: str
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """JSON-ready description of the run (written as ``summary.json``)."""
        return {
            "protocol": self.protocol.name,
            "engine": self.engine,
            "source": self.source,
            "index_date": self.index_date.isoformat(),
            "persons": self.persons,
            "candidates": len(self.candidates),
            "unknown_policy": self.unknown,
            "seconds": round(self.seconds, 3),
            "concept_set_sizes": dict(self.concept_counts),
            "attrition": self.attrition.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


def resolve_concept_sets(source: OmopSource, sets: Mapping[str, ConceptSet]) -> dict[str, frozenset[int]]:
    """Expand every set with the source's ``concept_ancestor`` (one query for all sets)."""
    roots = sorted({i.concept_id for cs in sets.values() for i in cs.items if i.descendants})
    pairs: dict[int, set[int]] = {r: set() for r in roots}
    if roots:
        ca, concept = source.table("concept_ancestor"), source.table("concept")
        j = ca.filter(ca.ancestor_concept_id.isin(roots)).join(
            concept, ca.descendant_concept_id == concept.concept_id
        )
        j = j.filter(j.invalid_reason.isnull())
        frame = source.backend.execute(j.select("ancestor_concept_id", "descendant_concept_id").distinct())
        for a, d in zip(frame["ancestor_concept_id"], frame["descendant_concept_id"], strict=True):
            pairs[int(a)].add(int(d))

    def descendants(ids: Any) -> set[int]:
        return set().union(*(pairs.get(i, set()) for i in ids))

    return {name: cs.resolve(descendants) for name, cs in sets.items()}


def default_index_date(source: OmopSource) -> dt.date:
    """The data cut-off: the latest ``observation_period_end_date``."""
    op = source.table("observation_period")
    value = source.backend.execute(op.observation_period_end_date.max())
    if value is None or pd.isna(value):
        raise ValidationError.single(f"OMOP data {source.describe}", "observation_period", "has no rows")
    return pd.Timestamp(value).date()


def _long_results(
    source: OmopSource,
    leaves: Sequence[Leaf],
    sets: Mapping[str, frozenset[int]],
    index: dt.date,
    progress: Progress,
) -> list[Any]:
    """Run each table pass, materialised; advance progress by its criteria."""
    parts = []
    for kind, compile_pass in PASSES.items():
        group = [leaf for leaf in leaves if leaf.criterion.kind == kind]
        if not group:
            continue
        parts.append(compile_pass(source, group, sets, index).cache())
        for leaf in group:
            progress(f"computed {leaf.criterion.id}", 1)
    for leaf in leaves:
        if leaf.criterion.kind not in PASSES:  # age and sex: computed from the person table
            progress(f"computed {leaf.criterion.id}", 1)
    return parts


def _verdict_table(
    source: OmopSource, protocol: Protocol, leaves: Sequence[Leaf], parts: list[Any], index: dt.date
):
    """One row per person: every leaf's verdict and evidence, every top-level verdict."""
    import ibis

    person = source.table("person")
    columns: dict[str, Any] = {"person_id": person.person_id}
    if parts:
        long = ibis.union(*parts) if len(parts) > 1 else parts[0]
        aggs = {}
        for leaf in leaves:
            if leaf.criterion.kind in PASSES:
                hit = long.key == leaf.key
                aggs[f"v{leaf.key}"] = ibis.ifelse(hit, long.verdict, None).max()
                aggs[f"d{leaf.key}"] = ibis.ifelse(hit, long.ev_date, None).max()
                aggs[f"x{leaf.key}"] = ibis.ifelse(hit, long.ev_value, None).max()
        wide = long.group_by("person_id").aggregate(**aggs)
        person = person.left_join(wide, person.person_id == wide.person_id)
        columns["person_id"] = person.person_id
    by_id: dict[str, Any] = {}
    for leaf in leaves:
        if leaf.criterion.kind in PASSES:
            verdict = person[f"v{leaf.key}"].fill_null(leaf.default)
            date, value = person[f"d{leaf.key}"], person[f"x{leaf.key}"]
        else:
            verdict, date, value = person_leaf(person, leaf, index)
        by_id[leaf.criterion.id] = verdict.cast("int8")
        columns[f"v{leaf.key}"] = verdict.cast("int8")
        columns[f"d{leaf.key}"] = date.cast("date")
        columns[f"x{leaf.key}"] = value.cast("float64")
    for n, criterion in enumerate(protocol.criteria):
        columns[f"c{n}"] = combine(criterion, by_id).cast("int8")
    return person.select(**columns)


def _attrition(source: OmopSource, protocol: Protocol, table: Any, floor: int) -> tuple[int, pd.DataFrame]:
    """Persons screened and, per criterion in order, those remaining plus the verdict counts."""
    import ibis

    aggs: dict[str, Any] = {"persons": table.count()}
    alive = ibis.literal(True)
    for n, _criterion in enumerate(protocol.criteria):
        col = table[f"c{n}"]
        for code in Verdict:
            aggs[f"b{n}_{code.label}"] = ibis.ifelse(alive & (col == int(code)), 1, 0).sum()
        alive = alive & (col >= floor)
        aggs[f"r{n}"] = ibis.ifelse(alive, 1, 0).sum()
    row = source.backend.execute(table.aggregate(**aggs)).iloc[0]
    records = []
    for n, criterion in enumerate(protocol.criteria):
        records.append(
            {
                "criterion_id": criterion.id,
                "description": criterion.text,
                "remaining": int(row[f"r{n}"] or 0),
                "met": int(row[f"b{n}_met"] or 0),
                "unknown": int(row[f"b{n}_unknown"] or 0),
                "not_met": int(row[f"b{n}_not_met"] or 0),
            }
        )
    return int(row["persons"]), pd.DataFrame.from_records(records)


def _candidates(source: OmopSource, protocol: Protocol, leaves: Sequence[Leaf], table: Any, floor: int):
    import ibis

    keep = ibis.literal(True)
    for n in range(len(protocol.criteria)):
        keep = keep & (table[f"c{n}"] >= floor)
    frame = source.backend.execute(table.filter(keep).order_by("person_id"))
    labels = {int(v): v.label for v in Verdict}
    candidates = pd.DataFrame({"person_id": frame["person_id"].astype("int64")})
    for n, criterion in enumerate(protocol.criteria):
        candidates[criterion.id] = frame[f"c{n}"].astype(int).map(labels)
    evidence = []
    for leaf in leaves:
        evidence.append(
            pd.DataFrame(
                {
                    "person_id": frame["person_id"].astype("int64"),
                    "criterion_id": leaf.criterion.id,
                    "verdict": frame[f"v{leaf.key}"].astype(int).map(labels),
                    "date": pd.to_datetime(frame[f"d{leaf.key}"]).dt.date,
                    "value": frame[f"x{leaf.key}"].astype("float64"),
                    "unit": leaf.evidence_unit,
                }
            )
        )
    long = pd.concat(evidence, ignore_index=True) if evidence else pd.DataFrame()
    if not long.empty:
        long = long.sort_values(["person_id", "criterion_id"], kind="stable").reset_index(drop=True)
    return candidates, long


def screen(
    bundle: Bundle,
    source: OmopSource,
    *,
    index_date: dt.date | None = None,
    unknown: str = "keep",
    progress: Progress | None = None,
) -> ScreenResult:
    """Screen every person of ``source`` against ``bundle.protocol``."""
    if unknown not in UNKNOWN_POLICIES:
        raise ValidationError.single(
            "screen", "unknown", f"{unknown!r} is not one of {', '.join(UNKNOWN_POLICIES)}"
        )
    tick = progress or (lambda _label, _n: None)
    protocol = bundle.protocol
    leaves = leaves_of(protocol)
    source.check(tables_needed(leaf.criterion.kind for leaf in leaves))
    started = time.perf_counter()
    index = index_date or default_index_date(source)
    sets = resolve_concept_sets(source, bundle.concept_sets)
    parts = _long_results(source, leaves, sets, index, tick)
    table = _verdict_table(source, protocol, leaves, parts, index).cache()
    floor = int(Verdict.UNKNOWN) if unknown == "keep" else int(Verdict.MET)
    persons, attrition = _attrition(source, protocol, table, floor)
    for row in attrition.itertuples():
        tick(f"{row.criterion_id}: {row.remaining} remaining", 1)
    candidates, evidence = _candidates(source, protocol, leaves, table, floor)
    for cached in (table, *parts):
        cached.release()
    return ScreenResult(
        protocol=protocol,
        engine=source.engine,
        source=source.describe,
        index_date=index,
        persons=persons,
        attrition=attrition,
        candidates=candidates,
        evidence=evidence,
        concept_counts={name: len(ids) for name, ids in sets.items()},
        unknown=unknown,
        seconds=time.perf_counter() - started,
        warnings=bundle.warnings,
    )


def person_verdicts(bundle: Bundle, source: OmopSource, index_date: dt.date) -> pd.DataFrame:
    """Every person's verdict label on every criterion, leaves included (for audits and tests)."""
    protocol = bundle.protocol
    leaves = leaves_of(protocol)
    source.check(tables_needed(leaf.criterion.kind for leaf in leaves))
    sets = resolve_concept_sets(source, bundle.concept_sets)
    parts = _long_results(source, leaves, sets, index_date, lambda _label, _n: None)
    table = _verdict_table(source, protocol, leaves, parts, index_date)
    frame = source.backend.execute(table.order_by("person_id"))
    labels = {int(v): v.label for v in Verdict}
    out = pd.DataFrame({"person_id": frame["person_id"].astype("int64")})
    for n, criterion in enumerate(protocol.criteria):
        out[criterion.id] = frame[f"c{n}"].astype(int).map(labels)
    for leaf in leaves:
        if leaf.criterion.id not in out:
            out[leaf.criterion.id] = frame[f"v{leaf.key}"].astype(int).map(labels)
    for cached in parts:
        cached.release()
    return out


def screen_omop(
    protocol: str | Protocol,
    source: OmopSource,
    *,
    concept_dirs: Sequence[Path] = (),
    **options: Any,
) -> ScreenResult:
    """Load and check the protocol (before touching the data), then :func:`screen`."""
    return screen(load_bundle(protocol, concept_dirs), source, **options)
