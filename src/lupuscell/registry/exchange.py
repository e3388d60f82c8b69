"""Import and export of the registry as one CSV or Parquet file per table.

File layout (docs/registry/import_export.md)
-------------------------------------------
``sites``, ``patients``, ``therapy_courses``, ``drug_administrations``, ``visits``,
``lab_results``, ``adverse_events``, ``clinical_events`` (``<table>.csv`` or
``<table>.parquet``), keyed by the patient code; a therapy course is referred to by its
``course_no`` within the patient (1, 2... in the order of the file, which is infusion order
on export; a ``course_key`` column ``<patient code>/<n>``, as written by ``lupuscell synth
--out``, is accepted instead). List fields (organ involvement, prior therapies) are
``;``-separated text (a JSON array is accepted too), the BILAG mapping is JSON text, booleans
``true``/``false``, dates ISO ``YYYY-MM-DD``, empty = unknown. Column names are the field
names of :mod:`lupuscell.schemas`.

Import is all-or-nothing: every row of every file is validated with the boundary schemas and
the cross-record rules (duplicate codes, unknown patient / site / course, dates before the
birth year, two visits on one date, two deaths) before anything is written; a problem names
the file, the row (1 = first data row) and the field. The rows are then written in one
transaction with bulk inserts, tagged with one :class:`ImportBatch`, and audited with one row
per table (action ``import``).

Export is de-identified by default (:data:`DEIDENTIFICATION`); ``identified=True`` writes the
records as stored, in exactly the import layout (so an identified export re-imports into an
empty registry), and is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydantic
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell import __version__
from lupuscell.errors import Problem, ValidationError
from lupuscell.outcomes.timeline import day0_by_patient
from lupuscell.registry import audit, audit_chain
from lupuscell.registry.migrate import current_revision
from lupuscell.registry.models import (
    AdverseEvent,
    Base,
    ClinicalEvent,
    DrugAdministration,
    ImportBatch,
    LabResult,
    Patient,
    Site,
    TherapyCourse,
    Visit,
)
from lupuscell.registry.repository import SPECS, dates_before_birth
from lupuscell.registry.session import transaction
from lupuscell.schemas.base import RecordIn
from lupuscell.schemas.errors import problems_from_pydantic

FORMATS = ("csv", "parquet")
LIST_FIELDS = ("organ_involvement", "prior_therapies")
JSON_FIELDS = ("bilag",)
MAX_PROBLEMS = 200
AGE_TOP_CODE = 90
"""Ages above 89 are reported as 90 ("90 or older"), HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(C)."""

DEATH_CAUSE_CATEGORIES = (
    "sle_activity",
    "infection",
    "treatment_related",
    "cardiovascular",
    "malignancy",
    "other",
    "unknown",
)
"""Coded death causes kept by the de-identified export (see :func:`death_cause_category`)."""

DEATH_CAUSE_SYNONYMS = {
    "active sle": "sle_activity",
    "sle activity": "sle_activity",
    "lupus activity": "sle_activity",
    "active lupus": "sle_activity",
    "sepsis": "infection",
    "cancer": "malignancy",
}
"""Exact (case-insensitive) spellings mapped to a category; no free-text parsing beyond this."""


def death_cause_category(cause: str | None, treatment_related: bool | None) -> str | None:
    """The coded category of a recorded death cause.

    A cause that is a category (or a listed synonym) is kept; any other text becomes
    ``treatment_related`` when the death is flagged treatment-related, else ``other``. The
    free text itself is never exported.
    """
    if cause is None or (isinstance(cause, float) and math.isnan(cause)):
        return None
    key = str(cause).strip().lower()
    if key in DEATH_CAUSE_CATEGORIES:
        return key
    if key in DEATH_CAUSE_SYNONYMS:
        return DEATH_CAUSE_SYNONYMS[key]
    return "treatment_related" if treatment_related is True else "other"


@dataclass(frozen=True)
class TableLayout:
    """One exchange file: the entity it holds and its key columns."""

    name: str
    entity: str
    model: type[Base]
    keys: tuple[str, ...]
    """Columns placed before the schema fields (codes and ``course_no``)."""

    @property
    def fields(self) -> tuple[str, ...]:
        schema_fields = [f for f in SPECS[self.entity].schema.model_fields if f not in ("course_id",)]
        return (*self.keys, *(f for f in schema_fields if f not in self.keys))


TABLES: tuple[TableLayout, ...] = (
    TableLayout("sites", "site", Site, ()),
    TableLayout("patients", "patient", Patient, ()),
    TableLayout("therapy_courses", "therapy_course", TherapyCourse, ("patient_code", "course_no")),
    TableLayout(
        "drug_administrations", "drug_administration", DrugAdministration, ("patient_code", "course_no")
    ),
    TableLayout("visits", "visit", Visit, ("patient_code",)),
    TableLayout("lab_results", "lab_result", LabResult, ("patient_code",)),
    TableLayout("adverse_events", "adverse_event", AdverseEvent, ("patient_code", "course_no")),
    TableLayout("clinical_events", "clinical_event", ClinicalEvent, ("patient_code",)),
)
TABLE_BY_NAME = {t.name: t for t in TABLES}

DEIDENTIFICATION: tuple[str, ...] = (
    "patient codes are replaced by new random subject ids (SUBJ-000001...) assigned in a random "
    "order; the mapping is not stored anywhere, so subject ids cannot be linked back to codes",
    "every calendar date is replaced by a study day: days from the patient's day 0 (infusion of "
    "the first therapy course, else the earliest recorded date); intervals are preserved exactly "
    "and columns are renamed *_date -> *_day",
    "birth year is replaced by the age in whole years at day 0 (day-0 year minus birth year); "
    "ages above 89 are top-coded as 90",
    "free text is dropped or coded: death cause is kept only as one of DEATH_CAUSE_CATEGORIES "
    "(other text becomes 'treatment_related' for treatment-related deaths, else 'other'); the "
    "adverse-event term is dropped (category and CTCAE grade are kept)",
    "database ids, import batch ids and row timestamps are not exported",
)


# --------------------------------------------------------------------------- reading files


def _cell(value: Any) -> Any:
    """A file cell as a Python value: empty / NaN / NaT -> None, numpy -> builtin, Timestamp -> date."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() != "" else None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, np.ndarray):  # a Parquet list column (e.g. organ_involvement)
        return [_cell(v) for v in value.tolist()]
    if hasattr(value, "item") and not isinstance(value, list | dict):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _decode_row(raw: Mapping[str, Any]) -> dict[str, Any]:
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
            row[name] = (
                []
                if value is None
                else (
                    [v.strip() for v in value.split(";") if v.strip()]
                    if isinstance(value, str)
                    else list(value)
                )
            )
    for name in JSON_FIELDS:
        if isinstance(row.get(name), str):
            with contextlib.suppress(json.JSONDecodeError):  # else the schema names the field
                row[name] = json.loads(row[name])
    return row


