"""Explicit missing-value states (``not_done`` / ``unknown``) in the outcomes engine.

The registry records, per visit, a state for minimum-data fields without a value
(docs/data_management/missing_values.md). The engine's visit table carries them in the
``missing_states`` column (field -> state, engine column names). They change scoring in three
documented ways, each driven by :class:`~lupuscell.outcomes.definitions.EndpointOptions`:

* **unknown is never read as absent.** A visit flag with an explicit state is *not* filled
  with the assumed value of ``missing_visit_flags`` (that default is only for flags nobody
  recorded anything about); it stays NA, so LLDAS / DORIS are not evaluable (NA) unless
  another criterion definitely fails (three-valued logic of the instruments).
* **not done is not absent** unless ``not_done_as_absent=True``: then a SLEDAI-2K descriptor
  marked ``not_done`` scores as absent (False). ``unknown`` never does.
* ``unknown_response`` chooses how an unevaluable visit (LLDAS or DORIS NA) counts:
  ``"not_evaluable"`` (default; the visit is left out of response counts) or
  ``"non_response"`` (non-responder imputation: counted as not in LLDAS / not in remission).

Every scored visit gets ``unevaluable_inputs``: the fields with an explicit state that stayed
without a value (``"fever: unknown; pga: not_done"``), so a reader sees why a score is null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.outcomes.cohort import DESCRIPTORS

COLUMN = "missing_states"
"""Column of the engine's visit table holding each visit's states (a mapping or None)."""


def parse_states(value: Any) -> dict[str, str]:
    """One ``missing_states`` cell as a mapping (JSON text accepted; None/NaN is empty)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _states(frame: pd.DataFrame) -> list[dict[str, str]]:
    if COLUMN not in frame.columns:
        return [{} for _ in range(len(frame))]
    return [parse_states(v) for v in frame[COLUMN].to_numpy(dtype=object)]


def _rows_with(states: list[dict[str, str]], name: str, wanted: tuple[str, ...]) -> np.ndarray:
    return np.fromiter((s.get(name) in wanted for s in states), dtype=bool, count=len(states))


def prepare(frame: pd.DataFrame, flag_defaults: Mapping[str, bool], not_done_as_absent: bool) -> pd.DataFrame:
    """Fill unrecorded visit flags with their assumed values, except where a state is recorded;
    with ``not_done_as_absent`` score ``not_done`` descriptors as absent. Returns a copy."""
    out = frame.copy()
    states = _states(out)
    for flag, value in flag_defaults.items():
        if flag in out.columns:
            column = out[flag].astype("boolean")
            explicit = _rows_with(states, flag, ("not_done", "unknown"))
            out[flag] = column.fillna(value).where(~explicit, column)
    if not_done_as_absent:
        for name in DESCRIPTORS:
            if name in out.columns:
                column = out[name].astype("boolean")
                out[name] = column.mask(
                    _rows_with(states, name, ("not_done",)) & column.isna().to_numpy(), False
                )
    return out


def unevaluable_inputs(frame: pd.DataFrame) -> pd.Series:
    """Per visit, the fields with an explicit state that have no value (None when none)."""
    texts = []
    blank = {name: frame[name].isna().to_numpy() for name in frame.columns}
    for i, states in enumerate(_states(frame)):
        left = [
            f"{name}: {state}"
            for name, state in sorted(states.items())
            if name not in blank or bool(blank[name][i])
        ]
        texts.append("; ".join(left) if left else None)
    return pd.Series(texts, index=frame.index, dtype=object)


def apply_unknown_response(scored: pd.DataFrame, unknown_response: str) -> pd.DataFrame:
    """``non_response``: an unevaluable LLDAS / DORIS visit (NA) counts as not met (False)."""
    if unknown_response != "non_response":
        return scored
    out = scored.copy()
    for column in ("lldas", "doris_remission"):
        if column in out.columns:
            out[column] = out[column].astype("boolean").fillna(False)
    return out
