"""The report's prediction section and its "who benefits" page.

The two models of :mod:`lupuscell.analysis.prediction` (penalised logistic model of DORIS
remission by 12 months; penalised Cox model of relapse-free survival, predicting relapse or death
by 12 months), each with its sample size, events, events per candidate parameter (with a warning
below 10), apparent and optimism-corrected C-statistic, calibration slope and intercept and a
calibration plot (TRIPOD items 13-16; Collins et al. 2015). The bootstrap of the optimism
correction has ``n_bootstrap`` resamples (``lupuscell report --bootstrap``).

The "who benefits" page names the strongest predictors, ranked by the size of their effect per
standard deviation (the scale the penalty treats alike), each with the 2.5-97.5 percentiles of
its ratio over the bootstrap models and the share of those models that agree on its direction.
It says plainly that *the data are too few to say who benefits* when the model could not be
fitted (fewer than 10 events or non-events), when the events per candidate parameter are below
10 (Riley et al. 2020: a floor, not a target), or when the optimism-corrected C-statistic is
near 0.5: below :data:`NEAR_CHANCE`, or with an approximate 95 % interval that reaches 0.5. That
interval is the corrected C plus or minus 1.96 Hanley-McNeil standard errors (Hanley & McNeil
1982; for the Cox model with events and event-free patients as the two groups), an
approximation that ignores the uncertainty of the optimism itself.

References
----------
Collins GS, Reitsma JB, Altman DG, Moons KGM. TRIPOD. BMJ 2015;350:g7594.

Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating characteristic
(ROC) curve. Radiology 1982;143:29-36.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. BMJ 2020;368:m441.

Steyerberg EW. Clinical Prediction Models, 2nd ed. Springer 2019 (ch. 5: optimism).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupuscell.analysis.conventions import json_safe
from lupuscell.analysis.prediction import (
    EPV_FLOOR,
    PredictionModel,
    calibration_plot,
    fit_remission_model,
    fit_rfs_model,
    prediction_frame,
)
from lupuscell.errors import LupuscellError
from lupuscell.reports import plots
from lupuscell.reports.sections import Section, fragment, png_base64, text_page

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "MIN_BOOTSTRAP",
    "NEAR_CHANCE",
    "TOO_FEW",
    "WEB_BOOTSTRAP",
    "ModelFit",
    "build_prediction_section",
    "c_interval",
    "fit_models",
    "predictor_table",
    "report_frame",
]

#: Bootstrap resamples of the optimism correction in the report (``--bootstrap``), and the least allowed.
DEFAULT_BOOTSTRAP = 50
MIN_BOOTSTRAP = 10
#: The web page's report answers within a request: fewer resamples (``lupuscell report`` for more).
WEB_BOOTSTRAP = 20
#: An optimism-corrected C-statistic below this is "near 0.5": the model barely beats chance.
NEAR_CHANCE = 0.6
#: How many predictors the "who benefits" page names.
STRONGEST = 3
TOO_FEW = "the data are too few to say who benefits"
MODELS = {
    "remission_12m": ("DORIS remission by 12 months", "who benefits", "odds ratio"),
    "rfs": ("Relapse or death by 12 months (relapse-free survival)", "who is at higher risk", "hazard ratio"),
}
TERM_LABELS = {
    "DIAGDUR": "SLE duration (per year)",
    "BC3": "Baseline C3 (per unit)",
    "BC4": "Baseline C4 (per unit)",
    "NPRIORIS": "Prior immunosuppressants (per drug)",
    "CELLDOSE": "Cell dose (per unit)",
}


def term_label(term: str) -> str:
    """Readable label of a prediction-model term (nephritis class terms against no nephritis)."""
    if term.startswith("LNCLASS[") and term.endswith("]"):
        return f"Nephritis class {term[8:-1]} (vs no nephritis)"
    return TERM_LABELS.get(term) or plots.term_label(term)


def report_frame(adsl: pd.DataFrame, adtte: pd.DataFrame) -> pd.DataFrame:
    """:func:`~lupuscell.analysis.prediction.prediction_frame` of ADSL, with relapse-free survival
    taken from ADTTE's ``RFS`` rows when ADSL does not carry ``rfs_days``/``rfs_event``."""
    if not {"rfs_days", "rfs_event"} <= set(adsl.columns) and "RFS" in set(adtte["PARAMCD"]):
        rfs = adtte.loc[adtte["PARAMCD"] == "RFS"].drop_duplicates("USUBJID").set_index("USUBJID")
        adsl = adsl.assign(
            rfs_days=adsl["USUBJID"].map(rfs["AVAL"]),
            rfs_event=adsl["USUBJID"].map(rfs["CNSR"] == 0).astype("boolean"),
        )
    return prediction_frame(adsl)


