"""The boundary schemas applied to a whole data frame (one column at a time).

The bulk loader (:mod:`lupuscell.registry.bulk`) receives per-table frames of up to millions
of rows; a pydantic model per row would cost more than writing them. So the field
constraints are read from the schema itself (type, required, ``Field(ge=..., le=...,
max_length=..., pattern=...)``, the :class:`~lupuscell.schemas.base.ColumnCheck` validators
such as code lists) and evaluated per column, and the schema's cross-field ``RULES`` are
evaluated with :meth:`lupuscell.schemas.rules.Rule.mask`. Nothing is restated here: a rule
changed in a schema changes for the repository, the import and the bulk loader at once.

Frames hold typed values (dates as ``datetime64`` or ``datetime.date``, numbers, booleans);
NaN/None/NaT is "missing". :func:`frame_problems` returns :class:`RowFlag` items (rows,
field, message) that the caller turns into located problems.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Union

import annotated_types as at
import numpy as np
import pandas as pd
from pydantic import AfterValidator
from pydantic.fields import FieldInfo

from lupuscell.errors import shorten
from lupuscell.schemas.base import NUL, BoolArray, ColumnCheck, RecordIn
from lupuscell.schemas.rules import Distinct, day_numbers, frame_flags, per_value


@dataclass(frozen=True)
class FieldSpec:
    """What a schema field requires of a column."""

    name: str
    kind: str
    """``date``, ``int``, ``float``, ``bool``, ``str``, ``list`` or ``dict``."""
    required: bool
    bounds: tuple[tuple[str, float], ...] = ()
    """(operator, limit) pairs: ``gt``, ``ge``, ``lt``, ``le``."""
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    checks: tuple[ColumnCheck, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RowFlag:
    """Rows of a frame that fail one field check or rule, with the message for one row."""

    field: str
    mask: BoolArray
    message: Callable[..., str]
    """Called with the row (a dict of its values) only for rows shown to the user."""


_KINDS: dict[Any, str] = {dt.date: "date", int: "int", float: "float", bool: "bool", str: "str"}


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """The base type of an annotation and every metadata item found on the way down."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        return _unwrap(base, metadata + list(extra))
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0], metadata)
    return annotation, metadata