def detect_format(directory: Path) -> str:
    """``csv`` or ``parquet``, from the files present (csv when both or none)."""
    has = {fmt: any((directory / f"{t.name}.{fmt}").exists() for t in TABLES) for fmt in FORMATS}
    return "parquet" if has["parquet"] and not has["csv"] else "csv"


def read_table(path: Path) -> list[dict[str, Any]]:
    """Rows of one exchange file as dicts of Python values."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        frame = frame.astype(object).where(frame.notna(), None)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [_decode_row({str(k): v for k, v in r.items()}) for r in frame.to_dict(orient="records")]


# --------------------------------------------------------------------------- import


@dataclass
class _Plan:
    """Validated rows ready to insert, plus what the cross-record checks need."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    problems: list[Problem] = field(default_factory=list)
    birth_year: dict[str, int] = field(default_factory=dict)
    """Patient code -> birth year (database and file)."""
    existing_patient_id: dict[str, int] = field(default_factory=dict)
    existing_site_id: dict[str, int] = field(default_factory=dict)
    course_keys: set[tuple[str, int | None]] = field(default_factory=set)

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)


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


_COURSE_PLACEHOLDER: dict[str, int | None] = {"drug_administration": 1, "adverse_event": None}


def _validate_rows(
    plan: _Plan, layout: TableLayout, rows: list[dict[str, Any]], label: Callable[[int], str]
) -> list[tuple[int, RecordIn, dict[str, Any]]]:
    schema = SPECS[layout.entity].schema
    out = []
    for number, raw in enumerate(rows, start=1):
        data = dict(raw)
        course_no = data.pop("course_no", None)
        patient_code = data.pop("patient_code", None) if layout.entity == "drug_administration" else None
        if layout.entity in _COURSE_PLACEHOLDER:
            data["course_id"] = _COURSE_PLACEHOLDER[layout.entity]  # resolved from course_no on write
        try:
            record = schema.model_validate(data)
        except pydantic.ValidationError as exc:
            plan.add(problems_from_pydantic(exc, label(number)))
            continue
        extras: dict[str, Any] = {}
        if layout.entity == "drug_administration":
            if patient_code is None:
                plan.add([Problem(label(number), "patient_code", "is required")])
                continue
            extras["patient_code"] = patient_code
        if "course_no" in layout.keys:
            extras["course_no"] = _whole_number(course_no)
            if extras["course_no"] is False:
                plan.add(
                    [Problem(label(number), "course_no", f"not a whole number >= 1 (got {course_no!r})")]
                )
                continue
            if layout.entity != "adverse_event" and extras["course_no"] is None:
                plan.add([Problem(label(number), "course_no", "is required")])
                continue
        out.append((number, record, extras))
    return out


