"""Cox proportional-hazards regression: Efron or Breslow ties, delayed entry, counting-process rows.

The partial likelihood is maximised by Newton-Raphson with step halving from 0, as R
``coxph`` does, on the vectorised risk-set sums of :mod:`lupuscell.analysis._cox_core`, so
``ties="efron"`` (R's default) and ``ties="breslow"`` reproduce ``coxph(..., ties=)`` and a
model on a million rows fits in seconds. Rows may start late (``entry_col``: left truncation,
e.g. registry enrolment after transplant) and one person may have several ``(entry, exit]``
rows (time-varying covariates), as R ``Surv(start, stop, event)``. Standard errors are the
model-based inverse information (R's default when each person has at most one event).

Each fit also reports the proportional-hazards score test of R ``cox.zph``
(:mod:`lupuscell.analysis.ph_test`) per term and globally, Harrell's concordance as R prints it
(:mod:`lupuscell.analysis.concordance`), and keeps the baseline cumulative hazard (Breslow, or
Efron's for Efron ties, as R ``survfit.coxph``) so survival can be predicted for a covariate
pattern. Categorical covariates are dummy-coded against a recorded reference level
(:mod:`lupuscell.analysis.design`). A coefficient that runs off to infinity (complete
separation in a small cohort) is flagged in ``fit_warnings`` with R's rule, so the report can
say the estimate is unreliable instead of printing it silently. Every number is checked against
R survival 3.5 in tests/analysis/test_regression_r.py.

References
----------
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.

Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from lupuscell.analysis._counting import CountingData
from lupuscell.analysis._cox_core import (
    Covariates,
    Fit,
    RiskSets,
    Ties,
    cox_risk_sets,
    evaluate,
    make_slots,
    newton,
)
from lupuscell.analysis.concordance import concordance
from lupuscell.analysis.conventions import json_number, json_safe, step_value
from lupuscell.analysis.design import Design, build_design, check_columns, data_warnings, design_matrix
from lupuscell.analysis.ph_test import PHTest, Transform, ph_score_test
from lupuscell.errors import ValidationError

__all__ = [
    "CoxResult",
    "baseline_hazard",
    "coefficient_table",
    "complete_rows",
    "cox_model",
    "design_matrix",
    "fit_warning_messages",
    "model_based_se",
]

WHAT = "cox model"


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model.

    ``coefficients``: ``term, coef, se, hr, hr_low, hr_high, p, ph_p`` (``ph_p``: the term's
    proportional-hazards test). ``n`` counts people (distinct ``id_col`` values when given, rows
    otherwise) and ``events`` the events.
    """

    n: int
    events: int
    reference_levels: dict[str, str]
    coefficients: pd.DataFrame
    concordance: float
    dropped_terms: tuple[str, ...] = ()
    ph_violations: tuple[str, ...] = ()
    fit_warnings: tuple[str, ...] = ()
    data_warnings: tuple[str, ...] = ()
    ties: str = "efron"
    ph_global_p: float | None = None
    loglik: float | None = None
    loglik_null: float | None = None
    design: Design | None = field(default=None, repr=False, compare=False)
    means: np.ndarray | None = field(default=None, repr=False, compare=False)
    baseline: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "reference_levels": self.reference_levels,
            "coefficients": json_safe(self.coefficients.to_dict(orient="records")),
            "ph_violations": list(self.ph_violations),
            "fit_warnings": list(self.fit_warnings),
            "data_warnings": list(self.data_warnings),
            "concordance": json_number(self.concordance),
            "dropped_terms": list(self.dropped_terms),
            "ties": self.ties,
            "ph_global_p": json_number(self.ph_global_p),
            "loglik": json_number(self.loglik),
        }

    def linear_predictor(self, frame: pd.DataFrame) -> np.ndarray:
        """``(x - mean) beta`` for new rows (same coding as the fit), as R ``predict(type = "lp")``."""
        if self.design is None or self.means is None:
            raise ValueError("this result does not carry its design")
        x = self.design.encode_frame(frame)
        return np.asarray((x - self.means) @ np.nan_to_num(self.coefficients["coef"].to_numpy()), dtype=float)

    def predict_survival(self, pattern: Mapping[str, Any], times: ArrayLike) -> np.ndarray:
        """Survival at ``times`` for one covariate pattern (R ``survfit(fit, newdata)``)."""
        if self.design is None or self.means is None or self.baseline is None:
            raise ValueError("this result does not carry its baseline hazard")
        lp = float((self.design.encode(pattern) - self.means) @ np.nan_to_num(self.coefficients["coef"].to_numpy()))
        cumhaz = step_value(self.baseline["time"], self.baseline["cumhaz"], times, before=0.0)
        return np.asarray(np.exp(-cumhaz * np.exp(lp)), dtype=float)


