"""The checks of the bulk loader: the same rules as every other write path, per column.

For each table of a chunk (:class:`lupuscell.registry.bulk.Chunk`):

1. the boundary schema (:data:`lupuscell.registry.bulk_write.TABLE_SCHEMAS`) applied to the
   frame by :func:`lupuscell.schemas.frames.frame_problems` - types, required fields, ranges,
   code lists and the schema's cross-field ``RULES`` (course phase order, donor type for the
   therapy, grading system for the AE category, ...). Skipped when the rows were already
   validated one by one with the same schemas (the import);
2. the plausibility rules (:mod:`lupuscell.registry.plausibility`);
3. the cross-record rules: a patient (and site) code exists once, regardless of case, in the
   load and the registry; child rows refer to a patient of the load or the registry and to a
   course of the load; no date before the patient's birth year; one visit per patient and
   date; one death per patient.

Rows referring to a patient or course rejected earlier are not reported one by one: they are
counted and reported once (:meth:`lupuscell.errors.ProblemList.dependant`). With a database
connection (:class:`RegistryLookup`) the codes are looked up in the registry inside the
writing transaction; without one (:func:`lupuscell.registry.bulk.validate_chunk`) references
must be within the load.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lupuscell.errors import Problem, ProblemList, shorten
from lupuscell.registry import models, plausibility
from lupuscell.registry.bulk_write import CHILD_TABLES, TABLE_SCHEMAS
from lupuscell.schemas.base import BoolArray
from lupuscell.schemas.frames import RowFlag, frame_problems, missing_columns
from lupuscell.schemas.rules import day_number, day_numbers

PARENT_TABLES = ("sites", "patients", "therapy_courses")
LOAD_ORDER = PARENT_TABLES + CHILD_TABLES
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": ("code",),
    "patients": ("code", "site_code"),
    "therapy_courses": ("course_key", "patient_code"),
    "drug_administrations": ("course_key",),
    "visits": ("patient_code",),
    "lab_results": ("patient_code",),
    "adverse_events": ("patient_code",),
    "clinical_events": ("patient_code",),
}
"""Columns a frame of the bulk layout must have besides the schema's required fields (codes and
``course_key`` stand for the database ids)."""
_NOT_IN_FRAME = ("course_id", "patient_code")
"""Schema fields the bulk layout replaces (by ``course_key``; drugs reach the patient through it)."""
IN_CLAUSE = 500
_EPOCH = dt.date(1970, 1, 1)


def _near(code: Any, candidates: Mapping[str, str]) -> str:
    """`` (did you mean 'KI-0001'?)`` when a code differs from a known one only in case."""
    match = candidates.get(code.lower()) if isinstance(code, str) else None
    return f" (codes differing only in case are one code: did you mean {match!r}?)" if match else ""


def _course_flag(mask: BoolArray, *, from_file: bool) -> RowFlag:
    """An unknown course, worded as the file gives it (``course_no``) or as the bulk layout."""
    if not from_file:
        return RowFlag(
            "course_key",
            mask,
            lambda r: f"{shorten(r.get('course_key'))} is not a therapy course of this load",
        )

    def message(row: dict[str, Any]) -> str:
        code, _, number = str(row.get("course_key")).rpartition("/")
        return f"no course {number} for {code} in therapy_courses"

    return RowFlag("course_no", mask, message)


class RegistryLookup:
    """Codes, visits and deaths already in the registry, read inside the load's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.patients: dict[str, tuple[int, int]] = {}
        """Exact code -> (id, birth year) of registry patients looked up so far."""
        self.patients_ci: dict[str, str] = {}
        self.sites_ci: dict[str, str] = {}
        self._asked: set[str] = set()

    def _codes(self, table: Any, codes: Iterable[str]) -> list[Any]:
        wanted = sorted({c.lower() for c in codes if isinstance(c, str)})
        rows: list[Any] = []
        for start in range(0, len(wanted), IN_CLAUSE):
            part = wanted[start : start + IN_CLAUSE]
            rows += self.conn.execute(sa.select(table).where(sa.func.lower(table.c.code).in_(part))).all()
        return rows

    def look_up_patients(self, codes: Iterable[str]) -> None:
        """Cache the registry patients whose code equals one of ``codes`` regardless of case."""
        new = {c for c in codes if isinstance(c, str) and c.lower() not in self._asked}
        for row in self._codes(models.Patient.__table__, new):
            self.patients[row.code] = (row.id, row.birth_year)
            self.patients_ci[row.code.lower()] = row.code
        self._asked |= {c.lower() for c in new}

    def look_up_sites(self, codes: Iterable[str]) -> dict[str, str]:
        """Registry site codes matching ``codes`` regardless of case (lower -> stored code)."""
        for row in self._codes(models.Site.__table__, codes):
            self.sites_ci[row.code.lower()] = row.code
        return self.sites_ci

    def existing_visits(self, keys: pd.DataFrame) -> set[tuple[int, float]]:
        """Stored (patient id, day number) among ``keys`` (columns ``pid``, ``day``)."""
        visits = models.Visit.__table__
        keys = keys.dropna()
        if keys.empty:
            return set()
        first, last = (_EPOCH + dt.timedelta(days=int(d)) for d in (keys["day"].min(), keys["day"].max()))
        found: set[tuple[int, float]] = set()
        ids = sorted(set(keys["pid"].astype(int)))
        for start in range(0, len(ids), IN_CLAUSE):
            query = sa.select(visits.c.patient_id, visits.c.visit_date).where(
                visits.c.patient_id.in_(ids[start : start + IN_CLAUSE]),
                visits.c.visit_date.between(first, last),
            )
            found |= {(int(row[0]), day_number(row[1])) for row in self.conn.execute(query)}
        return found

    def existing_deaths(self, patient_ids: Iterable[int]) -> set[int]:
        events = models.ClinicalEvent.__table__
        rows = self._by_patient(events, events.c.event_type, patient_ids)
        return {pid for pid, kind in rows if kind == "death"}

    def _by_patient(self, table: Any, column: Any, patient_ids: Iterable[int]) -> list[Any]:
        ids = sorted(set(patient_ids))
        rows: list[Any] = []
        for start in range(0, len(ids), IN_CLAUSE):
            part = ids[start : start + IN_CLAUSE]
            rows += self.conn.execute(
                sa.select(table.c.patient_id, column).where(table.c.patient_id.in_(part))
            ).all()
        return rows


