"""The expression language of data-quality rules: parsed with SQLGlot, evaluated two ways.

A rule's ``expression`` (and its optional ``when``) is a SQL-like boolean expression over the
fields of one record::

    DAYS_BETWEEN(mobilisation_date, harvest_date) <= 30
    therapy IN ('autologous_hsct', 'allogeneic_hsct')
    course_id IS NULL OR relatedness IS NOT NULL
    cell_dose_per_kg BETWEEN 100000 AND 10000000

Grammar (the SQLGlot nodes accepted, :data:`_BINARY` and :func:`evaluate`): field names,
number / string / TRUE / FALSE / NULL literals, ``= <> != < <= > >=``, ``+ - * /`` and unary
minus, ``AND OR NOT``, ``IS [NOT] NULL``, ``[NOT] IN (literals)``, ``[NOT] BETWEEN``,
parentheses, and the functions ``DAYS_BETWEEN(a, b)`` (days from date ``a`` to date ``b``,
``b - a``), ``YEAR(d)`` and ``ABS(x)``. Anything else is refused when the rules are loaded.

Missing values (NULL) follow SQL's three-valued logic in both engines: a comparison or an
arithmetic with a NULL operand is *unknown*; ``unknown AND false`` is false, ``unknown OR
true`` is true, ``NOT unknown`` is unknown. A rule is **violated only when its expression is
false**; unknown means the rule does not apply to the record (like a SQL ``CHECK``
constraint). ``IS NULL`` is never unknown, so completeness rules are written with it. Division
is in floating point, and a division by zero is unknown (SQL ``NULLIF``) in both engines.

The same tree is evaluated in Python on one record (:func:`evaluate`, the save hook) and
compiled to SQL for SQLite or PostgreSQL (:func:`to_sql`, the batch run and the import);
``tests/registry/test_dq_rules.py`` checks that both agree on every shipped rule.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

FUNCTIONS = ("DAYS_BETWEEN", "YEAR", "ABS")
"""Functions of the language (upper case; names are case-insensitive)."""

_BINARY: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
}
_ALLOWED: tuple[type[exp.Expression], ...] = (
    *_BINARY,
    exp.Div,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Neg,
    exp.Paren,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Anonymous,
    exp.Year,
    exp.Abs,
)


class ExpressionError(ValueError):
    """An expression outside the language, or naming an unknown field."""


def parse(text: str, fields: frozenset[str]) -> exp.Expression:
    """Parse ``text`` into a SQLGlot tree; ExpressionError naming what is not allowed."""
    try:
        tree = sqlglot.parse_one(text)
    except ParseError as error:
        raise ExpressionError(f"cannot parse {text!r}: {error.errors[0]['description']}") from None
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{node.sql()!r} ({type(node).__name__}) is not part of the rule language")
        if isinstance(node, exp.Anonymous) and node.name.upper() != "DAYS_BETWEEN":
            raise ExpressionError(f"unknown function {node.name}; known: {', '.join(FUNCTIONS)}")
        if isinstance(node, exp.Anonymous) and len(node.expressions) != 2:
            raise ExpressionError("DAYS_BETWEEN takes two dates: DAYS_BETWEEN(earlier, later)")
        if isinstance(node, exp.Column) and (node.table or node.name not in fields):
            raise ExpressionError(f"unknown field {node.sql()!r}; fields: {', '.join(sorted(fields))}")
        if isinstance(node, exp.In) and not all(isinstance(v, exp.Literal) for v in node.expressions):
            raise ExpressionError("IN takes a list of literals")
    return tree


def field_names(tree: exp.Expression) -> tuple[str, ...]:
    """The fields an expression reads, in order of first appearance."""
    seen: dict[str, None] = {}
    for column in tree.find_all(exp.Column):
        seen.setdefault(column.name, None)
    return tuple(seen)


# --------------------------------------------------------------------------- Python


def _literal(node: exp.Literal) -> Any:
    if node.is_string:
        return node.this
    number = float(node.this)
    return (
        int(number)
        if number.is_integer() and "." not in node.this and "e" not in node.this.lower()
        else number
    )


def _value(value: Any) -> Any:
    """A record value as the language sees it: NaN is NULL, a datetime is its date."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _and(values: list[Any]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Any]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _days_between(first: Any, second: Any) -> int | None:
    if not isinstance(first, dt.date) or not isinstance(second, dt.date):
        return None
    return (second - first).days


