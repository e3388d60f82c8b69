"""Evidence and trial design pages: the curated studies with filters, a pooled analysis with
its forest plot, the programme beside the literature, and the design calculators (Simon
two-stage, A'Hern single stage, Bayesian safety monitoring). Each calls the library as the
CLI does: the curated rows with the local ones (:func:`lupuscell.evidence.studies.load_studies`),
:func:`lupuscell.evidence.pooling.pool_curated` and
:func:`lupuscell.evidence.plots.pooled_forest_plot` (``lupuscell evidence pool``),
:func:`lupuscell.reports.build.cif_by_therapy` and
:func:`lupuscell.reports.literature.compare_with_literature` (the report),
:mod:`lupuscell.design`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lupuscell.errors import LupuscellError
from lupuscell.web.deps import AppState, Principal, csrf_guard, principal, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
MEASURES = ("PLO", "PR", "PAS", "PFT")
METHODS = ("REML", "DL", "PM", "ML", "EE")


def curated_rows() -> Any:
    """The curated evidence with the server user's local rows, as every evidence command reads it."""
    from lupuscell.evidence import studies
    from lupuscell.evidence.local import local_evidence_path

    return studies.load_studies(local=local_evidence_path())


def _pooled(rows: Any, outcome: str, therapy: str | None, measure: str, method: str) -> dict[str, Any]:
    """``lupuscell evidence pool --outcome O [--therapy T] --measure M --method E --plot F``."""
    from lupuscell.evidence.plots import pooled_forest_plot
    from lupuscell.evidence.pooling import PoolOptions, pool_curated
    from lupuscell.web.charts import svg_data_uri

    analysis = pool_curated(rows, PoolOptions(outcome=outcome, therapy=therapy, measure=measure, method=method))
    fig, _ = pooled_forest_plot(analysis)
    return {
        "summary": analysis.fit.summary(),
        "forest": svg_data_uri(fig),
        "k": analysis.effects.k,
        "studies": analysis.selection.table(),
        "excluded": analysis.excluded(),
    }


@router.get("/evidence")
def evidence_page(
    request: Request,
    therapy: str = Query("", max_length=16),
    outcome: str = Query("remission", max_length=64),
    measure: str = Query("PLO", max_length=8),
    method: str = Query("REML", max_length=8),
    who: Principal = Depends(principal),
    app: AppState = Depends(state),
) -> Response:
    from lupuscell.evidence import studies

    table = curated_rows()
    shown = table if not therapy else table[table["therapy"] == therapy]
    context: dict[str, Any] = {
        "therapy": therapy,
        "outcome": outcome,
        "measure": measure if measure in MEASURES else "PLO",
        "method": method if method in METHODS else "REML",
        "measures": MEASURES,
        "methods": METHODS,
        "therapies": studies.THERAPY_LABELS,
        "outcomes": sorted(studies.OUTCOME_FAMILIES)
        + sorted(set(table["outcome"]) - set(studies.OUTCOME_FAMILIES)),
        "rows": shown.to_dict("records"),
        "pooled": None,
        "error": None,
        "comparisons": _comparisons(app, who),
    }
    try:
        context["pooled"] = _pooled(table, outcome, therapy or None, context["measure"], context["method"])
    except LupuscellError as exc:
        context["error"] = str(exc)
    return render(request, "evidence.html", context, who)


def _comparisons(app: AppState, who: Principal) -> list[dict[str, Any]]:
    """The programme's 1-year non-relapse mortality beside the pooled literature, per therapy."""
    from lupuscell.evidence.benchmark import comparison_plot
    from lupuscell.reports.build import cif_by_therapy
    from lupuscell.reports.literature import compare_with_literature
    from lupuscell.web.charts import svg_data_uri
    from lupuscell.web.dashboard import cohort_for_sites

    cohort, datasets = cohort_for_sites(app.engine, who.sites)
    if cohort.n_patients == 0:
        return []
    try:
        rows, comparisons = compare_with_literature(cif_by_therapy(datasets.adtte))
    except LupuscellError as exc:
        return [{"sentence": str(exc)}]
    plots = iter(comparisons)
    out = []
    for row in rows:
        item = dict(row)
        if "estimate" in row or "centre" in row:
            fig, _ = comparison_plot(next(plots))
            item["plot"] = svg_data_uri(fig)
        out.append(item)
    return out


@router.get("/design")
def design_page(
    request: Request,
    p0: float = Query(0.2, gt=0, lt=1),
    p1: float = Query(0.4, gt=0, lt=1),
    alpha: float = Query(0.05, gt=0, lt=0.5),
    beta: float = Query(0.2, gt=0, lt=0.5),
    theta: float = Query(0.1, gt=0, lt=1),
    prior_a: float = Query(1.0, gt=0, le=100),
    prior_b: float = Query(9.0, gt=0, le=100),
    cutoff: float = Query(0.9, gt=0, lt=1),
    cohort: int = Query(5, ge=1, le=100),
    n_max: int = Query(40, ge=1, le=500),
    who: Principal = Depends(principal),
) -> Response:
    from lupuscell.design import (
        MonitoringRule,
        ahern_design,
        boundaries,
        operating_characteristics,
        simon_design,
    )

    context: dict[str, Any] = {
        "p": {
            "p0": p0,
            "p1": p1,
            "alpha": alpha,
            "beta": beta,
            "theta": theta,
            "prior_a": prior_a,
            "prior_b": prior_b,
            "cutoff": cutoff,
            "cohort": cohort,
            "n_max": n_max,
        }
    }
    errors = []
    try:
        context["simon"] = simon_design(p0, p1, alpha, beta).to_dict()
        context["single"] = ahern_design(p0, p1, alpha, beta).to_dict()
    except LupuscellError as exc:
        errors.append(str(exc))
    try:
        rule = MonitoringRule(a=prior_a, b=prior_b, theta=theta, cutoff=cutoff, cohort=cohort, n_max=n_max)
        context["bounds"] = boundaries(rule)
        context["oc"] = operating_characteristics(rule, [theta / 2, theta, min(0.99, theta * 2)])
    except LupuscellError as exc:
        errors.append(str(exc))
    context["errors"] = errors
    return render(request, "design.html", context, who)
