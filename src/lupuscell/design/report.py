"""Design summary for a protocol's statistical section (Markdown, HTML and a figure).

Pure, like the rest of :mod:`lupuscell.design`: :func:`build_design_summary` gathers the
numbers, :func:`render_markdown` and :func:`render_html` return the text, and
:func:`plot_operating_characteristics` returns a Matplotlib ``Figure`` (P(reject H0),
P(early termination) and E[N] / n against the true response rate for the chosen Simon
design, with p0 and p1 marked; and, when a safety rule is given, P(stop) against the true
event rate). Nothing here writes a file or sets a backend: ``lupuscell design report`` saves
the three files through :func:`lupuscell.reports.design.write_design_report`. The templates
are kept in this module (two short strings) so the design package stays self-contained.

References
----------
Simon R. Controlled Clinical Trials 1989;10:1-10 (two-stage design).
Jung SH, Lee T, Kim K, George SL. Statistics in Medicine 2004;23:561-569 (admissible designs).
Thall PF, Simon R, Estey EH. Statistics in Medicine 1995;14:357-379 (Bayesian monitoring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jinja2
import numpy as np

from lupuscell.design.bayes_monitor import (
    Boundary,
    MonitoringOC,
    MonitoringRule,
    boundaries,
    operating_characteristics,
)
from lupuscell.design.simon import (
    DEFAULT_NMAX,
    Choice,
    SimonDesign,
    SimonResult,
    TwoStageOC,
    check_choice,
    simon_design,
    two_stage_oc,
)
from lupuscell.design.single_stage import SingleStageDesign, ahern_design
from lupuscell.errors import ValidationError

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the package
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLOT_FILE = "operating_characteristics.png"
"""File name the Markdown and HTML expect the figure under (beside them)."""
DEFAULT_MONITOR_RATES = (0.05, 0.10, 0.15, 0.20, 0.30)
"""True event rates of the safety rule's operating-characteristics table (theta is added)."""


@dataclass(frozen=True)
class DesignSummary:
    """Everything the report shows."""

    result: SimonResult
    choice: Choice
    design: SimonDesign
    single_stage: SingleStageDesign | None
    oc_grid: list[TwoStageOC]
    stage_table: list[dict[str, object]]
    monitor: MonitoringRule | None = None
    monitor_bounds: list[Boundary] = field(default_factory=list)
    monitor_oc: list[MonitoringOC] = field(default_factory=list)


def build_design_summary(
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
    nmax: int = DEFAULT_NMAX,
    choice: Choice = "optimal",
    monitor: MonitoringRule | None = None,
    monitor_rates: list[float] | None = None,
) -> DesignSummary:
    """Compute the Simon designs, the chosen design's exact operating characteristics and,
    optionally, a safety-monitoring rule's boundaries and exact operating characteristics.

    ``choice`` other than ``optimal``/``minimax`` raises ``ValidationError`` (field
    ``design``) before any search.
    """
    check_choice(choice)
    result = simon_design(p0, p1, alpha, beta, nmax)
    design = result.choose(choice)
    try:
        single: SingleStageDesign | None = ahern_design(p0, p1, alpha, beta, max(nmax, 2))
    except ValidationError:  # no single-stage design within nmax: the table omits the row
        single = None
    grid = sorted({*np.round(np.linspace(0.0, 1.0, 41), 4).tolist(), p0, p1})
    oc = [two_stage_oc(design.r1, design.n1, design.r, design.n, p) for p in grid]
    table = [
        {
            "scenario": label,
            "p": p,
            "reject": ch.reject,
            "pet": ch.pet,
            "en": ch.en,
        }
        for label, p in (("H0 (p0)", p0), ("H1 (p1)", p1))
        for ch in [two_stage_oc(design.r1, design.n1, design.r, design.n, p)]
    ]
    bounds: list[Boundary] = []
    moc: list[MonitoringOC] = []
    if monitor is not None:
        bounds = boundaries(monitor)
        rates = monitor_rates or sorted({*DEFAULT_MONITOR_RATES, monitor.theta})
        moc = operating_characteristics(monitor, rates)
    return DesignSummary(result, choice, design, single, oc, table, monitor, bounds, moc)


def plot_operating_characteristics(summary: DesignSummary) -> Figure:
    """The operating-characteristics figure (one panel, two with a safety rule).

    Returns a ``matplotlib.figure.Figure`` built without pyplot (no global state, no
    backend); the caller saves it and owns it.
    """
    from matplotlib.figure import Figure

    ncols = 2 if summary.monitor is not None else 1
    fig = Figure(figsize=(6.4 * ncols, 4.6))
    axes = fig.subplots(1, ncols, squeeze=False)
    _plot_two_stage(axes[0, 0], summary)
    if summary.monitor is not None:
        _plot_monitor(axes[0, 1], summary.monitor)
    fig.tight_layout()
    return fig


