"""The web API's timeline read (Core selects) equals ``views.patient_timeline`` (ORM) for every
patient of a synthetic cohort, and hides other sites' patients."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell.errors import NotFoundError
from lupuscell.registry import scoped, views
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.models import Patient
from lupuscell.synth.cohort import iter_cohort_tables


def test_the_fast_timeline_equals_the_orm_timeline(engine: Engine) -> None:
    load_tables(engine, iter_cohort_tables(40, 7, chunk_size=40), actor="t", source="test", reason="test")
    with engine.connect() as conn:
        codes = [
            (code, site)
            for code, site in conn.execute(
                sa.text("SELECT p.code, s.code FROM patients p JOIN sites s ON s.id = p.site_id")
            )
        ]
    assert len(codes) == 40
    for code, site in codes:
        assert scoped.patient_timeline(engine, code, [site]) == views.patient_timeline(engine, code), code
    code, site = codes[0]
    with pytest.raises(NotFoundError):
        scoped.patient_timeline(engine, code, [s for _, s in codes if s != site] or ["none"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Patient)).scalar_one() == 40
