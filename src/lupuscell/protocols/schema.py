"""The pydantic schema of a protocol's eligibility rules (one YAML file per protocol).

A protocol is a list of criteria in the order a screening log applies them (CONSORT-style
attrition follows that order). Every criterion has an ``id``, the protocol ``text`` it encodes,
a ``kind`` with its parameters, and the ``source`` it was taken from. Kinds:

``observation``
    The person is under observation at the index date with at least ``prior_days`` of prior
    observation (the OHDSI/ATLAS "continuous observation" entry requirement).
``age``
    Age at the index date within ``[min, max]`` (inclusive). Age is the index year minus the
    year of birth, the convention of OHDSI Circe cohort SQL (``YEAR(index) - year_of_birth``),
    because OMOP and the registry both store the year of birth only.
``sex``
    Sex in ``allowed`` (``F``/``M``; OMOP gender concepts 8532/8507).
``condition``
    A condition concept set ``present`` (or ``absent``) in a look-back ``window``, with at least
    ``min_occurrences`` distinct record dates (Chibnik: two codes on different days).
``drug_history``
    At least ``min_distinct`` distinct drugs of ``members`` (each member one or more drug concept
    sets) started in the ``window``.
``measurement``
    The latest value in the ``window`` of a measurement concept set compared with a
    ``threshold`` that carries its unit; values are converted to that unit first.
``visit_count``
    At least ``min_count`` visits of a visit concept set in the ``window``.
``all`` / ``any`` / ``not``
    Boolean combinations, evaluated in three-valued (Kleene) logic: met, not met, unknown.

Windows are day offsets relative to the index date, both ends inclusive; ``start: null`` means
no lower bound. A window that ends before it starts, a threshold without a unit, an unknown kind
or an id used twice is rejected with the criterion named (:func:`parse_protocol`).

References
----------
OHDSI. The Book of OHDSI, chapter 10 "Defining Cohorts" (entry events, inclusion criteria,
observation windows). https://ohdsi.github.io/TheBookOfOhdsi/Cohorts.html
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupuscell import vocab
from lupuscell.errors import Problem, ValidationError
from lupuscell.schemas.errors import problems_from_pydantic

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
OPERATORS = (">=", ">", "<=", "<")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Window(_Model):
    """Day offsets relative to the index date, inclusive; ``start=None`` = no lower bound."""

    start: int | None = None
    end: int = 0

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start is not None and self.start > self.end:
            raise ValueError(f"window ends before it starts (start {self.start} > end {self.end})")
        return self

    def describe(self) -> str:
        """Human wording, e.g. ``'days -90..0'`` or ``'any time up to day 0'``."""
        if self.start is None:
            return f"any time up to day {self.end}"
        return f"days {self.start}..{self.end}"


class Threshold(_Model):
    """A number with its unit (a threshold without a unit is rejected)."""

    value: float
    unit: str = Field(min_length=1)


class _Base(_Model):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    text: str = Field(min_length=1)
    source: str | None = None
    role: Literal["inclusion", "exclusion"] = "inclusion"

    def children(self) -> tuple[Criterion, ...]:
        return ()

    def concept_sets(self) -> tuple[str, ...]:
        return ()


class ObservationCriterion(_Base):
    kind: Literal["observation"]
    prior_days: int = Field(default=0, ge=0)


class AgeCriterion(_Base):
    kind: Literal["age"]
    min: int | None = Field(default=None, ge=0, le=130)
    max: int | None = Field(default=None, ge=0, le=130)

    @model_validator(mode="after")
    def _bounds(self) -> AgeCriterion:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SexCriterion(_Base):
    kind: Literal["sex"]
    allowed: list[Literal["F", "M"]] = Field(min_length=1)


class ConditionCriterion(_Base):
    kind: Literal["condition"]
    concept_set: str
    presence: Literal["present", "absent"] = "present"
    min_occurrences: int = Field(default=1, ge=1)
    window: Window = Window()

    def concept_sets(self) -> tuple[str, ...]:
        return (self.concept_set,)


class DrugMember(_Model):
    """One drug counted once, whichever of its concept sets was found."""

    name: str = Field(min_length=1)
    concept_sets: list[str] = Field(min_length=1)


class DrugHistoryCriterion(_Base):
    kind: Literal["drug_history"]
    members: list[DrugMember] = Field(min_length=1)
    min_distinct: int = Field(ge=1)
    window: Window = Window()

    @model_validator(mode="after")
    def _reachable(self) -> DrugHistoryCriterion:
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"member names must be unique (got {names})")
        if self.min_distinct > len(self.members):
            raise ValueError(f"min_distinct {self.min_distinct} exceeds the {len(self.members)} members")
        return self

    def concept_sets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cs for m in self.members for cs in m.concept_sets))


class MeasurementCriterion(_Base):
    kind: Literal["measurement"]
    concept_set: str
    analyte: str = Field(min_length=1)
    operator: Literal[">=", ">", "<=", "<"]
    threshold: Threshold
    window: Window

    def concept_sets(self) -> tuple[str, ...]:
        return (self.concept_set,)

    def holds(self, value: float) -> bool:
        """Does ``value`` (in the threshold's unit) satisfy the comparison?"""
        t = self.threshold.value
        return {">=": value >= t, ">": value > t, "<=": value <= t, "<": value < t}[self.operator]

    @property
    def lower_bound(self) -> bool:
        """True for ``>=``/``>``: the smallest value of a day decides (all must pass)."""
        return self.operator in (">=", ">")


class VisitCountCriterion(_Base):
    kind: Literal["visit_count"]
    concept_set: str
    min_count: int = Field(ge=1)
    window: Window

    def concept_sets(self) -> tuple[str, ...]:
        return (self.concept_set,)


class AllCriterion(_Base):
    kind: Literal["all"]
    criteria: list[Criterion] = Field(min_length=1)

    def children(self) -> tuple[Criterion, ...]:
        return tuple(self.criteria)


class AnyCriterion(_Base):
    kind: Literal["any"]
    criteria: list[Criterion] = Field(min_length=1)

    def children(self) -> tuple[Criterion, ...]:
        return tuple(self.criteria)


class NotCriterion(_Base):
    kind: Literal["not"]
    criterion: Criterion

    def children(self) -> tuple[Criterion, ...]:
        return (self.criterion,)


Criterion = Annotated[
    ObservationCriterion
    | AgeCriterion
    | SexCriterion
    | ConditionCriterion
    | DrugHistoryCriterion
    | MeasurementCriterion
    | VisitCountCriterion
    | AllCriterion
    | AnyCriterion
    | NotCriterion,
    Field(discriminator="kind"),
]
LeafCriterion = (
    ObservationCriterion
    | AgeCriterion
    | SexCriterion
    | ConditionCriterion
    | DrugHistoryCriterion
    | MeasurementCriterion
    | VisitCountCriterion
)
KINDS = (
    "observation",
    "age",
    "sex",
    "condition",
    "drug_history",
    "measurement",
    "visit_count",
    "all",
    "any",
    "not",
)
for _model in (AllCriterion, AnyCriterion, NotCriterion):
    _model.model_rebuild()


class Reference(_Model):
    id: str = Field(pattern=ID_PATTERN)
    citation: str = Field(min_length=1)
    url: str | None = None


class Protocol(_Model):
    """A protocol's eligibility rules: criteria in screening order, each with its source."""

    name: str = Field(pattern=ID_PATTERN)
    title: str
    therapy: str
    version: str = "1"
    summary: str
    index_date: str = Field(
        default="the screening date", description="What the index date (day 0 of every window) means."
    )
    references: list[Reference] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> Protocol:
        if self.therapy not in vocab.THERAPIES:
            raise ValueError(f"therapy {self.therapy!r} is not one of {', '.join(vocab.THERAPIES)}")
        seen: set[str] = set()
        for criterion in walk(self.criteria):
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} is used twice")
            seen.add(criterion.id)
        for criterion in self.criteria:
            if not criterion.source:
                raise ValueError(f"criterion {criterion.id!r} has no source")
        return self

    def concept_sets(self) -> tuple[str, ...]:
        """Every concept set the protocol refers to, in first-use order."""
        return tuple(dict.fromkeys(cs for c in walk(self.criteria) for cs in c.concept_sets()))

    def leaves(self) -> tuple[LeafCriterion, ...]:
        """Every non-combinator criterion, depth first in protocol order."""
        return tuple(c for c in walk(self.criteria) if c.kind not in ("all", "any", "not"))  # type: ignore[misc]


