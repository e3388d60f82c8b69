"""Validate and clean digitised Kaplan-Meier coordinates and a published risk table.

This is the input stage of the Guyot et al. (2012) reconstruction in
:mod:`lupuscell.evidence.ipd`. A digitiser (WebPlotDigitizer, DigitizeIt, Engauge, ...) returns
``(time, survival)`` pairs read off a published Kaplan-Meier step curve; the paper's risk table
gives the numbers at risk at a few times. Both are checked here, every rejection naming the row
and the field, and the curve is cleaned the way the reference implementations do before the
algorithm runs:

1. sort by time (ties: higher survival first, i.e. the top of a vertical drop first);
2. force survival to be non-increasing (running minimum), since reading noise can make a later
   point sit a hair above an earlier one;
3. start the curve at ``(0, 1)``;
4. keep at most two readings per time (the top and the bottom of a vertical drop);
5. add a point at every risk-table time that has none, with the survival of the step curve at
   that time, so that every risk-table interval holds at least one point (the algorithm needs the
   first point of each interval).

Isolated-outlier removal (done by R IPDfromKM's ``preprocess``) is not done: the running
minimum already neutralises upward spikes, and a downward spike is indistinguishable from a real
drop without looking at the picture.

Hand-written because no maintained Python implementation exists (see :mod:`lupuscell.evidence.ipd`).

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9. doi:10.1186/1471-2288-12-9.

Liu N, Zhou Y, Lee JJ. IPDfromKM: reconstruct individual patient data from published
Kaplan-Meier survival curves. BMC Med Res Methodol 2021;21:111 (R package ``IPDfromKM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from lupuscell.analysis.conventions import step_value
from lupuscell.errors import Problem, ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Column names of the two CSV inputs (see docs/evidence/reconstruct.md).
CURVE_COLUMNS: tuple[str, str] = ("time", "survival")
RISK_COLUMNS: tuple[str, str] = ("time", "n_risk")

#: Survival read a little outside [0, 1] (digitiser noise) is clipped when within this margin;
#: further out it is an error.
DEFAULT_CLIP_TOLERANCE = 0.01

#: Survival scales accepted on input; values are divided by the factor.
SURVIVAL_SCALES: dict[str, float] = {"proportion": 1.0, "percent": 100.0}


@dataclass(frozen=True)
class DigitisedCurve:
    """A cleaned digitised curve, ready for the reconstruction.

    Attributes
    ----------
    time, survival
        Sorted, non-increasing, starting at ``(0, 1)``, at most two readings per time.
    upper_corner
        True for a point that is the first of two readings at the same time (the top of a
        vertical drop); the fit check compares it with the left limit of the refitted curve.
    n_input
        Number of coordinates supplied.
    n_monotone_fixed
        Number of readings lowered to make survival non-increasing.
    n_dropped
        Readings dropped because a time had more than two.
    n_inserted
        Points added (the origin, risk-table times).
    """

    time: FloatArray
    survival: FloatArray
    upper_corner: npt.NDArray[np.bool_]
    n_input: int
    n_monotone_fixed: int
    n_dropped: int
    n_inserted: int

    def __len__(self) -> int:
        return int(self.time.size)

    def step_value(self, t: npt.ArrayLike) -> FloatArray:
        """Survival of the digitised step curve at ``t`` (right-continuous: after any drop)."""
        return step_value(self.time, self.survival, t)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "survival": self.survival})


@dataclass(frozen=True)
class RiskTable:
    """Published numbers at risk: strictly increasing times, non-increasing counts."""

    time: FloatArray
    n_risk: IntArray

    def __len__(self) -> int:
        return int(self.time.size)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "n_risk": self.n_risk})


def _as_float(values: npt.ArrayLike, source: str, field: str, problems: list[Problem]) -> FloatArray:
    arr = np.asarray(pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce"), dtype=float)
    raw = np.asarray(values, dtype=object).ravel()
    for i in np.flatnonzero(~np.isfinite(arr)):
        problems.append(Problem(f"{source} row {i + 1}", field, f"not a finite number: {raw[i]!r}"))
    return arr


def _row_order(p: Problem) -> tuple[int, str]:
    """Sort key: problems of one file in row order."""
    tail = p.record.rsplit(" row ", 1)
    return (int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0, p.field)


def validate_curve(
    time: npt.ArrayLike,
    survival: npt.ArrayLike,
    *,
    source: str = "curve",
    scale: str = "proportion",
    clip_tolerance: float = DEFAULT_CLIP_TOLERANCE,
) -> tuple[FloatArray, FloatArray]:
    """Check digitised coordinates; return them as floats on the 0-1 scale (input order kept).

    Parameters
    ----------
    time, survival
        The coordinates, one pair per row (row numbers in messages are 1-based data rows).
    source
        Name used in messages (e.g. the file name).
    scale
        ``"proportion"`` (0-1) or ``"percent"`` (0-100).
    clip_tolerance
        Readings in ``[-tol, 0)`` or ``(1, 1 + tol]`` (on the 0-1 scale) are clipped to 0 or 1;
        beyond that they are rejected.

    Raises
    ------
    ValidationError
        Listing every bad row: not a number, negative time, survival outside 0-1, fewer than
        two points, unequal lengths, unknown scale.
    """
    if scale not in SURVIVAL_SCALES:
        raise ValidationError.single(
            source, "survival", f"unknown scale {scale!r}; use one of {sorted(SURVIVAL_SCALES)}"
        )
    problems: list[Problem] = []
    t = _as_float(time, source, "time", problems)
    s = _as_float(survival, source, "survival", problems)
    if t.size != s.size:
        raise ValidationError.single(source, "time", f"{t.size} times but {s.size} survival values")
    if t.size < 2:
        problems.append(Problem(source, "time", f"needs at least 2 digitised points, got {t.size}"))
    s = s / SURVIVAL_SCALES[scale]
    for i in np.flatnonzero(np.isfinite(t) & (t < 0)):
        problems.append(Problem(f"{source} row {i + 1}", "time", f"negative time {t[i]:g}"))
    bad = np.isfinite(s) & ((s < -clip_tolerance) | (s > 1 + clip_tolerance))
    hint = " (use the percent scale for 0-100 values)" if scale == "proportion" else ""
    for i in np.flatnonzero(bad):
        problems.append(
            Problem(
                f"{source} row {i + 1}",
                "survival",
                f"{s[i] * SURVIVAL_SCALES[scale]:g} is outside the {scale} range{hint}",
            )
        )
    if problems:
        raise ValidationError(sorted(problems, key=_row_order))
    return t, np.clip(s, 0.0, 1.0)


def validate_risk_table(time: npt.ArrayLike, n_risk: npt.ArrayLike, *, source: str = "at-risk") -> RiskTable:
    """Check a published risk table.

    Rules: at least one row; times finite, the first equal to 0, strictly increasing; counts
    whole numbers, non-negative, first one positive, and non-increasing (nobody enters a
    published cohort after time 0).

    Raises
    ------
    ValidationError
        Naming each offending row and field.
    """
    problems: list[Problem] = []
    t = _as_float(time, source, "time", problems)
    n = _as_float(n_risk, source, "n_risk", problems)
    if t.size != n.size:
        raise ValidationError.single(source, "time", f"{t.size} times but {n.size} counts")
    if t.size == 0:
        raise ValidationError.single(source, "n_risk", "the risk table is empty")
    if problems:
        raise ValidationError(problems)
    if t[0] != 0:
        problems.append(Problem(f"{source} row 1", "time", f"the first time must be 0, got {t[0]:g}"))
    for i in range(1, t.size):
        if t[i] <= t[i - 1]:
            problems.append(
                Problem(
                    f"{source} row {i + 1}",
                    "time",
                    f"times must increase strictly: {t[i]:g} follows {t[i - 1]:g}",
                )
            )
    for i in range(n.size):
        if n[i] < 0 or n[i] != np.round(n[i]):
            problems.append(
                Problem(f"{source} row {i + 1}", "n_risk", f"must be a whole number >= 0, got {n[i]:g}")
            )
        elif i > 0 and n[i] > n[i - 1]:
            problems.append(
                Problem(
                    f"{source} row {i + 1}",
                    "n_risk",
                    f"numbers at risk cannot increase: {n[i]:g} after {n[i - 1]:g}",
                )
            )
    if n[0] <= 0:
        problems.append(Problem(f"{source} row 1", "n_risk", "the number at risk at time 0 must be > 0"))
    if problems:
        raise ValidationError(sorted(problems, key=_row_order))
    return RiskTable(time=t, n_risk=n.astype(np.int64))


def check_risk_within_curve(table: RiskTable, curve_time: FloatArray, *, source: str = "at-risk") -> None:
    """Reject risk-table times after the last digitised time (the curve says nothing there)."""
    last = float(np.max(curve_time))
    problems = [
        Problem(
            f"{source} row {i + 1}",
            "time",
            f"{table.time[i]:g} is after the end of the digitised curve ({last:g}); "
            "digitise the curve that far or drop the row",
        )
        for i in np.flatnonzero(table.time > last)
    ]
    if problems:
        raise ValidationError(problems)


def clean_curve(
    time: FloatArray, survival: FloatArray, *, risk_times: Sequence[float] | FloatArray = ()
) -> DigitisedCurve:
    """Clean validated coordinates (steps 1-5 of the module docstring).

    Parameters
    ----------
    time, survival
        Output of :func:`validate_curve`.
    risk_times
        Risk-table times; a point is inserted at each one that has no reading.
    """
    n_input = int(time.size)
    order = np.lexsort((-survival, time))
    t = time[order]
    s = survival[order]
    s_mono = np.minimum.accumulate(s)
    n_fixed = int(np.count_nonzero(s_mono < s))
    s = s_mono
    n_inserted = 0
    if t[0] > 0:
        t = np.concatenate(([0.0], t))
        s = np.concatenate(([1.0], s))
        n_inserted += 1
    else:
        s[0] = 1.0  # the curve starts at 1; a drop at 0 shows as a second reading at 0
    # at most two readings per time: the highest and the lowest
    _, first, counts = np.unique(t, return_index=True, return_counts=True)
    last = first + counts - 1
    keep = np.zeros(t.size, dtype=bool)
    keep[first] = True
    keep[last[s[last] < s[first]]] = True
    n_dropped = int(t.size - np.count_nonzero(keep))
    t, s = t[keep], s[keep]
    # a point at every risk-table time
    rt = np.asarray(risk_times, dtype=float)
    missing = rt[~np.isin(rt, t)]
    if missing.size:
        idx = np.searchsorted(t, missing, side="right") - 1
        t = np.concatenate((t, missing))
        s = np.concatenate((s, s[idx]))
        order = np.lexsort((-s, t))
        t, s = t[order], s[order]
        n_inserted += int(missing.size)
    upper = np.zeros(t.size, dtype=bool)
    upper[:-1] = t[1:] == t[:-1]
    return DigitisedCurve(
        time=t,
        survival=s,
        upper_corner=upper,
        n_input=n_input,
        n_monotone_fixed=n_fixed,
        n_dropped=n_dropped,
        n_inserted=n_inserted,
    )


def _read_csv(path: Path, columns: tuple[str, str], source: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    except FileNotFoundError as exc:
        raise ValidationError.single(source, "file", f"no such file: {path}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError.single(source, "file", f"cannot read as CSV: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError.single(
            source,
            ",".join(missing),
            f"missing column(s); expected a header {','.join(columns)}, got {','.join(frame.columns)}",
        )
    return frame


def read_curve_csv(
    path: str | Path, *, scale: str = "proportion", clip_tolerance: float = DEFAULT_CLIP_TOLERANCE
) -> tuple[FloatArray, FloatArray]:
    """Read and validate a digitised curve CSV with columns ``time,survival``.

    Lines starting with ``#`` are comments; extra columns are ignored.
    """
    p = Path(path)
    frame = _read_csv(p, CURVE_COLUMNS, p.name)
    return validate_curve(
        frame["time"].to_numpy(),
        frame["survival"].to_numpy(),
        source=p.name,
        scale=scale,
        clip_tolerance=clip_tolerance,
    )


def read_risk_csv(path: str | Path) -> RiskTable:
    """Read and validate a risk-table CSV with columns ``time,n_risk``."""
    p = Path(path)
    frame = _read_csv(p, RISK_COLUMNS, p.name)
    return validate_risk_table(frame["time"].to_numpy(), frame["n_risk"].to_numpy(), source=p.name)
