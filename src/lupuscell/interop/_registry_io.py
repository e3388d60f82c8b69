"""The one door of :mod:`lupuscell.interop` into the registry.

Every converter in this package turns an outside format into the registry's own exchange
layout (:mod:`lupuscell.registry.layout`: one list of rows per table, keyed by patient code
and ``course_no``) and back. Only this module calls the registry, so the import keeps one
path: :func:`import_rows` hands the rows to the same reading
(:func:`lupuscell.registry.exchange.validated_chunk`: the boundary schemas) and loading
(:func:`lupuscell.registry.bulk.load_tables`: plausibility and cross-record rules, one audited
:class:`~lupuscell.registry.models.ImportBatch`, all or nothing) that ``lupuscell import --from
DIR`` uses. No converter writes to the database itself.

What this module adds around that path:

* **Provenance.** Each row carries a :class:`SourceRef` (where it came from: a REDCap records
  line, a FHIR Bundle entry, and which source field feeds each registry field), so a problem
  the registry finds in ``lab_results`` row 12, field ``unit`` is reported as "records.csv
  line 57 (record 101, event month_3_arm_1, labs #2): lab_crp_unit: ...".
* **Problems found while reading** (an unknown REDCap code, a date in the wrong format, an
  unknown LOINC code) are reported together with the registry's own problems: every problem
  at once, never only the first, and nothing is written.
* **Partial imports** (``partial=True``): the rows with problems, and the rows that depend on
  them, are left out; the rest is imported in one batch; every rejected row is returned with
  its reasons (:class:`Reject`) for the caller to write to a file. The loader lists a bounded
  number of problems per load, so a partial import drops the rows named, loads again, and
  repeats until a load passes (each round drops at least one row).
* **Audited exports** (:func:`audited_output`, the registry export's own
  :func:`lupuscell.registry.export.audited_output`): the export's audit row is committed before
  any file exists; files are written beside the target and moved into place when complete;
  identified files are private (0600, folders 0700).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit, bulk, deidentify, exchange, export, files, layout

TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in layout.TABLES)
"""The exchange tables in load order (sites first, clinical events last)."""
LAYOUT = layout.TABLE_BY_NAME
AE_GRADE = "grade"
"""The adverse-event grade column (with ``grading_system``, from migration 0002 on)."""
MAX_PROBLEMS = bulk.MAX_PROBLEMS
_LABEL = re.compile(r"^(?P<table>[a-z_]+)\.rows row (?P<row>\d+)$")


@dataclass(frozen=True)
class SourceRef:
    """Where one exchange row came from: a readable location and the source field names."""

    location: str
    fields: Mapping[str, str] = field(default_factory=dict)
    """Registry field -> name of the source field that fed it (for the problem list)."""


@dataclass(frozen=True)
class Reject:
    """A source record left out of a partial import, with the reason."""

    location: str
    table: str
    field: str
    reason: str


@dataclass
class Rows:
    """Exchange rows per table with their provenance, plus problems found while reading."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    refs: dict[str, list[SourceRef]] = field(default_factory=lambda: defaultdict(list))
    problems: list[Reject] = field(default_factory=list)
    rejected: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Keys of records a reading problem kept out (``patients``: codes), so that the rows
    referring to them are counted once as dependent, not reported one by one."""

    def add(self, table: str, row: dict[str, Any], ref: SourceRef) -> None:
        """One row (empty values left out: not given, so a missing required field is named so)."""
        if table not in LAYOUT:
            raise KeyError(table)
        self.tables[table].append({k: v for k, v in row.items() if v is not None})
        self.refs[table].append(ref)

    def problem(self, location: str, table: str, source_field: str, reason: str) -> None:
        """A problem found while reading the source (the record is not passed on)."""
        self.problems.append(Reject(location, table, source_field, reason))

    def reject(self, table: str, key: str) -> None:
        """The record ``key`` of ``table`` (a patient code) was kept out by a reading problem."""
        self.rejected[table].add(key)

    def counts(self) -> dict[str, int]:
        return {name: len(self.tables.get(name, [])) for name in TABLE_NAMES}


@dataclass(frozen=True)
class ImportReport:
    """Rows written per table, the import batch's source label, and the rejects (partial)."""

    counts: dict[str, int]
    source: str
    rejects: list[Reject]


