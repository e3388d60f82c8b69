"""Cross-field rules of the boundary schemas, declared once and applied two ways.

Each rule (e.g. "harvest is not after infusion", "an autologous HSCT has an autologous donor")
is a small object with

* :meth:`Rule.violated` - one record (a mapping or a pydantic model): used by the schemas'
  model validator, hence by the repository, the import and the web forms;
* :meth:`Rule.mask` - a whole data frame at once (vectorised): used by the bulk loader
  (:mod:`lupuscell.registry.bulk`), where a pydantic model per row would cost more than the
  load itself;
* :meth:`Rule.message` - the same wording for both.

A schema lists its rules in ``RULES``; :func:`row_problems` and :func:`frame_flags` apply
them. ``tests/schemas/test_schema_rules.py`` checks that the two ways agree row for row.
Written by hand because no validation library evaluates one declarative rule both per record
and per column (pandera checks frames only, pydantic records only).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lupuscell.errors import shorten

BoolArray = npt.NDArray[np.bool_]
_EPOCH = dt.date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- value helpers


def day_number(value: Any) -> float:
    """Days since 1970-01-01 of a date-like value; NaN when missing or not a date.

    Works for any calendar date (``datetime.date``, pandas ``Timestamp``, ISO text), unlike
    ``datetime64[ns]``, which overflows after 2262.
    """
    if value is None or value is pd.NaT:
        return math.nan
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if isinstance(value, dt.datetime | pd.Timestamp):
        return float(value.date().toordinal() - _EPOCH)
    if isinstance(value, dt.date):
        return float(value.toordinal() - _EPOCH)
    if isinstance(value, np.datetime64):
        return math.nan if np.isnat(value) else float(value.astype("datetime64[D]").astype(np.int64))
    if isinstance(value, str):
        try:
            return float(dt.date.fromisoformat(value.strip()[:10]).toordinal() - _EPOCH)
        except ValueError:
            return math.nan
    return math.nan


def day_numbers(series: pd.Series) -> npt.NDArray[np.float64]:
    """:func:`day_number` of every value of a column (vectorised for datetime64 columns,
    computed once per distinct value otherwise)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.to_numpy(dtype="datetime64[D]")
        out = values.astype(np.int64).astype(float)
        out[np.isnat(values)] = np.nan
        return out
    return per_value(series, day_number, dtype=float, missing=np.nan)


class Distinct:
    """A column factorised once: per-value functions are then computed once per distinct value
    (columns of codes, units or dates repeat a few values over millions of rows)."""

    def __init__(self, series: pd.Series) -> None:
        self.size = len(series)
        self.present = np.asarray(series.notna().to_numpy(), dtype=bool)
        self.codes: npt.NDArray[np.intp] | None = None
        self.values: npt.NDArray[Any] | None = None
        try:
            self.codes, uniques = pd.factorize(series)
            self.uniques: list[Any] = list(uniques)
        except TypeError:  # lists are unhashable: no distinct values to share
            self.values = series.to_numpy(dtype=object)
            self.uniques = []

    def apply(
        self, function: Callable[[Any], Any], *, dtype: Any = bool, missing: Any = False
    ) -> npt.NDArray[Any]:
        """``function(value)`` for every non-missing value; ``missing`` elsewhere."""
        out = np.full(self.size, missing, dtype=dtype)
        if not self.present.any():
            return out
        if self.codes is None:
            assert self.values is not None
            out[self.present] = [function(v) for v in self.values[self.present]]
            return out
        results = np.array([function(u) for u in self.uniques], dtype=dtype)
        known = self.codes >= 0
        out[known] = results[self.codes[known]]
        return out


def per_value(
    series: pd.Series | Distinct, function: Callable[[Any], Any], *, dtype: Any = bool, missing: Any = False
) -> npt.NDArray[Any]:
    """``function(value)`` for every non-missing value of a column, computed once per distinct
    value (:class:`Distinct`); ``missing`` where the value is missing."""
    distinct = series if isinstance(series, Distinct) else Distinct(series)
    return distinct.apply(function, dtype=dtype, missing=missing)