def plan_import(engine: Engine, files: Mapping[str, list[dict[str, Any]]], suffix: str) -> _Plan:
    """Validate every row of every table; return the plan (problems listed, nothing written)."""
    plan = _Plan()
    with Session(engine) as session:
        plan.existing_site_id = {code: sid for code, sid in session.execute(sa.select(Site.code, Site.id))}
        for code, pid, year in session.execute(sa.select(Patient.code, Patient.id, Patient.birth_year)):
            plan.existing_patient_id[code] = pid
            plan.birth_year[code] = year
        existing_visits = {
            (code, date)
            for code, date in session.execute(
                sa.select(Patient.code, Visit.visit_date).join(Visit, Visit.patient_id == Patient.id)
            )
        }
        existing_deaths = set(
            session.scalars(
                sa.select(Patient.code)
                .join(ClinicalEvent, ClinicalEvent.patient_id == Patient.id)
                .where(ClinicalEvent.event_type == "death")
            )
        )
    new_sites: set[str] = set()
    new_patients: set[str] = set()
    visit_keys: set[tuple[str, dt.date]] = set()
    deaths: set[str] = set()

    for layout in TABLES:
        rows = files.get(layout.name, [])
        file_name = f"{layout.name}.{suffix}"

        def label(n: int, file_name: str = file_name) -> str:
            return f"{file_name} row {n}"

        for number, record, extras in _validate_rows(plan, layout, rows, label):
            where = label(number)
            data = record.model_dump()
            data.pop("course_id", None)
            data.update(extras)
            problems: list[Problem] = []
            if layout.entity == "site":
                if data["code"] in new_sites:
                    problems.append(Problem(where, "code", f"site code {data['code']!r} appears twice"))
                elif data["code"] in plan.existing_site_id:
                    continue  # an existing site is referenced, not re-created
                new_sites.add(data["code"])
            elif layout.entity == "patient":
                code = data["code"]
                if code in new_patients or code in plan.existing_patient_id:
                    where_else = "earlier in the file" if code in new_patients else "in the registry"
                    problems.append(
                        Problem(where, "code", f"patient code {code!r} already exists {where_else}")
                    )
                if data["site_code"] not in new_sites and data["site_code"] not in plan.existing_site_id:
                    problems.append(Problem(where, "site_code", f"unknown site {data['site_code']!r}"))
                if not problems:
                    new_patients.add(code)
                    plan.birth_year[code] = data["birth_year"]
            else:
                code = data["patient_code"]
                if code not in plan.birth_year:
                    problems.append(Problem(where, "patient_code", f"unknown patient {code!r}"))
                else:
                    problems += dates_before_birth(
                        record, SPECS[layout.entity].date_fields, plan.birth_year[code], where
                    )
                course_no = data.get("course_no")
                if layout.entity == "therapy_course":
                    if (code, course_no) in plan.course_keys:
                        problems.append(
                            Problem(where, "course_no", f"course {course_no} of {code} appears twice")
                        )
                    else:
                        plan.course_keys.add((code, course_no))
                elif course_no is not None and (code, course_no) not in plan.course_keys:
                    problems.append(
                        Problem(where, "course_no", f"no course {course_no} for {code} in therapy_courses")
                    )
                if layout.entity == "visit":
                    key = (code, data["visit_date"])
                    if key in visit_keys or key in existing_visits:
                        problems.append(
                            Problem(where, "visit_date", f"{code} already has a visit on {key[1]}")
                        )
                    visit_keys.add(key)
                if layout.entity == "clinical_event" and data["event_type"] == "death":
                    if code in deaths or code in existing_deaths:
                        problems.append(Problem(where, "event_type", f"{code} already has a recorded death"))
                    deaths.add(code)
            if problems:
                plan.add(problems)
            else:
                plan.rows[layout.name].append(data)
    return plan