def c_interval(c: float, events: int, non_events: int) -> tuple[float, float]:
    """Approximate 95 % interval of a C-statistic: ``c -/+ 1.96 SE`` with Hanley & McNeil's (1982) SE."""
    if not (math.isfinite(c) and events > 0 and non_events > 0):
        return (math.nan, math.nan)
    q1, q2 = c / (2 - c), 2 * c * c / (1 + c)
    var = (c * (1 - c) + (events - 1) * (q1 - c * c) + (non_events - 1) * (q2 - c * c)) / (
        events * non_events
    )
    se = math.sqrt(max(var, 0.0))
    return (max(c - 1.96 * se, 0.0), min(c + 1.96 * se, 1.0))


def predictor_table(model: PredictionModel) -> pd.DataFrame:
    """Every term ranked by the size of its effect per SD, with bootstrap intervals.

    Columns: ``term, label, ratio`` (per unit), ``low, high`` (2.5-97.5 percentiles of the ratio
    per unit over the bootstrap models), ``ratio_sd`` (per SD) with ``low_sd, high_sd``,
    ``same_direction`` (share of the bootstrap models whose coefficient has the sign of the full
    model's; nan without bootstrap).
    """
    coefs = model.coefficients.reset_index(drop=True)
    scale = model.scaling.scale
    boot = model.boot_coef / scale if model.boot_coef.size else np.empty((0, len(coefs)))
    point = coefs["coef"].to_numpy(dtype=float)
    if boot.shape[0]:
        low, high = np.exp(np.quantile(boot, [0.025, 0.975], axis=0))
        same = (np.sign(boot) == np.sign(point)).mean(axis=0)
    else:
        low = high = same = np.full(len(coefs), np.nan)
    table = pd.DataFrame(
        {
            "term": coefs["term"],
            "label": coefs["term"].map(term_label),
            "ratio": coefs["ratio"],
            "low": low,
            "high": high,
            "ratio_sd": np.exp(coefs["coef_std"]),
            "same_direction": same,
        }
    )
    if boot.shape[0]:
        table["low_sd"], table["high_sd"] = np.exp(np.quantile(model.boot_coef, [0.025, 0.975], axis=0))
    else:
        table["low_sd"] = table["high_sd"] = np.nan
    order = np.argsort(-np.abs(coefs["coef_std"].to_numpy(dtype=float)), kind="stable")
    return table.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class ModelFit:
    """One prediction model in the report, or why there is none (``error``)."""

    name: str
    model: PredictionModel | None
    error: str | None

    @property
    def title(self) -> str:
        return MODELS[self.name][0]

    @property
    def c_corrected(self) -> float:
        if self.model is None:
            return math.nan
        perf = self.model.performance
        return float(dict(zip(perf["measure"], perf["corrected"], strict=True))["c_statistic"])

    @property
    def c_ci(self) -> tuple[float, float]:
        m = self.model
        return (math.nan, math.nan) if m is None else c_interval(self.c_corrected, m.events, m.non_events)

    def too_few_reason(self) -> str | None:
        """Why these data cannot say who benefits (None when the model is informative)."""
        m = self.model
        if m is None:
            return f"the model could not be fitted ({self.error})"
        if m.events_per_variable < EPV_FLOOR:
            return (
                f"{m.events_per_variable:.1f} events per candidate parameter (fewer than {EPV_FLOOR}): "
                "the model is likely overfitted"
            )
        c, (lo, hi) = self.c_corrected, self.c_ci
        if not math.isfinite(c) or c < NEAR_CHANCE or lo <= 0.5:
            return (
                f"the optimism-corrected C-statistic is {c:.2f} (approximate 95% CI {lo:.2f}-{hi:.2f}), near 0.5: "
                "the model separates patients little better than chance"
            )
        return None

    def verdict(self) -> str:
        """One plain sentence on what the model can say."""
        what = MODELS[self.name][1]
        reason = self.too_few_reason()
        if reason is not None:
            phrase = TOO_FEW if what == "who benefits" else f"the data are too few to say {what}"
            return f"{self.title}: {phrase}; {reason}."
        lo, hi = self.c_ci
        return (
            f"{self.title}: the model separates patients better than chance (optimism-corrected C-statistic "
            f"{self.c_corrected:.2f}, approximate 95% CI {lo:.2f}-{hi:.2f}); the strongest predictors of {what} are "
            f"{strongest_sentence(self)}."
        )