def evaluate(node: exp.Expression, record: Mapping[str, Any]) -> Any:
    """Value of ``node`` on ``record`` (field -> value) under SQL's three-valued logic."""
    if isinstance(node, exp.Paren):
        return evaluate(node.this, record)
    if isinstance(node, exp.Column):
        return _value(record.get(node.name))
    if isinstance(node, exp.Literal):
        return _literal(node)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.And | exp.Or):
        parts = [evaluate(node.left, record), evaluate(node.right, record)]
        return _and(parts) if isinstance(node, exp.And) else _or(parts)
    if isinstance(node, exp.Not):
        inner = evaluate(node.this, record)
        return None if inner is None else not inner
    if isinstance(node, exp.Is):
        return evaluate(node.this, record) is None
    return _evaluate_value(node, record)


def _evaluate_value(node: exp.Expression, record: Mapping[str, Any]) -> Any:
    """Comparisons, arithmetic and functions: NULL in, NULL out."""
    if isinstance(node, exp.In):
        left = evaluate(node.this, record)
        return None if left is None else left in [_literal(v) for v in node.expressions]
    if isinstance(node, exp.Between):
        value = evaluate(node.this, record)
        low, high = evaluate(node.args["low"], record), evaluate(node.args["high"], record)
        return None if None in (value, low, high) else low <= value <= high
    if isinstance(node, exp.Neg | exp.Abs | exp.Year):
        inner = evaluate(node.this, record)
        if inner is None:
            return None
        return (
            -inner if isinstance(node, exp.Neg) else abs(inner) if isinstance(node, exp.Abs) else inner.year
        )
    if isinstance(node, exp.Anonymous):
        return _days_between(*(evaluate(arg, record) for arg in node.expressions))
    left, right = evaluate(node.this, record), evaluate(node.expression, record)
    if left is None or right is None:
        return None
    if isinstance(node, exp.Div):
        return None if right == 0 else left / right
    return _BINARY[type(node)](left, right)


# --------------------------------------------------------------------------- SQL


def to_sql(tree: exp.Expression, dialect: str, column: Callable[[str], exp.Expression]) -> str:
    """``tree`` as SQL text for ``dialect`` (``sqlite`` or ``postgresql``); ``column`` maps a field
    name to the SQL expression that reads it (a qualified column, or a derived value)."""
    sqlglot_dialect = "postgres" if dialect == "postgresql" else dialect

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return column(node.name).copy()
        if isinstance(node, exp.Anonymous):  # DAYS_BETWEEN(a, b) = b - a, in days
            first, second = (arg.transform(rewrite) for arg in node.expressions)
            if sqlglot_dialect == "sqlite":
                first = exp.Anonymous(this="julianday", expressions=[first])
                second = exp.Anonymous(this="julianday", expressions=[second])
            return exp.paren(exp.Sub(this=second, expression=first))
        if isinstance(node, exp.Div):  # a division by zero is NULL in both engines
            divisor = exp.Nullif(this=node.expression.transform(rewrite), expression=exp.Literal.number(0))
            return exp.Div(this=node.this.transform(rewrite), expression=divisor)
        if isinstance(node, exp.Year):
            date = node.this.transform(rewrite)
            extract: exp.Expression = exp.Extract(this=exp.var("YEAR"), expression=date)
            if sqlglot_dialect == "sqlite":
                extract = exp.Anonymous(this="strftime", expressions=[exp.Literal.string("%Y"), date])
            return exp.Cast(this=extract, to=exp.DataType.build("INTEGER"))
        return node

    return tree.copy().transform(rewrite).sql(dialect=sqlglot_dialect)
