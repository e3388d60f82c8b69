"""Provenance of a registry read: when the data last changed and how much there is.

A report states its data snapshot; "as of" is the time of the newest audited change (every
create, update, delete and import is audited), not the time the report was generated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell.registry import models as m


def data_snapshot(engine: Engine) -> dict[str, Any]:
    """``as_of`` (ISO time of the newest audit row, or None for an empty registry) and row counts."""
    with engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(m.AuditLog.changed_at))).scalar()
        counts = {
            model.__tablename__: int(
                conn.execute(sa.select(sa.func.count()).select_from(model)).scalar() or 0
            )
            for model in m.CLINICAL_MODELS
        }
    if isinstance(newest, dt.datetime):
        as_of: str | None = newest.replace(microsecond=0).isoformat()
    else:
        as_of = None if newest is None else str(newest)
    return {"as_of": as_of, "row_counts": counts}
