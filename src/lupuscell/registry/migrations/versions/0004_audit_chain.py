"""Audit log hash chain and append-only guards.

Adds ``audit_log.prev_hash`` and ``audit_log.row_hash`` (the hash chain of
:mod:`lupuscell.registry.audit_chain`), the one-row ``audit_chain_head`` table, chains the rows
already in the log (in id order, so a registry that existed before this revision is covered
from its first row), and creates the triggers that refuse ``UPDATE``, ``DELETE`` (and on
PostgreSQL ``TRUNCATE``) of audit rows (:data:`lupuscell.registry.audit_chain.GUARD_DDL`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lupuscell.registry.audit_chain import CHAINED_COLUMNS, DROP_GUARD_DDL, GENESIS, GUARD_DDL, content, link

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEGACY_PIECE = 5_000


def _chain_existing_rows() -> tuple[int, str]:
    """Hash the rows already in the log, in id order; return the last (id, hash)."""
    bind = op.get_bind()
    audit = sa.table(
        "audit_log",
        *(sa.column(n, sa.DateTime(timezone=True) if n == "changed_at" else None) for n in CHAINED_COLUMNS),
    )
    query = sa.select(*(audit.c[n] for n in CHAINED_COLUMNS)).order_by(audit.c.id)
    rows = bind.execute(query).all()
    prev, last_id = GENESIS, 0
    updates = []
    for row in rows:
        digest = link(prev, content(list(row)))
        updates.append({"i": row.id, "p": prev, "h": digest})
        prev, last_id = digest, int(row.id)
    statement = sa.text("UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :i")
    for start in range(0, len(updates), _LEGACY_PIECE):
        bind.execute(statement, updates[start : start + _LEGACY_PIECE])
    return last_id, prev


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    last_id, last_hash = _chain_existing_rows()
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": last_id, "last_hash": last_hash}])
    for statement in GUARD_DDL[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_GUARD_DDL[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
