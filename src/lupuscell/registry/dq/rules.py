"""Data-quality rules as data: the pydantic schema of a rule, the loader, the fields a rule reads.

Rules live in YAML (the shipped set: ``lupuscell/data/dq_rules.yaml``; a site may pass its own
file to ``lupuscell dq run --rules``)::

    version: 1
    rules:
      - id: hsct_cd34_minimum
        entity: therapy_course
        when: "therapy IN ('autologous_hsct', 'allogeneic_hsct')"
        expression: "cd34_per_kg >= 2000000"
        severity: soft
        fields: [cd34_per_kg]
        message: "CD34+ dose below the 2 x 10^6/kg minimum of an HSCT graft"
        source: "EBMT Handbook 2019, ch. 13"

A record **violates** a rule when ``when`` (if given) is true and ``expression`` is false; a
NULL (unknown) result means the rule does not apply (:mod:`.expression`). ``hard`` rules refuse
the save; ``soft`` rules save and raise a query on the first of ``fields``.

Besides its stored columns, a lab result offers two derived fields, computed the same way in
Python and in SQL from ``data/units.yaml`` (:mod:`lupuscell.units`): ``analyte_code`` (the
analyte's code, aliases resolved) and ``value_canonical`` (the value in the canonical unit).
An analyte or unit that cannot be normalised gives NULL (the schemas refuse it on entry).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from sqlglot import exp

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry.dm_records import RECORD_MODELS, fields_of
from lupuscell.registry.dq.expression import ExpressionError, field_names, parse

DERIVED_FIELDS: dict[str, tuple[str, ...]] = {"lab_result": ("analyte_code", "value_canonical")}
"""Derived fields per entity (see the module docstring)."""
SHIPPED_RULES = "dq_rules.yaml"


def rule_fields(entity: str) -> frozenset[str]:
    """The fields a rule on ``entity`` may read: its data fields and its derived fields."""
    return frozenset(fields_of(entity)) | frozenset(DERIVED_FIELDS.get(entity, ()))


class DqRule(BaseModel):
    """One data-quality rule (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    entity: str  # a clinical record entity of data management (RECORD_MODELS), checked below
    expression: str = Field(min_length=1)
    when: str | None = None
    severity: Literal["hard", "soft"]
    fields: tuple[str, ...] = Field(min_length=1)
    message: str = Field(min_length=1, max_length=500)
    source: str = Field(min_length=1)

    _tree: exp.Expression = PrivateAttr()
    _when_tree: exp.Expression | None = PrivateAttr(default=None)

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, entity: str) -> str:
        if entity not in RECORD_MODELS:
            raise ValueError(f"unknown entity {entity!r}; one of {', '.join(RECORD_MODELS)}")
        return entity

    @model_validator(mode="after")
    def _parse(self) -> DqRule:
        known = rule_fields(self.entity)
        try:
            self._tree = parse(self.expression, known)
            self._when_tree = None if self.when is None else parse(self.when, known)
        except ExpressionError as error:
            raise ValueError(str(error)) from None
        if self.fields[0] not in fields_of(self.entity):
            raise ValueError(f"fields[0] {self.fields[0]!r} is not a stored field of {self.entity}")
        unknown = [name for name in self.fields if name not in known]
        if unknown:
            raise ValueError(f"fields {unknown} are not fields of {self.entity}")
        return self

    @property
    def tree(self) -> exp.Expression:
        """The parsed ``expression``."""
        return self._tree

    @property
    def when_tree(self) -> exp.Expression | None:
        """The parsed ``when`` (None: the rule applies to every record)."""
        return self._when_tree

    @property
    def field(self) -> str:
        """The field a violation is reported on (and a soft rule's query raised on)."""
        return self.fields[0]

    @property
    def reads(self) -> tuple[str, ...]:
        """Every field the rule reads or names (for reports: the values shown)."""
        names = dict.fromkeys(self.fields)
        for tree in (self._tree, self._when_tree):
            if tree is not None:
                names.update(dict.fromkeys(field_names(tree)))
        return tuple(names)


class RuleSet(BaseModel):
    """A rules file: ``version`` and the list of rules (ids unique)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    rules: tuple[DqRule, ...]

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids used twice: {', '.join(twice)}")
        return self

    def for_entity(self, entity: str) -> tuple[DqRule, ...]:
        """The rules on ``entity`` (in file order)."""
        return tuple(rule for rule in self.rules if rule.entity == entity)


def parse_rules(data: Mapping[str, Any], source: str) -> RuleSet:
    """Validate a rules mapping; ValidationError naming the rule and field otherwise."""
    from pydantic import ValidationError as PydanticError

    try:
        return RuleSet.model_validate(data)
    except PydanticError as error:
        problems = []
        for item in error.errors():
            loc = item["loc"]
            rules = data.get("rules") if isinstance(data, Mapping) else None
            where = source
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(rules, list):
                rule = rules[loc[1]] if loc[1] < len(rules) else {}
                where = f"{source} rule {rule.get('id', loc[1]) if isinstance(rule, Mapping) else loc[1]}"
            field = ".".join(str(part) for part in loc[2:]) or ".".join(str(part) for part in loc) or "rules"
            problems.append(Problem(where, field, item["msg"].removeprefix("Value error, ")))
        raise ValidationError(problems) from None


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The rules of ``path`` (YAML), or the shipped rules when None."""
    if path is None:
        return shipped_rules()
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValidationError(Problem(str(file), "rules", f"cannot read the rules file: {error}")) from None
    if not isinstance(data, Mapping):
        raise ValidationError(
            Problem(str(file), "rules", "a rules file is a mapping with `version` and `rules`")
        )
    return parse_rules(data, str(file))


@functools.cache
def shipped_rules() -> RuleSet:
    """The rules shipped in ``lupuscell/data/dq_rules.yaml`` (parsed once)."""
    text = resources.files("lupuscell").joinpath("data", SHIPPED_RULES).read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text), SHIPPED_RULES)
