"""The conventions every survival result in lupuscell shares, written once.

* **Not reached / not estimable is ``None``** in a Python result and ``null`` in JSON: a median
  the curve never reaches, a confidence limit that never crosses 0.5, a landmark after the last
  follow-up (Kaplan-Meier survival or cumulative incidence alike). Never the last value of the
  curve, never ``inf`` or ``NaN`` in JSON (JSON has neither). :func:`json_number` and
  :func:`json_safe` turn any numeric value into that form.
* **Step functions are right-continuous**: the value at ``t`` includes a jump at ``t``
  (:func:`step_value`), as R ``summary.survfit(times=)`` reports it.
* **Numbers at risk are counted at t, not after it**: a subject is at risk at ``t`` when it has
  entered before ``t`` and is still under observation at ``t`` (``entry < t <= exit``, the
  ``(start, stop]`` intervals of R ``Surv(start, stop, event)``); without entry times every
  subject is at risk from time 0 up to and including its exit time (:func:`numbers_at_risk`).
  This is the risk set of the estimators themselves, so the table under a plot and the
  ``n_at_risk`` column of a fitted curve agree. R's ``summary.survfit(times=)`` instead prints
  the risk set of the next time in the fit, which over-counts under delayed entry (lifelines
  issue #1624 discusses the same off-by-one in a plotting library).

References
----------
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000,
section 3.7 (counting-process data).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["json_number", "json_safe", "numbers_at_risk", "step_value"]


def json_number(value: Any) -> Any:
    """One scalar made JSON-safe: NaN, infinities and missing values become ``None``.

    numpy scalars become Python ``int``/``float``/``bool``; strings and other objects pass
    through unchanged.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def json_safe(obj: Any) -> Any:
    """A nested structure (dicts, lists, tuples, arrays, dates) made JSON-safe.

    Dict keys become strings; arrays and tuples become lists; dates become ISO strings;
    every number goes through :func:`json_number`.
    """
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, pd.Timestamp | dt.date):
        return obj.isoformat()
    return json_number(obj)


def step_value(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    q: npt.ArrayLike,
    side: Literal["left", "right"] = "right",
    before: float = 1.0,
) -> npt.NDArray[np.float64]:
    """Value of the step function with jumps at sorted ``x`` (values ``y``) at the times ``q``.

    ``side="right"`` gives the right-continuous value (after a jump at ``q``), ``"left"`` the
    value just before it. Before the first jump the value is ``before`` (1 for a survival
    curve, 0 for a cumulative incidence).
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    idx = np.searchsorted(xs, np.asarray(q, dtype=float), side=side) - 1
    if ys.size == 0:
        return np.full(np.shape(idx), before, dtype=float)
    return np.where(idx >= 0, ys[np.clip(idx, 0, None)], before)


def numbers_at_risk(
    durations: npt.ArrayLike,
    times: npt.ArrayLike,
    *,
    entry: npt.ArrayLike | None = None,
) -> list[int]:
    """Subjects at risk at each time ``t``: ``entry < t <= duration`` (``duration >= t`` without entry).

    Parameters
    ----------
    durations
        Exit time of each subject (or of each counting-process row).
    times
        The times at which to count.
    entry
        Delayed-entry (left-truncation) time of each subject or row; a subject is counted only
        after it has entered.

    Examples
    --------
    >>> numbers_at_risk([1, 2, 2, 3, 5], [0, 2, 3, 4])
    [5, 4, 2, 1]
    >>> numbers_at_risk([4, 6, 7], [1, 3, 5], entry=[0, 2, 5])
    [1, 2, 2]
    """
    stop = np.sort(np.asarray(durations, dtype=float))
    q = np.asarray(times, dtype=float)
    gone = np.searchsorted(stop, q, side="left")  # exited before t
    if entry is None:
        counts = stop.size - gone
    else:
        start = np.sort(np.asarray(entry, dtype=float))
        counts = np.searchsorted(start, q, side="left") - gone  # entered before t, not yet exited
    return [int(c) for c in np.atleast_1d(counts)]