@dataclass
class LoadChecks:
    """What the checks of one load remember from chunk to chunk."""

    problems: ProblemList = field(default_factory=ProblemList)
    registry: RegistryLookup | None = None
    sources: dict[str, str] = field(default_factory=dict)
    birth_years: dict[str, int] = field(default_factory=dict)
    """Patient code -> birth year: patients of the load (validated) and of the registry."""
    load_patients_ci: dict[str, str] = field(default_factory=dict)
    load_sites_ci: dict[str, str] = field(default_factory=dict)
    courses: set[str] = field(default_factory=set)
    rejected: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Table -> keys rejected (patient codes for ``patients``, course keys for courses)."""
    deaths: set[str] = field(default_factory=set)
    offsets: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    # ------------------------------------------------------------------ labels

    def source(self, table: str) -> str:
        return self.sources.get(table, table)

    def label(self, table: str, frame: pd.DataFrame, pos: int) -> str:
        """Where a row is: ``<file> row <n>`` (import) or ``<table> row <n> (code X)``."""
        if "_row" in frame.columns:
            return f"{self.source(table)} row {int(frame['_row'].iloc[pos])}"
        text = f"{table} row {self.offsets[table] + pos + 1}"
        for key in ("code", "course_key", "patient_code"):
            if key in frame.columns and isinstance(frame[key].iloc[pos], str):
                return f"{text} ({key} {frame[key].iloc[pos]})"
        return text

    # ------------------------------------------------------------------ one table

    def check(self, table: str, frame: pd.DataFrame, *, schema_checked: bool = False) -> BoolArray:
        """Check one table's frame; record the problems; return the mask of rejected rows."""
        missing = [c for c in KEY_COLUMNS[table] if c not in frame.columns]
        missing += missing_columns(TABLE_SCHEMAS[table], frame.columns, ignore=_NOT_IN_FRAME)
        if missing:
            for column in dict.fromkeys(missing):
                self.problems.add(
                    Problem(f"{self.source(table)} table", column, "required column is missing")
                )
            return np.ones(len(frame), dtype=bool)
        dependent = self._dependants(table, frame)
        flags = [] if schema_checked else frame_problems(TABLE_SCHEMAS[table], frame)
        flags += plausibility.frame_flags(table, frame)
        flags += self._cross_record(table, frame)
        bad = self._report(table, frame, flags, ~dependent)
        self._remember(table, frame, bad | dependent)
        self.offsets[table] += len(frame)
        return bad | dependent

    def _report(self, table: str, frame: pd.DataFrame, flags: list[RowFlag], keep: BoolArray) -> BoolArray:
        bad = np.zeros(len(frame), dtype=bool)
        for flag in flags:
            mask = flag.mask & keep
            positions = np.flatnonzero(mask)
            bad |= mask
            for n, pos in enumerate(positions):
                if n >= self.problems.per_kind or self.problems.full():
                    self.problems.count_more(self.source(table), flag.field, len(positions) - n)
                    break
                row = {str(k): v for k, v in frame.iloc[int(pos)].items()}
                self.problems.add(
                    Problem(self.label(table, frame, int(pos)), flag.field, flag.message(row)),
                    self.source(table),
                )
        return bad

    # ------------------------------------------------------------------ references

    def _dependants(self, table: str, frame: pd.DataFrame) -> BoolArray:
        """Rows whose patient or course was rejected earlier (counted once, not listed)."""
        dependent = np.zeros(len(frame), dtype=bool)
        for parent, column in (("patients", "patient_code"), ("therapy_courses", "course_key")):
            rejected = self.rejected.get(parent)
            if not rejected or column not in frame.columns or table in ("patients", parent):
                continue
            mask = np.asarray(frame[column].isin(rejected), dtype=bool) & ~dependent
            if mask.any():
                keys = [str(k) for k in pd.unique(frame[column][mask])[:6]]
                self.problems.dependant(self.source(table), parent.replace("_", " "), keys, int(mask.sum()))
            dependent |= mask
        return dependent

    def _remember(self, table: str, frame: pd.DataFrame, rejected: BoolArray) -> None:
        if table == "sites":
            self.load_sites_ci.update({c.lower(): c for c in frame["code"] if isinstance(c, str)})
        elif table == "patients":
            self.rejected["patients"].update(frame["code"][rejected])
            good = frame[~rejected]
            self.birth_years.update(zip(good["code"], good["birth_year"].astype(int), strict=True))
            self.load_patients_ci.update({c.lower(): c for c in good["code"]})
        elif table == "therapy_courses":
            self.rejected["therapy_courses"].update(frame["course_key"][rejected])
            self.courses.update(frame["course_key"][~rejected])
        elif table == "clinical_events" and "event_type" in frame.columns:
            deaths = frame[(frame["event_type"] == "death").to_numpy() & ~rejected]
            self.deaths.update(deaths["patient_code"])

    def _cross_record(self, table: str, frame: pd.DataFrame) -> list[RowFlag]:
        checks: dict[str, Callable[[pd.DataFrame], list[RowFlag]]] = {
            "sites": self._sites,
            "patients": self._patients,
            "visits": self._visits,
            "clinical_events": self._deaths,
        }
        flags = []
        if "patient_code" in frame.columns and table != "patients":
            flags += self._patient_refs(table, frame)  # first: it looks the patients up
        flags += checks[table](frame) if table in checks else []
        if "course_key" in frame.columns and table in ("drug_administrations", "adverse_events"):
            key = frame["course_key"]
            unknown = (
                key.notna() & ~key.isin(self.courses) & ~key.isin(self.rejected.get("therapy_courses", ()))
            )
            flags.append(_course_flag(np.asarray(unknown), from_file="_row" in frame.columns))
        if table == "therapy_courses":
            dup = np.asarray(frame["course_key"].duplicated() | frame["course_key"].isin(self.courses))
            flags.append(
                RowFlag("course_key", dup, lambda r: f"course {shorten(r.get('course_key'))} appears twice")
            )
        return [f for f in flags if f.mask.any()]

    def _sites(self, frame: pd.DataFrame) -> list[RowFlag]:
        lower = frame["code"].astype(str).str.lower()
        registry = self.registry.look_up_sites(frame["code"]) if self.registry else {}
        near = np.asarray([registry.get(c.lower(), c) != c for c in frame["code"].astype(str)], dtype=bool)
        return [
            RowFlag(
                "code",
                np.asarray(lower.duplicated()),
                lambda r: f"site code {shorten(r.get('code'))} appears twice",
            ),
            RowFlag(
                "code",
                near,
                lambda r: (
                    f"site code {r.get('code')!r} differs only in case from registry site "
                    f"{registry.get(str(r.get('code')).lower())!r}; use that code"
                ),
            ),
        ]

    def _patients(self, frame: pd.DataFrame) -> list[RowFlag]:
        codes = frame["code"].astype(str)
        lower = codes.str.lower()
        if self.registry is not None:
            self.registry.look_up_patients(codes)
        registry_ci = self.registry.patients_ci if self.registry else {}
        in_load = np.asarray(lower.duplicated() | lower.isin(self.load_patients_ci.keys()), dtype=bool)
        in_registry = np.asarray(lower.isin(registry_ci.keys()), dtype=bool)
        sites = set(self.load_sites_ci.values())
        if self.registry is not None:
            sites |= set(self.registry.look_up_sites(frame["site_code"]).values())
        unknown_site = (
            np.asarray(~frame["site_code"].isin(sites), dtype=bool)
            if sites or self.registry
            else np.zeros(len(frame), bool)
        )

        def existing(row: dict[str, Any]) -> str:
            stored = registry_ci[str(row["code"]).lower()]
            if stored == row["code"]:
                return f"duplicate patient code {stored!r}: already in the registry"
            return f"patient code {row['code']!r} differs only in case from registry patient {stored!r}"

        return [
            RowFlag(
                "code",
                in_load,
                lambda r: (
                    f"duplicate patient code {shorten(r.get('code'))} (codes differing only in case are one code)"
                ),
            ),
            RowFlag("code", in_registry, existing),
            RowFlag(
                "site_code",
                unknown_site,
                lambda r: (
                    f"unknown site {shorten(r.get('site_code'))}"
                    + _near(
                        r.get("site_code"),
                        {**self.load_sites_ci, **(self.registry.sites_ci if self.registry else {})},
                    )
                ),
            ),
        ]

    def _patient_refs(self, table: str, frame: pd.DataFrame) -> list[RowFlag]:
        codes = frame["patient_code"]
        if self.registry is not None:
            self.registry.look_up_patients(c for c in pd.unique(codes) if c not in self.birth_years)
            for code, (_, year) in self.registry.patients.items():
                self.birth_years.setdefault(code, year)
        known = np.asarray(codes.isin(self.birth_years.keys()), dtype=bool)
        near = {**self.load_patients_ci, **(self.registry.patients_ci if self.registry else {})}
        where = "of this load or the registry" if self.registry is not None else "of this load"
        flags = [
            RowFlag(
                "patient_code",
                ~known,
                lambda r: (
                    f"{shorten(r.get('patient_code'))} is not a patient {where}"
                    + _near(r.get("patient_code"), near)
                ),
            )
        ]
        born = pd.to_numeric(codes.map(self.birth_years), errors="coerce")
        first_days = {y: float((dt.date(int(y), 1, 1) - _EPOCH).days) for y in pd.unique(born.dropna())}
        first_day = born.map(first_days).to_numpy(dtype=float)
        for column in plausibility.date_columns(table):
            if column not in frame.columns:
                continue
            with np.errstate(invalid="ignore"):
                early = known & (day_numbers(frame[column]) < first_day)
            flags.append(
                RowFlag(
                    column,
                    early,
                    lambda r, c=column: (
                        f"{c} {r.get(c)} is before the patient's birth year "
                        f"{self.birth_years.get(r.get('patient_code'))}"
                    ),
                )
            )
        return flags

    def _patient_ids(self, codes: pd.Series) -> pd.Series:
        ids = {code: pid for code, (pid, _) in (self.registry.patients.items() if self.registry else [])}
        return codes.map(ids)

    def _visits(self, frame: pd.DataFrame) -> list[RowFlag]:
        days = day_numbers(frame["visit_date"])
        keys = pd.DataFrame({"code": frame["patient_code"].to_numpy(), "day": days})
        twice = np.asarray(keys.duplicated(), dtype=bool)
        stored = np.zeros(len(frame), dtype=bool)
        if self.registry is not None:
            pids = self._patient_ids(frame["patient_code"]).to_numpy(dtype=float)
            existing = self.registry.existing_visits(pd.DataFrame({"pid": pids, "day": days}))
            stored = np.array(
                [p == p and (int(p), d) in existing for p, d in zip(pids, days, strict=True)], dtype=bool
            )
        return [
            RowFlag(
                "visit_date",
                twice | stored,
                lambda r: f"{r.get('patient_code')} already has a visit on {r.get('visit_date')}",
            )
        ]

    def _deaths(self, frame: pd.DataFrame) -> list[RowFlag]:
        death = np.asarray(frame["event_type"] == "death", dtype=bool)
        codes = frame["patient_code"]
        twice = death & np.asarray(codes.where(death).duplicated() & codes.notna(), dtype=bool)
        earlier = death & np.asarray(codes.isin(self.deaths), dtype=bool)
        stored = np.zeros(len(frame), dtype=bool)
        if self.registry is not None and death.any():
            pids = self._patient_ids(codes)
            existing = self.registry.existing_deaths(pids[death].dropna().astype(int))
            stored = death & np.asarray(pids.isin(existing), dtype=bool)
        return [
            RowFlag(
                "event_type",
                twice | earlier | stored,
                lambda r: f"{r.get('patient_code')} already has a recorded death",
            )
        ]
