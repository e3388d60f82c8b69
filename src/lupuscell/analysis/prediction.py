"""Who benefits, and at what risk: penalised prediction models with bootstrap validation.

Two models from baseline features (age, disease duration, baseline SLEDAI-2K, lupus nephritis and
its ISN/RPS class, anti-dsDNA, and, when the data carry them, C3, C4, the number of prior
immunosuppressants and the cell dose, and the therapy):

* the probability of DORIS remission by 12 months: a ridge-penalised logistic model
  (scikit-learn ``LogisticRegression``);
* relapse-free survival: a ridge-penalised Cox model (the vectorised solver of
  :mod:`lupuscell.analysis.regression`), predicting the probability of relapse or death by a
  horizon (12 months by default).

Predictors are standardised before penalising (as glmnet does) and every coefficient is reported
back per unit. The penalty is chosen by 5-fold cross-validation. Performance is validated by
Harrell's bootstrap optimism correction with the tuning repeated in every resample: apparent,
optimism and optimism-corrected C-statistic, calibration slope and calibration intercept
(calibration in the large; for the Cox model log(observed/expected events), Crowson et al.
2016). A new candidate's prediction comes with the 2.5-97.5 % interval of the same prediction
across the bootstrap models. The summary follows TRIPOD (Collins et al. 2015): n, events, events
per candidate parameter with a warning below 10 (Peduzzi et al. 1996; Riley et al. 2020 for why
10 is a floor, not a target), optimism and the full model.

Bad input: a predictor absent from the data or an outcome with fewer than 10 events (or, for the
logistic model, fewer than 10 non-events) raises a ``ValidationError`` naming it; a predictor
that is constant is dropped with a warning naming it.

References
----------
Collins GS, Reitsma JB, Altman DG, Moons KGM. Transparent reporting of a multivariable prediction
model for individual prognosis or diagnosis (TRIPOD). BMJ 2015;350:g7594.

Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 1996;15:361-387.

Peduzzi P, Concato J, Kemper E, Holford TR, Feinstein AR. A simulation study of the number of
events per variable in logistic regression analysis. J Clin Epidemiol 1996;49:1373-1379.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. BMJ 2020;368:m441.

van Vollenhoven RF, Bertsias G, Doria A, et al. 2021 DORIS definition of remission in SLE.
Lupus Sci Med 2021;8:e000538.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupuscell.analysis._prediction_fit import (
    Fitted,
    Kind,
    Outcome,
    bootstrap,
    fit_model,
    performance,
    predicted_risk,
)
from lupuscell.analysis.conventions import json_safe
from lupuscell.analysis.design import Design, build_design, check_columns
from lupuscell.analysis.survival import kaplan_meier
from lupuscell.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_PREDICTORS",
    "OPTIONAL_PREDICTORS",
    "PredictionModel",
    "calibration_plot",
    "fit_remission_model",
    "fit_rfs_model",
    "prediction_frame",
]

#: Baseline features of the analysis dataset ADSL used by default.
DEFAULT_PREDICTORS = ("AGE", "DIAGDUR", "BSLEDAI", "NEPHRITIS", "BDSDNA", "THERAPY")
#: Used as well when the data carry them (nephritis class; C3, C4; prior immunosuppressants; cell dose).
OPTIONAL_PREDICTORS = ("LNCLASS", "BC3", "BC4", "NPRIORIS", "CELLDOSE")
#: Reference levels of the categorical predictors.
CATEGORICAL = {"THERAPY": "autologous_hsct", "LNCLASS": "none"}
MIN_EVENTS = 10
EPV_FLOOR = 10
MEASURES = ("c_statistic", "calibration_slope", "calibration_intercept")


def prediction_frame(adsl: pd.DataFrame, horizon_days: float = 365.0) -> pd.DataFrame:
    """Predictors and outcomes per patient from ADSL.

    ``remission_12m``: 1 when DORIS remission was first reached by ``horizon_days``, 0 when not
    and the patient was followed that long, missing (not evaluable) otherwise. ``rfs_days`` and
    ``rfs_event``: relapse-free survival. ``LNCLASS`` is ``"none"`` without nephritis.
    """
    check_columns(adsl, "ADSL", required=("USUBJID", "FUPDY", "first_remission_day", "rfs_days", "rfs_event"))
    out = adsl[["USUBJID", *[c for c in (*DEFAULT_PREDICTORS, *OPTIONAL_PREDICTORS) if c in adsl]]].copy()
    for col in out.columns.drop(["USUBJID", *CATEGORICAL], errors="ignore"):
        out[col] = _floats(out[col].astype("boolean") if out[col].dtype in (bool, object) else out[col])
    if "LNCLASS" in out:
        out["LNCLASS"] = out["LNCLASS"].fillna("none").astype(str)
    remission = _floats(adsl["first_remission_day"])
    reached = remission <= horizon_days
    followed = _floats(adsl["FUPDY"]) >= horizon_days
    out["remission_12m"] = np.where(reached, 1.0, np.where(followed, 0.0, np.nan))
    out["rfs_days"] = _floats(adsl["rfs_days"])
    out["rfs_event"] = _floats(adsl["rfs_event"].astype("boolean"))
    return out


def _floats(column: pd.Series) -> np.ndarray:
    """A numeric column (nullable or not) as floats, missing values as NaN."""
    return np.asarray(pd.to_numeric(column, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan))


@dataclass(frozen=True)
class Scaling:
    """Dummy coding, then standardisation (mean 0, SD 1) of every column."""

    design: Design
    mean: np.ndarray
    scale: np.ndarray

    def frame(self, data: pd.DataFrame) -> np.ndarray:
        return np.asarray((self.design.encode_frame(data) - self.mean) / self.scale, dtype=float)

    def pattern(self, values: Mapping[str, Any]) -> np.ndarray:
        return np.asarray(((self.design.encode(values) - self.mean) / self.scale)[None, :], dtype=float)


@dataclass(frozen=True)
class PredictionModel:
    """A fitted, bootstrap-validated prediction model (see the module docstring).

    ``coefficients``: ``term, coef`` (per unit of the predictor), ``ratio`` (odds or hazard ratio
    per unit), ``coef_std`` (per SD, the scale penalised). ``performance``: ``measure, apparent,
    optimism, corrected``. ``calibration``: the data behind :func:`calibration_plot`.
    """

    kind: Kind
    outcome: str
    horizon_days: float
    n: int
    events: int
    non_events: int
    parameters: int
    events_per_variable: float
    penalty: float
    coefficients: pd.DataFrame
    intercept: float
    performance: pd.DataFrame
    calibration: pd.DataFrame
    warnings: tuple[str, ...]
    n_bootstrap: int
    bootstrap_failed: int
    scaling: Scaling = field(repr=False)
    fitted: Fitted = field(repr=False)
    boot_coef: np.ndarray = field(repr=False)
    boot_intercept: np.ndarray = field(repr=False)
    boot_cumhaz: np.ndarray = field(repr=False)  # Cox: baseline cumulative hazard at the horizon

    def _risk(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        point = float(predicted_risk(self.kind, self.fitted, z, self.horizon_days)[0])
        lp = self.boot_coef @ z[0] + self.boot_intercept
        boot = 1 / (1 + np.exp(-lp)) if self.kind == "logistic" else 1 - np.exp(-self.boot_cumhaz * np.exp(lp))
        return point, boot

    def predict(self, pattern: Mapping[str, Any]) -> dict[str, Any]:
        """Predicted probability for one candidate, with its bootstrap 95 % interval.

        ``pattern`` maps every predictor of the model to a value (unknown predictors, missing
        ones and unseen categories are a ``ValidationError`` naming them).
        """
        point, boot = self._risk(self.scaling.pattern(pattern))
        low, high = (np.quantile(boot, [0.025, 0.975]) if boot.size else (np.nan, np.nan))
        what = "remission by" if self.kind == "logistic" else "relapse or death by"
        return json_safe(
            {
                "outcome": self.outcome,
                "description": f"probability of {what} day {self.horizon_days:g}",
                "probability": point,
                "ci_low": float(low),
                "ci_high": float(high),
                "interval": f"2.5-97.5 percentiles over {boot.size} bootstrap models",
            }
        )

    def summary(self) -> dict[str, Any]:
        """TRIPOD-style summary: sample, events, EPV, optimism, the full model, warnings."""
        perf = self.performance.set_index("measure")
        return json_safe(
            {
                "model": "penalised logistic (ridge)" if self.kind == "logistic" else "penalised Cox (ridge)",
                "outcome": self.outcome,
                "horizon_days": self.horizon_days,
                "n": self.n,
                "events": self.events,
                "non_events": self.non_events,
                "candidate_parameters": self.parameters,
                "events_per_variable": self.events_per_variable,
                "penalty": self.penalty,
                "c_statistic_apparent": perf.loc["c_statistic", "apparent"],
                "c_statistic_optimism": perf.loc["c_statistic", "optimism"],
                "c_statistic_corrected": perf.loc["c_statistic", "corrected"],
                "calibration_slope_corrected": perf.loc["calibration_slope", "corrected"],
                "calibration_intercept_corrected": perf.loc["calibration_intercept", "corrected"],
                "performance": self.performance.to_dict(orient="records"),
                "coefficients": self.coefficients.to_dict(orient="records"),
                "intercept": self.intercept if self.kind == "logistic" else None,
                "n_bootstrap": self.n_bootstrap,
                "bootstrap_failed": self.bootstrap_failed,
                "warnings": list(self.warnings),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the model (:meth:`from_dict`): JSON, no pickles."""
        d = self.design_dict()
        return json_safe(
            {
                "summary": self.summary(),
                "design": d,
                "mean": self.scaling.mean,
                "scale": self.scaling.scale,
                "coef_std": self.fitted.coef,
                "intercept_std": self.fitted.intercept,
                "baseline": {"time": self.fitted.baseline_time, "cumhaz": self.fitted.baseline_cumhaz},
                "bootstrap": {"coef": self.boot_coef, "intercept": self.boot_intercept, "cumhaz": self.boot_cumhaz},
                "calibration": self.calibration.to_dict(orient="records"),
            }
        )

    def design_dict(self) -> dict[str, Any]:
        ds = self.scaling.design
        return {
            "covariates": list(ds.covariates),
            "reference_levels": ds.reference_levels,
            "levels": {k: list(v) for k, v in ds.levels.items()},
            "columns": list(ds.columns),
            "dropped": list(ds.dropped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictionModel:
        """Rebuild a model written by :meth:`to_dict` (e.g. ``lupuscell predict fit``)."""
        s, d = data["summary"], data["design"]
        design = Design(
            tuple(d["covariates"]), dict(d["reference_levels"]), {k: tuple(v) for k, v in d["levels"].items()},
            tuple(d["columns"]), tuple(d["dropped"]),
        )
        boot = data["bootstrap"]
        fitted = Fitted(
            np.asarray(data["coef_std"], dtype=float), float(data["intercept_std"]), float(s["penalty"]),
            np.asarray(data["baseline"]["time"], dtype=float), np.asarray(data["baseline"]["cumhaz"], dtype=float),
        )
        kind: Kind = "logistic" if s["model"].startswith("penalised logistic") else "cox"
        return cls(
            kind=kind, outcome=s["outcome"], horizon_days=float(s["horizon_days"]), n=int(s["n"]),
            events=int(s["events"]), non_events=int(s["non_events"]), parameters=int(s["candidate_parameters"]),
            events_per_variable=float(s["events_per_variable"]), penalty=float(s["penalty"]),
            coefficients=pd.DataFrame(s["coefficients"]), intercept=float(s["intercept"] or 0.0),
            performance=pd.DataFrame(s["performance"]), calibration=pd.DataFrame(data["calibration"]),
            warnings=tuple(s["warnings"]), n_bootstrap=int(s["n_bootstrap"]),
            bootstrap_failed=int(s["bootstrap_failed"]),
            scaling=Scaling(design, np.asarray(data["mean"], dtype=float), np.asarray(data["scale"], dtype=float)),
            fitted=fitted, boot_coef=np.asarray(boot["coef"], dtype=float).reshape(-1, len(design.columns)),
            boot_intercept=np.asarray(boot["intercept"], dtype=float),
            boot_cumhaz=np.asarray(boot["cumhaz"], dtype=float),
        )


@dataclass(frozen=True)
class _Data:
    frame: pd.DataFrame
    z: np.ndarray
    outcome: Outcome
    scaling: Scaling
    warnings: tuple[str, ...]


def _predictors(frame: pd.DataFrame, predictors: Sequence[str] | None) -> list[str]:
    if predictors is not None:
        check_columns(frame, "prediction model", predictors=predictors)
        return list(predictors)
    return [c for c in (*DEFAULT_PREDICTORS, *OPTIONAL_PREDICTORS) if c in frame]


def _prepare(frame: pd.DataFrame, predictors: Sequence[str], outcome_cols: Sequence[str], label: str) -> _Data:
    check_columns(frame, "prediction model", outcome=outcome_cols)
    evaluable = frame.dropna(subset=list(outcome_cols))
    data = evaluable.dropna(subset=list(predictors))
    notes = []
    if len(evaluable) - len(data):
        notes.append(f"{len(evaluable) - len(data)} patient(s) excluded for a missing predictor (complete cases)")
    categorical = {c: ref for c, ref in CATEGORICAL.items() if c in predictors}
    x, design = build_design(data, predictors, categorical, what="prediction model")
    notes += [f"predictor {c} is constant in the data and was dropped" for c in design.dropped]
    if not design.columns:
        raise ValidationError.single("prediction model", "predictors", "no predictor varies in the data")
    values = x.to_numpy(dtype=float)
    mean, scale = values.mean(axis=0), values.std(axis=0)
    scaling = Scaling(design, mean, np.where(scale > 0, scale, 1.0))
    if outcome_cols[0] == "remission_12m":
        out = Outcome(y=data[label].to_numpy(dtype=float))
    else:
        out = Outcome(time=data[outcome_cols[0]].to_numpy(dtype=float), event=data[outcome_cols[1]].to_numpy(float))
    return _Data(data, (values - mean) / scaling.scale, out, scaling, tuple(notes))


def _check_events(events: int, non_events: int | None, label: str, n: int) -> None:
    problems = []
    if events < MIN_EVENTS:
        problems.append(Problem("prediction model", label, f"only {events} events among {n} patients; at least "
                                f"{MIN_EVENTS} are needed to fit a prediction model"))
    if non_events is not None and non_events < MIN_EVENTS:
        problems.append(Problem("prediction model", label, f"only {non_events} patients without the outcome; at "
                                f"least {MIN_EVENTS} are needed"))
    if problems:
        raise ValidationError(problems)


def _coefficients(kind: Kind, fitted: Fitted, scaling: Scaling) -> tuple[pd.DataFrame, float]:
    per_unit = fitted.coef / scaling.scale
    intercept = float(fitted.intercept - np.sum(per_unit * scaling.mean))
    frame = pd.DataFrame(
        {"term": list(scaling.design.columns), "coef": per_unit, "ratio": np.exp(per_unit), "coef_std": fitted.coef}
    )
    return frame, intercept


def _fit(
    kind: Kind,
    data: _Data,
    label: str,
    horizon: float,
    n_bootstrap: int,
    seed: int,
    progress: Callable[[int], None] | None,
) -> PredictionModel:
    out = data.outcome
    events = int(out.y.sum() if out.y is not None else out.event.sum())  # type: ignore[union-attr]
    non_events = int(out.y.size - events) if out.y is not None else None
    _check_events(events, non_events, label, len(data.frame))
    limiting = min(events, non_events) if non_events is not None else events
    params = len(data.scaling.design.columns)
    notes = list(data.warnings)
    if limiting / params < EPV_FLOOR:
        notes.append(f"events per variable is {limiting / params:.1f} (< {EPV_FLOOR}): the model is likely "
                     "overfitted; read the optimism-corrected performance")
    fitted = fit_model(kind, data.z, out, seed)
    apparent = performance(kind, fitted, data.z, out)
    boot = bootstrap(kind, data.z, out, n_bootstrap, seed, progress)
    optimism = np.nanmean(boot.optimism, axis=0) if boot.optimism.size else np.full(3, np.nan)
    if boot.failed:
        notes.append(f"{boot.failed} bootstrap sample(s) had a single outcome class and were skipped")
    coefficients, intercept = _coefficients(kind, fitted, data.scaling)
    return PredictionModel(
        kind=kind, outcome=label, horizon_days=horizon, n=len(data.frame), events=events,
        non_events=non_events if non_events is not None else len(data.frame) - events, parameters=params,
        events_per_variable=limiting / params, penalty=fitted.penalty, coefficients=coefficients,
        intercept=intercept,
        performance=pd.DataFrame({"measure": MEASURES, "apparent": apparent, "optimism": optimism,
                                  "corrected": apparent - optimism}),
        calibration=_calibration_table(kind, fitted, data.z, out, horizon), warnings=tuple(notes),
        n_bootstrap=n_bootstrap, bootstrap_failed=boot.failed, scaling=data.scaling, fitted=fitted,
        boot_coef=np.array([m.coef for m in boot.models]).reshape(-1, params),
        boot_intercept=np.array([m.intercept for m in boot.models]),
        boot_cumhaz=np.array([float(m.cumhaz(np.array([horizon]))[0]) for m in boot.models]),
    )


def fit_remission_model(
    frame: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    horizon_days: float = 365.0,
    n_bootstrap: int = 200,
    seed: int = 20240601,
    progress: Callable[[int], None] | None = None,
) -> PredictionModel:
    """Penalised logistic model of ``remission_12m`` (a :func:`prediction_frame`), bootstrap-validated.

    ``predictors`` default to those of :data:`DEFAULT_PREDICTORS` and :data:`OPTIONAL_PREDICTORS`
    present in ``frame``; ``progress`` is called with the number of bootstrap fits done.
    """
    cols = _predictors(frame, predictors)
    data = _prepare(frame, cols, ("remission_12m",), "remission_12m")
    return _fit("logistic", data, "remission_12m", horizon_days, n_bootstrap, seed, progress)


def fit_rfs_model(
    frame: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    horizon_days: float = 365.0,
    n_bootstrap: int = 200,
    seed: int = 20240601,
    progress: Callable[[int], None] | None = None,
) -> PredictionModel:
    """Penalised Cox model of relapse-free survival (``rfs_days``, ``rfs_event``), bootstrap-validated.

    Predictions are the probability of relapse or death by ``horizon_days``.
    """
    cols = _predictors(frame, predictors)
    data = _prepare(frame, cols, ("rfs_days", "rfs_event"), "rfs")
    return _fit("cox", data, "rfs", horizon_days, n_bootstrap, seed, progress)


def _calibration_table(kind: Kind, fitted: Fitted, z: np.ndarray, out: Outcome, horizon: float) -> pd.DataFrame:
    """Observed against predicted risk by groups of predicted risk (quantiles; 3 to 10 groups)."""
    risk = predicted_risk(kind, fitted, z, horizon)
    events = int(out.y.sum() if out.y is not None else out.event.sum())  # type: ignore[union-attr]
    groups = int(np.clip(events // 10, 3, 10))
    edges = np.unique(np.quantile(risk, np.linspace(0, 1, groups + 1)))
    which = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, max(edges.size - 2, 0))
    rows = []
    for g in np.unique(which):
        sel = which == g
        if out.y is not None:
            obs, lo, hi = _proportion(out.y[sel])
        else:
            km = kaplan_meier(out.time[sel], out.event[sel] > 0, landmark_times=[horizon])  # type: ignore[index]
            lm = km.landmarks[0]
            obs, lo, hi = (np.nan if v is None else 1 - v for v in (lm.survival, lm.ci_high, lm.ci_low))
        rows.append({"group": int(g) + 1, "n": int(sel.sum()), "predicted": float(risk[sel].mean()),
                     "observed": obs, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def _proportion(y: np.ndarray) -> tuple[float, float, float]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(y.sum()), y.size, method="wilson")
    return float(y.mean()), float(lo), float(hi)


def calibration_plot(model: PredictionModel) -> Figure:
    """Observed against predicted risk by risk group, with 95 % CIs and the ideal line (a Figure)."""
    cal = model.calibration
    fig = Figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    yerr = np.vstack([cal["observed"] - cal["ci_low"], cal["ci_high"] - cal["observed"]])
    ax.errorbar(cal["predicted"], cal["observed"], yerr=np.clip(yerr, 0, None), fmt="o", color="C0",
                capsize=3, label="risk groups (observed, 95% CI)")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="ideal")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    what = ("remission by" if model.kind == "logistic" else "relapse or death by") + f" day {model.horizon_days:g}"
    ax.set_xlabel(f"Predicted probability of {what}")
    ax.set_ylabel("Observed proportion" if model.kind == "logistic" else "Observed (1 - Kaplan-Meier)")
    perf = model.performance.set_index("measure")["corrected"]
    ax.set_title(
        f"Calibration, n = {model.n}, events = {model.events}\n"
        f"optimism-corrected C = {perf['c_statistic']:.2f}, slope = {perf['calibration_slope']:.2f}",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
