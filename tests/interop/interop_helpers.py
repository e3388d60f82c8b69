"""Helpers of the interop tests: a synthetic registry, a second empty registry, table comparison."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell.interop import _registry_io as rio
from lupuscell.interop.frames import records
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.migrate import upgrade
from lupuscell.registry.models import AuditLog, ImportBatch
from lupuscell.registry.session import make_engine
from lupuscell.synth.cohort import iter_cohort_tables

ACTOR = "interop.tester"


def fill(engine: Engine, n: int = 30, seed: int = 11) -> None:
    """A synthetic cohort (every table, HSCT / MSC / CAR-T) written through the bulk loader."""
    load_tables(
        engine,
        iter_cohort_tables(n, seed=seed, chunk_size=n),
        actor=ACTOR,
        source="synth",
        reason="test cohort",
    )


def new_registry(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


def tables(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every registry table in the identified exchange layout, as plain records."""
    return {name: records(frame) for name, frame in rio.read_tables(engine, identified=True).items()}


def assert_same_registry(a: Engine, b: Engine) -> None:
    """Field-by-field equality of every table (same patients, courses, visits, labs, events)."""
    left, right = tables(a), tables(b)
    for name in rio.TABLE_NAMES:
        assert len(left[name]) == len(right[name]), name
        for row_a, row_b in zip(left[name], right[name], strict=True):
            diff = {k: (row_a[k], row_b.get(k)) for k in row_a if row_a[k] != row_b.get(k)}
            assert not diff, f"{name}: {diff}"


def count_rows(engine: Engine) -> int:
    """Clinical rows, import batches and audit rows in the registry (nothing written = 0 growth)."""
    from lupuscell.registry.models import CLINICAL_MODELS

    with engine.connect() as conn:
        total = 0
        for model in (*CLINICAL_MODELS, ImportBatch):
            total += conn.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()
        return total


def audit_rows(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(AuditLog.__table__).where(AuditLog.action == action).order_by(AuditLog.id)
            ).mappings()
        ]
