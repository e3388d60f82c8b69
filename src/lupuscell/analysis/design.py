"""Design matrices for the regression models: numeric covariates and dummy-coded factors.

Categorical covariates are dummy-coded against an explicit reference level, which the result
records, so a hazard ratio in a report is never ambiguous (R's treatment contrasts, with the
reference named instead of taken as the first level). Constant columns (a therapy absent from
the data, a covariate with one value) cannot be estimated and are dropped and reported. The
same coding encodes a new covariate pattern for prediction (:meth:`Design.encode`), so a
pattern can never be coded differently from the data the model was fitted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.errors import Problem, ValidationError

__all__ = ["MIN_EVENTS", "Design", "check_columns", "data_warnings", "design_matrix"]

#: Fewer events than this and a regression's estimates are unreliable (Peduzzi et al. 1995 for Cox
#: models; J Clin Epidemiol 1995;48:1503-1510): the fit still runs, with a warning naming it.
MIN_EVENTS = 10


def check_columns(frame: pd.DataFrame, what: str, **columns: str | Sequence[str] | None) -> None:
    """Raise one ``ValidationError`` naming every requested column the frame does not have.

    ``columns`` maps a role (``duration_col``, ``covariates``, ...) to a column name or names.
    """
    problems = []
    for role, names in columns.items():
        if names is None:
            continue
        for name in [names] if isinstance(names, str) else list(names):
            if name not in frame.columns:
                problems.append(Problem(what, str(name), f"{role}: no such column in the data"))
    if problems:
        raise ValidationError(problems)


@dataclass(frozen=True)
class Design:
    """How covariates became columns: which factors, their reference and kept levels."""

    covariates: tuple[str, ...]
    reference_levels: dict[str, str]
    levels: dict[str, tuple[str, ...]]  # per factor: the non-reference levels with a column
    columns: tuple[str, ...]
    dropped: tuple[str, ...]

    def encode(self, pattern: Mapping[str, Any], what: str = "covariate pattern") -> np.ndarray:
        """One row of the design matrix for a covariate pattern ``{covariate: value}``."""
        problems = [Problem(what, c, "missing from the pattern") for c in self.covariates if c not in pattern]
        problems += [
            Problem(what, str(k), "not a covariate of the model") for k in pattern if k not in self.covariates
        ]
        values: dict[str, float] = {}
        for cov in self.covariates:
            if cov not in pattern:
                continue
            value = pattern[cov]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                problems.append(Problem(what, cov, "missing value"))
                continue
            if cov in self.reference_levels:
                level, allowed = str(value), (self.reference_levels[cov], *self.levels[cov])
                if level not in allowed:
                    problems.append(Problem(what, cov, f"unknown level {level!r}; expected one of {allowed}"))
                for lv in self.levels[cov]:
                    values[f"{cov}[{lv}]"] = float(level == lv)
            else:
                try:
                    values[cov] = float(value)
                except (TypeError, ValueError):
                    problems.append(Problem(what, cov, f"not a number: {value!r}"))
        if problems:
            raise ValidationError(problems)
        return np.array([values.get(c, np.nan) for c in self.columns], dtype=float)

    def encode_frame(self, frame: pd.DataFrame, what: str = "data") -> np.ndarray:
        """The design matrix of new rows (same coding; an unseen factor level is an error)."""
        check_columns(frame, what, covariates=self.covariates)
        columns: dict[str, np.ndarray] = {}
        for cov in self.covariates:
            if cov in self.reference_levels:
                values = frame[cov].astype(str)
                allowed = {self.reference_levels[cov], *self.levels[cov]}
                unseen = sorted(set(values) - allowed)
                if unseen:
                    raise ValidationError.single(
                        what, cov, f"unknown level(s) {unseen}; expected {sorted(allowed)}"
                    )
                for lv in self.levels[cov]:
                    columns[f"{cov}[{lv}]"] = (values == lv).to_numpy(dtype=float)
            else:
                columns[cov] = _numeric(frame, cov, what).to_numpy()
        return (
            np.column_stack([columns[c] for c in self.columns]) if self.columns else np.empty((len(frame), 0))
        )


def _numeric(frame: pd.DataFrame, col: str, what: str) -> pd.Series:
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() & frame[col].notna()
    if bad.any():
        first = frame[col][bad].iloc[0]
        raise ValidationError.single(
            what, col, f"not numeric (e.g. {first!r}); declare it categorical with a reference level"
        )
    return values.astype(float).rename(col)


def _constant(values: np.ndarray) -> bool:
    finite = values[~np.isnan(values)]
    return finite.size == 0 or bool(finite.min() == finite.max())


def build_design(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Mapping[str, str] | None = None,
    what: str = "model",
) -> tuple[pd.DataFrame, Design]:
    """Numeric design matrix and its :class:`Design` (constant columns dropped and listed)."""
    categorical = dict(categorical or {})
    check_columns(frame, what, covariates=covariates)
    unknown = [c for c in categorical if c not in covariates]
    if unknown:
        raise ValidationError([Problem(what, c, "categorical but not among the covariates") for c in unknown])
    columns: dict[str, np.ndarray] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for col in covariates:
        if col in categorical:
            values = frame[col].astype(str).to_numpy()
            kept = [lv for lv in sorted(set(values)) if lv != categorical[col]]
            levels[col] = tuple(kept)
            columns |= {f"{col}[{lv}]": (values == lv).astype(float) for lv in kept}
        else:
            columns[col] = _numeric(frame, col, what).to_numpy()
    dropped = tuple(c for c, v in columns.items() if _constant(v))
    x = pd.DataFrame({c: v for c, v in columns.items() if c not in dropped}, index=frame.index, copy=False)
    levels = {c: tuple(lv for lv in lvs if f"{c}[{lv}]" in x.columns) for c, lvs in levels.items()}
    design = Design(tuple(covariates), categorical, levels, tuple(str(c) for c in x.columns), dropped)
    return x, design


def data_warnings(design: Design, events: int, event_label: str) -> tuple[str, ...]:
    """Warnings about the data a model was fitted on: covariates (or factor levels) dropped as
    constant, and fewer than :data:`MIN_EVENTS` events, each naming the column."""
    out = [f"covariate {c} is constant in the data and was dropped" for c in design.dropped]
    if events < MIN_EVENTS:
        out.append(
            f"only {events} event(s) in {event_label}: fewer than {MIN_EVENTS}, so the estimates are unreliable"
        )
    return tuple(out)


def design_matrix(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    categorical: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], tuple[str, ...]]:
    """Numeric design matrix; categorical columns dummy-coded against the given reference.

    Constant columns (e.g. a therapy level absent from the data) are dropped and reported.
    Returns ``(matrix, reference_levels, dropped_columns)``.
    """
    x, design = build_design(frame, covariates, categorical, what="cox model")
    return x, dict(design.reference_levels), design.dropped
