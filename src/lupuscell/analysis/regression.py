"""Cox proportional-hazards regression with a proportional-hazards check.

lifelines' ``CoxPHFitter`` (Efron ties) fits the model; the proportional-hazards assumption is
checked with the scaled Schoenfeld residual test (Grambsch & Therneau, Biometrika 1994;81:515)
as ``lifelines.statistics.proportional_hazard_test`` implements it (rank time transform). The
fit is cross-checked against statsmodels' ``PHReg`` in the tests.

Categorical covariates are dummy-coded against an explicit reference level, which the result
records, so the hazard ratios in a report are never ambiguous. lifelines' convergence warnings
(e.g. complete separation in a small cohort) are captured and returned in ``fit_warnings`` so
the report can say that an estimate is unreliable instead of printing it silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import proportional_hazard_test

from lupuscell.errors import ValidationError


@dataclass(frozen=True)
class CoxResult:
    n: int
    events: int
    reference_levels: dict[str, str]
    coefficients: pd.DataFrame  # term, coef, se, hr, hr_low, hr_high, p, ph_p
    concordance: float
    dropped_terms: tuple[str, ...] = ()
    ph_violations: tuple[str, ...] = ()
    fit_warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "reference_levels": self.reference_levels,
            "coefficients": self.coefficients.to_dict(orient="records"),
            "ph_violations": list(self.ph_violations),
            "fit_warnings": list(self.fit_warnings),
            "concordance": self.concordance,
            "dropped_terms": list(self.dropped_terms),
        }


def design_matrix(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    categorical: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], tuple[str, ...]]:
    """Numeric design matrix; categorical columns dummy-coded against the given reference.

    Constant columns (e.g. a therapy level absent from the data) are dropped and reported.
    """
    categorical = categorical or {}
    parts = []
    dropped: list[str] = []
    for col in covariates:
        if col not in frame:
            raise ValidationError.single("cox model", col, "covariate not in the data")
        if col in categorical:
            ref = categorical[col]
            values = frame[col].astype(str)
            for level in sorted(values.unique()):
                if level == ref:
                    continue
                parts.append(pd.Series((values == level).astype(float), name=f"{col}[{level}]"))
        else:
            parts.append(pd.to_numeric(frame[col], errors="raise").astype(float).rename(col))
    x = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    for c in list(x.columns):
        if x[c].nunique(dropna=True) <= 1:
            dropped.append(c)
            x = x.drop(columns=c)
    return x, dict(categorical), tuple(dropped)


def cox_model(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    categorical: dict[str, str] | None = None,
    alpha: float = 0.05,
) -> CoxResult:
    """Fit a Cox model of ``duration_col``/``event_col`` on ``covariates``.

    Rows with a missing covariate are excluded (complete-case analysis) and ``n`` reports
    how many were used.
    """
    data = frame[[duration_col, event_col, *covariates]].dropna()
    if data.empty:
        raise ValidationError.single("cox model", duration_col, "no complete rows to fit")
    x, refs, dropped = design_matrix(data, covariates, categorical)
    df = x.assign(_T=data[duration_col].astype(float).to_numpy(), _E=data[event_col].astype(bool).to_numpy())
    cph = CoxPHFitter(alpha=alpha)
    # lifelines damps its Newton steps (step 0.95) and stops on a Newton decrement < 1e-7 by
    # default, which leaves coefficients ~1e-6 from the optimum; one or two more steps reach it
    # (agreement with statsmodels PHReg to 1e-9 in tests/reports/test_reports_synthetic_2000.py).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        cph.fit(df, duration_col="_T", event_col="_E", fit_options={"precision": 1e-12, "r_precision": 1e-15})
    fit_warnings = tuple(
        dict.fromkeys(
            str(w.message).strip().splitlines()[0] for w in caught if w.category is ConvergenceWarning
        )
    )
    s = cph.summary
    with np.errstate(over="ignore"):
        hr_bounds = (
            np.exp(s[f"coef lower {100 * (1 - alpha):g}%"].to_numpy()),
            np.exp(s[f"coef upper {100 * (1 - alpha):g}%"].to_numpy()),
        )
    ph_p: dict[str, float] = {}
    try:
        test = proportional_hazard_test(cph, df, time_transform="rank")
        ph_p = {str(k): float(v) for k, v in test.summary["p"].items()}
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - degenerate data
        ph_p = {}
    # Per-term tests only: the per-term statistics are correlated, so summing them is not a
    # valid global test; a term with ph_p < 0.05 is flagged in the report.
    violations = tuple(t for t, p in ph_p.items() if p < 0.05)
    coefs = pd.DataFrame(
        {
            "term": s.index.astype(str),
            "coef": s["coef"].to_numpy(),
            "se": s["se(coef)"].to_numpy(),
            "hr": s["exp(coef)"].to_numpy(),
            "hr_low": hr_bounds[0],
            "hr_high": hr_bounds[1],
            "p": s["p"].to_numpy(),
            "ph_p": [ph_p.get(str(t), np.nan) for t in s.index],
        }
    )
    return CoxResult(
        n=len(df),
        events=int(df["_E"].sum()),
        reference_levels=refs,
        coefficients=coefs,
        ph_violations=violations,
        fit_warnings=fit_warnings,
        concordance=float(cph.concordance_index_),
        dropped_terms=dropped,
    )
