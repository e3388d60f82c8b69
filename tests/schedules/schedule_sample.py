"""Helpers of the schedule tests (unique module name, no __init__): a small inline template."""

from __future__ import annotations

from typing import Any

HEADER = """\
name: t
title: T
version: "1"
summary: s
sources: [{id: src, citation: c}]
visits:
"""
"""Everything of a template but its visits (one cited source ``src``)."""


def inline_template(visits: str) -> Any:
    """A template of ``visits`` (YAML list items citing ``src``) under :data:`HEADER`."""
    from lupuscell.schedules import parse_template

    return parse_template(HEADER + visits)
