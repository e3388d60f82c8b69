"""Export of the registry as one CSV or Parquet file per table (the import layout).

De-identified by default (:mod:`lupuscell.registry.deidentify`); ``identified=True`` writes
the records as stored, in exactly the import layout (an identified export re-imports into an
empty registry). How the files are written so that nothing leaks:

* **Audit first.** The export's audit row (action ``export``) is committed before any file
  is written: an identified file never exists without its audit row, even if the process is
  killed. An export that fails afterwards keeps its audit row (the data were read) and
  leaves no file.
* **Written aside, moved into place.** The files are written into a private temporary
  folder (mode 0700) beside the target and renamed into place only when complete; on any
  error the temporary folder is removed. An identified export keeps its folder at 0700 and
  its files at 0600; a de-identified one is made readable (0755) once in place.
  A temporary folder left by a killed export (audited) is removed by the next export to the
  same target.
* **No lying manifest.** The target must not exist, or be an empty folder, or (with
  ``overwrite``) a previous lupuscell export (it has a ``manifest.json``), which is replaced
  as a whole - never a folder of other files, and never a file.
* **No formulas.** In CSV, a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is prefixed with ``'`` (OWASP, "CSV Injection"), so a spreadsheet shows it
  as text; the import removes that one quote again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell import __version__
from lupuscell.errors import Problem, ValidationError
from lupuscell.registry import audit
from lupuscell.registry.deidentify import DEIDENTIFICATION, deidentify
from lupuscell.registry.layout import FORMATS, JSON_FIELDS, LIST_FIELDS, TABLES
from lupuscell.registry.migrate import current_revision
from lupuscell.registry.session import transaction

MANIFEST = "manifest.json"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet may evaluate (OWASP "CSV Injection")."""
PARTIAL_MARK = ".lupuscell-partial-"
OLD_MARK = ".lupuscell-replaced-"


# --------------------------------------------------------------------------- reading


