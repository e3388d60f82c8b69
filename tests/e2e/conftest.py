"""Fixtures of the browser tests (defined in ``e2e_support.py``, imported by name so that
another directory's ``conftest`` can never shadow them)."""

from __future__ import annotations

from e2e_support import browser, chromium, server  # type: ignore[import-not-found]  # noqa: F401
