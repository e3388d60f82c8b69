"""Every shipped data-quality rule on a passing and a failing worked example, evaluated in Python
and in SQL (SQLite and PostgreSQL), and the expression language's semantics (NULL = rule does
not apply), parsing errors and the rules-file validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlglot import exp

from lupuscell.errors import ValidationError
from lupuscell.registry.dm_records import RECORD_MODELS
from lupuscell.registry.dq.check import violated
from lupuscell.registry.dq.derived import python_values, sql_values
from lupuscell.registry.dq.expression import ExpressionError, evaluate, parse, to_sql
from lupuscell.registry.dq.rules import DqRule, load_rules, parse_rules, shipped_rules

D = dt.date
HSCT = {"therapy": "autologous_hsct"}
# rule id -> (a record that keeps the rule, a record that breaks it): the worked examples.
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "cd34_dose_unit": ({"cd34_per_kg": 5.2e6}, {"cd34_per_kg": 5.2}),
    "cell_dose_unit": ({"cell_dose_per_kg": 1e6}, {"cell_dose_per_kg": 1.0}),
    "hsct_cd34_minimum": ({**HSCT, "cd34_per_kg": 2.0e6}, {**HSCT, "cd34_per_kg": 1.5e6}),
    "hsct_mobilisation_to_harvest": (
        {**HSCT, "mobilisation_date": D(2020, 1, 6), "harvest_date": D(2020, 2, 5)},  # 30 days
        {**HSCT, "mobilisation_date": D(2020, 1, 6), "harvest_date": D(2020, 2, 6)},  # 31 days
    ),
    "harvest_to_infusion": (
        {"harvest_date": D(2020, 1, 1), "infusion_date": D(2020, 6, 29)},  # 180 days
        {"harvest_date": D(2020, 1, 1), "infusion_date": D(2020, 6, 30)},
    ),
    "conditioning_length": (
        {"conditioning_start_date": D(2020, 2, 25), "infusion_date": D(2020, 3, 1)},
        {"conditioning_start_date": D(2020, 2, 1), "infusion_date": D(2020, 3, 1)},
    ),
    "product_viability": ({"viability_percent": 70.0}, {"viability_percent": 65.0}),
    "car_t_autologous": (
        {"therapy": "car_t", "donor_type": "autologous"},
        {"therapy": "car_t", "donor_type": "allogeneic_third_party"},
    ),
    "msc_dose_range": (
        {"therapy": "msc", "cell_dose_per_kg": 1e6},
        {"therapy": "msc", "cell_dose_per_kg": 5e7},
    ),
    "prednisone_maximum": ({"prednisone_mg_per_day": 1250.0}, {"prednisone_mg_per_day": 1251.0}),
    "prednisone_high": ({"prednisone_mg_per_day": 100.0}, {"prednisone_mg_per_day": 120.0}),
    "sledai_window": ({"sledai_window_days": 30}, {"sledai_window_days": 14}),
    "glucocorticoid_maximum": (
        {"purpose": "glucocorticoid", "unit": "mg/day", "dose": 1000.0},
        {"purpose": "glucocorticoid", "unit": "mg/day", "dose": 2000.0},
    ),
    "hemoglobin_extreme": (
        {"analyte": "hb", "unit": "g/L", "value": 120.0},  # 12 g/dL
        {"analyte": "hb", "unit": "g/L", "value": 250.0},  # 25 g/dL
    ),
    "platelets_extreme": (
        {"analyte": "platelets", "unit": "/uL", "value": 250000.0},  # 250 x 10^9/L
        {"analyte": "platelets", "unit": "10^9/L", "value": 2000.0},
    ),
    "creatinine_extreme": (
        {"analyte": "creatinine", "unit": "umol/L", "value": 880.0},  # 9.95 mg/dL
        {"analyte": "creatinine", "unit": "mg/dL", "value": 20.0},
    ),
    "c3_extreme": (
        {"analyte": "c3", "unit": "g/L", "value": 0.9},
        {"analyte": "c3", "unit": "g/L", "value": 5.0},
    ),
    "egfr_extreme": (
        {"analyte": "egfr", "unit": "mL/min/1.73m2", "value": 95.0},
        {"analyte": "egfr", "unit": "mL/min/1.73m2", "value": 250.0},
    ),
    "fatal_event_serious": ({"grade": 5, "serious": True}, {"grade": 5, "serious": False}),
    "life_threatening_serious": ({"grade": 4, "serious": True}, {"grade": 4, "serious": False}),
    "course_event_relatedness": (
        {"course_id": 1, "relatedness": "possible"},
        {"course_id": 1, "relatedness": None},
    ),
    "death_cause": ({"event_type": "death", "cause": "sepsis"}, {"event_type": "death", "cause": None}),
    "death_treatment_related": (
        {"event_type": "death", "treatment_related": False},
        {"event_type": "death", "treatment_related": None},
    ),
    "flare_severity": (
        {"event_type": "relapse", "severity": "severe"},
        {"event_type": "flare", "severity": None},
    ),
    "diagnosis_age": (
        {"birth_year": 1930, "sle_diagnosis_date": D(2015, 6, 1)},  # 85
        {"birth_year": 1930, "sle_diagnosis_date": D(2016, 6, 1)},  # 86
    ),
}
RULES = {rule.id: rule for rule in shipped_rules().rules}


def test_every_shipped_rule_has_worked_examples() -> None:
    assert sorted(EXAMPLES) == sorted(RULES)
    assert 15 <= len(RULES) <= 25
    assert {rule.severity for rule in RULES.values()} == {"hard", "soft"}
    assert all(rule.source.strip() and rule.message.strip() for rule in RULES.values())


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_in_python(rule_id: str) -> None:
    rule = RULES[rule_id]
    keeps, breaks = EXAMPLES[rule_id]
    assert not violated(rule, python_values(rule.entity, keeps))
    assert violated(rule, python_values(rule.entity, breaks))


def _typed(engine: Engine, name: str, value: Any, type_: Any) -> Any:
    """A bound value named ``name``; typed by a CAST on PostgreSQL (an untyped NULL is text there;
    SQLite's CAST AS DATE would turn a date into a number)."""
    param = sa.bindparam(name, value, type_=type_)
    return (sa.cast(param, type_) if engine.dialect.name == "postgresql" else param).label(name)


def _sql_violated(engine: Engine, rule: DqRule, record: dict[str, Any]) -> bool:
    """The rule's SQL (as the batch run compiles it) on one record given as a one-row subquery."""
    table = RECORD_MODELS[rule.entity].__table__
    stored = [c for c in table.columns if c.key in record]
    row = sa.select(*[_typed(engine, c.key, record[c.key], c.type) for c in stored]).subquery("t")
    pairs = [(record["analyte"], record["unit"])] if rule.entity == "lab_result" else []
    derived = sql_values(rule.entity, lambda n: exp.column(n, table="t", quoted=True), pairs)

    def column(name: str) -> exp.Expression:
        return derived[name] if name in derived else exp.column(name, table="t", quoted=True)

    dialect = engine.dialect.name
    condition = f"NOT ({to_sql(rule.tree, dialect, column)})"
    if rule.when_tree is not None:
        condition = f"({to_sql(rule.when_tree, dialect, column)}) AND {condition}"
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(row).where(sa.text(condition))).scalar_one()
            == 1
        )


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_in_sql(engine: Engine, rule_id: str) -> None:
    rule = RULES[rule_id]
    keeps, breaks = EXAMPLES[rule_id]
    assert not _sql_violated(engine, rule, keeps)
    assert _sql_violated(engine, rule, breaks)


