"""The rules over many records at once, in SQL: the registry (``lupuscell dq run``) or one
import batch (:func:`check_batch`, called by the bulk loader).

Each rule is one ``SELECT`` of the records that violate it (``WHERE (when) AND NOT
(expression)``: three-valued logic makes an unknown result drop out, as in the Python
evaluation), compiled by :func:`lupuscell.registry.dq.expression.to_sql` for the engine's
dialect. :func:`run_python` is the same report from a per-record Python loop (the baseline of
``benchmarks/dq_run.py`` and a cross-check in the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlglot import exp

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import queries
from lupuscell.registry.dm_records import RECORD_MODELS
from lupuscell.registry.dq.check import DQ_ACTOR, check_record, describe, shown
from lupuscell.registry.dq.derived import python_values, sql_values
from lupuscell.registry.dq.expression import to_sql
from lupuscell.registry.dq.rules import DqRule, RuleSet, shipped_rules
from lupuscell.registry.models import Base

EXAMPLES = 5
"""Examples per rule in a report."""
_T = "t"


@dataclass(frozen=True)
class Violation:
    """One record that breaks one rule."""

    rule_id: str
    severity: str
    entity: str
    record_id: int
    patient_code: str
    site_code: str
    field: str
    values: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "entity": self.entity,
            "record_id": self.record_id,
            "patient_code": self.patient_code,
            "site_code": self.site_code,
            "field": self.field,
            "value": shown(self.values.get(self.field)),
            "values": {k: shown(v) for k, v in self.values.items()},
        }


@dataclass
class RuleResult:
    """A rule's count and its violations (all of them; the report shows :data:`EXAMPLES`)."""

    rule: DqRule
    violations: list[Violation] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.violations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule.id,
            "entity": self.rule.entity,
            "severity": self.rule.severity,
            "field": self.rule.field,
            "message": self.rule.message,
            "count": self.count,
            "examples": [v.as_dict() for v in self.violations[:EXAMPLES]],
        }


@dataclass
class DqReport:
    """Result of :func:`run` / :func:`run_python`."""

    results: list[RuleResult]
    records: dict[str, int]
    seconds: float
    site: str | None = None

    @property
    def violations(self) -> Iterator[Violation]:
        for result in self.results:
            yield from result.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "records": self.records,
            "seconds": round(self.seconds, 3),
            "violations": sum(r.count for r in self.results),
            "rules": [r.as_dict() for r in self.results],
        }


# --------------------------------------------------------------------------- SQL


def _column(name: str) -> exp.Expression:
    return exp.column(name, table=_T, quoted=True)


def _scope(entity: str, t: Any) -> tuple[Any, Any, Any]:
    """(FROM clause, patient code column, site code column) of an entity's table ``t``."""
    patients = Base.metadata.tables["patients"].alias("p")
    sites = Base.metadata.tables["sites"].alias("s")
    if entity == "patient":
        return t.join(sites, sites.c.id == t.c.site_id), t.c.code, sites.c.code
    if entity == "drug_administration":
        courses = Base.metadata.tables["therapy_courses"].alias("c")
        joined = t.join(courses, courses.c.id == t.c.course_id).join(
            patients, patients.c.id == courses.c.patient_id
        )
    else:
        joined = t.join(patients, patients.c.id == t.c.patient_id)
    return joined.join(sites, sites.c.id == patients.c.site_id), patients.c.code, sites.c.code


def _lab_pairs(conn: Connection, t: sa.Table, batch_id: int | None) -> list[tuple[str, str]]:
    query = sa.select(t.c.analyte, t.c.unit).distinct()
    if batch_id is not None:
        query = query.where(t.c.import_batch_id == batch_id)
    return [(str(a), str(u)) for a, u in conn.execute(query)]


