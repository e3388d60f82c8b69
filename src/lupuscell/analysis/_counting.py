"""Counting-process data: validated ``(entry, exit, status)`` rows and their risk table.

Shared by the Kaplan-Meier and Aalen-Johansen estimators so that both count the risk set the
same way (``entry < t <= exit``, see :mod:`lupuscell.analysis.conventions`). Everything is
vectorised: one sort, one ``np.unique`` and a few ``searchsorted`` / ``bincount`` calls, so a
million rows take a fraction of a second (benchmarks/survival_scale.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from lupuscell.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _rows(mask: npt.NDArray[np.bool_], limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    more = f" and {idx.size - limit} more" if idx.size > limit else ""
    return f"row(s) {shown}{more}"


@dataclass(frozen=True)
class CountingData:
    """Validated rows: ``stop`` (exit time), ``status`` (0 censored, 1..K cause) and ``entry``.

    ``entry`` is ``None`` when every subject is followed from time 0 (no left truncation).
    """

    stop: FloatArray
    status: IntArray
    entry: FloatArray | None
    #: the distinct exit times and each row's index into them, when already known (one sort less)
    stop_unique: tuple[FloatArray, IntArray] | None = field(default=None, repr=False, compare=False)
    #: per distinct exit time, how many rows entered before it; per row, the exit times at or
    #: before its entry (the delayed-entry counts, from the same sort)
    entry_counts: tuple[IntArray, IntArray] | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.stop.size)

    @classmethod
    def build(
        cls,
        durations: npt.ArrayLike,
        status: npt.ArrayLike,
        entry: npt.ArrayLike | None,
        what: str,
        status_field: str = "events",
    ) -> CountingData:
        """Check the rows and return them; every problem names the rows and the field."""
        stop = np.asarray(durations, dtype=float).ravel()
        raw = np.asarray(status).ravel()
        if stop.size == 0:
            raise ValidationError.single(what, "durations", "no subjects")
        if raw.size != stop.size:
            raise ValidationError.single(
                what, status_field, f"{stop.size} durations but {raw.size} {status_field}"
            )
        if np.isnan(stop).any() or np.isinf(stop).any():
            raise ValidationError.single(what, "durations", f"missing or infinite: {_rows(~np.isfinite(stop))}")
        if (stop < 0).any():
            raise ValidationError.single(what, "durations", f"negative: {_rows(stop < 0)}")
        codes = _status_codes(raw, what, status_field)
        start: FloatArray | None = None
        if entry is not None:
            start = np.asarray(entry, dtype=float).ravel()
            if start.size != stop.size:
                raise ValidationError.single(what, "entry", f"{stop.size} durations but {start.size} entry times")
            if not np.isfinite(start).all():
                raise ValidationError.single(what, "entry", f"missing or infinite: {_rows(~np.isfinite(start))}")
            if (start >= stop).any():
                raise ValidationError.single(
                    what, "entry", f"entry must be before the exit time: {_rows(start >= stop)}"
                )
        stop, start, unique, counts = time_fix(stop, start)
        if start is not None and (start >= stop).any():
            raise ValidationError.single(
                what, "entry", f"entry and exit times equal to rounding error: {_rows(start >= stop)}"
            )
        return cls(stop=stop, status=codes, entry=start, stop_unique=unique, entry_counts=counts)


#: Times closer than this (absolutely, or relative to their mean size) are one time (R's aeqSurv).
TIME_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def time_fix(
    stop: FloatArray, entry: FloatArray | None
) -> tuple[FloatArray, FloatArray | None, tuple[FloatArray, IntArray], tuple[IntArray, IntArray] | None]:
    """Merge times that differ only by floating-point rounding, as R ``aeqSurv`` (``timefix = TRUE``).

    Times computed two ways (``60 + 25/12`` and ``61 + 13/12`` years) are equal in exact
    arithmetic but not in floating point; R survival treats distinct values within
    ``sqrt(eps)`` (absolutely, or relative to the mean absolute time) as tied and replaces each
    by the first of its run. Without this the estimates would depend on how a time was computed.
    Also returns, from the same sort, the distinct exit times with each row's index into them and
    (with entry times) the delayed-entry counts of :class:`CountingData`.
    """
    values = stop if entry is None else np.concatenate((stop, entry))
    y, inverse = np.unique(values, return_inverse=True)
    dy = np.diff(y)
    scale = float(np.mean(np.abs(y))) if y.size else 0.0
    tied = dy <= TIME_TOLERANCE
    if scale > 0:
        tied |= dy / scale <= TIME_TOLERANCE
    inverse = inverse.astype(np.int64)
    run_start = np.concatenate(([True], ~tied))
    run = np.cumsum(run_start) - 1  # each distinct value -> its run (itself when nothing is tied)
    cuts = y[run_start]
    row_run = run[inverse]
    present = np.bincount(row_run[: stop.size], minlength=cuts.size) > 0  # runs holding an exit time
    exits_upto = np.cumsum(present)  # per run: distinct exit times at or before it
    stop_unique = (cuts[present], exits_upto[row_run[: stop.size]] - 1)
    counts = None
    if entry is not None:
        entry_run = row_run[stop.size :]
        entries_upto = np.cumsum(np.bincount(entry_run, minlength=cuts.size))
        before = np.concatenate(([0], entries_upto))[np.flatnonzero(present)]  # entries in runs before
        counts = (before.astype(np.int64), exits_upto[entry_run].astype(np.int64))
    if not tied.any():
        return stop, entry, stop_unique, counts
    fixed = cuts[row_run]
    return fixed[: stop.size], None if entry is None else fixed[stop.size :], stop_unique, counts


def _status_codes(raw: npt.NDArray[np.generic], what: str, field: str) -> IntArray:
    if raw.dtype == bool:
        return raw.astype(np.int64)
    if raw.dtype.kind in "iu":
        ints = raw.astype(np.int64)
        if (ints < 0).any():
            raise ValidationError.single(what, field, f"must be 0 (censored) or 1..K (event): {_rows(ints < 0)}")
        return ints
    try:
        num = raw.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValidationError.single(what, field, "must be numeric codes (0 censored, 1..K event)") from exc
    bad = ~np.isfinite(num) | (num < 0) | (num != np.round(num))
    if bad.any():
        raise ValidationError.single(what, field, f"must be 0 (censored) or 1..K (event): {_rows(bad)}")
    return num.astype(np.int64)


@dataclass(frozen=True)
class RiskTable:
    """Per distinct exit time: number at risk, events per cause and censorings.

    ``index`` maps every row to its exit time in ``time``; ``entry_index`` (with delayed entry)
    gives, per row, how many distinct times lie at or before its entry (so the row is at risk at
    ``time[j]`` exactly for ``entry_index < j + 1 <= index + 1``).
    """

    time: FloatArray
    n_at_risk: IntArray
    events: IntArray  # shape (K, m): events of cause k+1 at each time
    censored: IntArray
    index: IntArray
    entry_index: IntArray | None

    @property
    def n_events(self) -> IntArray:
        return np.asarray(self.events.sum(axis=0), dtype=np.int64)


def risk_table(data: CountingData, n_causes: int) -> RiskTable:
    """The risk table of ``data`` at each distinct exit time (events of causes 1..n_causes)."""
    time, index = data.stop_unique or np.unique(data.stop, return_inverse=True)
    m = time.size
    index = index.astype(np.int64)
    events = np.zeros((n_causes, m), dtype=np.int64)
    for k in range(1, n_causes + 1):
        events[k - 1] = np.bincount(index[data.status == k], minlength=m)
    censored = np.bincount(index[data.status == 0], minlength=m).astype(np.int64)
    exits_before = np.concatenate(([0], np.cumsum(np.bincount(index, minlength=m))[:-1]))
    entry_index = None
    if data.entry is None:
        n_at_risk = data.n - exits_before
    elif data.entry_counts is not None:
        entered_before, entry_index = data.entry_counts
        n_at_risk = entered_before - exits_before
    else:
        entered_before = np.searchsorted(np.sort(data.entry), time, side="left")
        n_at_risk = entered_before - exits_before
        entry_index = np.searchsorted(time, data.entry, side="right").astype(np.int64)
    return RiskTable(
        time=time,
        n_at_risk=np.asarray(n_at_risk, dtype=np.int64),
        events=events,
        censored=censored,
        index=index,
        entry_index=entry_index,
    )