# --------------------------------------------------------------------------- the language

FIELDS = frozenset({"a", "b", "x", "y", "flag"})


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("x <= 10", {"x": None}, None),  # a NULL operand: unknown, the rule does not apply
        ("x <= 10 AND y > 1", {"x": 11, "y": None}, False),  # false AND unknown = false
        ("x <= 10 OR y > 1", {"x": None, "y": 2}, True),  # unknown OR true = true
        ("NOT x = 1", {"x": None}, None),
        ("x IS NULL", {"x": None}, True),
        ("x IS NOT NULL", {"x": 0}, True),
        ("x / y > 1", {"x": 3, "y": 0}, None),  # division by zero is NULL, as in SQL
        ("x / y = 1.5", {"x": 3, "y": 2}, True),  # floating-point division
        ("DAYS_BETWEEN(a, b) = 31", {"a": D(2020, 1, 1), "b": D(2020, 2, 1)}, True),
        ("DAYS_BETWEEN(a, b) < 0", {"a": D(2020, 2, 1), "b": D(2020, 1, 1)}, True),
        ("YEAR(a) - x = 20", {"a": D(2020, 5, 1), "x": 2000}, True),
        ("ABS(-x) = x", {"x": 4}, True),
        ("x BETWEEN 1 AND 3", {"x": 3}, True),
        ("x NOT IN (1, 2)", {"x": 3}, True),
        ("flag = TRUE", {"flag": False}, False),
        ("x * 2 + 1 - y = 0", {"x": 1, "y": 3}, True),
    ],
)
def test_three_valued_semantics_in_python_and_sql(
    engine: Engine, text: str, record: dict[str, Any], expected: bool | None
) -> None:
    tree = parse(text, FIELDS)
    assert evaluate(tree, record) is expected
    types = {"a": sa.Date(), "b": sa.Date(), "flag": sa.Boolean()}
    row = sa.select(
        *[_typed(engine, n, record.get(n), types.get(n, sa.Float())) for n in sorted(FIELDS)]
    ).subquery("t")
    sql = to_sql(tree, engine.dialect.name, lambda n: exp.column(n, table="t", quoted=True))
    outcome = sa.case((sa.text(sql), "true"), (sa.text(f"NOT ({sql})"), "false"), else_="null")
    with engine.connect() as conn:
        got = conn.execute(sa.select(outcome).select_from(row)).scalar_one()
    assert got == {True: "true", False: "false", None: "null"}[expected]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x <= ", "cannot parse"),
        ("z > 1", "unknown field 'z'"),
        ("LOWER(a) = 'x'", "not part of the rule language"),
        ("FOO(a, b) > 1", "unknown function FOO"),
        ("DAYS_BETWEEN(a) > 1", "takes two dates"),
        ("x IN (SELECT 1)", "not part of the rule language"),
        ("t.x > 1", "unknown field"),
    ],
)
def test_expression_outside_the_language_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        parse(text, FIELDS)


