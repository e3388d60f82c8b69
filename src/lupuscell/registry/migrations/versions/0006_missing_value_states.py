"""Explicit missing-value states: a ``missing`` JSON column (field -> ``not_done`` | ``unknown``)
on visits and therapy courses (:mod:`lupuscell.schemas.missing`,
docs/data_management/missing_values.md).

Nullable, no default: existing records have no state recorded (NULL), which the completeness
report shows as empty fields to chase, never as "not done".

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("visits", "therapy_courses")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("missing", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("missing")