def walk(criteria: list[Criterion] | tuple[Criterion, ...]) -> Iterator[Criterion]:
    """Depth-first iteration over criteria and their nested children."""
    for criterion in criteria:
        yield criterion
        yield from walk(criterion.children())


def _criterion_label(raw: Any, loc: tuple[int | str, ...]) -> tuple[str, tuple[int | str, ...]]:
    """Replace ``criteria.3.<kind>.criteria.0`` by ``criterion 'egfr'`` where the id is known."""
    label = ""
    node = raw
    rest = loc
    i = 0
    while i < len(loc):
        part = loc[i]
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                label = f"criterion {node['id']!r}"
                rest = loc[i + 1 :]
                if rest and rest[0] == node.get("kind"):
                    rest = rest[1:]
        else:
            break
        i += 1
    return label, rest


def parse_protocol(raw: Any, record: str) -> Protocol:
    """Validate a protocol mapping; every problem names the criterion (by id) and the field."""
    if not isinstance(raw, Mapping):
        raise ValidationError.single(record, "(file)", "a protocol must be a mapping of fields")
    try:
        return Protocol.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        problems: list[Problem] = []
        for problem, error in zip(problems_from_pydantic(exc, record), exc.errors(), strict=True):
            label, rest = _criterion_label(raw, tuple(error["loc"]))
            field = ".".join(str(p) for p in rest) or "(criterion)"
            if error["type"] == "union_tag_invalid":
                field = "kind"
                message = f"unknown criterion kind {error['ctx']['tag']!r}; known kinds: {', '.join(KINDS)}"
            else:
                message = problem.message
            where = f"{record}: {label}" if label else record
            problems.append(Problem(where, field if label else problem.field, message))
        raise ValidationError(problems) from None
