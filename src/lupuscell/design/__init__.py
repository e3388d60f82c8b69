"""Trial design for cell-therapy studies in SLE (pure functions: assumptions in, design out).

Public API
----------
simon_design, two_stage_oc, SimonResult, SimonDesign
    Simon (1989) optimal / minimax / admissible (Jung et al. 2004) two-stage designs;
    ``SimonResult.choose("optimal" | "minimax")`` picks the one a protocol uses.
ahern_design
    A'Hern (2001) exact single-stage design.
MonitoringRule, boundaries, operating_characteristics
    Bayesian beta-binomial safety monitoring (Thall, Simon and Estey 1995), exact OC.
binary_sample_size, continuous_sample_size, survival_sample_size, events_required
    Two-arm sample size (Fleiss; Fleiss-Tytun-Ury; Schoenfeld; Freedman; Lachin-Foulkes).
simulate_design, Scenario, TwoStageRule
    Simulated operating characteristics with virtual cohorts (drop-out, delayed response);
    ``TwoStageRule.simon(p0, p1, alpha, beta, choice, nmax)`` is the rule of a Simon design.
build_design_summary, render_markdown, render_html, plot_operating_characteristics
    Protocol-ready design summary: its text and its figure (a ``Figure``; saving the files is
    :func:`lupuscell.reports.design.write_design_report`).

Nothing in this package touches a file, a database or a plotting backend.

See docs/design/ for the conventions and runnable examples.
"""

from lupuscell.design.bayes_monitor import MonitoringRule, boundaries, operating_characteristics
from lupuscell.design.power import (
    binary_sample_size,
    continuous_sample_size,
    events_required,
    survival_sample_size,
)
from lupuscell.design.report import (
    build_design_summary,
    plot_operating_characteristics,
    render_html,
    render_markdown,
)
from lupuscell.design.simon import SimonDesign, SimonResult, simon_design, two_stage_oc
from lupuscell.design.simulate import Scenario, TwoStageRule, simulate_design
from lupuscell.design.single_stage import ahern_design

__all__ = [
    "MonitoringRule",
    "Scenario",
    "SimonDesign",
    "SimonResult",
    "TwoStageRule",
    "ahern_design",
    "binary_sample_size",
    "boundaries",
    "build_design_summary",
    "continuous_sample_size",
    "events_required",
    "operating_characteristics",
    "plot_operating_characteristics",
    "render_html",
    "render_markdown",
    "simon_design",
    "simulate_design",
    "survival_sample_size",
    "two_stage_oc",
]