def test_rules_file_errors_name_the_rule_and_field(tmp_path: Any) -> None:
    bad = {
        "version": 1,
        "rules": [
            {
                "id": "ok_rule",
                "entity": "visit",
                "expression": "pga <= 3",
                "severity": "soft",
                "fields": ["pga"],
                "message": "m",
                "source": "s",
            },
            {
                "id": "bad_rule",
                "entity": "visit",
                "expression": "nonsense_field > 1",
                "severity": "soft",
                "fields": ["pga"],
                "message": "m",
                "source": "s",
            },
        ],
    }
    with pytest.raises(ValidationError) as caught:
        parse_rules(bad, "my_rules.yaml")
    (problem,) = caught.value.problems
    assert problem.record == "my_rules.yaml rule bad_rule"
    assert "unknown field 'nonsense_field'" in problem.message
    elsewhere = {"version": 1, "rules": [{**bad["rules"][0], "entity": "site"}]}
    with pytest.raises(ValidationError) as caught:
        parse_rules(elsewhere, "my_rules.yaml")
    (problem,) = caught.value.problems
    assert (problem.record, problem.field) == ("my_rules.yaml rule ok_rule", "entity")
    assert "unknown entity 'site'; one of patient, therapy_course" in problem.message
    twice = {"version": 1, "rules": [bad["rules"][0], bad["rules"][0]]}
    with pytest.raises(ValidationError, match="used twice: ok_rule"):
        parse_rules(twice, "x.yaml")
    path = tmp_path / "r.yaml"
    path.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="a rules file is a mapping"):
        load_rules(path)


def test_the_docs_list_every_shipped_rule() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "data_management" / "rules.md").read_text(encoding="utf-8")
    for rule in shipped_rules().rules:
        when = f"`{rule.when}`" if rule.when else "—"
        row = (
            f"| `{rule.id}` | {rule.entity} | {rule.severity} | {when} | `{rule.expression}` | `{rule.field}` "
            f"| {rule.message} | {rule.source} |"
        )
        assert row in text, row
