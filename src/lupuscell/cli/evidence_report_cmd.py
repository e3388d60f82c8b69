"""CLI: ``lupuscell evidence questions`` and ``lupuscell evidence patient-info`` (reports)."""

from __future__ import annotations

import typer


def register(evidence_app: typer.Typer) -> None:
    """Attach the evidence report commands to the ``evidence`` sub-app."""
