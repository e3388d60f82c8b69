"""The report's competing-risks regression: relapse and non-relapse mortality by Fine-Gray, beside
the cause-specific Cox models, on therapy and the baseline covariates of ADSL.

For each cause (relapse; death before relapse, NRM) one table puts the Fine-Gray
subdistribution hazard ratio (how a covariate shifts the *probability* of the event: prognosis)
beside the cause-specific hazard ratio (the event's rate among those still free of both:
aetiology), as Austin, Lee & Fine (2016) recommend; the fits are
:func:`lupuscell.analysis.finegray.fine_gray` on ADTTE's ``REL`` rows (``EVCODE`` 1 relapse,
2 NRM). A cause with fewer than :data:`lupuscell.analysis.design.MIN_EVENTS` events gets a plain
sentence instead of a table (Peduzzi et al. 1995: fewer events give unreliable estimates). A
figure shows the predicted cumulative incidence of each cause for a few covariate patterns.

References
----------
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.

Austin PC, Lee DS, Fine JP. Introduction to the analysis of survival data in the presence of
competing risks. Circulation 2016;133:601-609.

Peduzzi P, Concato J, Feinstein AR, Holford TR. Importance of events per independent variable in
proportional hazards regression analysis II. J Clin Epidemiol 1995;48:1503-1510.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupuscell.analysis.conventions import json_safe
from lupuscell.analysis.design import MIN_EVENTS
from lupuscell.analysis.finegray import FineGrayResult, fine_gray
from lupuscell.analysis.survival import DAYS_PER_MONTH
from lupuscell.errors import LupuscellError
from lupuscell.reports import plots
from lupuscell.reports.sections import Section, fragment, p_value, png_base64, ratio_ci, text_page

__all__ = ["CAUSES", "COVARIATES", "build_competing_section", "competing_frame"]

#: ADTTE ``REL`` event codes and their names.
CAUSES = {1: "relapse", 2: "non-relapse mortality"}
#: Therapy and the baseline covariates of ADSL the models use when the data carry them.
COVARIATES = ("THERAPY", "BSLEDAI", "NEPHRITIS", "BDSDNA", "AGE")
REFERENCE_THERAPY = "autologous_hsct"
INTRO = (
    "Two regressions for each competing event. The Fine-Gray subdistribution hazard ratio (sHR) says "
    "how a covariate changes the probability of the event over time (prognosis); the cause-specific "
    "hazard ratio (csHR) says how it changes the rate of the event among patients still free of both "
    "events (aetiology). A covariate can raise one and not the other when it also changes the "
    "competing event (Austin, Lee & Fine, Circulation 2016). Fine-Gray standard errors are the "
    "Fine & Gray (1999) sandwich; cause-specific: Cox model, Breslow ties, same patients."
)


@dataclass(frozen=True)
class CauseFit:
    """The regressions of one cause, or why there are none (``message``)."""

    cause: int
    name: str
    n: int
    events: int
    result: FineGrayResult | None
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cause": self.cause, "name": self.name, "n": self.n, "events": self.events}
        if self.result is not None:
            out["model"] = self.result.to_dict()
        else:
            out["message"] = self.message
        return out


def competing_frame(
    adsl: pd.DataFrame, adtte: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """One row per patient: ``AVAL`` and ``EVCODE`` of the ``REL`` parameter with the covariates.

    Returns the frame, the covariates present and varying, and the reference levels.
    """
    rel = adtte.loc[adtte["PARAMCD"] == "REL", ["USUBJID", "AVAL", "EVCODE"]]
    covs = [c for c in COVARIATES if c in adsl and adsl[c].notna().any()]
    data = adsl[["USUBJID", *covs]].merge(rel, on="USUBJID", how="inner")
    for c in ("NEPHRITIS", "BDSDNA"):
        if c in covs:
            data[c] = pd.to_numeric(data[c].astype("boolean"), errors="coerce").astype(float)
    refs: dict[str, str] = {}
    if "THERAPY" in covs:
        data["THERAPY"] = data["THERAPY"].astype(str)
        levels = sorted(data["THERAPY"].unique())
        refs["THERAPY"] = REFERENCE_THERAPY if REFERENCE_THERAPY in levels else levels[0]
    return data, covs, refs


def _fit_cause(data: pd.DataFrame, covs: list[str], refs: dict[str, str], cause: int) -> CauseFit:
    name = CAUSES[cause]
    complete = data.dropna(subset=["AVAL", "EVCODE", *covs])
    events = int((complete["EVCODE"] == cause).sum())
    n = len(complete)
    if events < MIN_EVENTS:
        message = (
            f"Too few events for a regression of {name}: {events} among {n} patients (at least "
            f"{MIN_EVENTS} are needed). The cumulative incidence above is what these data can say."
        )
        return CauseFit(cause, name, n, events, None, message)
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # separation: in fit_warnings
            res = fine_gray(
                complete,
                duration_col="AVAL",
                event_col="EVCODE",
                covariates=covs,
                cause=cause,
                categorical=refs,
            )
    except (LupuscellError, ValueError, np.linalg.LinAlgError) as exc:
        return CauseFit(
            cause, name, n, events, None, f"The regression of {name} could not be estimated: {exc}"
        )
    return CauseFit(cause, name, res.n, res.events, res, None)


def _flagged(term: str, warnings: tuple[str, ...]) -> bool:
    """Whether a fit warning (separation, no information) names the term."""
    return any(term in w for w in warnings)


def _cell(row: pd.Series | None, warnings: tuple[str, ...]) -> tuple[str, str]:
    """``ratio (CI)`` and ``p`` of one term, or "not estimable" when a fit warning names it."""
    if row is None:
        return "–", "–"
    if _flagged(str(row.name), warnings):
        return "not estimable (see note)", "–"
    return ratio_ci(row["hr"], row["hr_low"], row["hr_high"]), p_value(row["p"])


def _table(res: FineGrayResult) -> pd.DataFrame:
    """Term | sHR (95% CI) | p | csHR (95% CI) | p; a term a fit warning names is "not estimable"
    (e.g. no event in a therapy group: the ratio runs off to 0 or infinity)."""
    fg = res.coefficients.set_index("term")
    cs_model = res.cause_specific.get(res.cause)
    cs = cs_model.coefficients.set_index("term") if cs_model is not None else pd.DataFrame()
    cs_warnings = cs_model.fit_warnings if cs_model is not None else ()
    rows = []
    for term, r in fg.iterrows():
        shr, sp = _cell(r, res.fit_warnings)
        cs_row = cs.loc[str(term)] if str(term) in cs.index else None
        cshr, csp = _cell(cs_row if isinstance(cs_row, pd.Series) else None, cs_warnings)
        rows.append(
            {
                "Term": plots.term_label(str(term)),
                "Fine-Gray sHR (95% CI)": shr,
                "p (sHR)": sp,
                "Cause-specific HR (95% CI)": cshr,
                "p (csHR)": csp,
            }
        )
    return pd.DataFrame(rows)


def _caption(fit: CauseFit) -> str:
    res = fit.result
    assert res is not None
    refs = ", ".join(
        f"{k.lower()}: {plots.THERAPY_LABELS.get(v, v)}" for k, v in res.reference_levels.items()
    )
    params = len(res.coefficients)
    return (
        f"{fit.name.capitalize()}: n = {res.n} patients, {res.events} events, {res.competing_events} competing "
        f"events, {res.censored} censored; {params} parameters ({res.events / max(params, 1):.1f} events per "
        f"parameter); reference: {refs or 'none'}."
    )


def _notes(fit: CauseFit) -> list[str]:
    res = fit.result
    assert res is not None
    cs_model = res.cause_specific.get(res.cause)
    notes = [*res.data_warnings, *(f"Fine-Gray: {w}" for w in res.fit_warnings)]
    notes += [f"Cause-specific Cox: {w}" for w in (cs_model.fit_warnings if cs_model is not None else ())]
    params = len(res.coefficients)
    if params and res.events / params < MIN_EVENTS:
        notes.append(
            f"{res.events / params:.1f} events per parameter (< {MIN_EVENTS}): the hazard ratios may be "
            "overfitted; read the confidence intervals, not the point estimates"
        )
    return notes


def _patterns(data: pd.DataFrame, res: FineGrayResult) -> list[tuple[str, dict[str, Any]]]:
    """Covariate patterns to draw: each therapy, without and with nephritis; the other covariates
    at the cohort median (binary ones at their most frequent value)."""
    design = res.design
    assert design is not None
    typical: dict[str, Any] = {}
    for cov in design.covariates:
        if cov in design.reference_levels:
            continue
        values = data[cov].dropna()
        binary = set(values.unique()) <= {0.0, 1.0}
        typical[cov] = float(values.mode().iloc[0]) if binary else float(values.median())
    therapies: list[str | None] = [None]
    if "THERAPY" in design.reference_levels:
        therapies = [design.reference_levels["THERAPY"], *design.levels["THERAPY"]]
    nephritis: list[float | None] = [0.0, 1.0] if "NEPHRITIS" in typical else [None]
    out = []
    for therapy in therapies:
        for neph in nephritis:
            pattern = dict(typical)
            label = []
            if therapy is not None:
                pattern["THERAPY"] = therapy
                label.append(plots.THERAPY_LABELS.get(therapy, therapy))
            if neph is not None:
                pattern["NEPHRITIS"] = neph
                label.append("nephritis" if neph else "no nephritis")
            out.append((", ".join(label) or "typical patient", pattern))
    return out


def pattern_plot(data: pd.DataFrame, fits: list[CauseFit]) -> Figure | None:
    """Fine-Gray predicted cumulative incidence of each fitted cause for the covariate patterns of
    :func:`_patterns` (None when no cause was fitted)."""
    fitted = [f for f in fits if f.result is not None]
    if not fitted:
        return None
    horizon = float(min(data["AVAL"].max(), 5 * 365.25))
    times = np.linspace(0, horizon, 200)
    fig = Figure(figsize=(8.27, 4.2))
    axes = fig.subplots(1, len(fitted), squeeze=False)[0]
    for ax, fit in zip(axes, fitted, strict=True):
        res = fit.result
        assert res is not None
        for i, (label, pattern) in enumerate(_patterns(data, res)):
            therapy = str(pattern.get("THERAPY", "all"))
            style = "--" if pattern.get("NEPHRITIS") == 1.0 else "-"
            cif = res.predict_cumulative_incidence(pattern, times)
            ax.plot(
                times / DAYS_PER_MONTH,
                cif,
                style,
                color=plots.THERAPY_COLOURS.get(therapy, f"C{i}"),
                label=label,
            )
        ax.set_title(f"{fit.name.capitalize()} (n = {res.n}, events = {res.events})", fontsize=10)
        ax.set_xlabel("Months since day 0")
        ax.set_ylabel("Predicted cumulative incidence")
        ax.set_ylim(0, None)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Fine-Gray predicted cumulative incidence by covariate pattern", fontsize=11)
    fig.tight_layout()
    return fig


PATTERN_CAPTION = (
    "Predicted from the Fine-Gray models: one line per therapy, solid without and dashed with lupus "
    "nephritis; the other covariates at the cohort median (anti-dsDNA at its most frequent value)."
)


def build_competing_section(adsl: pd.DataFrame, adtte: pd.DataFrame) -> Section:
    """Fit both causes and return the section (summary.json key ``competing_regression``)."""
    if "REL" not in set(adtte["PARAMCD"]):
        message = (
            "No relapse / non-relapse mortality rows (ADTTE parameter REL): no competing-risks regression."
        )
        return Section("competing_regression", {"message": message}, f"<p>{message}</p>", lambda: [])
    data, covs, refs = competing_frame(adsl, adtte)
    fits = [_fit_cause(data, covs, refs, cause) for cause in CAUSES]
    tables = {f.cause: _table(f.result) for f in fits if f.result is not None}
    fig = pattern_plot(data, fits)
    figure = None if fig is None else {"png": png_base64(fig), "caption": PATTERN_CAPTION}
    html = fragment(
        "competing_section.html.j2",
        intro=INTRO,
        causes=[
            {
                "name": f.name,
                "message": f.message,
                "caption": _caption(f) if f.result is not None else None,
                "notes": _notes(f) if f.result is not None else [],
                "table": tables[f.cause].to_html(index=False, border=0, escape=True)
                if f.cause in tables
                else "",
            }
            for f in fits
        ],
        figure=figure,
    )
    summary = json_safe({"covariates": covs, "reference_levels": refs, "causes": [f.to_dict() for f in fits]})

    def pages() -> list[Figure]:
        lines = [INTRO]
        for f in fits:
            lines += (
                [str(f.message)] if f.result is None else [_caption(f), *(f"Note: {n}" for n in _notes(f))]
            )
        out = [text_page("Relapse and NRM: Fine-Gray beside cause-specific Cox", lines)]
        out += [
            plots.table_figure(
                tables[f.cause], title=f"{f.name.capitalize()}: Fine-Gray beside cause-specific Cox"
            )
            for f in fits
            if f.cause in tables
        ]
        fig = pattern_plot(data, fits)
        return out if fig is None else [*out, fig]

    return Section("competing_regression", summary, html, pages)
