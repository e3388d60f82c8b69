"""Fixtures of the registry tests: a Registry on the shared ``engine`` and a seeded patient."""

from __future__ import annotations

from typing import Any

import pytest
from registry_sample import ACTOR, COURSE, PATIENT, SITE  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.registry.repository import Registry


@pytest.fixture
def registry(engine: Engine) -> Registry:
    return Registry(engine)


@pytest.fixture
def seeded(registry: Registry) -> dict[str, Any]:
    """A site, one patient with an autologous HSCT course; returns the created records."""
    site = registry.create("site", SITE, actor=ACTOR)
    patient = registry.create("patient", PATIENT, actor=ACTOR)
    course = registry.create("therapy_course", COURSE, actor=ACTOR)
    return {"site": site, "patient": patient, "course": course}