def read_frames(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every table in the identified exchange layout (codes, course_no; no database ids),
    read in one transaction that sees one snapshot (PostgreSQL: REPEATABLE READ; SQLite: one
    read transaction), so rows written meanwhile cannot refer to parents it did not read."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn:
        raw = {
            t.name: pd.DataFrame(
                conn.execute(sa.select(t.model.__table__)).mappings().all(),
                columns=[c.key for c in t.model.__table__.columns],
            )
            for t in TABLES
        }
    patient_code = dict(zip(raw["patients"]["id"], raw["patients"]["code"], strict=True))
    raw["patients"]["site_code"] = raw["patients"]["site_id"].map(
        dict(zip(raw["sites"]["id"], raw["sites"]["code"], strict=True))
    )
    courses = raw["therapy_courses"].sort_values(["patient_id", "infusion_date", "id"])
    courses["course_no"] = courses.groupby("patient_id").cumcount() + 1
    courses["patient_code"] = courses["patient_id"].map(patient_code)
    course_key = {
        cid: (code, no)
        for cid, code, no in zip(courses["id"], courses["patient_code"], courses["course_no"], strict=True)
    }
    raw["therapy_courses"] = courses
    drugs = raw["drug_administrations"]
    drugs["patient_code"] = drugs["course_id"].map(lambda c: course_key[c][0])
    drugs["course_no"] = drugs["course_id"].map(lambda c: course_key[c][1])
    for name in ("visits", "lab_results", "adverse_events", "clinical_events"):
        raw[name]["patient_code"] = raw[name]["patient_id"].map(patient_code)
    ae = raw["adverse_events"]
    ae["course_no"] = pd.array(
        [course_key[c][1] if pd.notna(c) else None for c in ae["course_id"]], dtype="Int64"
    )
    out = {}
    for layout in TABLES:
        frame = raw[layout.name]
        sort = [c for c in ("patient_code", "course_no", "code") if c in frame.columns]
        frame = frame.sort_values([*sort, "id"], kind="stable") if len(frame) else frame
        out[layout.name] = frame.reindex(columns=list(layout.fields)).reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- encoding


def neutralise_formula(value: Any) -> Any:
    """``'=cmd`` for ``=cmd``: a text cell a spreadsheet would evaluate, made text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _encode_for_file(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    frame = frame.copy()
    for name in LIST_FIELDS:
        if name in frame:
            frame[name] = [";".join(v) if isinstance(v, list) else v for v in frame[name]]
    for name in JSON_FIELDS:
        if name in frame:
            frame[name] = [
                json.dumps(v, sort_keys=True) if isinstance(v, dict) else None for v in frame[name]
            ]
    if fmt == "csv":
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = [
                    ("true" if v else "false") if isinstance(v, bool) else neutralise_formula(v)
                    for v in frame[column]
                ]
    return frame


# --------------------------------------------------------------------------- the target folder


def _check_target(out: Path, overwrite: bool, directory: bool = True) -> None:
    """Refuse a file, a folder of other files, or an earlier export without ``overwrite``
    (``directory=False``: the target is one file; ``overwrite`` replaces an existing file)."""
    if not directory:
        if out.is_dir():
            raise ValidationError(Problem(str(out), "--out", "is a folder; give a file name"))
        if out.exists() and not overwrite:
            raise ValidationError(Problem(str(out), "--out", "the file exists; use --overwrite to replace it"))
        return
    if out.exists() and not out.is_dir():
        raise ValidationError(Problem(str(out), "--out", "is an existing file; give a folder to create"))
    if not out.is_dir():
        return
    present = [p.name for p in out.iterdir()]
    if not present:
        return
    if not overwrite:
        raise ValidationError(
            Problem(
                str(out),
                "--out",
                f"already holds {len(present)} file(s); choose a new or empty folder, or --overwrite "
                "to replace a previous export",
            )
        )
    if MANIFEST not in present:
        raise ValidationError(
            Problem(
                str(out),
                "--out",
                "--overwrite replaces only a previous lupuscell export (no manifest.json here)",
            )
        )


def _remove_stale(out: Path) -> None:
    """Remove temporary folders that killed exports to ``out`` left behind (they were audited)."""
    for stale in out.parent.glob(f".{out.name}{PARTIAL_MARK}*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}{OLD_MARK}*"):
        shutil.rmtree(stale, ignore_errors=True)


def _write_files(folder: Path, frames: Mapping[str, pd.DataFrame], fmt: str, manifest: dict[str, Any]) -> None:
    for name, frame in frames.items():
        path = folder / f"{name}.{fmt}"
        data = _encode_for_file(frame, fmt)
        if fmt == "csv":
            data.to_csv(path, index=False, date_format="%Y-%m-%d")
        else:
            data.to_parquet(path, index=False)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _protect(path: Path, identified: bool) -> None:
    """Identified output private (files 0600, folders 0700); de-identified readable (0644/0755)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for item in files:
        item.chmod(0o600 if identified else 0o644)
    if path.is_dir():
        for folder in [path, *(p for p in path.rglob("*") if p.is_dir())]:
            folder.chmod(0o700 if identified else 0o755)


def _move_into_place(partial: Path, out: Path) -> None:
    """Rename the finished folder (or file) to ``out`` (replacing an empty folder, a previous
    export or, for a file, the file)."""
    if partial.is_file():
        partial.replace(out)
        return
    if out.is_dir() and any(out.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}{OLD_MARK}", dir=out.parent))
        old.rmdir()
        out.rename(old)
        partial.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return
    if out.is_dir():
        out.rmdir()
    partial.rename(out)


# --------------------------------------------------------------------------- audited output


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
    directory: bool = True,
    overwrite: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> Iterator[Path]:
    """Yield a private path beside ``target`` to write an export to; move it into place after.

    The rules of the module docstring for every export of registry data (this module's
    folders and :mod:`lupuscell.interop`'s REDCap, FHIR, CDISC and OMOP files): the target is
    checked first (:func:`_check_target`; ``directory=False`` for one file), the audit row
    (action ``export``, ``entity_id`` the mode, ``new_value`` the target, the format ``kind``
    and ``rows``, and any ``detail``) is committed before anything is written, the output is
    written into a temporary folder (0700) beside the target and moved into place when complete
    (removed on any error), identified output stays private (files 0600, folders 0700). An
    identified export requires a reason.
    """
    actor = audit.require_actor(actor, str(target))
    if identified:
        reason = audit.require_reason(reason, str(target), "export identified data")
    reason = audit.require_reason(reason or f"de-identified {kind} export", str(target), "export")
    target = target.expanduser().absolute()
    _check_target(target, overwrite, directory)
    mode = "identified" if identified else "de-identified"
    with transaction(engine) as session:
        audit.log_event(
            session,
            action="export",
            entity="export",
            actor=actor,
            reason=reason,
            entity_id=mode,
            new_value={"out": str(target), "format": kind, "rows": dict(rows), **(detail or {})},
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}{PARTIAL_MARK}", dir=target.parent))
    try:
        written = partial if directory else partial / target.name
        yield written
        _protect(written, identified)
        _move_into_place(written, target)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(partial)


# --------------------------------------------------------------------------- export


def check_export(
    out: Path, *, fmt: str, identified: bool, actor: str, reason: str | None, overwrite: bool = False
) -> tuple[Path, str, str]:
    """The checks of a folder export before anything is read: the format, the actor, the reason
    (required for identified data) and the target folder. Returns (absolute target, actor,
    reason); ValidationError naming the option otherwise."""
    if fmt not in FORMATS:
        raise ValidationError(Problem(str(out), "--format", f"unknown format {fmt!r}; use csv or parquet"))
    actor = audit.require_actor(actor, str(out))
    if identified:
        reason = audit.require_reason(reason, str(out), "export identified data")
    reason = audit.require_reason(reason or "de-identified export", str(out), "export")
    out = out.expanduser().absolute()
    _check_target(out, overwrite)
    return out, actor, reason


def export_directory(
    engine: Engine,
    out: Path,
    *,
    fmt: str = "csv",
    identified: bool = False,
    actor: str,
    reason: str | None = None,
    overwrite: bool = False,
    source: Engine | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Write every table to ``out`` (de-identified unless ``identified``); return rows per table.

    An identified export requires a reason; every export is audited (action ``export``,
    ``entity_id`` the mode) in ``engine`` before its first file is written. ``manifest.json``
    records the format, the mode, the de-identification applied, the schema revision and the row
    counts. See the module docstring for how the files are written.

    ``source`` is the registry read (default ``engine``): ``audit as-of`` reads the registry
    rebuilt from ``engine``'s audit log (:func:`lupuscell.registry.audit_replay.export_as_of`)
    and audits the export in ``engine``. ``provenance`` (JSON values) is added to the manifest
    and to the audit row.
    """
    out, actor, reason = check_export(
        out, fmt=fmt, identified=identified, actor=actor, reason=reason, overwrite=overwrite
    )
    frames = read_frames(source if source is not None else engine)
    if not identified:
        frames = deidentify(frames)
    counts = {name: len(frame) for name, frame in frames.items()}
    mode = "identified" if identified else "de-identified"
    manifest: dict[str, Any] = {
        "lupuscell_version": __version__,
        "schema_revision": current_revision(engine),
        "format": fmt,
        "mode": mode,
        "de_identification": [] if identified else list(DEIDENTIFICATION),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": counts,
        **(provenance or {}),
    }
    with audited_output(
        engine,
        out,
        kind=fmt,
        identified=identified,
        actor=actor,
        reason=reason,
        rows=counts,
        overwrite=overwrite,
        detail=provenance,
    ) as folder:
        _write_files(folder, frames, fmt, manifest)
    return counts
