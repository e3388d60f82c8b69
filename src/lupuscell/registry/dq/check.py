"""The rules on one record: evaluation in Python and the repository's save hook.

:func:`on_save` is called by :class:`lupuscell.registry.repository.Registry` on every create and
update of a clinical record, inside the writing transaction, after the row is flushed:

* a **hard** rule violated raises :class:`lupuscell.errors.ValidationError` naming the record,
  the rule's field and the rule (the transaction rolls back: nothing is written);
* a **soft** rule violated raises a query on the rule's field (:func:`lupuscell.registry.queries.raise_query`,
  actor :data:`DQ_ACTOR`, ``rule_id`` = the rule id; the text names the rule and the values),
  once: a query of the same rule still open or answered is not raised twice;
* a soft rule's open or answered query on the record is **closed** when the saved record no
  longer violates the rule (satisfied, or the rule no longer applies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import queries
from lupuscell.registry.dm_models import Query
from lupuscell.registry.dm_records import RECORD_MODELS
from lupuscell.registry.dq.derived import python_values
from lupuscell.registry.dq.expression import evaluate
from lupuscell.registry.dq.rules import DqRule, RuleSet, shipped_rules

DQ_ACTOR = "dq"
"""The actor that raises and closes the queries of soft rules (audit log: ``raised_by``)."""


def violated(rule: DqRule, record: Mapping[str, Any]) -> bool:
    """True when ``record`` (fields, derived fields included) breaks ``rule``: ``when`` true and
    the expression false (unknown = the rule does not apply)."""
    if rule.when_tree is not None and evaluate(rule.when_tree, record) is not True:
        return False
    return evaluate(rule.tree, record) is False


def shown(value: Any) -> str:
    """A value as a rule's message shows it (NULL for missing)."""
    return "NULL" if value is None else str(value)


def describe(rule: DqRule, record: Mapping[str, Any]) -> str:
    """The rule's message with the values it read: ``message (field = value, ...; rule id)``."""
    values = ", ".join(f"{name} = {shown(record.get(name))}" for name in rule.reads)
    return f"{rule.message} ({values}; rule {rule.id})"


@dataclass(frozen=True)
class Outcome:
    """The rules of one entity on one record: those broken and those kept."""

    broken: tuple[DqRule, ...]
    kept: tuple[DqRule, ...]


def check_record(entity: str, values: Mapping[str, Any], rules: RuleSet | None = None) -> Outcome:
    """Evaluate every rule of ``entity`` on ``values`` (the record's stored fields)."""
    record = python_values(entity, values)
    broken: list[DqRule] = []
    kept: list[DqRule] = []
    for rule in (rules or shipped_rules()).for_entity(entity):
        (broken if violated(rule, record) else kept).append(rule)
    return Outcome(tuple(broken), tuple(kept))


def _stored(obj: Any) -> dict[str, Any]:
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


def on_save(
    session: Session, entity: str, obj: Any, *, actor: str, label: str, rules: RuleSet | None = None
) -> None:
    """Run the rules on the record ``obj`` just written (see the module docstring)."""
    if entity not in RECORD_MODELS:
        return
    values = python_values(entity, _stored(obj))
    outcome = check_record(entity, values, rules)
    hard = [rule for rule in outcome.broken if rule.severity == "hard"]
    if hard:
        raise ValidationError([Problem(label, rule.field, describe(rule, values)) for rule in hard])
    for rule in outcome.broken:
        queries.raise_query(
            session,
            record_type=entity,
            record_id=int(obj.id),
            field=rule.field,
            text=f"{describe(rule, values)}; saved by {actor}",
            actor=DQ_ACTOR,
            rule_id=rule.id,
        )
    close_kept(session, entity, int(obj.id), [rule.id for rule in outcome.kept], actor=actor)


def close_kept(session: Session, entity: str, record_id: int, rule_ids: list[str], *, actor: str) -> None:
    """Close the open or answered queries of ``rule_ids`` on the record (the rules now hold)."""
    if not rule_ids:
        return
    open_ids = session.execute(
        sa.select(Query.id, Query.rule_id).where(
            Query.record_type == entity,
            Query.record_id == record_id,
            Query.rule_id.in_(rule_ids),
            Query.status != "closed",
        )
    ).all()
    for query_id, rule_id in open_ids:
        queries.close_query(
            session, int(query_id), text=f"rule {rule_id} holds after the save by {actor}", actor=DQ_ACTOR
        )