# --------------------------------------------------------------------------- import


_READING = Problem("(import)", "(reading)", "problems found while reading the source (listed apart)")
"""Marks a load that must not write: the source had reading problems (they are listed by
:func:`import_rows` itself, before the registry's, and do not use the loader's problem budget)."""


def _chunks(rows: Rows, reading: bool) -> list[bulk.Chunk]:
    """The rows as loader chunks, one per table, read like an import file
    (:func:`lupuscell.registry.exchange.validated_chunk`, labels ``<table>.rows row <n>``).
    With ``reading`` (the source had reading problems) the first chunk carries :data:`_READING`,
    so nothing is written, and the records the reader kept out (:attr:`Rows.rejected`), so the
    rows that refer to them are counted once."""
    chunks = []
    for name in TABLE_NAMES:
        table_rows = rows.tables.get(name) or []
        if table_rows:
            raw = files.RawChunk(rows=list(table_rows), numbers=list(range(1, len(table_rows) + 1)))
            chunks.append(exchange.validated_chunk(LAYOUT[name], raw, f"{name}.rows"))
    if reading:
        first = chunks[0] if chunks else bulk.Chunk(tables={})
        rejected = {**rows.rejected, **first.rejected}
        problems = [_READING, *first.problems]
        chunks[:1] = [bulk.Chunk(first.tables, problems, rejected, first.schema_checked, first.sources)]
    return chunks


def _load(
    engine: Engine,
    rows: Rows,
    reading: bool,
    *,
    source: str,
    actor: str,
    reason: str,
    progress: Callable[[str, int], None] | None,
) -> dict[str, int]:
    """One all-or-nothing load through the registry's bulk loader; rows written per table."""
    result = bulk.load_tables(
        engine,
        lambda: _chunks(rows, reading),
        actor=actor,
        source=source,
        reason=reason,
        postgres_foreign_keys="per_row",
    )
    counts = {name: result.row_counts.get(name, 0) for name in TABLE_NAMES}
    if progress is not None:
        for name, n in counts.items():
            progress(name, n)
    return counts


def _translate(
    problem: Problem, refs: Mapping[str, list[SourceRef]]
) -> tuple[Reject, tuple[str, int] | None]:
    """A registry problem on ``<table>.rows row N`` told in the source's terms."""
    match = _LABEL.match(problem.record)
    if match is None:
        table, _, rest = problem.record.partition(".rows")
        if table in LAYOUT and not rest:  # a count over a table (e.g. its dependent rows)
            return Reject(f"{table} (this import)", table, problem.field, problem.message), None
        return Reject(problem.record, "", problem.field, problem.message), None
    table, row = match["table"], int(match["row"])
    ref = refs[table][row - 1]
    source_field = ref.fields.get(problem.field)
    where = f"{source_field} ({table}.{problem.field})" if source_field else f"{table}.{problem.field}"
    return Reject(ref.location, table, where, problem.message), (table, row)


_DEPENDENT = re.compile(
    r"^('.+' is not a patient of this load or the registry"
    r"|no course \d+ for .+ in therapy_courses"
    r"|reference \S+ is not a Patient read from this Bundle)$"
)