def _flatten(metadata: list[Any]) -> Iterator[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from _flatten(list(item.metadata))
        else:
            yield item


def _spec(name: str, info: FieldInfo) -> FieldSpec:
    base, metadata = _unwrap(info.annotation, list(info.metadata))
    origin = typing.get_origin(base)
    kind = "list" if origin is list else "dict" if origin is dict else _KINDS.get(base, "str")
    bounds: list[tuple[str, float]] = []
    lengths: dict[str, int] = {}
    pattern: str | None = None
    checks: list[ColumnCheck] = []
    for item in _flatten(metadata):
        for op in ("gt", "ge", "lt", "le"):
            if isinstance(item, getattr(at, op.capitalize())):
                bounds.append((op, float(getattr(item, op))))
        if isinstance(item, at.MaxLen):
            lengths["max"] = item.max_length
        if isinstance(item, at.MinLen):
            lengths["min"] = item.min_length
        if getattr(item, "pattern", None):
            pattern = str(item.pattern)
        if isinstance(item, AfterValidator) and isinstance(item.func, ColumnCheck):
            checks.append(item.func)
    return FieldSpec(
        name=name,
        kind=kind,
        required=info.is_required(),
        bounds=tuple(bounds),
        max_length=lengths.get("max"),
        min_length=lengths.get("min"),
        pattern=pattern,
        checks=tuple(checks),
    )


@cache
def field_specs(schema: type[RecordIn]) -> tuple[FieldSpec, ...]:
    """The :class:`FieldSpec` of every field of ``schema`` (read from its annotations)."""
    return tuple(_spec(name, info) for name, info in schema.model_fields.items())


# --------------------------------------------------------------------------- column checks

_OPS = {
    "gt": (np.less_equal, ">"),
    "ge": (np.less, ">="),
    "lt": (np.greater_equal, "<"),
    "le": (np.greater, "<="),
}


def _type_mask(
    spec: FieldSpec, column: pd.Series, present: BoolArray, distinct: Distinct | None
) -> BoolArray:
    """Present values that are not of the field's type."""
    if spec.kind == "date":
        return present & np.isnan(day_numbers(column))
    if spec.kind in ("int", "float"):
        if pd.api.types.is_bool_dtype(column):
            return present.copy()
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        bad = present & np.isnan(numbers)
        if spec.kind == "int":
            with np.errstate(invalid="ignore"):
                bad |= present & ~np.isnan(numbers) & (numbers != np.round(numbers))
        return bad
    if spec.kind == "bool":
        if pd.api.types.is_bool_dtype(column):
            return np.zeros(len(column), dtype=bool)
        return present & ~np.asarray(column.isin([True, False]), dtype=bool)
    if spec.kind == "str":
        return present & per_value(
            distinct if distinct is not None else column, lambda v: not isinstance(v, str)
        )
    return np.zeros(len(column), dtype=bool)


def _column_flags(spec: FieldSpec, column: pd.Series) -> list[RowFlag]:
    name = spec.name
    present = np.asarray(column.notna().to_numpy(), dtype=bool)
    flags = []
    if spec.required:
        flags.append(RowFlag(name, ~present, lambda row: "is required"))
    distinct = Distinct(column) if spec.kind in ("str", "list") else None
    wrong_type = _type_mask(spec, column, present, distinct)
    flags.append(
        RowFlag(name, wrong_type, lambda row, k=spec.kind: f"{shorten(row.get(name))} is not a valid {k}")
    )
    usable = present & ~wrong_type
    if spec.bounds:
        numbers = pd.to_numeric(column.where(usable), errors="coerce").to_numpy(dtype=float)
        for op, limit in spec.bounds:
            outside, word = _OPS[op]
            with np.errstate(invalid="ignore"):
                mask = usable & outside(numbers, limit)
            flags.append(
                RowFlag(name, mask, lambda row, w=word, lim=limit: f"{row.get(name)} must be {w} {lim:g}")
            )
    if distinct is not None:
        flags += _text_flags(spec, distinct, usable)
    for check in spec.checks:
        mask = usable & check.bad(column)
        flags.append(RowFlag(name, mask, lambda row, c=check: c.message(row.get(name))))
    return [f for f in flags if f.mask.any()]


def _has_nul(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and NUL in item for item in items)


def _text_flags(spec: FieldSpec, text: Distinct, usable: BoolArray) -> list[RowFlag]:
    name = spec.name
    flags = [
        RowFlag(
            name,
            usable & per_value(text, _has_nul),
            lambda row: "contains a NUL character (\\x00), which text fields cannot hold",
        )
    ]
    if spec.kind != "str":
        return flags
    lengths = per_value(text, lambda v: len(v) if isinstance(v, str) else 0, dtype=np.int64, missing=0)
    if spec.max_length is not None:
        flags.append(
            RowFlag(
                name,
                usable & (lengths > spec.max_length),
                lambda row, n=spec.max_length: f"is longer than {n} characters ({len(str(row.get(name)))})",
            )
        )
    if spec.min_length:
        flags.append(RowFlag(name, usable & (lengths < spec.min_length), lambda row: "must not be empty"))
    if spec.pattern is not None:
        regex = re.compile(spec.pattern)
        mismatch = per_value(text, lambda v: isinstance(v, str) and regex.match(v) is None)
        flags.append(
            RowFlag(
                name,
                usable & mismatch,
                lambda row, p=spec.pattern: f"{shorten(row.get(name))} does not match {p}",
            )
        )
    return flags


def frame_problems(
    schema: type[RecordIn], frame: pd.DataFrame, *, fields_only: bool = False
) -> list[RowFlag]:
    """Every field check and cross-field rule of ``schema`` broken by rows of ``frame``.

    Columns the frame lacks are checked as missing only when required (the caller reports a
    missing required column once, not per row). ``fields_only`` skips the cross-field rules.
    """
    flags: list[RowFlag] = []
    for spec in field_specs(schema):
        if spec.name in frame.columns:
            flags += _column_flags(spec, frame[spec.name])
    if not fields_only:
        for flag in frame_flags(schema.RULES, frame):
            flags.append(RowFlag(flag.field, flag.mask, flag.message))
    return flags


def missing_columns(schema: type[RecordIn], columns: Any, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """Required fields of ``schema`` that are not among ``columns``."""
    present = set(columns)
    return [
        s.name for s in field_specs(schema) if s.required and s.name not in present and s.name not in ignore
    ]
