"""Turn pydantic validation errors into :class:`lupuscell.errors.ValidationError`.

Each pydantic error becomes one :class:`~lupuscell.errors.Problem` naming the record, the
field (dotted path for nested fields; cross-field rules name the field they blame) and the
reason. :func:`validate` is the one entry point the registry, the importer and the web forms
use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

from lupuscell.errors import Problem, ValidationError, shorten

M = TypeVar("M", bound=pydantic.BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(record)"


def problems_from_pydantic(exc: pydantic.ValidationError, record: str) -> list[Problem]:
    """One Problem per pydantic error (cross-field errors expand to one per named field)."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        ctx: Mapping[str, Any] = error.get("ctx") or {}
        if error["type"] == "cross_field":
            prefix = _field(error["loc"][:-1]) if error["loc"] else ""
            for field, message in ctx.get("problems", []):
                problems.append(Problem(record, f"{prefix}.{field}" if prefix else field, message))
            continue
        message = _MESSAGES.get(error["type"], error["msg"])
        value = error.get("input")
        shown = str(value) in message or shorten(value) in message
        if error["type"] not in ("missing",) and not isinstance(value, Mapping) and not shown:
            message = f"{message} (got {shorten(value)})"
        problems.append(Problem(record, _field(error["loc"]), message))
    return problems


def to_validation_error(exc: pydantic.ValidationError, record: str) -> ValidationError:
    """Convert a pydantic error into the project's ValidationError."""
    return ValidationError(problems_from_pydantic(exc, record))


def validate(schema: type[M], data: Mapping[str, Any], record: str) -> M:
    """Validate ``data`` against ``schema``; raise ValidationError naming record and fields."""
    try:
        return schema.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        raise to_validation_error(exc, record) from None
