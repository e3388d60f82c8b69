"""Cohort statistics: survival, competing risks, regression, prediction and descriptive tables.

Pure functions (data frames and arrays in, results with a fixed schema out); every survival
estimate is checked against R survival 3.5 and cmprsk 2.2 in tests/analysis (scripts and their
output in tests/analysis/r). User guide: docs/analysis/.

Public API
----------
kaplan_meier, kaplan_meier_by_group, median_follow_up, KMResult, Landmark
    Kaplan-Meier with log(-log) CIs, R's median rule, landmarks, delayed entry (``entry=``).
cumulative_incidence, CIFResult
    Aalen-Johansen cumulative incidence per cause with R's standard error, delayed entry.
cox_model, CoxResult, design_matrix
    Cox model (Efron or Breslow ties, ``entry_col``, counting-process rows), proportional-hazards
    test, concordance, predicted survival.
fine_gray, cause_specific_cox, FineGrayResult
    Competing-risks regression: Fine-Gray subdistribution hazards (as cmprsk ``crr``) beside the
    cause-specific Cox models; predicted cumulative incidence for a covariate pattern.
prediction_frame, fit_remission_model, fit_rfs_model, PredictionModel, calibration_plot
    Penalised responder (remission by 12 months) and risk (relapse-free survival) models with
    bootstrap optimism correction, calibration, intervals for a candidate, TRIPOD summary.
numbers_at_risk, step_value, json_number, json_safe
    The shared conventions: numbers at risk at t among those entered, right-continuous step
    lookup, not reached / not estimable as ``None`` (``null`` in JSON).
table_one, response_rates, proportion_with_ci, trajectory
    Table 1, response rates with exact and Wilson CIs, trajectories by visit.
DAYS_PER_MONTH, DAYS_PER_YEAR
    The display month and year (Julian).

Harrell's C of any risk score is :func:`lupuscell.analysis.concordance.concordance`.
Submodules load on first use (scikit-learn and matplotlib only when a prediction model is fitted).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, visible to type checkers and the API reference
    from lupuscell.analysis.competing import CIFResult, cumulative_incidence
    from lupuscell.analysis.conventions import json_number, json_safe, numbers_at_risk, step_value
    from lupuscell.analysis.finegray import FineGrayResult, cause_specific_cox, fine_gray
    from lupuscell.analysis.prediction import (
        PredictionModel,
        calibration_plot,
        fit_remission_model,
        fit_rfs_model,
        prediction_frame,
    )
    from lupuscell.analysis.regression import CoxResult, cox_model, design_matrix
    from lupuscell.analysis.survival import (
        DAYS_PER_MONTH,
        DAYS_PER_YEAR,
        KMResult,
        Landmark,
        kaplan_meier,
        kaplan_meier_by_group,
        median_follow_up,
    )
    from lupuscell.analysis.tables import proportion_with_ci, response_rates, table_one, trajectory

_HOME = {
    "kaplan_meier": "survival",
    "kaplan_meier_by_group": "survival",
    "median_follow_up": "survival",
    "KMResult": "survival",
    "Landmark": "survival",
    "DAYS_PER_MONTH": "survival",
    "DAYS_PER_YEAR": "survival",
    "cumulative_incidence": "competing",
    "CIFResult": "competing",
    "cox_model": "regression",
    "CoxResult": "regression",
    "design_matrix": "regression",
    "fine_gray": "finegray",
    "cause_specific_cox": "finegray",
    "FineGrayResult": "finegray",
    "prediction_frame": "prediction",
    "fit_remission_model": "prediction",
    "fit_rfs_model": "prediction",
    "PredictionModel": "prediction",
    "calibration_plot": "prediction",
    "numbers_at_risk": "conventions",
    "step_value": "conventions",
    "json_number": "conventions",
    "json_safe": "conventions",
    "table_one": "tables",
    "response_rates": "tables",
    "proportion_with_ci": "tables",
    "trajectory": "tables",
}

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "CIFResult",
    "CoxResult",
    "FineGrayResult",
    "KMResult",
    "Landmark",
    "PredictionModel",
    "calibration_plot",
    "cause_specific_cox",
    "cox_model",
    "cumulative_incidence",
    "design_matrix",
    "fine_gray",
    "fit_remission_model",
    "fit_rfs_model",
    "json_number",
    "json_safe",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "median_follow_up",
    "numbers_at_risk",
    "prediction_frame",
    "proportion_with_ci",
    "response_rates",
    "step_value",
    "table_one",
    "trajectory",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"lupuscell.analysis.{_HOME[name]}"), name)
    raise AttributeError(f"module 'lupuscell.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
