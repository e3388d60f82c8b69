"""Shared pieces of the boundary schemas: base model config, code-list and date-order checks.

Every schema forbids unknown fields (a misspelt column is an error, not silently dropped),
strips whitespace, and coerces the text of CSV files (``"2021-03-04"`` -> date, ``"1.5"`` ->
float) in pydantic's lax mode. Code lists come from :mod:`lupuscell.vocab`; a value outside
the list is rejected with the allowed values listed. Cross-field rules raise one
``cross_field`` error carrying every (field, message) pair, which
:func:`lupuscell.schemas.errors.to_validation_error` turns into one Problem per field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
"""Pseudonymous codes (site code + sequence, e.g. ``KI-0001``): letters, digits, ``_.-``."""


class RecordIn(BaseModel):
    """Base of every input schema."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def one_of(values: Sequence[str], what: str) -> Callable[[Any], Any]:
    """An after-validator accepting only ``values`` (None passes: optionality is the type's job)."""

    allowed = tuple(values)

    def check(value: Any) -> Any:
        if value is None or value in allowed:
            return value
        raise PydanticCustomError(
            "code_list",
            "unknown {what} {value}; allowed values: {allowed}",
            {"what": what, "value": repr(value), "allowed": ", ".join(allowed)},
        )

    return check


def each_one_of(values: Sequence[str], what: str) -> Callable[[list[str]], list[str]]:
    """Like :func:`one_of` for a list of codes (duplicates removed, order kept)."""
    check = one_of(values, what)

    def check_all(items: list[str]) -> list[str]:
        for item in items:
            check(item)
        return list(dict.fromkeys(items))

    return check_all


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "must be a finite number, got {value}", {"value": value})
    return value


FiniteFloat = Annotated[float, AfterValidator(_finite)]
PositiveFloat = Annotated[float, Field(gt=0), AfterValidator(_finite)]
NonNegativeFloat = Annotated[float, Field(ge=0), AfterValidator(_finite)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=CODE_PATTERN)]


def cross_field_error(problems: list[tuple[str, str]]) -> PydanticCustomError:
    """One pydantic error carrying several (field, message) problems."""
    return PydanticCustomError(
        "cross_field",
        "{summary}",
        {"summary": "; ".join(f"{f}: {m}" for f, m in problems), "problems": problems},
    )


def date_order_problems(record: BaseModel, rules: Sequence[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Check ``earlier <= later`` for each (earlier, later, wording) where both are set.

    The problem names the *later* field (the one out of order), with both dates.
    """
    problems: list[tuple[str, str]] = []
    for earlier, later, wording in rules:
        first: dt.date | None = getattr(record, earlier)
        second: dt.date | None = getattr(record, later)
        if first is not None and second is not None and second < first:
            problems.append((later, f"{later} {second} is before {earlier} {first} ({wording})"))
    return problems