def strongest_sentence(fit: ModelFit) -> str:
    """The :data:`STRONGEST` largest effects as text, each with its bootstrap interval."""
    assert fit.model is not None
    kind = MODELS[fit.name][2]
    parts = []
    for row in predictor_table(fit.model).head(STRONGEST).to_dict(orient="records"):
        spans = bool(row["low"] <= 1 <= row["high"]) if math.isfinite(row["low"]) else True
        parts.append(
            f"{row['label']} ({kind} {row['ratio']:.2f}, bootstrap 95% interval {row['low']:.2f}-{row['high']:.2f}"
            + (
                f", same direction in {100 * row['same_direction']:.0f}% of resamples"
                if math.isfinite(row["same_direction"])
                else ""
            )
            + ("; the interval includes 1, so even its direction is uncertain" if spans else "")
            + ")"
        )
    return "; ".join(parts)


def fit_models(
    adsl: pd.DataFrame, adtte: pd.DataFrame, n_bootstrap: int, seed: int = 20240601
) -> list[ModelFit]:
    """Both models, bootstrap-validated; a model that cannot be fitted carries its reason."""
    try:
        frame = report_frame(adsl, adtte)
    except LupuscellError as exc:
        return [ModelFit(name, None, str(exc)) for name in MODELS]
    out = []
    for name, fit in (("remission_12m", fit_remission_model), ("rfs", fit_rfs_model)):
        try:
            # a bootstrap sample of a small cohort can separate (a coefficient running off): numpy's
            # overflow warnings say nothing the model's warnings and EPV do not
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                model = fit(frame, n_bootstrap=n_bootstrap, seed=seed)
            out.append(ModelFit(name, model, None))
        except (LupuscellError, ValueError, np.linalg.LinAlgError) as exc:
            out.append(ModelFit(name, None, str(exc)))
    return out


def summary_of(fits: list[ModelFit], n_bootstrap: int) -> dict[str, Any]:
    """summary.json ``prediction``: per model the TRIPOD summary, the verdict and the predictors."""
    models: dict[str, Any] = {}
    for f in fits:
        entry: dict[str, Any] = {
            "title": f.title,
            "verdict": f.verdict(),
            "too_few": f.too_few_reason() is not None,
        }
        if f.model is None:
            entry["error"] = f.error
        else:
            lo, hi = f.c_ci
            entry |= {
                "summary": f.model.summary(),
                "c_statistic_corrected_ci": [lo, hi],
                "predictors": predictor_table(f.model).to_dict(orient="records"),
            }
        models[f.name] = entry
    return json_safe({"n_bootstrap": n_bootstrap, "near_chance": NEAR_CHANCE, "models": models})