def import_directory(
    engine: Engine,
    directory: Path,
    *,
    actor: str,
    reason: str,
    fmt: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Import every exchange file of ``directory`` all-or-nothing; return rows per table.

    Raises :class:`~lupuscell.errors.ValidationError` listing (up to 200) problems, each naming
    file, row and field; nothing is written then.
    """
    actor = audit.require_actor(actor, str(directory))
    reason = audit.require_reason(reason, str(directory), "import data")
    fmt = fmt or detect_format(directory)
    if fmt not in FORMATS:
        raise ValidationError(
            Problem(str(directory), "format", f"unknown format {fmt!r}; use csv or parquet")
        )
    if not directory.is_dir():
        raise ValidationError(Problem(str(directory), "from", "is not a directory"))
    files = {}
    for layout in TABLES:
        path = directory / f"{layout.name}.{fmt}"
        if path.exists():
            files[layout.name] = read_table(path)
    if not files:
        raise ValidationError(
            Problem(str(directory), "from", f"no {fmt} files found (expected e.g. patients.{fmt})")
        )
    plan = plan_import(engine, files, fmt)
    if plan.problems:
        shown = plan.problems[:MAX_PROBLEMS]
        if len(plan.problems) > MAX_PROBLEMS:
            shown.append(
                Problem(str(directory), "(import)", f"... and {len(plan.problems) - MAX_PROBLEMS} more")
            )
        raise ValidationError(shown)
    return _write(engine, plan, directory, actor, reason, progress)


def _write(
    engine: Engine,
    plan: _Plan,
    directory: Path,
    actor: str,
    reason: str,
    progress: Callable[[str, int], None] | None,
) -> dict[str, int]:
    counts = {t.name: len(plan.rows.get(t.name, [])) for t in TABLES}
    with transaction(engine) as session:
        batch = ImportBatch(actor=actor, source=str(directory)[:500], reason=reason, row_counts=counts)
        session.add(batch)
        session.flush()
        site_id = dict(plan.existing_site_id)
        patient_id = dict(plan.existing_patient_id)
        course_id: dict[tuple[str, int], int] = {}
        for layout in TABLES:
            rows = plan.rows.get(layout.name, [])
            if not rows:
                continue
            db_rows = []
            for data in rows:
                row = dict(data)
                row["import_batch_id"] = batch.id
                if "site_code" in row:
                    row["site_id"] = site_id[row.pop("site_code")]
                code = row.pop("patient_code", None)
                course_no = row.pop("course_no", None)
                if layout.entity == "drug_administration":
                    row["course_id"] = course_id[(code, course_no)]
                else:
                    if code is not None:
                        row["patient_id"] = patient_id[code]
                    if layout.entity == "adverse_event":
                        row["course_id"] = None if course_no is None else course_id[(code, course_no)]
                db_rows.append(row)
            model: Any = layout.model
            if layout.entity in ("site", "patient", "therapy_course"):
                result = session.execute(
                    sa.insert(model).returning(model.id, sort_by_parameter_order=True), db_rows
                )
                ids: list[int] = list(result.scalars().all())
                for data, new_id in zip(rows, ids, strict=True):
                    if layout.entity == "site":
                        site_id[data["code"]] = new_id
                    elif layout.entity == "patient":
                        patient_id[data["code"]] = new_id
                    else:
                        course_id[(data["patient_code"], data["course_no"])] = new_id
            else:
                session.execute(sa.insert(model), db_rows)
            audit.log_event(
                session,
                action="import",
                entity=layout.model.__tablename__,
                actor=actor,
                reason=reason,
                new_value=audit_chain.import_summary(batch.id, len(rows)),
            )
            if progress is not None:
                progress(layout.name, len(rows))
        session.flush()
        audit_chain.audit_batch_records(
            session.connection(), batch.id, actor=actor, reason=reason, now=dt.datetime.now(dt.UTC)
        )
    return counts


# --------------------------------------------------------------------------- export


def _frames(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every table in the identified exchange layout (codes, course_no; no database ids)."""
    with engine.connect() as conn:  # select from the ORM tables: no reflection round trips
        raw = {
            t.name: pd.DataFrame(
                conn.execute(sa.select(t.model.__table__)).mappings().all(),
                columns=[c.key for c in t.model.__table__.columns],
            )
            for t in TABLES
        }
    sites = raw["sites"]
    patients = raw["patients"]
    site_code = dict(zip(sites["id"], sites["code"], strict=True))
    patient_code = dict(zip(patients["id"], patients["code"], strict=True))
    patients["site_code"] = patients["site_id"].map(site_code)
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


def _day0(frames: Mapping[str, pd.DataFrame]) -> dict[str, dt.date]:
    """Day 0 per patient code (:mod:`lupuscell.outcomes.timeline`), else the earliest recorded date."""
    courses = frames["therapy_courses"]
    day0 = {str(code): ts.date() for code, ts in day0_by_patient(courses, key="patient_code").items()}
    fallback: dict[str, dt.date] = {}
    for name, frame in frames.items():
        if name in ("sites", "patients", "therapy_courses") or "patient_code" not in frame:
            continue
        for column in [c for c in frame.columns if c.endswith("_date")]:
            for code, date in zip(frame["patient_code"], frame[column], strict=True):
                if date is not None and not pd.isna(date):
                    fallback[code] = min(date, fallback.get(code, date))
    for code, date in zip(frames["patients"]["code"], frames["patients"]["sle_diagnosis_date"], strict=True):
        if date is not None and not pd.isna(date):
            fallback[code] = min(date, fallback.get(code, date))
    return {**fallback, **day0}


def deidentify(
    frames: Mapping[str, pd.DataFrame], rng: secrets.SystemRandom | None = None
) -> dict[str, pd.DataFrame]:
    """Apply :data:`DEIDENTIFICATION` to identified exchange frames."""
    rng = rng or secrets.SystemRandom()
    codes = list(frames["patients"]["code"])
    rng.shuffle(codes)
    subject = {code: f"SUBJ-{i:06d}" for i, code in enumerate(codes, start=1)}
    day0 = _day0(frames)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        frame = frame.copy()
        code_col = "code" if name == "patients" else "patient_code"
        if name != "sites":
            frame[code_col] = frame[code_col].map(subject)
            frame = frame.rename(columns={code_col: "subject_id"})
            original = frames[name][code_col]
            for column in [c for c in frame.columns if c.endswith("_date")]:
                frame[column] = [
                    None if d is None or pd.isna(d) or c not in day0 else (d - day0[c]).days
                    for c, d in zip(original, frames[name][column], strict=True)
                ]
                frame[column] = frame[column].astype("Int64")
                frame = frame.rename(columns={column: column[: -len("_date")] + "_day"})
        if name == "patients":
            frame["age_at_day0"] = pd.array(
                [
                    None if c not in day0 else min(day0[c].year - int(y), AGE_TOP_CODE)
                    for c, y in zip(frames[name]["code"], frames[name]["birth_year"], strict=True)
                ],
                dtype="Int64",
            )
            frame = frame.drop(columns=["birth_year"])
        if name == "clinical_events":
            frame["cause"] = [
                death_cause_category(c, None if t is None or pd.isna(t) else bool(t))
                for c, t in zip(frame["cause"], frame["treatment_related"], strict=True)
            ]
            frame = frame.rename(columns={"cause": "cause_category"})
        if name == "adverse_events":
            frame = frame.drop(columns=["term"])
        if "subject_id" in frame:
            frame = frame.sort_values([c for c in ("subject_id", "course_no") if c in frame], kind="stable")
        out[name] = frame.reset_index(drop=True)
    return out


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
                    ("true" if v else "false") if isinstance(v, bool) else v for v in frame[column]
                ]
    return frame