def violation_sql(rule: DqRule, dialect: str, column: Callable[[str], exp.Expression]) -> str:
    """SQL condition true exactly when a record breaks ``rule``: ``(when) AND NOT (expression)``
    (an unknown result is not true, so a NULL operand never reports a violation)."""
    condition = f"NOT ({to_sql(rule.tree, dialect, column)})"
    if rule.when_tree is not None:
        condition = f"({to_sql(rule.when_tree, dialect, column)}) AND {condition}"
    return condition


def entity_select(
    entity: str,
    rules: Sequence[DqRule],
    dialect: str,
    derived: dict[str, exp.Expression],
    *,
    site: str | None,
    batch_id: int | None,
) -> sa.Select[Any]:
    """One ``SELECT`` (one scan of the entity's table) of the records breaking any of ``rules``:
    id, patient, site, the values the rules read and one flag column ``_r<i>`` per rule."""
    t = Base.metadata.tables[RECORD_MODELS[entity].__tablename__].alias(_T)
    source, patient_code, site_code = _scope(entity, t)
    glot = "postgres" if dialect == "postgresql" else dialect

    def column(name: str) -> exp.Expression:
        return derived[name] if name in derived else _column(name)

    conditions = [violation_sql(rule, dialect, column) for rule in rules]
    reads = dict.fromkeys(name for rule in rules for name in rule.reads)
    values: list[Any] = [sa.literal_column(exp.paren(column(n)).sql(dialect=glot)).label(n) for n in reads]
    flags: list[Any] = [
        sa.literal_column(f"CASE WHEN {c} THEN 1 ELSE 0 END").label(f"_r{i}")
        for i, c in enumerate(conditions)
    ]
    query = (
        sa.select(t.c.id, patient_code.label("_patient"), site_code.label("_site"), *values, *flags)
        .select_from(source)
        .where(sa.or_(*(sa.text(f"({c})") for c in conditions)))
        .order_by(t.c.id)
    )
    if site is not None:
        query = query.where(site_code == site)
    if batch_id is not None:
        query = query.where(t.c.import_batch_id == batch_id)
    return query


def entity_violations(
    conn: Connection,
    entity: str,
    rules: Sequence[DqRule],
    *,
    site: str | None = None,
    batch_id: int | None = None,
) -> dict[str, list[Violation]]:
    """Rule id -> the records of ``entity`` breaking it, found in SQL in one scan (optionally
    of one site or one import batch)."""
    derived: dict[str, exp.Expression] = {}
    if entity == "lab_result":
        derived = sql_values(entity, _column, _lab_pairs(conn, Base.metadata.tables["lab_results"], batch_id))
    query = entity_select(entity, rules, conn.dialect.name, derived, site=site, batch_id=batch_id)
    found: dict[str, list[Violation]] = {rule.id: [] for rule in rules}
    for row in conn.execute(query):
        data = row._mapping
        for i, rule in enumerate(rules):
            if data[f"_r{i}"]:
                values = {name: data[name] for name in rule.reads}
                found[rule.id].append(
                    Violation(
                        rule.id,
                        rule.severity,
                        entity,
                        int(data["id"]),
                        data["_patient"],
                        data["_site"],
                        rule.field,
                        values,
                    )
                )
    return found


def sql_violations(
    conn: Connection, rule: DqRule, *, site: str | None = None, batch_id: int | None = None
) -> list[Violation]:
    """The records violating ``rule``, found in SQL (optionally of one site or import batch)."""
    return entity_violations(conn, rule.entity, [rule], site=site, batch_id=batch_id)[rule.id]


def _by_entity(rules: RuleSet) -> dict[str, list[DqRule]]:
    groups: dict[str, list[DqRule]] = {}
    for rule in rules.rules:
        groups.setdefault(rule.entity, []).append(rule)
    return groups


