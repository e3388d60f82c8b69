"""What the report's own sections share: a figure as an embedded PNG, an HTML fragment from a
template, number formats and a text page for the PDF.

The sections (:mod:`lupuscell.reports.competing_section`, :mod:`lupuscell.reports.prediction_section`)
each return a :class:`Section`: its numbers for summary.json, its HTML fragment and its PDF pages;
:mod:`lupuscell.reports.build` only places them.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from matplotlib.figure import Figure

__all__ = ["Section", "fragment", "p_value", "png_base64", "ratio_ci", "text_page"]


@dataclass
class Section:
    """One report section: its JSON (``key`` in summary.json), its HTML and its PDF pages.

    ``pages`` are built only when the PDF is written (each page is closed once saved).
    """

    key: str
    summary: dict[str, Any]
    html: str
    pages: Callable[[], list[Figure]] = field(repr=False)


def png_base64(fig: Figure, dpi: int = 110) -> str:
    """The figure as a base64 PNG (for an ``<img src="data:...">``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def fragment(template: str, **context: Any) -> str:
    """Render one of the report's templates (HTML, autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lupuscell.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    return env.get_template(template).render(**context)


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def ratio_ci(ratio: Any, low: Any, high: Any) -> str:
    """``1.23 (0.90–1.70)``; "–" when not estimable."""
    if not _finite(ratio):
        return "–"
    if not (_finite(low) and _finite(high)):
        return f"{ratio:.2f} (–)"
    return f"{ratio:.2f} ({low:.2f}–{high:.2f})"


def p_value(p: Any) -> str:
    """``<0.001``, ``0.034``, or "–"."""
    if not _finite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def text_page(title: str, paragraphs: list[str], *, width: int = 88) -> Figure:
    """An A4 page of wrapped paragraphs (for the PDF)."""
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.07, 0.95, title, fontsize=15, weight="bold", va="top")
    y = 0.91
    for para in paragraphs:
        for line in textwrap.wrap(para, width) or [""]:
            if y < 0.04:
                return fig
            fig.text(0.07, y, line, fontsize=10, va="top")
            y -= 0.02
        y -= 0.01
    return fig
