"""The one door of :mod:`lupuscell.interop` into the registry.

Every converter in this package turns an outside format into the registry's own exchange
layout (:mod:`lupuscell.registry.exchange`: one list of rows per table, keyed by patient code
and ``course_no``) and back. Only this module calls the registry, so the import keeps one
path: :func:`import_rows` hands the rows to the same planning and writing functions that
``lupuscell import --from DIR`` uses (the boundary schemas, the cross-record rules, one
audited :class:`~lupuscell.registry.models.ImportBatch`, all or nothing). No converter writes
to the database itself.

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
  its reasons (:class:`Reject`) for the caller to write to a file.
* **Audited exports** (:func:`audited_output`): the export's audit row is committed before
  any file exists; files are written beside the target and moved into place when complete;
  identified files are private (0600, folders 0700).

Reroute note: on the branch where the registry import streams in chunks, :func:`_plan` and
:func:`_write` are the two calls to point at the new planning/writing functions; nothing else
in :mod:`lupuscell.interop` touches the registry.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit, exchange
from lupuscell.registry.session import transaction

TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in exchange.TABLES)
"""The exchange tables in load order (sites first, clinical events last)."""
LAYOUT = {t.name: t for t in exchange.TABLES}
AE_GRADE: str = "grade" if "grade" in LAYOUT["adverse_events"].fields else "ctcae_grade"
"""The adverse-event grade column of the registry layout (``grade`` from migration 0002 on)."""
HAS_GRADING_SYSTEM: bool = "grading_system" in LAYOUT["adverse_events"].fields
MAX_PROBLEMS = exchange.MAX_PROBLEMS
MAX_PARTIAL_ROUNDS = 10
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

    def add(self, table: str, row: dict[str, Any], ref: SourceRef) -> None:
        """One row (empty values left out: not given, so a missing required field is named so)."""
        if table not in LAYOUT:
            raise KeyError(table)
        self.tables[table].append({k: v for k, v in row.items() if v is not None})
        self.refs[table].append(ref)

    def problem(self, location: str, table: str, source_field: str, reason: str) -> None:
        """A problem found while reading the source (the record is not passed on)."""
        self.problems.append(Reject(location, table, source_field, reason))

    def counts(self) -> dict[str, int]:
        return {name: len(self.tables.get(name, [])) for name in TABLE_NAMES}


@dataclass(frozen=True)
class ImportReport:
    """Rows written per table, the import batch's source label, and the rejects (partial)."""

    counts: dict[str, int]
    source: str
    rejects: list[Reject]


# --------------------------------------------------------------------------- import


def _plan(engine: Engine, tables: Mapping[str, list[dict[str, Any]]]) -> Any:
    """The registry's validation of every row (nothing written): :func:`exchange.plan_import`."""
    return exchange.plan_import(engine, {k: list(v) for k, v in tables.items() if v}, "rows")


def _write(
    engine: Engine,
    plan: Any,
    source: str,
    actor: str,
    reason: str,
    progress: Callable[[str, int], None] | None,
) -> dict[str, int]:
    """The registry's one writer: one import batch, one audit row per table."""
    return dict(exchange._write(engine, plan, Path(source), actor, reason, progress))


def _translate(
    problem: Problem, refs: Mapping[str, list[SourceRef]]
) -> tuple[Reject, tuple[str, int] | None]:
    """A registry problem on ``<table>.rows row N`` told in the source's terms."""
    match = _LABEL.match(problem.record)
    if match is None:
        return Reject(problem.record, "", problem.field, problem.message), None
    table, row = match["table"], int(match["row"])
    ref = refs[table][row - 1]
    source_field = ref.fields.get(problem.field)
    where = f"{source_field} ({table}.{problem.field})" if source_field else f"{table}.{problem.field}"
    return Reject(ref.location, table, where, problem.message), (table, row)


_DEPENDENT = re.compile(
    r"^(unknown patient '.+'"
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
    rejects = list(rows.problems)
    current = rows
    for _ in range(MAX_PARTIAL_ROUNDS):
        plan = _plan(engine, current.tables)
        found = [_translate(p, current.refs) for p in plan.problems]
        if not found and (partial or not rejects):
            counts = _write(engine, plan, source, actor, reason, progress)
            return ImportReport(counts=counts, source=source, rejects=rejects)
        rejects += [reject for reject, _ in found]
        if not partial:
            raise ValidationError(_as_problems(rejects))
        current = _without(current, {key for _, key in found if key is not None})
    raise ValidationError(  # pragma: no cover - each round removes at least one row
        Problem(source, "(import)", f"partial import did not settle after {MAX_PARTIAL_ROUNDS} rounds")
    )


# --------------------------------------------------------------------------- export


def read_tables(engine: Engine, *, identified: bool) -> dict[str, pd.DataFrame]:
    """Every registry table in the exchange layout; de-identified unless ``identified``
    (:data:`lupuscell.registry.exchange.DEIDENTIFICATION`)."""
    frames = exchange._frames(engine)
    return frames if identified else exchange.deidentify(frames)


DEIDENTIFICATION = exchange.DEIDENTIFICATION
death_cause_category = exchange.death_cause_category


def _check_target(target: Path, overwrite: bool) -> None:
    if not target.exists():
        return
    if target.is_dir() and not any(target.iterdir()):
        return
    if not overwrite:
        what = "folder is not empty" if target.is_dir() else "file exists"
        raise ValidationError(Problem(str(target), "--out", f"the {what}; use --overwrite to replace it"))


@contextlib.contextmanager
def audited_output(
    engine: Engine,
    target: Path,
    *,
    kind: str,
    identified: bool,
    actor: str,
    reason: str | None,
    rows: Mapping[str, int],
    directory: bool,
    overwrite: bool = False,
) -> Iterator[Path]:
    """Yield a private temporary path to write an export to; move it to ``target`` after.

    The audit row (action ``export``, entity ``export``, ``entity_id`` the mode, the target,
    the format ``kind`` and the rows per table) is committed first, so no identified file
    exists without it. On any error the temporary path is removed and ``target`` is left as
    it was. An identified export requires a reason and stays private (files 0600, folders
    0700); a de-identified one is made readable once in place.
    """
    actor = audit.require_actor(actor, str(target))
    if identified:
        reason = audit.require_reason(reason, str(target), "export identified data")
    reason = reason or f"de-identified {kind} export"
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = "identified" if identified else "de-identified"
    with transaction(engine) as session:
        audit.log_event(
            session,
            action="export",
            entity="export",
            actor=actor,
            reason=reason,
            entity_id=mode,
            new_value={"out": str(target), "format": kind, "rows": dict(rows)},
        )
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.lupuscell-partial-", dir=target.parent))
    written = aside / target.name
    try:
        if directory:
            written.mkdir(mode=0o700)
        yield written
        _protect(written, identified)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        os.replace(written, target)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _protect(path: Path, identified: bool) -> None:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for item in files:
        item.chmod(0o600 if identified else 0o644)
    if path.is_dir():
        for folder in [path, *(p for p in path.rglob("*") if p.is_dir())]:
            folder.chmod(0o700 if identified else 0o755)