def _record_counts(conn: Connection, rules: RuleSet, site: str | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity in dict.fromkeys(rule.entity for rule in rules.rules):
        t = Base.metadata.tables[RECORD_MODELS[entity].__tablename__].alias(_T)
        query = sa.select(sa.func.count()).select_from(t)
        if site is not None:
            source, _, site_code = _scope(entity, t)
            query = sa.select(sa.func.count()).select_from(source).where(site_code == site)
        counts[entity] = int(conn.execute(query).scalar_one())
    return counts


def run(
    engine: Engine,
    rules: RuleSet | None = None,
    *,
    site: str | None = None,
    progress: Callable[[DqRule], None] | None = None,
) -> DqReport:
    """Every rule over the registry (or one site's records) in SQL; a :class:`DqReport`."""
    ruleset = rules or shipped_rules()
    started = time.perf_counter()
    with engine.connect() as conn:
        records = _record_counts(conn, ruleset, site)
        found: dict[str, list[Violation]] = {}
        for entity, group in _by_entity(ruleset).items():
            found.update(entity_violations(conn, entity, group, site=site))
            for rule in group:
                if progress is not None:
                    progress(rule)
    results = [RuleResult(rule, found[rule.id]) for rule in ruleset.rules]
    return DqReport(results, records, time.perf_counter() - started, site)


# --------------------------------------------------------------------------- Python baseline


def run_python(engine: Engine, rules: RuleSet | None = None, *, site: str | None = None) -> DqReport:
    """The report of :func:`run` from a per-record Python loop (read every record, evaluate
    every rule on it with :func:`lupuscell.registry.dq.check.check_record`)."""
    ruleset = rules or shipped_rules()
    started = time.perf_counter()
    results = {rule.id: RuleResult(rule) for rule in ruleset.rules}
    records: dict[str, int] = {}
    with engine.connect() as conn:
        for entity in dict.fromkeys(rule.entity for rule in ruleset.rules):
            t = Base.metadata.tables[RECORD_MODELS[entity].__tablename__].alias(_T)
            source, patient_code, site_code = _scope(entity, t)
            query = sa.select(t, patient_code.label("_patient"), site_code.label("_site")).select_from(source)
            if site is not None:
                query = query.where(site_code == site)
            records[entity] = 0
            for row in conn.execute(query.order_by(t.c.id)):
                records[entity] += 1
                values = python_values(entity, dict(row._mapping))
                for rule in check_record(entity, values, ruleset).broken:
                    shown_values = {name: values.get(name) for name in rule.reads}
                    results[rule.id].violations.append(
                        Violation(
                            rule.id,
                            rule.severity,
                            entity,
                            int(values["id"]),
                            values["_patient"],
                            values["_site"],
                            rule.field,
                            shown_values,
                        )
                    )
    return DqReport(list(results.values()), records, time.perf_counter() - started, site)


# --------------------------------------------------------------------------- import batch


def check_batch(conn: Connection, batch_id: int, *, actor: str, rules: RuleSet | None = None) -> int:
    """The rules over the rows of import batch ``batch_id``, inside the load's transaction.

    Hard rules broken: ValidationError listing every violation (record, field, rule); the load
    rolls back. Soft rules: one query per violation (actor :data:`DQ_ACTOR`). Returns the number
    of queries raised.
    """
    ruleset = rules or shipped_rules()
    problems: list[Problem] = []
    soft: list[Violation] = []
    for entity, group in _by_entity(ruleset).items():
        found = entity_violations(conn, entity, group, batch_id=batch_id)
        for rule in group:
            if rule.severity == "hard":
                problems += [
                    Problem(
                        f"{v.entity} {v.record_id} (patient {v.patient_code})",
                        v.field,
                        describe(rule, v.values),
                    )
                    for v in found[rule.id]
                ]
            else:
                soft += found[rule.id]
    if problems:
        raise ValidationError(problems)
    if not soft:
        return 0
    by_id = {rule.id: rule for rule in ruleset.rules}
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        for v in soft:
            queries.raise_query(
                session,
                record_type=v.entity,
                record_id=v.record_id,
                field=v.field,
                text=f"{describe(by_id[v.rule_id], v.values)}; imported by {actor} (batch {batch_id})",
                actor=DQ_ACTOR,
                rule_id=v.rule_id,
            )
        session.commit()
    return len(soft)
