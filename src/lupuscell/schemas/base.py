"""Shared pieces of the boundary schemas: base model config, code lists, column checks.

Every schema forbids unknown fields (a misspelt column is an error, not silently dropped),
strips whitespace, refuses the NUL character in text (PostgreSQL cannot store it; SQLite is
made to refuse it too), and coerces the text of CSV files (``"2021-03-04"`` -> date, ``"1.5"``
-> float) in pydantic's lax mode. Code lists come from :mod:`lupuscell.vocab`; a value outside
the list is rejected with the allowed values listed.

Cross-field rules are declared in each schema's ``RULES`` (:mod:`lupuscell.schemas.rules`) and
checked by :meth:`RecordIn._rules`; every broken rule becomes one ``cross_field`` error
carrying the (field, message) pairs, which :func:`lupuscell.schemas.errors.to_validation_error`
turns into one Problem per field. Field-level checks that are not pydantic constraints (code
lists, finiteness, the PGA grid) are :class:`ColumnCheck` objects, so that
:mod:`lupuscell.schemas.frames` can apply the very same checks to a whole data frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from lupuscell.errors import shorten
from lupuscell.schemas.rules import Rule, per_value, row_problems

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
"""Pseudonymous codes (site code + sequence, e.g. ``KI-0001``): letters, digits, ``_.-``."""


NUL = "\x00"
BoolArray = npt.NDArray[np.bool_]


def _nul_fields(data: Any) -> list[tuple[str, str]]:
    """(field, message) for every text value (or list item) holding a NUL character."""
    if not isinstance(data, dict):
        return []
    problems = []
    for name, value in data.items():
        if type(value) is str:
            if NUL not in value:
                continue
        elif not (isinstance(value, list) and any(isinstance(item, str) and NUL in item for item in value)):
            continue
        problems.append((str(name), "contains a NUL character (\\x00), which text fields cannot hold"))
    return problems


class RecordIn(BaseModel):
    """Base of every input schema: strict field names, NUL-free text, declared cross-field rules."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    RULES: ClassVar[tuple[Rule, ...]] = ()
    """Cross-field rules (:mod:`lupuscell.schemas.rules`) every record must meet."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        problems = _nul_fields(data)
        if problems:
            raise cross_field_error(problems)
        return data

    @model_validator(mode="after")
    def _rules(self) -> RecordIn:
        problems = row_problems(self.RULES, self)
        if problems:
            raise cross_field_error(problems)
        return self


@dataclass(frozen=True)
class ColumnCheck:
    """A field check usable by pydantic (call it on a value) and on a column (:meth:`bad`).

    Subclasses define :meth:`ok` (one non-missing value) and :meth:`describe` (why a value
    is refused); :meth:`bad` applies :meth:`ok` to every non-missing value of a column.
    """

    def ok(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:  # pragma: no cover - abstract
        """(pydantic error type, message template, context) for a refused value."""
        raise NotImplementedError

    def __call__(self, value: Any) -> Any:
        if value is None or self.ok(value):
            return value
        kind, template, context = self.describe(value)
        raise PydanticCustomError(kind, template, context)

    def message(self, value: Any) -> str:
        _, template, context = self.describe(value)
        return template.format(**context)

    def bad(self, series: pd.Series) -> BoolArray:
        return per_value(series, lambda value: not self.ok(value))


@dataclass(frozen=True)
class CodeList(ColumnCheck):
    """Accepts only the codes of a list (None passes: optionality is the type's job)."""

    allowed: tuple[str, ...] = ()
    what: str = ""

    def ok(self, value: Any) -> bool:
        return value in self.allowed

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        return (
            "code_list",
            "unknown {what} {value}; allowed values: {allowed}",
            {"what": self.what, "value": shorten(value), "allowed": ", ".join(self.allowed)},
        )

    def bad(self, series: pd.Series) -> BoolArray:
        return np.asarray(series.notna() & ~series.isin(self.allowed), dtype=bool)


@dataclass(frozen=True)
class EachCodeList(CodeList):
    """Like :class:`CodeList` for a list of codes; duplicates are removed, order kept."""

    def ok(self, value: Any) -> bool:
        return all(item in self.allowed for item in _items(value))

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        wrong = next(item for item in _items(value) if item not in self.allowed)
        return super().describe(wrong)

    def bad(self, series: pd.Series) -> BoolArray:
        return ColumnCheck.bad(self, series)

    def __call__(self, value: Any) -> Any:
        super().__call__(value)
        return list(dict.fromkeys(value))


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return list(value)


@dataclass(frozen=True)
class Finite(ColumnCheck):
    """A number that is finite (not NaN, not infinite)."""

    def ok(self, value: Any) -> bool:
        try:
            return math.isfinite(float(value))
        except (TypeError, ValueError):
            return True  # not a number at all: the type check reports it

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        return "finite_number", "must be a finite number, got {value}", {"value": value}

    def bad(self, series: pd.Series) -> BoolArray:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        return np.asarray(np.isinf(values), dtype=bool)  # NaN is "missing" in a frame


def one_of(values: Sequence[str], what: str) -> CodeList:
    """An after-validator accepting only ``values`` (None passes: optionality is the type's job)."""
    return CodeList(tuple(values), what)


def each_one_of(values: Sequence[str], what: str) -> EachCodeList:
    """Like :func:`one_of` for a list of codes (duplicates removed, order kept)."""
    return EachCodeList(tuple(values), what)


_finite = Finite()

FiniteFloat = Annotated[float, AfterValidator(_finite)]
PositiveFloat = Annotated[float, Field(gt=0), AfterValidator(_finite)]
NonNegativeFloat = Annotated[float, Field(ge=0), AfterValidator(_finite)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=CODE_PATTERN)]

MAX_ROW_ID = 2**31 - 1
"""Largest row id of the registry: its primary keys are 32-bit ``INTEGER`` on PostgreSQL, so a
larger reference can name no record and is refused as out of range (never sent to the database,
where it would fail as ``integer out of range``)."""

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""A reference to another record by its id (e.g. ``course_id``)."""


def cross_field_error(problems: list[tuple[str, str]]) -> PydanticCustomError:
    """One pydantic error carrying several (field, message) problems."""
    return PydanticCustomError(
        "cross_field",
        "{summary}",
        {"summary": "; ".join(f"{f}: {m}" for f, m in problems), "problems": problems},
    )