def _plot_two_stage(ax: Axes, summary: DesignSummary) -> None:
    d = summary.design
    res = summary.result
    p = np.array([o.p for o in summary.oc_grid])
    ax.plot(p, [o.reject for o in summary.oc_grid], label="P(reject H0)", lw=2)
    ax.plot(p, [o.pet for o in summary.oc_grid], label="P(early termination)", lw=2, ls="--")
    ax.plot(p, [o.en / d.n for o in summary.oc_grid], label=f"E[N] / n (n = {d.n})", lw=2, ls=":")
    for x, name in ((res.p0, "p0"), (res.p1, "p1")):
        ax.axvline(x, color="grey", lw=0.8)
        ax.text(x, 1.02, name, ha="center", va="bottom", fontsize=9)
    ax.set_xlabel("True response rate (proportion of patients)")
    ax.set_ylabel("Probability / fraction of n")
    ax.set_ylim(0, 1.08)
    ax.set_xlim(0, 1)
    ax.set_title(f"Simon {summary.choice}: stop if <= {d.r1}/{d.n1}, reject H0 if > {d.r}/{d.n}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")


def _plot_monitor(ax: Axes, rule: MonitoringRule) -> None:
    q = np.linspace(0.0, min(1.0, max(0.5, 3 * rule.theta)), 61)
    oc = operating_characteristics(rule, q.tolist())
    ax.plot(q, [o.p_stop for o in oc], lw=2, label="P(stop for toxicity)")
    ax.plot(q, [o.expected_n / rule.n_max for o in oc], lw=2, ls=":", label=f"E[N] / N (N = {rule.n_max})")
    ax.axvline(rule.theta, color="grey", lw=0.8)
    ax.text(rule.theta, 1.02, "theta", ha="center", va="bottom", fontsize=9)
    ax.set_xlabel("True event rate (proportion of patients)")
    ax.set_ylabel("Probability / fraction of N")
    ax.set_ylim(0, 1.08)
    ax.set_title(
        f"Safety: Beta({rule.a:g}, {rule.b:g}) prior, stop if P(rate > {rule.theta:g}) > {rule.cutoff:g}",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


_MD = """\
# Statistical design: single-arm phase II (Simon two-stage)

## Hypotheses and design
The primary endpoint is the response rate p. The trial tests H0: p <= {{ "%.2f"|format(r.p0) }} against
H1: p >= {{ "%.2f"|format(r.p1) }} with a one-sided type I error of at most {{ "%.3g"|format(r.alpha_target) }}
and power of at least {{ "%.3g"|format(1 - r.beta_target) }}, using Simon's (1989) {{ s.choice }} two-stage design
(search up to n = {{ r.nmax }}).

* Stage 1: enrol {{ d.n1 }} evaluable patients. If {{ d.r1 }} or fewer respond, stop the trial for futility.
* Stage 2: otherwise enrol {{ d.n - d.n1 }} more (total {{ d.n }}). If more than {{ d.r }} of {{ d.n }} respond
  (at least {{ d.r + 1 }}), the therapy is declared worth further study.

Exact operating characteristics (binomial): type I error {{ "%.4f"|format(d.alpha) }}, power {{ "%.4f"|format(d.power) }},
probability of early termination under H0 {{ "%.3f"|format(d.pet_p0) }}, expected sample size under H0 {{ "%.2f"|format(d.en_p0) }}.

## Boundaries
| Stage | Patients (cumulative) | Stop for futility if responses <= | Declare promising if responses > |
|---|---|---|---|
| 1 | {{ d.n1 }} | {{ d.r1 }} | (continue) |
| 2 | {{ d.n }} | {{ d.r }} | {{ d.r }} |

## Operating characteristics
| Scenario | True rate | P(reject H0) | P(early termination) | E[N] |
|---|---|---|---|---|
{% for row in s.stage_table -%}
| {{ row.scenario }} | {{ "%.2f"|format(row.p) }} | {{ "%.4f"|format(row.reject) }} | {{ "%.4f"|format(row.pet) }} | {{ "%.2f"|format(row.en) }} |
{% endfor %}
## Alternatives considered
| Design | r1/n1 | r/n | EN(p0) | PET(p0) | alpha | power | w range |
|---|---|---|---|---|---|---|---|
| Optimal | {{ r.optimal.r1 }}/{{ r.optimal.n1 }} | {{ r.optimal.r }}/{{ r.optimal.n }} | {{ "%.2f"|format(r.optimal.en_p0) }} | {{ "%.3f"|format(r.optimal.pet_p0) }} | {{ "%.4f"|format(r.optimal.alpha) }} | {{ "%.4f"|format(r.optimal.power) }} | |
| Minimax | {{ r.minimax.r1 }}/{{ r.minimax.n1 }} | {{ r.minimax.r }}/{{ r.minimax.n }} | {{ "%.2f"|format(r.minimax.en_p0) }} | {{ "%.3f"|format(r.minimax.pet_p0) }} | {{ "%.4f"|format(r.minimax.alpha) }} | {{ "%.4f"|format(r.minimax.power) }} | |
{% for a in r.admissible -%}
| Admissible | {{ a.r1 }}/{{ a.n1 }} | {{ a.r }}/{{ a.n }} | {{ "%.2f"|format(a.en_p0) }} | {{ "%.3f"|format(a.pet_p0) }} | {{ "%.4f"|format(a.alpha) }} | {{ "%.4f"|format(a.power) }} | {{ "%.3f"|format(a.w_low) }}-{{ "%.3f"|format(a.w_high) }} |
{% endfor -%}
{% if s.single_stage %}| Single stage (A'Hern) | - | >= {{ s.single_stage.r }}/{{ s.single_stage.n }} | {{ s.single_stage.n }} | 0 | {{ "%.4f"|format(s.single_stage.alpha) }} | {{ "%.4f"|format(s.single_stage.power) }} | |
{% endif %}
Admissible designs (Jung et al. 2004) minimise w n + (1 - w) EN(p0) for the weights w shown.
{% if s.monitor %}
## Safety monitoring
Treatment-related deaths / severe toxicities are monitored continuously with a Beta({{ s.monitor.a }}, {{ s.monitor.b }})
prior. After every {{ s.monitor.cohort }} patients (up to {{ s.monitor.n_max }}), enrolment stops if the posterior probability
that the event rate exceeds {{ s.monitor.theta }} is greater than {{ s.monitor.cutoff }} (Thall, Simon and Estey 1995).

| Patients | Stop if events >= |
|---|---|
{% for b in s.monitor_bounds -%}
| {{ b.patients }} | {{ b.min_events if b.min_events is not none else "cannot stop" }} |
{% endfor %}
Exact operating characteristics (forward recursion, no simulation):

| True event rate | P(stop) | E[N] |
|---|---|---|
{% for o in s.monitor_oc -%}
| {{ "%.3f"|format(o.rate) }} | {{ "%.4f"|format(o.p_stop) }} | {{ "%.2f"|format(o.expected_n) }} |
{% endfor -%}
{% endif %}
![Operating characteristics]({{ plot_file }})

## References
- Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials 1989;10:1-10.
- Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for phase II cancer clinical trials. Stat Med 2004;23:561-569.
- A'Hern RP. Sample size tables for exact single-stage phase II designs. Stat Med 2001;20:859-866.
{% if s.monitor %}- Thall PF, Simon R, Estey EH. Bayesian sequential monitoring designs for single-arm clinical trials with multiple outcomes. Stat Med 1995;14:357-379.
{% endif %}"""  # noqa: E501

_HTML = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statistical design summary</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}
table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #999;padding:.25rem .6rem;text-align:right}
th{background:#eee}img{max-width:100%}</style></head><body>
{{ body }}
</body></html>
"""


def _markdown_to_html(md: str) -> str:
    """Minimal converter for the Markdown this module writes (headings, lists, tables, image)."""
    from html import escape

    out: list[str] = []
    in_table = in_list = prev_text = False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                out.append("<table>")
                out.append("<tr>" + "".join(f"<th>{escape(c)}</th>" for c in cells) + "</tr>")
                in_table = True
                continue
            out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith(("* ", "- ")) or (in_list and line.startswith("  ")):
            if not in_list:
                out.append("<ul>")
                in_list = True
            if line.startswith("  "):
                out[-1] = out[-1].replace("</li>", " " + escape(line.strip()) + "</li>")
            else:
                out.append(f"<li>{escape(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{escape(line[level:].strip())}</h{level}>")
        elif line.startswith("!["):
            alt, src = line[2:].split("](")
            out.append(f'<img alt="{escape(alt)}" src="{escape(src.rstrip(")"))}">')
        elif line.strip():
            if out and out[-1].startswith("<p>") and prev_text:
                out[-1] = out[-1][: -len("</p>")] + " " + escape(line) + "</p>"
            else:
                out.append(f"<p>{escape(line)}</p>")
        prev_text = bool(line.strip()) and not line.startswith(("#", "!["))
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def render_markdown(summary: DesignSummary) -> str:
    """The Markdown text of the summary (the figure referenced as :data:`PLOT_FILE`)."""
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_MD).render(s=summary, r=summary.result, d=summary.design, plot_file=PLOT_FILE)


def render_html(summary: DesignSummary) -> str:
    """A standalone HTML page of the same text (tables, lists, the figure as :data:`PLOT_FILE`)."""
    body = _markdown_to_html(render_markdown(summary))
    return jinja2.Environment(autoescape=False).from_string(_HTML).render(body=body)
