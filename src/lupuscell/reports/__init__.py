"""Documents built from the registry and the pure packages: the outcomes report (HTML, PDF,
summary.json, analysis datasets) and the trial-design summary. Unlike the pure packages this
package writes files and draws with a non-interactive Matplotlib backend.

Public API
----------
report_from_cohort
    Endpoints, datasets and the outcomes report of a cohort (``lupuscell report``;
    docs/outcomes/report.md).
compute_summary, write_report, ReportData
    Every number of the outcomes report; the report files from the analysis datasets.
write_design_report
    The design summary files of ``lupuscell design report`` (docs/design/report.md).

Submodules load on first use (Matplotlib, lifelines and statsmodels only when a report is built).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "report_from_cohort": "pipeline",
    "compute_summary": "build",
    "write_report": "build",
    "ReportData": "build",
    "write_design_report": "design",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"lupuscell.reports.{_HOME[name]}"), name)
    raise AttributeError(f"module 'lupuscell.reports' has no attribute {name!r}")
