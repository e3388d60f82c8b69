"""Explicit missing-value states of the minimum essential data: ``not_done`` and ``unknown``.

EBMT's Minimum Essential Data idea (MED-A forms, EBMT Data Management Manual): for the items
a registry must not leave empty, "not evaluated" and "unknown" are answers of their own.
The fields concerned, per entity, are data (``data/minimum_data.yaml``, each with its source);
a record carries its states in one mapping ``missing`` (field -> state), stored in the
``missing`` JSON column of visits and therapy courses (migration 0006).

Rules, applied by the schemas (hence the repository, the imports, the web forms and, per
column, the bulk loader):

* a key of ``missing`` is a minimum-data field of the entity (for visits also
  ``lab.<analyte>`` for the minimum-data laboratory values), and its state is one of
  :data:`MISSING_STATES`;
* a field cannot both have a value and a state (:class:`ValueOrState`): the error names the
  record, the field and both.

An empty mapping is stored as NULL (no state recorded). Docs: docs/data_management/missing_values.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import yaml

from lupuscell.errors import shorten
from lupuscell.schemas.base import BoolArray, ColumnCheck
from lupuscell.schemas.rules import Rule, per_value

MissingState = Literal["not_done", "unknown"]
MISSING_STATES: tuple[str, ...] = get_args(MissingState)
"""The explicit states of a minimum-data field that has no value."""

LAB_PREFIX = "lab."
"""Prefix of a visit's state key for a minimum-data laboratory value (``lab.c3``)."""


@dataclass(frozen=True)
class MinimumField:
    """One minimum-data field of an entity (``data/minimum_data.yaml``)."""

    name: str
    label: str
    sources: tuple[str, ...]
    therapies: tuple[str, ...] | None = None
    """Therapy courses only: the therapies the field applies to (None = every therapy)."""
    lab: bool = False
    """A laboratory value (lab_results row in the visit's window), key ``lab.<analyte>``."""

    @property
    def key(self) -> str:
        """The key of this field in a record's ``missing`` mapping."""
        return f"{LAB_PREFIX}{self.name}" if self.lab else self.name

    def applies_to(self, therapy: str | None) -> bool:
        """Whether the field is expected of a record (a course of ``therapy``)."""
        return self.therapies is None or therapy in self.therapies


@dataclass(frozen=True)
class MinimumData:
    """The minimum essential data: per entity its fields, the states and the sources."""

    entities: Mapping[str, tuple[MinimumField, ...]]
    states: Mapping[str, Mapping[str, str]]
    sources: Mapping[str, str] = field(default_factory=dict)

    def fields(self, entity: str) -> tuple[MinimumField, ...]:
        """The minimum-data fields of ``entity`` (empty for an entity without any)."""
        return self.entities.get(entity, ())

    def keys(self, entity: str) -> tuple[str, ...]:
        """The keys a state may be recorded for on a record of ``entity``."""
        return tuple(f.key for f in self.fields(entity))

    def state_label(self, state: str) -> str:
        """Human label of a state (``not done``, ``unknown``)."""
        return self.states[state]["label"]


def _fields(spec: Mapping[str, Any]) -> tuple[MinimumField, ...]:
    out = []
    for lab, group in ((False, spec.get("fields") or {}), (True, spec.get("labs") or {})):
        for name, item in group.items():
            therapies = item.get("therapies")
            out.append(
                MinimumField(
                    name=name,
                    label=str(item["label"]),
                    sources=tuple(item["sources"]),
                    therapies=tuple(therapies) if therapies else None,
                    lab=lab,
                )
            )
    return tuple(out)


@cache
def minimum_data() -> MinimumData:
    """``data/minimum_data.yaml`` read once; every source a field cites must be defined."""
    raw = yaml.safe_load(
        resources.files("lupuscell").joinpath("data", "minimum_data.yaml").read_text("utf-8")
    )
    data = MinimumData(
        entities={name: _fields(spec) for name, spec in raw["entities"].items()},
        states=raw["states"],
        sources=raw["sources"],
    )
    undefined = {s for fs in data.entities.values() for f in fs for s in f.sources} - set(data.sources)
    if undefined or set(data.states) != set(MISSING_STATES):
        raise ValueError(f"minimum_data.yaml: undefined sources {sorted(undefined)} or wrong states")
    return data


def parse_missing(value: Any) -> dict[str, Any] | None:
    """A ``missing`` cell as a mapping: JSON text (CSV, frames) is decoded; None/NaN is None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {"": value}  # not a mapping: reported by MissingStates
    return dict(value) if isinstance(value, Mapping) else {"": value}


@dataclass(frozen=True)
class MissingStates(ColumnCheck):
    """A mapping field -> state whose fields are the entity's minimum-data keys and whose
    states are :data:`MISSING_STATES`; an empty mapping becomes None."""

    entity: str = ""

    def _first_wrong(self, value: Any) -> tuple[str, str, dict[str, Any]] | None:
        states = parse_missing(value) or {}
        allowed = minimum_data().keys(self.entity)
        for key, state in states.items():
            if key == "":
                return (
                    "missing_states",
                    "must be a mapping field -> state, got {value}",
                    {"value": shorten(state)},
                )
            if key not in allowed:
                return (
                    "missing_states",
                    "{key} is not a minimum-data field of a {entity}; allowed: {allowed}",
                    {"key": shorten(key), "entity": self.entity, "allowed": ", ".join(allowed)},
                )
            if state not in MISSING_STATES:
                return (
                    "missing_states",
                    "{key}: {state} is not a missing-value state; allowed: {allowed}",
                    {"key": shorten(key), "state": shorten(state), "allowed": ", ".join(MISSING_STATES)},
                )
        return None

    def ok(self, value: Any) -> bool:
        return self._first_wrong(value) is None

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        return self._first_wrong(value) or (
            "missing_states",
            "invalid missing states {value}",
            {"value": value},
        )

    def __call__(self, value: Any) -> Any:
        return super().__call__(value) or None


@dataclass(frozen=True)
class ValueOrState(Rule):
    """``field`` holds a value or a missing state (``missing[field]``), not both."""

    def _state(self, record: Any) -> Any:
        raw = record.get("missing") if isinstance(record, Mapping) else getattr(record, "missing", None)
        return (parse_missing(raw) or {}).get(self.field)

    def _value(self, record: Any) -> Any:
        value = record.get(self.field) if isinstance(record, Mapping) else getattr(record, self.field, None)
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value

    def violated(self, record: Any) -> bool:
        return self._state(record) is not None and self._value(record) is not None

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        if "missing" not in frame.columns or self.field not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        has_state = per_value(frame["missing"], lambda v: self.field in (parse_missing(v) or {}))
        return np.asarray(frame[self.field].notna().to_numpy(), dtype=bool) & has_state

    def message(self, record: Any) -> str:
        return (
            f"has both a value ({shorten(self._value(record))}) and the missing state "
            f"{self._state(record)!r} (missing.{self.field}); record one or the other"
        )


def value_or_state_rules(entity: str) -> tuple[Rule, ...]:
    """One :class:`ValueOrState` rule per (non-laboratory) minimum-data field of ``entity``."""
    return tuple(ValueOrState(f.name) for f in minimum_data().fields(entity) if not f.lab)