def export_directory(
    engine: Engine,
    out: Path,
    *,
    fmt: str = "csv",
    identified: bool = False,
    actor: str,
    reason: str | None = None,
) -> dict[str, int]:
    """Write every table to ``out`` (de-identified unless ``identified``); return rows per table.

    An identified export requires a reason and is audited (action ``export``); a
    de-identified one is audited too, with a default reason. A ``manifest.json`` records the
    format, the mode, the schema revision and the row counts.
    """
    if fmt not in FORMATS:
        raise ValidationError(Problem(str(out), "format", f"unknown format {fmt!r}; use csv or parquet"))
    actor = audit.require_actor(actor, str(out))
    if identified:
        reason = audit.require_reason(reason, str(out), "export identified data")
    reason = reason or "de-identified export"
    frames = _frames(engine)
    if not identified:
        frames = deidentify(frames)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        data = _encode_for_file(frame, fmt)
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            data.to_csv(path, index=False, date_format="%Y-%m-%d")
        else:
            data.to_parquet(path, index=False)
        counts[name] = len(frame)
    mode = "identified" if identified else "de-identified"
    manifest: dict[str, Any] = {
        "lupuscell_version": __version__,
        "schema_revision": current_revision(engine),
        "format": fmt,
        "mode": mode,
        "de_identification": [] if identified else list(DEIDENTIFICATION),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": counts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    with transaction(engine) as session:
        audit.log_event(
            session,
            action="export",
            entity="export",
            actor=actor,
            reason=reason,
            entity_id=mode,
            new_value={"out": str(out), "format": fmt, "rows": counts},
        )
    return counts
