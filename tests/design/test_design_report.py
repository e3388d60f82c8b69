"""Design summary report: the pure text and figure (lupuscell.design.report) and the files
written by lupuscell.reports.design."""

from __future__ import annotations

import sys

import pytest
from matplotlib.figure import Figure

from lupuscell.design.bayes_monitor import MonitoringRule
from lupuscell.design.report import (
    PLOT_FILE,
    build_design_summary,
    plot_operating_characteristics,
    render_html,
    render_markdown,
)
from lupuscell.errors import ValidationError
from lupuscell.reports.design import write_design_report


def test_design_report_writes_three_files(tmp_path):
    rule = MonitoringRule(a=1, b=9, theta=0.1, cutoff=0.9, cohort=5, n_max=29)
    summary = build_design_summary(0.1, 0.3, 0.05, 0.2, monitor=rule)
    paths = write_design_report(summary, tmp_path / "out")
    md = paths["markdown"].read_text()
    assert "stop the trial for futility" in md
    assert "| 1 | 10 | 1 | (continue) |" in md  # boundaries table of the optimal design 1/10, 5/29
    assert "| 2 | 29 | 5 | 5 |" in md
    assert "Safety monitoring" in md and "| 5 | 3 |" in md
    html = paths["html"].read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html and PLOT_FILE in html
    assert paths["plot"].name == PLOT_FILE
    png = paths["plot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_design_report_minimax_without_monitor():
    summary = build_design_summary(0.05, 0.25, 0.10, 0.10, choice="minimax")
    md = render_markdown(summary)
    assert "minimax" in md and "Enrol 13" not in md and "enrol 13 evaluable" in md
    assert "Safety monitoring" not in md
    assert "Single stage (A'Hern)" in md


def test_design_report_figure_is_returned_not_saved_and_sets_no_backend():
    """The pure package returns a Figure (one panel, two with a safety rule), labelled with units."""
    import matplotlib

    backend = matplotlib.get_backend()
    plain = plot_operating_characteristics(build_design_summary(0.1, 0.3, 0.05, 0.2))
    rule = MonitoringRule(a=1, b=9, theta=0.1, cutoff=0.9, cohort=5, n_max=29)
    both = plot_operating_characteristics(build_design_summary(0.1, 0.3, 0.05, 0.2, monitor=rule))
    assert isinstance(plain, Figure) and len(plain.axes) == 1 and len(both.axes) == 2
    assert plain.axes[0].get_xlabel() == "True response rate (proportion of patients)"
    assert "n = 29" in " ".join(t.get_text() for t in plain.axes[0].get_legend().get_texts())
    assert both.axes[1].get_xlabel() == "True event rate (proportion of patients)"
    assert matplotlib.get_backend() == backend
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


def test_design_report_html_is_the_markdown_rendered():
    summary = build_design_summary(0.1, 0.3, 0.05, 0.2)
    html = render_html(summary)
    assert "<h1>Statistical design: single-arm phase II (Simon two-stage)</h1>" in html
    assert f'<img alt="Operating characteristics" src="{PLOT_FILE}">' in html


def test_design_report_rejects_an_unknown_choice_before_searching():
    with pytest.raises(ValidationError) as err:
        build_design_summary(0.1, 0.3, 0.05, 0.2, choice="best")  # type: ignore[arg-type]
    assert err.value.problems[0].field == "design"
