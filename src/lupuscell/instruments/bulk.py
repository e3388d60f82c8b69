"""Vectorised scoring of a visit table: SLEDAI-2K, clinical SLEDAI, LLDAS and DORIS 2021.

One row per visit, one boolean column per SLEDAI-2K descriptor (the 24 names of
:data:`lupuscell.instruments.sledai2k.DESCRIPTORS`) plus, for LLDAS and DORIS, the columns of
:data:`LLDAS_COLUMNS` and :data:`DORIS_COLUMNS`. The results equal the per-visit functions
(:func:`~lupuscell.instruments.sledai2k.score_sledai_2k`,
:func:`~lupuscell.instruments.response.score_lldas`,
:func:`~lupuscell.instruments.response.score_doris_2021`) row for row; a property test checks
this on random tables.

Missing values
--------------
The descriptors are checklist items: on a paper form an unticked item is
*absent*, and the per-visit input treats a left-out descriptor that way. In a table every
descriptor has a cell, so a *missing cell* (NA/NaN/empty in CSV) means *not assessed*: it is
never read as false. A row with a missing descriptor gets ``sledai_2k`` and ``clinical_sledai``
NA; LLDAS and DORIS use three-valued logic, exactly as the per-visit functions with that
descriptor listed in ``unassessed_descriptors``: ``false`` if a criterion fails whatever the
missing values are, NA if the answer depends on them. Missing PGA, dose or attestation
columns likewise give NA unless another criterion already fails.

Precision
---------
``threshold_arithmetic`` is the option of the per-visit functions. With
``round_to_precision`` (default) PGA is compared in integer tenths and prednisolone in
integer hundredths of a mg with the same half-up rounding as the per-visit path
(:func:`lupuscell.instruments.base.to_units`), so a PGA of 1.0000000000000002 (a float
artefact) is 1.0 in both paths. With ``exact_decimal`` the per-visit path compares
``Decimal(repr(x))``; every cut-off (PGA 0.5 and 1.0, 5 and 7.5 mg) is exactly representable
in binary, and for such a cut-off ``Decimal(repr(x)) <= c`` holds exactly when ``x <= c``
(the shortest repr of a double rounds back to it), so here the plain float comparison is used.

Why hand-written
----------------
The weighted sum is a dot product, but ``frame[cols].to_numpy() @ weights`` would first copy
the 24 columns into a row-major matrix and would still leave serology, major-organ activity
and missing-cell bookkeeping to do. Here each descriptor column (and NA mask) is read once,
without copying, and added in place into one ``uint8`` count per (weight, category) group;
SLEDAI-2K, clinical SLEDAI, the LLDAS major-organ test and the unknown ranges all follow from
those 8 counts. Rows are processed in blocks of :data:`BLOCK_ROWS` so the temporaries stay in
the CPU cache. ``benchmarks/score_bulk.py`` compares this with the numpy matmul limit.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.errors import Problem, ValidationError
from lupuscell.instruments.base import HALF_UP
from lupuscell.instruments.response import (
    DORIS_FAILURES,
    DORIS_PGA_RULES,
    DORIS_PRED_RULES,
    DOSE_STEPS,
    LLDAS_FAILURES,
    LLDAS_MAJOR_ORGAN,
    LLDAS_PGA_MAX_TENTHS,
    LLDAS_PRED_MAX_HUNDREDTHS,
    LLDAS_SLEDAI_MAX,
    PGA_STEPS,
    THRESHOLD_ARITHMETIC,
)
from lupuscell.instruments.sledai2k import DESCRIPTORS, SEROLOGY, WEIGHTS

INSTRUMENTS: tuple[str, ...] = ("sledai_2k", "clinical_sledai", "lldas", "doris_2021")
LLDAS_COLUMNS: tuple[str, ...] = (
    "pga",
    "prednisolone_mg_per_day",
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity_since_previous_assessment",
    "standard_maintenance_therapy_well_tolerated",
)
DORIS_COLUMNS: tuple[str, ...] = ("pga", "prednisolone_mg_per_day", "immunosuppressives_and_biologics_stable")
#: Optional column: recorded by DORIS (antimalarials are allowed, not required); not used.
OPTIONAL_COLUMNS: tuple[str, ...] = ("on_antimalarial",)

#: Rows per block: the uint8/bool temporaries of one block stay in the CPU cache.
BLOCK_ROWS = 1 << 17
_RANGES: dict[str, tuple[float, float]] = {"pga": (0.0, 3.0), "prednisolone_mg_per_day": (0.0, 2000.0)}

BoolCol = tuple[np.ndarray, np.ndarray | None]  # (value, NA mask or None); value is False under NA


def _category(key: str) -> str:
    return "major" if key in LLDAS_MAJOR_ORGAN else "serology" if key in SEROLOGY else "other"


#: Descriptors grouped by (weight, LLDAS/DORIS category): one uint8 count per group is enough
#: to derive SLEDAI-2K, clinical SLEDAI, the serology part and "any major organ activity".
_GROUPS: tuple[tuple[int, str, tuple[str, ...]], ...] = tuple(
    (weight, category, tuple(k for k in DESCRIPTORS if WEIGHTS[k] == weight and _category(k) == category))
    for weight in sorted(set(WEIGHTS.values()), reverse=True)
    for category in ("major", "serology", "other")
    if any(WEIGHTS[k] == weight and _category(k) == category for k in DESCRIPTORS)
)


def _bad_rows(frame: pd.DataFrame, where: np.ndarray, limit: int = 5) -> str:
    rows = frame.index[np.flatnonzero(where)[:limit]]
    more = int(where.sum()) - len(rows)
    return ", ".join(map(str, rows)) + (f" and {more} more" if more > 0 else "")


def _bool_column(frame: pd.DataFrame, name: str) -> BoolCol:
    col = frame[name]
    if col.dtype == np.bool_:
        return col.to_numpy(), None
    if not isinstance(col.dtype, pd.BooleanDtype):
        try:
            col = col.astype("boolean")
        except (TypeError, ValueError):
            raise ValidationError.single(
                "visit table",
                name,
                f"expected booleans (true/false or 1/0, empty = not assessed), got {col.dtype}",
            ) from None
    array = col.array
    # BooleanArray keeps values and NA mask as two numpy arrays: read them without copying.
    # Values under the mask are unspecified, hence ``data > mask`` (= data AND NOT mask).
    data, mask = getattr(array, "_data", None), getattr(array, "_mask", None)
    if not (isinstance(data, np.ndarray) and isinstance(mask, np.ndarray)):  # pragma: no cover
        data, mask = array.to_numpy(dtype=bool, na_value=False), np.asarray(array.isna())
    if not mask.any():
        return data, None
    return np.greater(data, mask), mask


def _number_column(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Float values (NaN where missing) of ``name``, validated against the allowed range."""
    try:
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValidationError.single("visit table", name, "expected numbers (empty = missing)") from None
    low, high = _RANGES[name]
    na: np.ndarray | None = None
    lowest, highest = (values.min(), values.max()) if len(values) else (low, high)
    if np.isnan(lowest) or np.isnan(highest):
        na = np.isnan(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column: nothing out of range
            lowest, highest = np.nanmin(values), np.nanmax(values)
    if lowest < low or highest > high:
        bad = (values < low) | (values > high)
        raise ValidationError.single(
            "visit table",
            name,
            f"out of range in rows {_bad_rows(frame, bad)} (allowed range: {low:g} to {high:g})",
        )
    return values, na


def _scaled(values: np.ndarray, per_unit: int) -> np.ndarray:
    """``x * k + HALF_UP``: its floor is :func:`lupuscell.instruments.base.to_units` (same two
    operations in the same order), so ``to_units(x) <= c`` is ``scaled < c + 1`` and
    ``to_units(x) < c`` is ``scaled < c``, without materialising the floor."""
    scaled = values * float(per_unit)
    scaled += HALF_UP
    return scaled


class _Steps:
    """Values compared against cut-offs given in integer steps of 1/per_unit.

    Rounded (default): ``to_units(x) <= c`` is ``scaled < c + 1`` (see :func:`_scaled`).
    Exact: ``x <= c / per_unit`` on the raw floats; ``c / per_unit`` is exact for every
    cut-off used (0.5, 1.0, 5.0, 7.5), which makes this the exact-decimal comparison.
    """

    def __init__(self, values: np.ndarray, per_unit: int, exact: bool) -> None:
        self.per_unit = per_unit
        self.exact = exact
        self.values = values if exact else _scaled(values, per_unit)

    def at_most(self, cut: int) -> np.ndarray:
        if self.exact:
            return np.less_equal(self.values, cut / self.per_unit)
        return np.less(self.values, cut + 1)

    def below(self, cut: int) -> np.ndarray:
        if self.exact:
            return np.less(self.values, cut / self.per_unit)
        return np.less(self.values, cut)


class _Kleene:
    """AND of criteria in three-valued logic.

    ``passed`` accumulates "met or unknown" per row, ``unknown`` "some criterion unknown":
    the result is False where not passed, NA where passed and unknown, True otherwise.
    """

    def __init__(self, n: int, keep: bool) -> None:
        self.passed = np.ones(n, dtype=bool)
        self.unknown: np.ndarray | None = None
        self.keep = keep
        self.failures: list[np.ndarray] = []

    def add(self, ok: np.ndarray, unknown: np.ndarray | None) -> None:
        ok_or_unknown = ok if unknown is None else ok | unknown
        np.logical_and(self.passed, ok_or_unknown, out=self.passed)
        if unknown is not None:
            self.unknown = unknown.copy() if self.unknown is None else np.logical_or(self.unknown, unknown)
        if self.keep:
            self.failures.append(~ok_or_unknown)

    def value_and_mask(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.passed, (None if self.unknown is None else self.passed & self.unknown)

    def failure_codes(self) -> np.ndarray:
        codes = np.zeros(self.passed.shape[0], dtype=np.uint8)
        for bit, failed in enumerate(self.failures):
            codes |= failed.view(np.uint8) << np.uint8(bit)
        return codes


def _failure_labels(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    labels = [
        ",".join(sorted(names[b] for b in range(len(names)) if code >> b & 1))
        for code in range(1 << len(names))
    ]
    return pd.Categorical.from_codes(codes.astype(np.int16), categories=pd.Index(labels, dtype=object))


@dataclass
class _Sums:
    """Per-row uint8 sums over the descriptors: known-true part and not-assessed part."""

    total: np.ndarray
    serology: np.ndarray
    major: np.ndarray  # count of active major-organ descriptors
    unknown_total: np.ndarray | None
    unknown_serology: np.ndarray | None
    unknown_major: np.ndarray | None


def _group_sums(arrays: list[np.ndarray | None], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weighted total, weighted serology part, count of major-organ items) of boolean columns."""
    u8 = np.uint8
    total, serology, major = np.zeros(n, u8), np.zeros(n, u8), np.zeros(n, u8)
    count = np.empty(n, u8)
    position = 0
    for weight, category, keys in _GROUPS:
        present = [a for a in arrays[position : position + len(keys)] if a is not None]
        position += len(keys)
        if not present:
            continue
        count[:] = present[0]
        for array in present[1:]:
            np.add(count, array.view(u8), out=count)
        weighted = count if weight == 1 else count * u8(weight)
        np.add(total, weighted, out=total)
        if category == "serology":
            np.add(serology, weighted, out=serology)
        elif category == "major":
            np.add(major, count, out=major)
    return total, serology, major


def _descriptor_sums(cols: dict[str, BoolCol], n: int) -> _Sums:
    ordered = [key for _, _, keys in _GROUPS for key in keys]
    total, serology, major = _group_sums([cols[k][0] for k in ordered], n)
    masks = [cols[k][1] for k in ordered]
    if all(m is None for m in masks):
        return _Sums(total, serology, major, None, None, None)
    return _Sums(total, serology, major, *_group_sums(masks, n))


def score_visit_table(
    frame: pd.DataFrame,
    instruments: Sequence[str] = ("sledai_2k", "clinical_sledai", "lldas", "doris_2021"),
    *,
    prednisolone_rule: str = "le_5",
    pga_rule: str = "lt_0_5",
    failed_criteria: bool = False,
    threshold_arithmetic: str = "round_to_precision",
    **options: Any,
) -> pd.DataFrame:
    """Score every visit of ``frame``; return a new frame with the result columns added.

    Parameters
    ----------
    frame
        One row per visit; the 24 descriptor columns (bool, nullable ``boolean``, 0/1, or with
        NA = not assessed) and, for LLDAS/DORIS, the columns named in the module docstring.
    instruments
        Any of ``sledai_2k``, ``clinical_sledai``, ``lldas``, ``doris_2021``.
    prednisolone_rule, pga_rule
        DORIS conventions, as in :class:`lupuscell.instruments.response.DorisInput`.
    failed_criteria
        Also add ``lldas_failed_criteria`` / ``doris_failed_criteria`` (categorical,
        comma-joined sorted failure codes; definite failures only).
    threshold_arithmetic
        ``round_to_precision`` (default) or ``exact_decimal``, as in
        :class:`lupuscell.instruments.response.LldasInput` (module docstring, "Precision").

    Returns
    -------
    pandas.DataFrame
        A shallow copy of ``frame`` (the input is not modified) plus ``sledai_2k`` and
        ``clinical_sledai`` (``Int16``, NA if a descriptor is missing), ``lldas`` and
        ``doris_remission`` (nullable ``boolean``).
    """
    if options:
        raise ValidationError.single("options", ", ".join(options), "unknown option(s)")
    _check_options(instruments, prednisolone_rule, pga_rule, threshold_arithmetic)
    lldas, doris = "lldas" in instruments, "doris_2021" in instruments
    data = _read_columns(frame, lldas, doris)
    n = len(frame)
    out: dict[str, np.ndarray] = {
        "sledai_2k": np.empty(n, np.int16),
        "clinical_sledai": np.empty(n, np.int16),
        "sledai_na": np.zeros(n, bool),
    }
    for name in ("lldas", "doris") if (lldas or doris) else ():
        out[name] = np.empty(n, bool)
        out[f"{name}_na"] = np.zeros(n, bool)
        out[f"{name}_codes"] = np.zeros(n, np.uint8)
    rules = (DORIS_PGA_RULES[pga_rule], DORIS_PRED_RULES[prednisolone_rule])
    exact = threshold_arithmetic == "exact_decimal"
    for start in range(0, n, BLOCK_ROWS):
        _score_block(
            data, slice(start, min(start + BLOCK_ROWS, n)), out, lldas, doris, rules, failed_criteria, exact
        )
    return _join(frame, _result_columns(out, instruments, failed_criteria))


def _check_options(
    instruments: Sequence[str], prednisolone_rule: str, pga_rule: str, threshold_arithmetic: str
) -> None:
    unknown = [i for i in instruments if i not in INSTRUMENTS]
    if unknown:
        raise ValidationError.single(
            "options", "instruments", f"unknown {unknown}; allowed: {', '.join(INSTRUMENTS)}"
        )
    if pga_rule not in DORIS_PGA_RULES or prednisolone_rule not in DORIS_PRED_RULES:
        raise ValidationError.single(
            "options",
            "pga_rule/prednisolone_rule",
            f"allowed: {list(DORIS_PGA_RULES)} / {list(DORIS_PRED_RULES)}",
        )
    if threshold_arithmetic not in THRESHOLD_ARITHMETIC:
        raise ValidationError.single(
            "options", "threshold_arithmetic", f"allowed values: {', '.join(THRESHOLD_ARITHMETIC)}"
        )


def _read_columns(frame: pd.DataFrame, lldas: bool, doris: bool) -> _Columns:
    """The input columns as numpy arrays (no copies where pandas allows), checked for presence,
    type and range."""
    needed: list[str] = list(DESCRIPTORS)
    if lldas:
        needed += [c for c in LLDAS_COLUMNS if c not in needed]
    if doris:
        needed += [c for c in DORIS_COLUMNS if c not in needed]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise ValidationError([Problem("visit table", c, "required column is missing") for c in absent])
    data = _Columns(
        descriptors={key: _bool_column(frame, key) for key in DESCRIPTORS},
        flags={},
        numbers={},
    )
    if lldas or doris:
        data.numbers = {name: _number_column(frame, name) for name in ("pga", "prednisolone_mg_per_day")}
        names = (LLDAS_COLUMNS if lldas else ()) + (DORIS_COLUMNS if doris else ())
        data.flags = {c: _bool_column(frame, c) for c in names if c not in data.numbers}
    return data


def _result_columns(
    out: dict[str, np.ndarray], instruments: Sequence[str], failed_criteria: bool
) -> dict[str, Any]:
    """The requested result columns as pandas nullable arrays over the computed buffers."""
    columns: dict[str, Any] = {}
    if "sledai_2k" in instruments:
        columns["sledai_2k"] = pd.arrays.IntegerArray(out["sledai_2k"], out["sledai_na"].copy())
    if "clinical_sledai" in instruments:
        columns["clinical_sledai"] = pd.arrays.IntegerArray(out["clinical_sledai"], out["sledai_na"].copy())
    wanted = (
        ("lldas", "lldas", LLDAS_FAILURES, "lldas" in instruments),
        ("doris", "doris_remission", DORIS_FAILURES, "doris_2021" in instruments),
    )
    for name, column, failures, requested in wanted:
        if not requested:
            continue
        columns[column] = pd.arrays.BooleanArray(out[name], out[f"{name}_na"])
        if failed_criteria:
            columns[f"{name}_failed_criteria"] = _failure_labels(out[f"{name}_codes"], failures)
    return columns


@dataclass
class _Columns:
    descriptors: dict[str, BoolCol]
    flags: dict[str, BoolCol]
    numbers: dict[str, tuple[np.ndarray, np.ndarray | None]]


def _cut(col: tuple[np.ndarray, np.ndarray | None], rows: slice) -> tuple[np.ndarray, np.ndarray | None]:
    return col[0][rows], (None if col[1] is None else col[1][rows])


def _store(out: dict[str, np.ndarray], name: str, k: _Kleene, rows: slice, keep: bool) -> None:
    value, unknown = k.value_and_mask()
    out[name][rows] = value
    if unknown is not None:
        out[f"{name}_na"][rows] = unknown
    if keep:
        out[f"{name}_codes"][rows] = k.failure_codes()


def _score_block(
    data: _Columns,
    rows: slice,
    out: dict[str, np.ndarray],
    lldas: bool,
    doris: bool,
    rules: tuple[tuple[str, int], tuple[str, int]],
    keep: bool,
    exact: bool = False,
) -> None:
    """Score rows ``rows`` into ``out``; blocks keep the temporaries in the CPU cache."""
    n = rows.stop - rows.start
    sums = _descriptor_sums({k: _cut(v, rows) for k, v in data.descriptors.items()}, n)
    clinical = sums.total - sums.serology  # uint8, never negative
    out["sledai_2k"][rows] = sums.total
    out["clinical_sledai"][rows] = clinical
    if sums.unknown_total is not None:
        np.greater(sums.unknown_total, 0, out=out["sledai_na"][rows])
    if not (lldas or doris):
        return
    flags = {name: _cut(col, rows) for name, col in data.flags.items()}
    pga_values, pga_na = _cut(data.numbers["pga"], rows)
    pred_values, pred_na = _cut(data.numbers["prednisolone_mg_per_day"], rows)
    pga = _Steps(pga_values, PGA_STEPS, exact)
    pred = _Steps(pred_values, DOSE_STEPS, exact)

    if lldas:
        k = _Kleene(n, keep=keep)
        # 1a: SLEDAI-2K <= 4; unknown where the known part passes but unassessed items could exceed 4
        sledai_ok = sums.total <= LLDAS_SLEDAI_MAX
        if sums.unknown_total is None:
            k.add(sledai_ok, None)
        else:
            k.add(sledai_ok, sledai_ok & (sums.total + sums.unknown_total > LLDAS_SLEDAI_MAX))
        # 1b: no major organ activity, no haemolytic anaemia, no gastrointestinal activity
        haem, gi = flags["haemolytic_anaemia"], flags["gastrointestinal_activity"]
        active = (sums.major > 0) | haem[0] | gi[0]
        unknown_parts = [m for m in (haem[1], gi[1]) if m is not None]
        if sums.unknown_major is not None:
            unknown_parts.append(sums.unknown_major > 0)
        k.add(~active, np.logical_or.reduce(unknown_parts) & ~active if unknown_parts else None)
        new_activity = flags["new_activity_since_previous_assessment"]
        k.add(~new_activity[0], new_activity[1])
        k.add(pga.at_most(LLDAS_PGA_MAX_TENTHS), pga_na)
        k.add(pred.at_most(LLDAS_PRED_MAX_HUNDREDTHS), pred_na)
        k.add(*flags["standard_maintenance_therapy_well_tolerated"])
        _store(out, "lldas", k, rows, keep)

    if doris:
        k = _Kleene(n, keep=keep)
        clinical_ok = clinical == 0
        if sums.unknown_total is None or sums.unknown_serology is None:
            k.add(clinical_ok, None)
        else:
            k.add(clinical_ok, clinical_ok & (sums.unknown_total - sums.unknown_serology > 0))
        (pga_op, pga_cut), (pred_op, pred_cut) = rules
        k.add(pga.below(pga_cut) if pga_op == "<" else pga.at_most(pga_cut), pga_na)
        k.add(pred.below(pred_cut) if pred_op == "<" else pred.at_most(pred_cut), pred_na)
        k.add(*flags["immunosuppressives_and_biologics_stable"])
        _store(out, "doris", k, rows, keep)


def _join(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """``frame`` plus ``columns`` (replacing same-named ones) without copying the input data."""
    existing = [c for c in columns if c in frame.columns]
    base = frame.drop(columns=existing) if existing else frame
    added = pd.DataFrame(columns, index=frame.index, copy=False)
    return pd.concat([base, added], axis=1, copy=False)  # type: ignore[call-overload]
