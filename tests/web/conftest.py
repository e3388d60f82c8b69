"""Fixtures of the web tests (the helpers live in ``web_helpers.py``, imported by name so that
another directory's ``conftest`` can never shadow them)."""

from __future__ import annotations

from web_helpers import web  # type: ignore[import-not-found]  # noqa: F401
