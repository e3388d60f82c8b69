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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlglot import exp

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import queries
from lupuscell.registry.dq.check import DQ_ACTOR, check_record, describe, shown
from lupuscell.registry.dq.derived import python_values, sql_values
from lupuscell.registry.dq.expression import to_sql
from lupuscell.registry.dq.rules import ENTITY_MODELS, DqRule, RuleSet, shipped_rules
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


def _scope(entity: str, t: sa.Table) -> tuple[Any, Any, Any]:
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


def rule_select(
    rule: DqRule, dialect: str, derived: dict[str, exp.Expression], *, site: str | None, batch_id: int | None
) -> sa.Select[Any]:
    """The ``SELECT`` of the records violating ``rule`` (id, patient, site, the values it reads)."""
    t = Base.metadata.tables[ENTITY_MODELS[rule.entity].__tablename__].alias(_T)
    source, patient_code, site_code = _scope(rule.entity, t)

    def column(name: str) -> exp.Expression:
        return derived[name] if name in derived else _column(name)

    condition = f"NOT ({to_sql(rule.tree, dialect, column)})"
    if rule.when_tree is not None:
        condition = f"({to_sql(rule.when_tree, dialect, column)}) AND {condition}"
    values = [
        sa.literal_column(
            exp.paren(column(n)).sql(dialect="postgres" if dialect == "postgresql" else dialect)
        ).label(n)
        for n in rule.reads
    ]
    query = (
        sa.select(t.c.id, patient_code.label("patient_code"), site_code.label("site_code"), *values)
        .select_from(source)
        .where(sa.text(condition))
        .order_by(t.c.id)
    )
    if site is not None:
        query = query.where(site_code == site)
    if batch_id is not None:
        query = query.where(t.c.import_batch_id == batch_id)
    return query


def sql_violations(
    conn: Connection, rule: DqRule, *, site: str | None = None, batch_id: int | None = None
) -> list[Violation]:
    """The records violating ``rule``, found in SQL (optionally of one site or import batch)."""
    derived: dict[str, exp.Expression] = {}
    if rule.entity == "lab_result":
        t = Base.metadata.tables["lab_results"]
        derived = sql_values(rule.entity, _column, _lab_pairs(conn, t, batch_id))
    query = rule_select(rule, conn.dialect.name, derived, site=site, batch_id=batch_id)
    out = []
    for row in conn.execute(query):
        data = row._mapping
        values = {name: data[name] for name in rule.reads}
        out.append(
            Violation(
                rule.id,
                rule.severity,
                rule.entity,
                int(data["id"]),
                data["patient_code"],
                data["site_code"],
                rule.field,
                values,
            )
        )
    return out


def _record_counts(conn: Connection, rules: RuleSet, site: str | None) -> dict[str, int]:
    counts = {}
    for entity in dict.fromkeys(rule.entity for rule in rules.rules):
        t = Base.metadata.tables[ENTITY_MODELS[entity].__tablename__].alias(_T)
        source, _, site_code = _scope(entity, t)
        query = sa.select(sa.func.count()).select_from(source)
        if site is not None:
            query = query.where(site_code == site)
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
    results = []
    with engine.connect() as conn:
        records = _record_counts(conn, ruleset, site)
        for rule in ruleset.rules:
            results.append(RuleResult(rule, sql_violations(conn, rule, site=site)))
            if progress is not None:
                progress(rule)
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
            t = Base.metadata.tables[ENTITY_MODELS[entity].__tablename__].alias(_T)
            source, patient_code, site_code = _scope(entity, t)
            query = sa.select(t, patient_code.label("_patient"), site_code.label("_site")).select_from(source)
            if site is not None:
                query = query.where(site_code == site)
            records[entity] = 0
            for row in conn.execute(query.order_by(t.c.id)):
                records[entity] += 1
                values = python_values(entity, row._mapping)
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
    for rule in ruleset.rules:
        found = sql_violations(conn, rule, batch_id=batch_id)
        if rule.severity == "hard":
            problems += [
                Problem(
                    f"{v.entity} {v.record_id} (patient {v.patient_code})", v.field, describe(rule, v.values)
                )
                for v in found
            ]
        else:
            soft += found
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
