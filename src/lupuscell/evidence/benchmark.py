"""Benchmarking a centre against the literature: own estimate beside the pooled one and its PI.

The comparison the issue asks for (e.g. a registry's 1-year non-relapse mortality after HSCT
next to the pooled published rate): where does the centre's estimate fall relative to the
random-effects *prediction interval*, the range in which the true rate of a new, comparable
centre is expected to lie (Higgins, Thompson & Spiegelhalter 2009, JRSS-A 172:137; IntHout et
al. 2016)? The confidence interval of the pooled mean is the wrong yardstick for one centre.

Inputs are a plain :class:`CentreResult` (events/total, or an estimate with its CI, e.g. a
Kaplan-Meier 1-year NRM from the outcomes engine) and a fitted
:class:`lupuscell.evidence.meta.MetaResult` of a proportion measure. The centre's exact
(Clopper-Pearson) interval comes from ``scipy.stats.binomtest``. Pure functions; the plot is
optional and returned, never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.meta import MetaResult

Position = Literal["below", "within", "above"]


@dataclass(frozen=True)
class CentreResult:
    """A centre's own outcome: ``events``/``total`` or ``estimate`` with ``ci_low``/``ci_high``.

    Proportions are on the 0-1 scale. ``label`` names the centre in the sentence and plot.
    """

    label: str = "This centre"
    events: int | None = None
    total: int | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95

    def resolved(self) -> tuple[float, float, float]:
        """(estimate, ci_low, ci_high), computing the exact binomial CI from counts."""
        problems: list[Problem] = []
        where = f"centre {self.label}"
        if self.events is not None or self.total is not None:
            if self.events is None or self.total is None:
                raise ValidationError.single(
                    where, "events" if self.events is None else "total", "events and total go together"
                )
            if self.total <= 0:
                problems.append(Problem(where, "total", "must be > 0"))
            if self.events < 0:
                problems.append(Problem(where, "events", "must be >= 0"))
            if self.events > self.total:
                problems.append(
                    Problem(where, "events", f"events ({self.events}) exceed total ({self.total})")
                )
            if problems:
                raise ValidationError(problems)
            ci = stats.binomtest(self.events, self.total).proportion_ci(self.level, method="exact")
            return self.events / self.total, float(ci.low), float(ci.high)
        if self.estimate is None:
            raise ValidationError.single(where, "estimate", "give events/total or an estimate")
        lo = self.ci_low if self.ci_low is not None else float("nan")
        hi = self.ci_high if self.ci_high is not None else float("nan")
        if not 0 <= self.estimate <= 1:
            problems.append(Problem(where, "estimate", "must be a proportion in [0, 1]"))
        if self.ci_low is not None and self.ci_high is not None and not lo <= self.estimate <= hi:
            problems.append(Problem(where, "ci_low", "CI must contain the estimate"))
        if problems:
            raise ValidationError(problems)
        return float(self.estimate), lo, hi


@dataclass(frozen=True)
class Comparison:
    """The centre beside the literature, with a one-sentence reading."""

    outcome: str
    centre_label: str
    centre_estimate: float
    centre_ci: tuple[float, float]
    pooled_estimate: float
    pooled_ci: tuple[float, float]
    prediction_interval: tuple[float, float]
    k: int
    position: Position
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "centre": self.centre_label,
            "centre_estimate": self.centre_estimate,
            "centre_ci": list(self.centre_ci),
            "pooled_estimate": self.pooled_estimate,
            "pooled_ci": list(self.pooled_ci),
            "prediction_interval": list(self.prediction_interval),
            "k": self.k,
            "position": self.position,
            "sentence": self.sentence,
        }


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%" if v == v else "NA"


def compare(centre: CentreResult, pooled: MetaResult, outcome: str) -> Comparison:
    """Place ``centre`` relative to the prediction interval of ``pooled`` (a proportion fit)."""
    if pooled.measure not in ("PR", "PLO", "PAS", "PFT"):
        raise ValidationError.single(
            "", "measure", f"benchmarking needs a proportion measure, not {pooled.measure}"
        )
    est, lo, hi = centre.resolved()
    b = pooled.back
    pi_lo, pi_hi = b.pred_low, b.pred_high
    position: Position = "below" if est < pi_lo else ("above" if est > pi_hi else "within")
    n_txt = f" ({centre.events}/{centre.total})" if centre.events is not None else ""
    ci_txt = f", 95% CI {_pct(lo)}-{_pct(hi)}" if lo == lo and hi == hi else ""
    where = {"within": "within", "below": "below", "above": "above"}[position]
    sentence = (
        f"{centre.label}'s {outcome.replace('_', ' ')} of {_pct(est)}{n_txt}{ci_txt} lies {where} "
        f"the range expected for a comparable centre from {pooled.k} published "
        f"{'study' if pooled.k == 1 else 'studies'} (pooled {_pct(b.estimate)}, 95% CI "
        f"{_pct(b.ci_low)}-{_pct(b.ci_high)}; 95% prediction interval {_pct(pi_lo)}-{_pct(pi_hi)})."
    )
    return Comparison(
        outcome,
        centre.label,
        est,
        (lo, hi),
        b.estimate,
        (b.ci_low, b.ci_high),
        (pi_lo, pi_hi),
        pooled.k,
        position,
        sentence,
    )


def comparison_plot(cmp: Comparison, *, title: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """Two rows: the centre (point + CI) and the literature (diamond CI + dashed PI)."""
    data = pd.DataFrame(
        [
            {
                "row": "centre",
                "label": cmp.centre_label,
                "estimate": cmp.centre_estimate,
                "ci_low": cmp.centre_ci[0],
                "ci_high": cmp.centre_ci[1],
                "pred_low": None,
                "pred_high": None,
            },
            {
                "row": "literature",
                "label": f"Published studies (k = {cmp.k})",
                "estimate": cmp.pooled_estimate,
                "ci_low": cmp.pooled_ci[0],
                "ci_high": cmp.pooled_ci[1],
                "pred_low": cmp.prediction_interval[0],
                "pred_high": cmp.prediction_interval[1],
            },
        ]
    )
    fig = Figure(figsize=(7.5, 2.6))
    ax = fig.add_subplot()
    ax.axvspan(*cmp.prediction_interval, color="#f2dcdb", label="95% prediction interval")
    ax.plot(cmp.pooled_ci, [0, 0], color="black", lw=6, solid_capstyle="butt", label="pooled 95% CI")
    ax.plot(cmp.pooled_estimate, 0, marker="D", color="white", mec="black", ms=8)
    ax.errorbar(
        cmp.centre_estimate,
        1,
        xerr=[
            [max(cmp.centre_estimate - cmp.centre_ci[0], 0)],
            [max(cmp.centre_ci[1] - cmp.centre_estimate, 0)],
        ],
        fmt="o",
        color="#1f4e79",
        capsize=4,
        label=f"{cmp.centre_label} (95% CI)",
    )
    ax.set_yticks([0, 1], [f"Published studies (k = {cmp.k})", cmp.centre_label])
    ax.set_ylim(-0.7, 1.7)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{cmp.outcome.replace('_', ' ').capitalize()} (proportion)")
    ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig, data
