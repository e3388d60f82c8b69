"""Competing-risks regression: Fine-Gray subdistribution hazards and cause-specific Cox models.

With competing events (relapse, and death before relapse: non-relapse mortality) two
regressions answer two questions (Austin, Lee & Fine 2016). The *cause-specific* Cox model
(other causes censored) describes the rate of the event among those still free of every event:
aetiology. The *Fine-Gray* model describes the cumulative incidence directly: its hazard ratio
says how a covariate shifts the probability of the event by time t, which is what a patient and
a prognosis need. :func:`fine_gray` fits both for the cause of interest so a report can show
them side by side, and predicts the cumulative incidence of a covariate pattern.

The Fine-Gray fit maximises the censoring-weighted partial likelihood of Fine & Gray (1999)
with the risk-set weights of :mod:`lupuscell.analysis._finegray_core`, by the same vectorised
Newton-Raphson as the Cox model, so a million rows fit in seconds (R ``crr`` loops over pairs
of subjects). ``censoring_weights="crr"`` with ``ties="breslow"`` (the defaults) is cmprsk
``crr``: coefficients, its sandwich standard errors and ``predict.crr`` agree to 1e-6
(tests/analysis/test_finegray_r.py). ``censoring_weights="finegray"`` reproduces the weighted
data of survival ``finegray`` (events before censorings at tied times), so with ``ties="efron"``
the coefficients are those of ``coxph(Surv(fgstart, fgstop, fgstatus) ~ ..., weights =
fgwt)``; the two conventions differ only through tied event and censoring times (by at most a
few 1e-4 on monthly data). Standard errors are always the Fine-Gray sandwich, which accounts for
the estimated censoring distribution; with Efron ties it is evaluated with Breslow means (an
approximation, documented in docs/analysis/competing-risks-regression.md).

Written by hand because no Python library fits the Fine-Gray model (lifelines issues #619 and
#1459, PR #1689 unmerged; statsmodels #9421; scikit-survival #490).

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.

Geskus RB. Cause-specific cumulative incidence estimation and the Fine and Gray model under both
left truncation and right censoring. Biometrics 2011;67:39-49.

Austin PC, Lee DS, Fine JP. Introduction to the analysis of survival data in the presence of
competing risks. Circulation 2016;133:601-609.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lupuscell.analysis._counting import CountingData
from lupuscell.analysis._cox_core import Ties, newton
from lupuscell.analysis._finegray_core import CensoringWeights, censoring_curve, finegray_risk_sets, sandwich
from lupuscell.analysis.conventions import json_number, json_safe, step_value
from lupuscell.analysis.design import Design, build_design, check_columns, data_warnings
from lupuscell.analysis.regression import (
    CoxResult,
    baseline_hazard,
    coefficient_table,
    complete_rows,
    cox_model,
    fit_warning_messages,
)
from lupuscell.errors import ValidationError

__all__ = ["FineGrayResult", "cause_specific_cox", "fine_gray"]

WHAT = "fine-gray model"


@dataclass(frozen=True)
class FineGrayResult:
    """A Fine-Gray model for one cause, with the cause-specific Cox models beside it.

    ``coefficients``: ``term, coef, se, hr, hr_low, hr_high, p`` (``hr`` is the subdistribution
    hazard ratio). ``cause_specific``: one Cox model per cause in the data (other causes
    censored), fitted on the same rows.
    """

    cause: int
    n: int
    events: int
    competing_events: int
    censored: int
    reference_levels: dict[str, str]
    coefficients: pd.DataFrame
    dropped_terms: tuple[str, ...] = ()
    fit_warnings: tuple[str, ...] = ()
    data_warnings: tuple[str, ...] = ()
    ties: str = "breslow"
    censoring_weights: str = "crr"
    loglik: float | None = None
    loglik_null: float | None = None
    cause_specific: dict[int, CoxResult] = field(default_factory=dict)
    design: Design | None = field(default=None, repr=False, compare=False)
    means: np.ndarray | None = field(default=None, repr=False, compare=False)
    baseline: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def predict_cumulative_incidence(self, pattern: Mapping[str, Any], times: ArrayLike) -> np.ndarray:
        """Cumulative incidence of the cause at ``times`` for one covariate pattern.

        ``1 - exp(-H0(t) exp(x beta))`` with the Breslow baseline subdistribution hazard, as
        cmprsk ``predict.crr``.
        """
        if self.design is None or self.means is None or self.baseline is None:
            raise ValueError("this result does not carry its baseline hazard")
        beta = np.nan_to_num(self.coefficients["coef"].to_numpy())
        lp = float((self.design.encode(pattern) - self.means) @ beta)
        cumhaz = step_value(self.baseline["time"], self.baseline["cumhaz"], times, before=0.0)
        return np.asarray(1.0 - np.exp(-cumhaz * np.exp(lp)), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "n": self.n,
            "events": self.events,
            "competing_events": self.competing_events,
            "censored": self.censored,
            "reference_levels": self.reference_levels,
            "coefficients": json_safe(self.coefficients.to_dict(orient="records")),
            "dropped_terms": list(self.dropped_terms),
            "fit_warnings": list(self.fit_warnings),
            "data_warnings": list(self.data_warnings),
            "ties": self.ties,
            "censoring_weights": self.censoring_weights,
            "loglik": json_number(self.loglik),
            "cause_specific": {str(k): v.to_dict() for k, v in self.cause_specific.items()},
        }


@dataclass(frozen=True)
class _Prepared:
    data: pd.DataFrame
    counting: CountingData
    x: pd.DataFrame
    design: Design


def _prepare(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    categorical: Mapping[str, str] | None,
    cause: int,
) -> _Prepared:
    check_columns(frame, WHAT, duration_col=duration_col, event_col=event_col, covariates=covariates)
    data = complete_rows(frame, list(dict.fromkeys([duration_col, event_col, *covariates])))
    if data.empty:
        raise ValidationError.single(WHAT, duration_col, "no complete rows to fit")
    counting = CountingData.build(data[duration_col], data[event_col], None, WHAT, event_col)
    codes = sorted(set(np.unique(counting.status).tolist()) - {0})
    if cause not in codes:
        raise ValidationError.single(
            WHAT, "cause", f"cause {cause!r} has no event in {event_col!r} (codes present: {codes})"
        )
    x, design = build_design(data, covariates, categorical, what=WHAT)
    return _Prepared(data, counting, x, design)


def fine_gray(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    cause: int = 1,
    categorical: dict[str, str] | None = None,
    alpha: float = 0.05,
    ties: Ties = "breslow",
    censoring_weights: CensoringWeights = "crr",
    cause_specific: bool = True,
) -> FineGrayResult:
    """Fine-Gray subdistribution-hazard model of ``cause`` (and the cause-specific Cox models).

    Parameters
    ----------
    duration_col, event_col
        Time to the first event or censoring; event code 0 = censored, 1..K = cause.
    cause
        The event of interest; every other non-zero code competes with it.
    ties, censoring_weights
        ``"breslow"`` and ``"crr"`` reproduce cmprsk ``crr``; ``"finegray"`` weights with
        ``"efron"`` ties reproduce survival ``finegray`` + ``coxph``.
    cause_specific
        Also fit the cause-specific Cox model of every cause (same rows and ties).

    Notes
    -----
    Rows with a missing value are excluded (complete-case analysis). An unknown column, a cause
    absent from the data or a non-numeric covariate not declared categorical raises a
    ``ValidationError`` naming it.
    """
    if ties not in get_args(Ties):
        raise ValidationError.single(WHAT, "ties", f"must be one of {get_args(Ties)}, got {ties!r}")
    if censoring_weights not in get_args(CensoringWeights):
        raise ValidationError.single(
            WHAT, "censoring_weights", f"must be one of {get_args(CensoringWeights)}, got {censoring_weights!r}"
        )
    prep = _prepare(frame, duration_col, event_col, covariates, categorical, cause)
    order = np.argsort(prep.counting.stop, kind="stable")  # sorted rows make risk-set sums slices
    c = CountingData(prep.counting.stop[order], prep.counting.status[order], None)
    fg = censoring_curve(c.stop, c.status, cause, censoring_weights)
    rs = finegray_risk_sets(fg)
    x = prep.x.to_numpy(dtype=float)[order]
    means = x.mean(axis=0)
    xc = x - means
    fit = newton(rs, xc, ties)
    se = np.full(fit.beta.size, np.nan)
    ok = np.isfinite(fit.beta)
    if ok.any():
        var = sandwich(fg, rs, xc[:, ok], fit.beta[ok], fit.information[np.ix_(ok, ok)])
        se[ok] = np.sqrt(np.diag(var))
    terms = list(prep.design.columns)
    events = int((c.status == cause).sum())
    return FineGrayResult(
        cause=cause,
        n=c.n,
        events=events,
        competing_events=int(fg.competing.sum()),
        censored=int((c.status == 0).sum()),
        reference_levels=dict(prep.design.reference_levels),
        coefficients=coefficient_table(terms, fit.beta, se, alpha),
        dropped_terms=prep.design.dropped,
        fit_warnings=fit_warning_messages(fit, terms),
        data_warnings=data_warnings(prep.design, events, f"{event_col!r} == {cause}"),
        ties=ties,
        censoring_weights=censoring_weights,
        loglik=fit.loglik,
        loglik_null=fit.loglik_null,
        cause_specific=_cause_specific(prep, covariates, categorical, ties, alpha) if cause_specific else {},
        design=prep.design,
        means=means,
        baseline=baseline_hazard(rs, xc, fit, ties),
    )


def _cause_specific(
    prep: _Prepared,
    covariates: Sequence[str],
    categorical: Mapping[str, str] | None,
    ties: Ties,
    alpha: float,
) -> dict[int, CoxResult]:
    codes = sorted(set(np.unique(prep.counting.status).tolist()) - {0})
    out = {}
    for k in codes:
        label = f"cause {int(k)}"  # names the event column in the model's warnings
        frame = prep.data.assign(**{"_time": prep.counting.stop, label: (prep.counting.status == k).astype(int)})
        out[int(k)] = cox_model(
            frame, duration_col="_time", event_col=label, covariates=covariates,
            categorical=dict(categorical or {}), ties=ties, alpha=alpha,
        )
    return out


def cause_specific_cox(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    cause: int = 1,
    categorical: dict[str, str] | None = None,
    alpha: float = 0.05,
    ties: Ties = "efron",
    entry_col: str | None = None,
) -> CoxResult:
    """Cause-specific Cox model of ``cause``: every other cause is a censoring.

    R ``coxph(Surv(time, status == k) ~ ...)``; delayed entry as :func:`cox_model`.
    """
    check_columns(frame, "cause-specific cox", duration_col=duration_col, event_col=event_col)
    codes = pd.to_numeric(frame[event_col], errors="coerce")
    if not (codes == cause).any():
        raise ValidationError.single("cause-specific cox", "cause", f"cause {cause!r} has no event in {event_col!r}")
    label = f"{event_col} == {cause}"  # names the event column in the model's warnings
    data = frame.assign(**{label: (codes == cause).astype(int).where(codes.notna())})
    return cox_model(
        data, duration_col=duration_col, event_col=label, covariates=covariates,
        categorical=categorical, alpha=alpha, ties=ties, entry_col=entry_col,
    )
