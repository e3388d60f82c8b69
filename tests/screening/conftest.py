"""Fixtures of the screening tests: a synthetic OMOP set on disk, and a local Spark session.

Spark needs Java and pyspark. When either is missing the Spark tests are skipped with the
visible reason, unless ``LUPUSCELL_REQUIRE_ALL_SERVICES=1`` (as in ``.ci/run``), which turns the
skip into a failure, through the suite's one service rule (``require_service`` in
``tests/conftest.py``). One Spark session serves the whole test run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest


def _java_missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java not found (install a JRE, e.g. Debian default-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark not installed"
    return None


@pytest.fixture(scope="session")
def spark(require_service: Callable[[str, str], NoReturn]) -> Iterator[Any]:
    """A local-mode Spark session (skip, or fail under LUPUSCELL_REQUIRE_ALL_SERVICES=1)."""
    reason = _java_missing()
    if reason is not None:
        require_service("Spark", reason)
    from lupuscell.screening.omop import spark_session

    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def omop_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 synthetic persons, SLE enriched to 5 % so every criterion has persons to exclude."""
    from lupuscell.synth.omop import OmopSynthConfig, write_omop

    folder = tmp_path_factory.mktemp("omop10k")
    write_omop(OmopSynthConfig(10_000, seed=2026, sle_prevalence=0.05), folder)
    return folder
