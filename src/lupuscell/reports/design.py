"""Write the trial-design summary of ``lupuscell design report`` to a folder.

The numbers, text and figure come from :mod:`lupuscell.design.report` (pure); this module
only saves them: ``design_summary.md``, ``design_summary.html`` and the operating
characteristics PNG the two documents reference. See docs/design/report.md.
"""

from __future__ import annotations

from pathlib import Path

from lupuscell.design.report import (
    PLOT_FILE,
    DesignSummary,
    plot_operating_characteristics,
    render_html,
    render_markdown,
)

PLOT_DPI = 120


def write_design_report(summary: DesignSummary, out_dir: Path) -> dict[str, Path]:
    """Write the Markdown, the HTML and the PNG into ``out_dir`` (created if missing).

    Returns
    -------
    dict of str to Path
        ``{"markdown": ..., "html": ..., "plot": ...}``, the files written (the JSON that
        ``lupuscell design report`` prints).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / "design_summary.md"
    md_path.write_text(render_markdown(summary), encoding="utf-8")
    html_path = out_dir / "design_summary.html"
    html_path.write_text(render_html(summary), encoding="utf-8")
    png_path = out_dir / PLOT_FILE
    plot_operating_characteristics(summary).savefig(png_path, dpi=PLOT_DPI)
    return {"markdown": md_path, "html": html_path, "plot": png_path}
