"""Visit-schedule templates as data: a YAML file per schedule, validated by pydantic.

A template (``lupuscell/data/schedules/<name>.yaml``) lists planned visits, each with a target
``day`` counted from an **anchor**, a ``window`` of days before and after the target, an
optional ``repeat`` (every N days, up to an optional last target day) and the ``source`` that
fixes it. Anchors (:data:`ANCHORS`):

``day0``
    Day 0 of the patient (:func:`lupuscell.outcomes.timeline.day0_by_patient`: the infusion of
    the index course).
``course:<date column>``
    A date of the index course: ``mobilisation_date``, ``harvest_date``,
    ``conditioning_start_date``, ``infusion_date`` or ``discharge_date``.
``event:<type>``
    The first clinical event of that type on or after day 0 (``flare``, ``relapse``).
``visit:<id>``
    Another planned visit of the same template that does not repeat and is listed earlier: the
    date it was done, else its target date.

Labels may use ``{n}`` (the occurrence, 1 for the first), ``{day}`` (the target day from the
anchor), ``{month}`` (``day / 30.44`` rounded) and ``{year}`` (``day / 365.25`` rounded).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lupuscell.errors import Problem
from lupuscell.errors import ValidationError as LupuscellValidationError

COURSE_ANCHORS = (
    "mobilisation_date",
    "harvest_date",
    "conditioning_start_date",
    "infusion_date",
    "discharge_date",
)
EVENT_ANCHORS = ("flare", "relapse")
ANCHORS: tuple[str, ...] = (
    "day0",
    *(f"course:{c}" for c in COURSE_ANCHORS),
    *(f"event:{e}" for e in EVENT_ANCHORS),
)
"""Anchors other than ``visit:<id>`` (which names a visit of the same template)."""
DEFAULT_TEMPLATE = "ebmt"
"""The template used for a patient whose index course names no protocol with a template."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Model):
    """Days before and after the target date within which a recorded visit counts."""

    before: int = Field(ge=0)
    after: int = Field(ge=0)


class Repeat(_Model):
    """A repeating visit: every ``every`` days from its first target day, up to ``until`` (a target
    day, inclusive; open-ended when absent)."""

    every: int = Field(gt=0)
    until: int | None = None


class Source(_Model):
    """A reference a template cites."""

    id: str
    citation: str
    url: str | None = None


class VisitSpec(_Model):
    """One planned visit (or a repeating series) of a template."""

    id: str
    label: str
    day: int
    window: Window
    anchor: str = "day0"
    repeat: Repeat | None = None
    source: str

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower-case letters, digits and underscores, starting with a letter")
        return value

    def label_for(self, occurrence: int, day: int) -> str:
        """The label of one occurrence (see the module docstring for the fields)."""
        return self.label.format(n=occurrence, day=day, month=round(day / 30.44), year=round(day / 365.25))


class ScheduleTemplate(_Model):
    """A schedule: its planned visits, sources and the missed-visit rule."""

    name: str
    title: str
    version: str
    summary: str
    protocol: str | None = None
    sources: list[Source]
    missed_after_days: int = Field(default=90, ge=0)
    """Days after the window of the last planned visit when it counts as missed."""
    visits: list[VisitSpec]

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleTemplate:
        seen: dict[str, VisitSpec] = {}
        ids = {s.id for s in self.sources}
        for i, visit in enumerate(self.visits):
            where = f"visits.{i}"
            if visit.id in seen:
                raise ValueError(f"{where}.id: visit {visit.id}: the id is used twice")
            _check_anchor(visit, seen, where)
            cited = [s for s in ids if s in visit.source]
            if not cited and "programme convention" not in visit.source:
                raise ValueError(f"{where}.source: cites none of {sorted(ids)} nor 'programme convention'")
            if visit.repeat and visit.repeat.until is not None and visit.repeat.until < visit.day:
                raise ValueError(f"{where}.repeat.until: {visit.repeat.until} is before day {visit.day}")
            seen[visit.id] = visit
        return self

    def visit(self, visit_id: str) -> VisitSpec:
        for spec in self.visits:
            if spec.id == visit_id:
                return spec
        raise KeyError(visit_id)


def _check_anchor(visit: VisitSpec, earlier: dict[str, VisitSpec], where: str) -> None:
    if visit.anchor in ANCHORS:
        return
    where = f"{where}.anchor: {visit.anchor!r}"
    if visit.anchor.startswith("visit:"):
        target = earlier.get(visit.anchor.removeprefix("visit:"))
        if target is None:
            raise ValueError(f"{where} names no earlier visit of this template")
        if target.repeat is not None:
            raise ValueError(f"{where} names a repeating visit")
        if target.anchor.startswith("visit:"):
            raise ValueError(f"{where} is itself anchored on a visit")
        return
    raise ValueError(f"{where} is not an anchor; use one of {', '.join(ANCHORS)} or visit:<id>")


_LOCATED = re.compile(r"^(?:Value error, )?(visits\.\d+\.[\w.]+):? (.*)$", re.S)


def _problem(source: str, error: Any) -> Problem:
    field = ".".join(str(p) for p in error["loc"])
    message = str(error["msg"])
    located = _LOCATED.match(message)
    if not field and located:
        field, message = located.group(1), located.group(2)
    return Problem(source, field or "(template)", message)


def parse_template(text: str, source: str = "<text>") -> ScheduleTemplate:
    """A template from YAML text; :class:`lupuscell.errors.ValidationError` naming field and reason."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LupuscellValidationError(Problem(source, "(yaml)", f"not valid YAML: {exc}")) from None
    try:
        return ScheduleTemplate.model_validate(data)
    except ValidationError as exc:
        raise LupuscellValidationError([_problem(source, e) for e in exc.errors()]) from None


def shipped_template_names() -> tuple[str, ...]:
    """Names of the templates shipped in ``lupuscell/data/schedules``."""
    folder = resources.files("lupuscell").joinpath("data", "schedules")
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


@cache
def load_template(name: str) -> ScheduleTemplate:
    """A shipped template by name; ValidationError listing the names when unknown."""
    names = shipped_template_names()
    if name not in names:
        raise LupuscellValidationError(
            Problem("--template", "template", f"unknown schedule {name!r}; shipped: {', '.join(names)}")
        )
    path = resources.files("lupuscell").joinpath("data", "schedules", f"{name}.yaml")
    return parse_template(path.read_text("utf-8"), f"schedules/{name}.yaml")


def choose_template(protocol_id: str | None, default: str = DEFAULT_TEMPLATE) -> str:
    """The template for a patient: the one whose ``protocol`` is the index course's ``protocol_id``,
    else ``default``."""
    if protocol_id:
        for name in shipped_template_names():
            if load_template(name).protocol == protocol_id:
                return name
    return default