def pair_codes(first: pd.Series, second: pd.Series) -> tuple[npt.NDArray[np.intp], list[tuple[Any, Any]]]:
    """Codes of the distinct (first, second) pairs of two columns, and the pairs themselves."""
    a_codes, a_values = pd.factorize(first.astype(object).fillna(""))
    b_codes, b_values = pd.factorize(second.astype(object).fillna(""))
    combined = a_codes.astype(np.int64) * max(len(b_values), 1) + b_codes
    codes, distinct = pd.factorize(combined)
    width = max(len(b_values), 1)
    pairs = [(a_values[int(c) // width], b_values[int(c) % width]) for c in distinct]
    return codes, pairs


def _get(record: Any, name: str) -> Any:
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    if isinstance(value, float) and math.isnan(value):
        return None
    return None if value is pd.NaT else value


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _present(series: pd.Series) -> BoolArray:
    return np.asarray(series.notna().to_numpy(), dtype=bool)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """Base of a cross-field rule: ``field`` is the field a violation is reported on."""

    field: str

    def violated(self, record: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def mask(self, frame: pd.DataFrame) -> BoolArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def message(self, record: Any) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class DateOrder(Rule):
    """``earlier <= field`` when both dates are given; reported on the later field."""

    earlier: str = ""
    wording: str = ""

    def violated(self, record: Any) -> bool:
        return day_number(_get(record, self.field)) < day_number(_get(record, self.earlier))

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        first = day_numbers(_column(frame, self.earlier))
        second = day_numbers(_column(frame, self.field))
        with np.errstate(invalid="ignore"):
            return np.asarray(second < first, dtype=bool)

    def message(self, record: Any) -> str:
        later, earlier = _date_text(_get(record, self.field)), _date_text(_get(record, self.earlier))
        return f"{self.field} {later} is before {self.earlier} {earlier} ({self.wording})"


def _date_text(value: Any) -> str:
    number = day_number(value)
    return str(value) if math.isnan(number) else dt.date.fromordinal(int(number) + _EPOCH).isoformat()


@dataclass(frozen=True)
class AllowedWith(Rule):
    """``field`` must be one of ``allowed[record[depends_on]]`` when both are given
    (a ``depends_on`` value missing from ``allowed`` accepts any value)."""

    depends_on: str = ""
    allowed: Mapping[str, tuple[str, ...]] | None = None
    wording: str = "compatible with"

    def _allowed(self, key: Any) -> tuple[str, ...] | None:
        return (self.allowed or {}).get(key) if isinstance(key, str) else None

    def violated(self, record: Any) -> bool:
        value, allowed = _get(record, self.field), self._allowed(_get(record, self.depends_on))
        return value is not None and allowed is not None and value not in allowed

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        value, key = _column(frame, self.field), _column(frame, self.depends_on)
        bad = np.zeros(len(frame), dtype=bool)
        for depends, allowed in (self.allowed or {}).items():
            bad |= np.asarray((key == depends) & value.notna() & ~value.isin(allowed), dtype=bool)
        return bad

    def message(self, record: Any) -> str:
        key = _get(record, self.depends_on)
        allowed = self._allowed(key) or ()
        return (
            f"{self.field} {shorten(_get(record, self.field))} is not {self.wording} {self.depends_on} {key!r}; "
            f"allowed values: {', '.join(allowed)}"
        )


@dataclass(frozen=True)
class GradeInRange(Rule):
    """``field`` (a grade) lies within ``ranges[record[system]]`` (inclusive)."""

    system: str = ""
    ranges: Mapping[str, tuple[int, int]] | None = None

    def violated(self, record: Any) -> bool:
        grade, system = _get(record, self.field), _get(record, self.system)
        bounds = (self.ranges or {}).get(system) if isinstance(system, str) else None
        return grade is not None and bounds is not None and not bounds[0] <= grade <= bounds[1]

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        grade = pd.to_numeric(_column(frame, self.field), errors="coerce")
        system = _column(frame, self.system)
        bad = np.zeros(len(frame), dtype=bool)
        for name, (low, high) in (self.ranges or {}).items():
            bad |= np.asarray((system == name) & ((grade < low) | (grade > high)), dtype=bool)
        return bad

    def message(self, record: Any) -> str:
        system = _get(record, self.system)
        low, high = (self.ranges or {})[system]
        return f"grade {_get(record, self.field)} is outside {system}'s range {low}-{high}"


@dataclass(frozen=True)
class OnlyFor(Rule):
    """``field`` may be given only when ``record[kind]`` is one of ``kinds``."""

    kind: str = ""
    kinds: tuple[str, ...] = ()

    def violated(self, record: Any) -> bool:
        kind = _get(record, self.kind)
        return _get(record, self.field) is not None and isinstance(kind, str) and kind not in self.kinds

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        kind = _column(frame, self.kind)
        return _present(_column(frame, self.field)) & _present(kind) & ~np.asarray(kind.isin(self.kinds))

    def message(self, record: Any) -> str:
        return f"{self.field} applies only to {', '.join(self.kinds)}"


@dataclass(frozen=True)
class RequiresMember(Rule):
    """``field`` may be given only when the list ``container`` holds ``member``."""

    container: str = ""
    member: str = ""

    def violated(self, record: Any) -> bool:
        items = _get(record, self.container)
        return _get(record, self.field) is not None and self.member not in _as_list(items)

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        given = _present(_column(frame, self.field))
        holds = np.fromiter(
            (self.member in _as_list(v) for v in _column(frame, self.container).to_numpy(dtype=object)),
            dtype=bool,
            count=len(frame),
        )
        return given & ~holds

    def message(self, record: Any) -> str:
        return f"a {self.field.replace('_', ' ')} requires {self.member!r} in {self.container}"


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";")]
    return list(value)


@dataclass(frozen=True)
class YearNotBefore(Rule):
    """The year of date ``field`` is not before the year in ``year_field``."""

    year_field: str = ""

    def violated(self, record: Any) -> bool:
        number, year = day_number(_get(record, self.field)), _get(record, self.year_field)
        if math.isnan(number) or year is None:
            return False
        return dt.date.fromordinal(int(number) + _EPOCH).year < int(year)

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        days = day_numbers(_column(frame, self.field))
        years = pd.to_numeric(_column(frame, self.year_field), errors="coerce").to_numpy(dtype=float)
        known = ~np.isnan(days) & ~np.isnan(years)
        out = np.zeros(len(frame), dtype=bool)
        first_day = np.array(
            [dt.date(int(y), 1, 1).toordinal() - _EPOCH if 1 <= y <= 9999 else np.inf for y in years[known]]
        )
        out[known] = days[known] < first_day
        return out

    def message(self, record: Any) -> str:
        return (
            f"{self.field} {_date_text(_get(record, self.field))} is before "
            f"{self.year_field.replace('_', ' ')} {_get(record, self.year_field)}"
        )


@dataclass(frozen=True)
class NotAfterCurrentYear(Rule):
    """A year (e.g. of birth) is not after the current calendar year."""

    def violated(self, record: Any) -> bool:
        year = _get(record, self.field)
        return year is not None and int(year) > dt.date.today().year

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        years = pd.to_numeric(_column(frame, self.field), errors="coerce")
        return np.asarray(years > dt.date.today().year, dtype=bool)

    def message(self, record: Any) -> str:
        return f"{self.field.replace('_', ' ')} {_get(record, self.field)} is in the future"


# --------------------------------------------------------------------------- applying rules


@dataclass(frozen=True)
class Flag:
    """Rows of a frame that break one rule: ``mask`` marks them, ``message`` words each."""

    field: str
    mask: BoolArray
    message: Callable[..., str]


def row_problems(rules: Iterable[Rule], record: Any) -> list[tuple[str, str]]:
    """(field, message) for every rule ``record`` breaks."""
    return [(rule.field, rule.message(record)) for rule in rules if rule.violated(record)]


def frame_flags(rules: Sequence[Rule], frame: pd.DataFrame) -> list[Flag]:
    """One :class:`Flag` per rule that at least one row of ``frame`` breaks."""
    flags = []
    for rule in rules:
        mask = rule.mask(frame)
        if mask.any():
            flags.append(Flag(rule.field, mask, rule.message))
    return flags