def complete_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows with a value in every one of ``columns`` (the frame itself when none is missing)."""
    missing = np.zeros(len(frame), dtype=bool)
    for col in columns:
        missing |= frame[col].isna().to_numpy()
    return frame.loc[~missing] if missing.any() else frame


@dataclass(frozen=True)
class _Prepared:
    data: CountingData
    x: pd.DataFrame
    design: Design
    n_people: int


def _prepare(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    categorical: Mapping[str, str] | None,
    entry_col: str | None,
    id_col: str | None,
) -> _Prepared:
    check_columns(
        frame, WHAT, duration_col=duration_col, event_col=event_col, covariates=covariates,
        entry_col=entry_col, id_col=id_col,
    )
    used = list(dict.fromkeys([duration_col, event_col, *(c for c in (entry_col, id_col) if c), *covariates]))
    data = complete_rows(frame, used)
    if data.empty:
        raise ValidationError.single(WHAT, duration_col, "no complete rows to fit")
    counting = CountingData.build(
        data[duration_col], data[event_col], None if entry_col is None else data[entry_col], WHAT, event_col
    )
    if counting.status.max() > 1:
        raise ValidationError.single(
            WHAT, event_col, "must be 0/1 (or True/False); for several causes use fine_gray or cause_specific_cox"
        )
    x, design = build_design(data, covariates, categorical, what=WHAT)
    n_people = int(data[id_col].nunique()) if id_col else len(data)
    return _Prepared(counting, x, design, n_people)


def model_based_se(fit: Fit) -> np.ndarray:
    """Standard errors from the inverse information (missing for coefficients not estimable)."""
    se = np.full(fit.beta.size, np.nan)
    ok = np.isfinite(fit.beta)
    with np.errstate(invalid="ignore"):
        se[ok] = np.sqrt(np.diag(np.linalg.inv(fit.information[np.ix_(ok, ok)])))
    return se


def coefficient_table(terms: Sequence[str], beta: np.ndarray, se: np.ndarray, alpha: float) -> pd.DataFrame:
    """``term, coef, se, hr, hr_low, hr_high, p`` with Wald intervals and tests."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "term": list(terms),
                "coef": beta,
                "se": se,
                "hr": np.exp(beta),
                "hr_low": np.exp(beta - z * se),
                "hr_high": np.exp(beta + z * se),
                "p": 2 * stats.norm.sf(np.abs(beta / se)),
            }
        )


def fit_warning_messages(fit: Fit, terms: Sequence[str]) -> tuple[str, ...]:
    """Warnings a fit must carry: terms not estimable, coefficients running off, no convergence."""
    out = []
    if fit.singular:
        names = ", ".join(terms[k] for k in fit.singular)
        out.append(
            f"No information on {names} (constant within every risk set, or collinear): coefficient not estimable"
        )
    if fit.infinite:
        names = ", ".join(terms[k] for k in fit.infinite)
        out.append(f"Loglik converged before {names}; coefficient may be infinite (complete separation?)")
    elif not fit.converged:
        out.append(f"Newton-Raphson did not converge in {fit.iterations} iterations")
    return tuple(out)


def _ph(rs: RiskSets, xc: np.ndarray, fit: Fit, ties: Ties, data: CountingData, transform: Transform) -> PHTest | None:
    if xc.shape[1] == 0 or not rs.death_row.size:
        return None
    try:
        return ph_score_test(
            rs,
            xc,
            fit.beta[np.isfinite(fit.beta)],
            ties,
            evaluation=fit.evaluation,
            stop=data.stop,
            event=data.status > 0,
            entry=data.entry,
            transform=transform,
        )
    except np.linalg.LinAlgError:  # pragma: no cover - degenerate data
        return None


