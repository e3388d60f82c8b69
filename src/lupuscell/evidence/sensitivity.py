"""Sensitivity analyses of a pooled estimate, gathered in one report.

What a reviewer asks for after seeing a pooled proportion from a handful of small series:
the estimate under other tau^2 estimators and under Knapp-Hartung inference, leave-one-out
(metafor ``leave1out``), Egger's regression test when k >= 3 (Egger et al. 1997; underpowered
below ~10 studies, reported with that caveat), and the binomial-normal GLMM (Stijnen et al.
2010), which needs no continuity correction. Each piece comes from
:mod:`lupuscell.evidence.meta` / :mod:`lupuscell.evidence.glmm`; this module only assembles them
into plain dicts for JSON output.
"""

from __future__ import annotations

from typing import Any

from lupuscell.evidence.effects import EffectSizes
from lupuscell.evidence.glmm import binomial_normal_glmm
from lupuscell.evidence.meta import Test, egger_test, leave_one_out, rma

ALTERNATIVE_METHODS = ("DL", "REML", "PM", "EE")


def sensitivity_report(es: EffectSizes, method: str = "REML", test: Test | str = "z") -> dict[str, Any]:
    """Estimators, Knapp-Hartung, leave-one-out, Egger and GLMM for one set of effect sizes."""
    out: dict[str, Any] = {"estimators": [], "notes": []}
    for m in ALTERNATIVE_METHODS:
        fit = rma(es, m if es.k > 1 else "EE", test if es.k > 1 else "z")
        out["estimators"].append(
            {
                "method": m,
                "estimate": fit.back.estimate,
                "ci_low": fit.back.ci_low,
                "ci_high": fit.back.ci_high,
                "tau2": fit.tau2,
            }
        )
    if es.k > 1:
        kh = rma(es, method, "knha")
        out["knha"] = {"estimate": kh.back.estimate, "ci_low": kh.back.ci_low, "ci_high": kh.back.ci_high}
        out["leave_one_out"] = leave_one_out(es, method, test).to_dict(orient="records")
    if es.k >= 3:
        egg = egger_test(es, method, test)
        out["egger"] = {
            "model": egg.model,
            "stat": egg.stat,
            "df": egg.df,
            "p": egg.p,
            "limit_estimate": egg.limit_estimate,
        }
        if es.k < 10:
            out["notes"].append(
                f"Egger's test with k = {es.k} < 10 has little power; do not read p > 0.05 as no bias"
            )
    if "events" in es.raw:
        g = binomial_normal_glmm(es)
        out["glmm"] = {
            "estimate": g.proportion,
            "ci_low": g.proportion_ci[0],
            "ci_high": g.proportion_ci[1],
            "tau2": g.tau2,
            "boundary": g.boundary,
            "converged": g.converged,
        }
    return out