def performance_table(fits: list[ModelFit]) -> pd.DataFrame:
    """One row per model: n, events, EPV, apparent / optimism / corrected C, calibration."""

    def num(x: Any, digits: int = 2) -> str:
        return "–" if x is None or not math.isfinite(float(x)) else f"{float(x):.{digits}f}"

    rows: list[dict[str, Any]] = []
    for f in fits:
        m = f.model
        if m is None:
            rows.append(
                {
                    "Model": f.title,
                    "n": "–",
                    "Events": "–",
                    "EPV": "–",
                    "Apparent C": "–",
                    "Optimism": "–",
                    "Corrected C (95% CI)": "not fitted",
                    "Slope": "–",
                    "Intercept": "–",
                }
            )
            continue
        perf = m.performance.set_index("measure")
        lo, hi = f.c_ci
        rows.append(
            {
                "Model": f.title,
                "n": m.n,
                "Events": m.events,
                "EPV": num(m.events_per_variable, 1)
                + (" (< 10)" if m.events_per_variable < EPV_FLOOR else ""),
                "Apparent C": num(perf.loc["c_statistic", "apparent"]),
                "Optimism": num(perf.loc["c_statistic", "optimism"], 3),
                "Corrected C (95% CI)": f"{num(f.c_corrected)} ({num(lo)}–{num(hi)})",
                "Slope": num(perf.loc["calibration_slope", "corrected"]),
                "Intercept": num(perf.loc["calibration_intercept", "corrected"]),
            }
        )
    return pd.DataFrame(rows)


def predictors_display(f: ModelFit) -> pd.DataFrame:
    """The ranked predictors of one model as shown in the report."""
    assert f.model is not None
    kind = MODELS[f.name][2]
    t = predictor_table(f.model)

    def pct(x: float) -> str:
        return "–" if not math.isfinite(x) else f"{100 * x:.0f}%"

    return pd.DataFrame(
        {
            "Predictor": t["label"],
            f"{kind.capitalize()} per unit (bootstrap 95% interval)": [
                f"{r:.2f} ({lo:.2f}–{hi:.2f})" if math.isfinite(lo) else f"{r:.2f}"
                for r, lo, hi in zip(t["ratio"], t["low"], t["high"], strict=True)
            ],
            "Per SD": t["ratio_sd"].map(lambda v: f"{v:.2f}"),
            "Same direction": t["same_direction"].map(pct),
        }
    )


def _forest(ax: Any, f: ModelFit) -> None:
    """One model's ratios per SD with bootstrap 95 % intervals, largest effect on top."""
    assert f.model is not None
    t = predictor_table(f.model).iloc[::-1].reset_index(drop=True)
    y = np.arange(len(t))
    ok = np.isfinite(t["low_sd"]).to_numpy()
    colour = "C0" if f.name == "remission_12m" else "C3"
    # a line from the 2.5th to the 97.5th percentile: the penalised point may lie outside it
    ax.hlines(y[ok], t["low_sd"][ok], t["high_sd"][ok], color=colour, lw=1.5)
    ax.plot(t["ratio_sd"][ok], y[ok], "o", color=colour, ms=4)
    ax.plot(t["ratio_sd"][~ok], y[~ok], "o", color="grey", ms=4)
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.set_yticks(y)
    ax.set_yticklabels(t["label"], fontsize=8)
    ax.set_xlabel(
        f"{MODELS[f.name][2].capitalize()} per SD of the predictor (bootstrap 95% interval, log scale)",
        fontsize=8,
    )
    ax.tick_params(axis="x", which="both", labelsize=7)
    ax.set_title(f"{f.title}: n = {f.model.n}, events = {f.model.events}", fontsize=9, loc="left")
    ax.grid(axis="x", alpha=0.3)