def baseline_hazard(rs: RiskSets, xc: np.ndarray, fit: Fit, ties: Ties) -> pd.DataFrame:
    """Cumulative baseline hazard at the mean covariates (Breslow or Efron increments, as R)."""
    slots = make_slots(rs, ties)
    ok = np.isfinite(fit.beta)
    ev = fit.evaluation or evaluate(rs, slots, Covariates.of(rs, xc[:, ok]), fit.beta[ok], info=False)
    increments = ev.a
    return pd.DataFrame({"time": rs.times, "cumhaz": np.cumsum(increments)})


def cox_model(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    categorical: dict[str, str] | None = None,
    alpha: float = 0.05,
    ties: Ties = "efron",
    entry_col: str | None = None,
    id_col: str | None = None,
    penalizer: float = 0.0,
    ph_transform: Transform = "km",
    diagnostics: bool = True,
) -> CoxResult:
    """Fit a Cox model of ``duration_col``/``event_col`` on ``covariates``.

    Parameters
    ----------
    ties
        ``"efron"`` (R's default) or ``"breslow"``.
    entry_col
        Entry time of each row (left truncation / counting-process start): the row is at risk
        for events at ``entry < t <= duration`` only.
    id_col
        Person identifier when a person has several rows; ``n`` then counts people.
    penalizer
        Ridge penalty ``penalizer/2 * |beta|^2`` on the log partial likelihood (0: none).
    ph_transform
        Time transform of the proportional-hazards test (R ``cox.zph``'s ``transform``).
    diagnostics
        Compute the proportional-hazards test and the concordance (default). ``False`` skips
        both (``ph_p`` and ``concordance`` are then missing), for repeated fits such as a
        bootstrap, where only the coefficients are needed.

    Notes
    -----
    Rows with a missing value in a used column are excluded (complete-case analysis) and ``n``
    reports how many were used. An unknown column, a non-numeric covariate not declared
    categorical, an entry not before its exit, or an event code other than 0/1 raises a
    ``ValidationError`` naming it.
    """
    if ties not in get_args(Ties):
        raise ValidationError.single(WHAT, "ties", f"must be one of {get_args(Ties)}, got {ties!r}")
    prep = _prepare(frame, duration_col, event_col, covariates, categorical, entry_col, id_col)
    order = np.argsort(prep.data.stop, kind="stable")  # sorted rows make every risk-set sum a slice
    data = CountingData(
        prep.data.stop[order], prep.data.status[order], None if prep.data.entry is None else prep.data.entry[order]
    )
    x = prep.x.to_numpy(dtype=float)[order]
    means = x.mean(axis=0)
    xc = x - means
    rs = cox_risk_sets(data.stop, data.status > 0, data.entry, np.ones(data.n))
    fit = newton(rs, xc, ties, penalty=penalizer)
    ok = np.isfinite(fit.beta)
    terms = list(prep.design.columns)
    coefs = coefficient_table(terms, fit.beta, model_based_se(fit), alpha)
    ph = _ph(rs, xc[:, ok], fit, ties, data, ph_transform) if diagnostics else None
    coefs["ph_p"] = np.nan
    if ph is not None:
        coefs.loc[ok, "ph_p"] = ph.p
    lp = xc[:, ok] @ fit.beta[ok]
    c_index = concordance(data.stop, data.status > 0, lp, data.entry).value if diagnostics else float("nan")
    return CoxResult(
        n=prep.n_people,
        events=int(data.status.sum()),
        reference_levels=dict(prep.design.reference_levels),
        coefficients=coefs,
        concordance=c_index,
        dropped_terms=prep.design.dropped,
        ph_violations=tuple(t for t, p in zip(terms, coefs["ph_p"], strict=True) if p < 0.05),
        fit_warnings=fit_warning_messages(fit, terms),
        data_warnings=data_warnings(prep.design, int(data.status.sum()), repr(event_col)),
        ties=ties,
        ph_global_p=None if ph is None else ph.global_p,
        loglik=fit.loglik,
        loglik_null=fit.loglik_null,
        design=prep.design,
        means=means,
        baseline=baseline_hazard(rs, xc, fit, ties),
    )
