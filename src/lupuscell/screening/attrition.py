"""The CONSORT-style attrition plot of a screen: persons remaining after each criterion.

Returns a matplotlib :class:`~matplotlib.figure.Figure` (never saved or shown here; the CLI and
reports save it). Horizontal bars in protocol order, the screened population first, each bar
labelled with the persons remaining and those the criterion excluded.

References
----------
Schulz KF, Altman DG, Moher D. CONSORT 2010 statement. BMJ 2010;340:c332 (flow of participants
through eligibility assessment).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def attrition_figure(attrition: pd.DataFrame, persons: int, title: str) -> Figure:
    """Bars of persons remaining after each criterion (``attrition`` in protocol order)."""
    from matplotlib.figure import Figure

    labels = ["screened population", *attrition["criterion_id"].astype(str)]
    remaining = [persons, *attrition["remaining"].astype(int)]
    excluded = [0, *(a - b for a, b in itertools.pairwise(remaining))]
    fig = Figure(figsize=(8.0, 0.45 * len(labels) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    y = list(range(len(labels)))[::-1]
    ax.barh(y, remaining, color="#4c72b0", height=0.6)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, max(remaining) * 4 if max(remaining) > 0 else 10)
    ax.set_yticks(y, labels)
    for yy, n, ex in zip(y, remaining, excluded, strict=True):
        text = f"{n:,}" + (f"  (excluded {ex:,})" if ex else "")
        ax.text(max(n, 1) * 1.08, yy, text, va="center", fontsize=8)
    ax.set_xlabel("persons remaining (symmetric log scale)")
    ax.set_title(f"{title}\nn = {persons:,} persons screened, {remaining[-1]:,} candidates", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig
