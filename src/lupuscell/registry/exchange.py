"""Import and export of the registry as one CSV or Parquet file per table.

The layout is :mod:`lupuscell.registry.layout` (docs/registry/import_export.md); the export
is :mod:`lupuscell.registry.export` (re-exported here). This module is the import.

Import is all-or-nothing and streams: the files are read a chunk of rows at a time
(:mod:`lupuscell.registry.files`, :data:`CHUNK_ROWS`), every row is validated with its
boundary schema (:mod:`lupuscell.schemas`, the same rules the repository applies), and the
validated rows go to the bulk loader (:func:`lupuscell.registry.bulk.load_tables`), which
checks the plausibility and cross-record rules against the registry and the rest of the
import inside the writing transaction, and writes them. Memory stays proportional to a
chunk, not to the file. Nothing is written unless every row of every file passes; the
problems name the file, the row (1 = first data row, line 2 of a CSV file) and the field, and
rows that depend on a rejected row (the visits of a rejected patient) are counted once.

The whole import is one import batch of :func:`lupuscell.registry.bulk.load_tables`, audited
as every load is (one ``import`` row per table, one ``create`` row per record, hash-chained).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydantic

from lupuscell.errors import Problem, ValidationError, shorten
from lupuscell.registry import audit, bulk, files
from lupuscell.registry.deidentify import AGE_TOP_CODE, DEIDENTIFICATION, death_cause_category, deidentify
from lupuscell.registry.export import FORMULA_PREFIXES, export_directory
from lupuscell.registry.layout import FORMATS, JSON_FIELDS, LIST_FIELDS, TABLE_BY_NAME, TABLES, TableLayout
from lupuscell.registry.repository import SPECS
from lupuscell.schemas.errors import problems_from_pydantic

__all__ = [
    "AGE_TOP_CODE",
    "CHUNK_ROWS",
    "DEIDENTIFICATION",
    "FORMATS",
    "TABLES",
    "TABLE_BY_NAME",
    "death_cause_category",
    "deidentify",
    "detect_format",
    "export_directory",
    "import_directory",
    "validated_chunk",
]

CHUNK_ROWS = 20_000
"""Rows read, validated and written at a time (bounds the import's memory)."""
MAX_PROBLEMS = bulk.MAX_PROBLEMS


# --------------------------------------------------------------------------- cells


def _cell(value: Any) -> Any:
    """A file cell as a Python value: empty / NaN -> None, numpy -> builtin, Timestamp -> date,
    a formula-neutralising quote (see :mod:`lupuscell.registry.export`) removed."""
    if value is None:
        return None
    if type(value) is str:
        if not value or value.isspace():
            return None
        if value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
            return value[1:]
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, np.ndarray | list):
        return [_cell(v) for v in list(value)]
    if hasattr(value, "item") and not isinstance(value, dict):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def decode_row(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row of an exchange file as schema input: empty cells None, ``course_key`` read as
    ``course_no``, list fields split on ``;`` (or read as a JSON array), the BILAG mapping
    parsed from JSON text. Also used for ``lupuscell record update --set`` values."""
    row = {str(k): _cell(v) for k, v in raw.items()}
    if "course_key" in row and "course_no" not in row:
        key = row.pop("course_key")
        row["course_no"] = None if key is None else str(key).rpartition("/")[2]
    for name in LIST_FIELDS:
        if isinstance(row.get(name), str) and str(row[name]).lstrip().startswith("["):
            with contextlib.suppress(json.JSONDecodeError):
                row[name] = json.loads(row[name])
        if name in row:
            value = row[name]
            if value is None:
                row[name] = []
            elif isinstance(value, str):
                row[name] = [v.strip() for v in value.split(";") if v.strip()]
    for name in JSON_FIELDS:
        if isinstance(row.get(name), str):
            with contextlib.suppress(json.JSONDecodeError):  # else the schema names the field
                row[name] = json.loads(row[name])
    return row


def detect_format(directory: Path) -> str:
    """``csv`` or ``parquet``, from the files present (csv when both or none)."""
    has = {fmt: any((directory / f"{t.name}.{fmt}").exists() for t in TABLES) for fmt in FORMATS}
    return "parquet" if has["parquet"] and not has["csv"] else "csv"


def _whole_number(value: Any) -> int | bool | None:
    """``course_no`` as an int (``"2"``, ``2.0`` accepted), None when empty, False when invalid."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if not number.is_integer() or number < 1 or isinstance(value, bool):
        return False
    return int(number)


# --------------------------------------------------------------------------- rows -> frames


_COURSE_PLACEHOLDER: dict[str, int | None] = {"drug_administration": 1, "adverse_event": None}


@dataclass
class _Rows:
    """Validated rows of one chunk of one file, and what was rejected."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)


def _keys(layout: TableLayout, data: dict[str, Any], label: str) -> tuple[dict[str, Any], list[Problem]]:
    """The key columns of a validated row in the bulk layout (``course_key``)."""
    keys: dict[str, Any] = {}
    if layout.entity == "drug_administration":
        if data.get("patient_code") is None:
            return keys, [Problem(label, "patient_code", "is required")]
        keys["patient_code"] = data["patient_code"]
    if "course_no" in layout.keys:
        number = _whole_number(data.get("course_no"))
        if number is False:
            return keys, [
                Problem(label, "course_no", f"not a whole number >= 1 (got {shorten(data.get('course_no'))})")
            ]
        if number is None and layout.entity != "adverse_event":
            return keys, [Problem(label, "course_no", "is required")]
        keys["course_key"] = None if number is None else f"{data.get('patient_code')}/{number}"
    return keys, []


def _validate(layout: TableLayout, chunk: files.RawChunk, file_name: str) -> _Rows:
    """Each row with its schema (the repository's rules); rejected parents remembered."""
    schema = SPECS[layout.entity].schema
    out = _Rows()
    for number, raw in zip(chunk.numbers, chunk.rows, strict=True):
        label = f"{file_name} row {number}"
        data = decode_row(raw)
        course_no = data.pop("course_no", None)
        patient_code = data.pop("patient_code", None) if layout.entity == "drug_administration" else None
        if layout.entity in _COURSE_PLACEHOLDER:
            data["course_id"] = _COURSE_PLACEHOLDER[layout.entity]  # resolved from course_no on write
        given = {**data, "course_no": course_no, "patient_code": patient_code or data.get("patient_code")}
        keys, problems = _keys(layout, given, label)
        try:
            record = schema.model_validate(data)
        except pydantic.ValidationError as exc:
            problems = problems_from_pydantic(exc, label) + problems
        if problems:
            out.problems += problems
            key = data.get("code") if layout.entity == "patient" else keys.get("course_key")
            if isinstance(key, str):
                out.rejected.add(key)
            continue
        row = {k: v for k, v in record.model_dump().items() if k != "course_id"}
        out.rows.append({**row, **keys, "_row": number})
    return out


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Validated rows as a frame of Python values (dates stay ``datetime.date``: any year)."""
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def validated_chunk(layout: TableLayout, raw: files.RawChunk, source: str) -> bulk.Chunk:
    """Rows of one table in the exchange layout (cells as in a file: ``course_no``, ``;`` lists,
    JSON text) as a chunk for :func:`lupuscell.registry.bulk.load_tables`: each row validated
    with its schema, problems labelled ``<source> row <n>`` (``raw.numbers``), rejected patients
    and courses remembered so that their dependent rows are counted once. The one reading path
    of the import files and of :mod:`lupuscell.interop`'s converters."""
    rows = _validate(layout, raw, source)
    return bulk.Chunk(
        tables={layout.name: _frame(rows.rows)},
        problems=rows.problems,
        rejected={layout.name: rows.rejected} if rows.rejected else {},
        schema_checked=True,
        sources={layout.name: source},
    )


# --------------------------------------------------------------------------- import


def _header_problems(layout: TableLayout, path: Path, fmt: str) -> list[Problem]:
    names = files.header(path, fmt)
    where = path.name
    problems = []
    unknown = [n for n in names if n not in layout.accepted]
    if unknown:
        problems.append(
            Problem(
                where, ", ".join(unknown), f"unknown column(s); known columns: {', '.join(layout.fields)}"
            )
        )
    present = set(names)
    alternatives = {"course_no": "course_key", "grade": "ctcae_grade"}
    missing = [c for c in layout.required if c not in present and alternatives.get(c) not in present]
    if missing and len(unknown) < len(names):
        problems.append(Problem(where, ", ".join(missing), "required column(s) missing"))
    return problems


def _sources(directory: Path, fmt: str) -> dict[str, Path]:
    """The exchange files present, each checked (header included) before anything is read."""
    paths = {t.name: directory / f"{t.name}.{fmt}" for t in TABLES}
    present = {name: path for name, path in paths.items() if path.exists()}
    if not present:
        raise ValidationError(
            Problem(str(directory), "--from", f"no {fmt} files found (expected e.g. patients.{fmt})")
        )
    problems: list[Problem] = []
    for name, path in present.items():
        try:
            problems += _header_problems(TABLE_BY_NAME[name], path, fmt)
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    return present


def _chunks(
    sources: dict[str, Path], fmt: str, rows_per_chunk: int, progress: Callable[[str, int], None] | None
) -> Iterator[bulk.Chunk]:
    for layout in TABLES:
        path = sources.get(layout.name)
        if path is None:
            continue
        seen = 0
        for raw in files.read_chunks(path, fmt, rows_per_chunk):
            yield validated_chunk(layout, raw, path.name)
            seen += len(raw.rows)
        if progress is not None:
            progress(layout.name, seen)


def import_directory(
    engine: Any,
    directory: Path,
    *,
    actor: str,
    reason: str,
    fmt: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    rows_per_chunk: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Import every exchange file of ``directory`` all-or-nothing; return rows written per table.

    Raises :class:`~lupuscell.errors.ValidationError` listing the problems (each naming file,
    row and field, at most :data:`MAX_PROBLEMS`); nothing is written then.
    """
    actor = audit.require_actor(actor, str(directory))
    reason = audit.require_reason(reason, str(directory), "import data")
    if not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        raise ValidationError(Problem(str(directory), "--from", what))
    fmt = fmt or detect_format(directory)
    if fmt not in FORMATS:
        raise ValidationError(
            Problem(str(directory), "--format", f"unknown format {fmt!r}; use csv or parquet")
        )
    sources = _sources(directory, fmt)
    result = bulk.load_tables(
        engine,
        lambda: _chunks(sources, fmt, rows_per_chunk, progress),
        actor=actor,
        source=str(directory),
        reason=reason,
        postgres_foreign_keys="per_row",
    )
    return {t.name: result.row_counts.get(t.name, 0) for t in TABLES}
