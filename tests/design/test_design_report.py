"""Design summary report: Markdown, HTML and the operating-characteristics PNG."""

from __future__ import annotations

from lupuscell.design.bayes_monitor import MonitoringRule
from lupuscell.design.report import build_design_summary, render_markdown, write_report


def test_design_report_writes_three_files(tmp_path):
    rule = MonitoringRule(a=1, b=9, theta=0.1, cutoff=0.9, cohort=5, n_max=29)
    summary = build_design_summary(0.1, 0.3, 0.05, 0.2, monitor=rule)
    paths = write_report(summary, tmp_path / "out")
    md = paths["markdown"].read_text()
    assert "stop the trial for futility" in md
    assert "| 1 | 10 | 1 | (continue) |" in md  # boundaries table of the optimal design 1/10, 5/29
    assert "| 2 | 29 | 5 | 5 |" in md
    assert "Safety monitoring" in md and "| 5 | 3 |" in md
    html = paths["html"].read_text()
    assert (
        html.startswith("<!doctype html>") and "<table>" in html and "operating_characteristics.png" in html
    )
    png = paths["plot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_design_report_minimax_without_monitor():
    summary = build_design_summary(0.05, 0.25, 0.10, 0.10, choice="minimax")
    md = render_markdown(summary)
    assert "minimax" in md and "Enrol 13" not in md and "enrol 13 evaluable" in md
    assert "Safety monitoring" not in md
    assert "Single stage (A'Hern)" in md