def _readable(rejects: list[Reject]) -> list[Reject]:
    """Identical problems once (one source row can give several registry rows), and the rows
    that only fail because the record they depend on was rejected counted on the first one."""
    seen: set[tuple[str, str, str]] = set()
    dependents: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    out: list[Reject] = []
    for r in rejects:
        key = (r.location, r.field, r.reason)
        if key in seen:
            continue
        seen.add(key)
        if _DEPENDENT.match(r.reason):
            dependents[r.reason] += 1
            if r.reason in first:
                continue
            first[r.reason] = len(out)
        out.append(r)
    for reason, index in first.items():
        if dependents[reason] > 1:
            r = out[index]
            out[index] = Reject(
                r.location,
                r.table,
                r.field,
                f"{reason} (and {dependents[reason] - 1} more rows depending on it)",
            )
    return out


def _as_problems(rejects: list[Reject]) -> list[Problem]:
    rejects = _readable(rejects)
    problems = [Problem(r.location, r.field, r.reason) for r in rejects[:MAX_PROBLEMS]]
    if len(rejects) > MAX_PROBLEMS:
        problems.append(Problem("(import)", "(import)", f"... and {len(rejects) - MAX_PROBLEMS} more"))
    return problems


def _without(rows: Rows, bad: set[tuple[str, int]]) -> Rows:
    kept = Rows(problems=rows.problems)
    for table in TABLE_NAMES:
        for number, (row, ref) in enumerate(
            zip(rows.tables.get(table, []), rows.refs.get(table, []), strict=True), start=1
        ):
            if (table, number) not in bad:
                kept.add(table, row, ref)
    return kept


def import_rows(
    engine: Engine,
    rows: Rows,
    *,
    actor: str,
    reason: str,
    source: str,
    partial: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Import ``rows`` through the registry's import path; all or nothing unless ``partial``.

    Raises :class:`~lupuscell.errors.ValidationError` listing every problem (reading and
    registry problems together, each naming the source record and field; at most
    :data:`MAX_PROBLEMS` shown) when anything is wrong and ``partial`` is false; nothing is
    written then. With ``partial``, rows with problems (and rows depending on them) are left
    out and returned as :class:`Reject` s; the rest is written as one import batch.
    """
    actor = audit.require_actor(actor, source)
    reason = audit.require_reason(reason, source, "import data")
    kw: dict[str, Any] = {"source": source, "actor": actor, "reason": reason, "progress": progress}
    if not partial:
        try:
            counts = _load(engine, rows, bool(rows.problems), **kw)
        except ValidationError as exc:
            listed = [_translate(p, rows.refs)[0] for p in exc.problems if p != _READING]
            raise ValidationError(_as_problems([*rows.problems, *listed])) from None
        return ImportReport(counts=counts, source=source, rejects=[])
    rejects = list(rows.problems)  # read problems: those records never reach the registry
    current = rows
    while True:
        try:
            counts = _load(engine, current, False, **kw)
        except ValidationError as exc:
            translated = [_translate(p, current.refs) for p in exc.problems]
            bad = {row for _, row in translated if row is not None}
            if not bad:  # nothing to leave out (e.g. the database refused the load): stop
                raise ValidationError(_as_problems(rejects + [r for r, _ in translated])) from None
            rejects += [r for r, row in translated if row is not None]
            current = _without(current, bad)
            continue
        return ImportReport(counts=counts, source=source, rejects=list(dict.fromkeys(rejects)))


# --------------------------------------------------------------------------- export


def read_tables(engine: Engine, *, identified: bool) -> dict[str, pd.DataFrame]:
    """Every registry table in the exchange layout, read in one snapshot
    (:func:`lupuscell.registry.export.read_frames`); de-identified unless ``identified``
    (:data:`lupuscell.registry.deidentify.DEIDENTIFICATION`)."""
    frames = export.read_frames(engine)
    return frames if identified else deidentify.deidentify(frames)


DEIDENTIFICATION = deidentify.DEIDENTIFICATION
DEATH_CAUSE_CATEGORIES = deidentify.DEATH_CAUSE_CATEGORIES
death_cause_category = deidentify.death_cause_category
subject_ids = deidentify.subject_ids
age_in_whole_years = deidentify.age_in_whole_years
audited_output = export.audited_output