def who_benefits_plot(fits: list[ModelFit], fig: Any = None) -> Figure | None:
    """Per model, the ratio per SD of every predictor with its bootstrap 95 % interval (None when no
    model was fitted). ``fig`` may be a subfigure to draw into."""
    fitted = [f for f in fits if f.model is not None]
    if not fitted:
        return None
    rows = sum(len(m.coefficients) for m in (f.model for f in fitted) if m is not None)
    target = (
        fig
        if fig is not None
        else Figure(figsize=(8.27, 0.28 * rows + 1.6 * len(fitted)), layout="constrained")
    )
    heights = [len(m.coefficients) + 3 for m in (f.model for f in fitted) if m is not None]
    axes = target.subplots(len(fitted), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, f in zip(axes, fitted, strict=True):
        _forest(ax, f)
    return target if fig is None else fig.figure


def who_benefits_lines(fits: list[ModelFit]) -> list[str]:
    """The text of the "who benefits" page: one verdict per model and how to read it."""
    return [
        *(f.verdict() for f in fits),
        "Ratios in this text are per unit of the predictor (for a yes/no predictor or a therapy: yes against "
        "no, or against autologous HSCT); the plots show them per SD, so that predictors compare on one scale. "
        "Ratios are from ridge-penalised models (shrunk towards 1) on baseline features; intervals are the "
        "2.5-97.5 percentiles over the bootstrap models (tuning repeated in each), and 'same direction' is "
        "the share of those models that agree on the sign; when the penalty is strong the point estimate "
        "can lie outside that interval (each resample chooses its own penalty). Associations, not effects "
        "of treatment: a predictor can mark who does well without being why.",
    ]


def who_benefits_page(fits: list[ModelFit]) -> Figure:
    """The PDF's "who benefits" page: the verdicts, then the predictors of each model."""
    import textwrap

    page = Figure(figsize=(8.27, 11.69), layout="constrained")
    subs: Any = page.subfigures(2, 1, height_ratios=[0.38, 0.62])  # an array of two subfigures
    top, bottom = subs[0], subs[1]
    top.text(0.04, 0.97, "Who benefits, and at what risk", fontsize=15, weight="bold", va="top")
    y = 0.88
    for para in who_benefits_lines(fits):
        for line in textwrap.wrap(para, 100):
            top.text(0.04, y, line, fontsize=9, va="top")
            y -= 0.042
        y -= 0.025
    if who_benefits_plot(fits, bottom) is None:
        bottom.text(0.04, 0.9, "No prediction model could be fitted.", fontsize=10, va="top")
    return page


PERFORMANCE_NOTE = (
    "C: AUC (remission) or Harrell's C (relapse-free survival); corrected = apparent minus the mean "
    "optimism over the bootstrap resamples (Harrell et al. 1996), its 95% CI approximate (Hanley-McNeil). "
    "Slope and intercept: optimism-corrected calibration slope (1 ideal; below 1, predictions too extreme) "
    "and calibration in the large (0 ideal). EPV: events (or non-events, if fewer) per candidate parameter."
)


def _model_notes(fits: list[ModelFit]) -> list[str]:
    notes = []
    for f in fits:
        if f.model is None:
            notes.append(f"{f.title}: not fitted ({f.error}).")
        notes += [f"{f.title}: {w}." for w in (f.model.warnings if f.model is not None else ())]
    return notes


def build_prediction_section(
    adsl: pd.DataFrame, adtte: pd.DataFrame, n_bootstrap: int = DEFAULT_BOOTSTRAP
) -> Section:
    """Fit and validate both models and return the section (summary.json key ``prediction``)."""
    fits = fit_models(adsl, adtte, n_bootstrap)
    perf = performance_table(fits)
    notes = _model_notes(fits)
    calibration = [(f, calibration_plot(f.model)) for f in fits if f.model is not None]
    forest = who_benefits_plot(fits)
    html = fragment(
        "prediction_section.html.j2",
        n_bootstrap=n_bootstrap,
        performance=perf.to_html(index=False, border=0, escape=True),
        performance_note=PERFORMANCE_NOTE,
        notes=notes,
        calibration=[{"title": f.title, "png": png_base64(fig)} for f, fig in calibration],
        verdicts=who_benefits_lines(fits),
        predictors=[
            {"title": f.title, "table": predictors_display(f).to_html(index=False, border=0, escape=True)}
            for f in fits
            if f.model is not None
        ],
        forest=None if forest is None else png_base64(forest),
    )

    def pages() -> list[Figure]:
        out = [
            text_page(
                "Prediction models: performance and calibration",
                [f"Bootstrap resamples: {n_bootstrap}.", PERFORMANCE_NOTE, *notes],
            ),
            plots.table_figure(perf, title="Prediction models: optimism-corrected performance", fontsize=7),
        ]
        out += [calibration_plot(f.model) for f in fits if f.model is not None]
        out.append(who_benefits_page(fits))
        out += [
            plots.table_figure(predictors_display(f), title=f"{f.title}: predictors, largest effect first")
            for f in fits
            if f.model is not None
        ]
        return out

    return Section("prediction", summary_of(fits, n_bootstrap), html, pages)
