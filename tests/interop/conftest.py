"""Fixtures of the interop tests: a second, empty registry on the same engine as ``engine``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from interop_helpers import new_registry  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine


@pytest.fixture
def target(fresh_db_url: str) -> Iterator[Engine]:
    """A brand-new empty registry (same engine kind as ``engine``) to import into."""
    engine = new_registry(fresh_db_url)
    yield engine
    engine.dispose()
