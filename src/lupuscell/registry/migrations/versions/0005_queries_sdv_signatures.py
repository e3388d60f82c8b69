"""Data management: queries (discrepancy notes) and their threads, source-data verification
status, electronic signatures and locks (:mod:`lupuscell.registry.dm_models`).

Generated with Alembic autogenerate from the models and reviewed. New tables only; the clinical
tables are unchanged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "closed",
                name="query_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("raised_by", sa.String(length=100), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_queries_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_queries_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queries")),
    )
    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queries_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_queries_record", ["record_type", "record_id"], unique=False)
        batch_op.create_index("ix_queries_site_status", ["site_id", "status"], unique=False)

    op.create_table(
        "sdv_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_verified",
                "verified",
                "verified_with_findings",
                name="sdv_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_sdv_status_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_sdv_status_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sdv_status")),
        sa.UniqueConstraint("record_type", "record_id", name="uq_sdv_status_record"),
    )
    with op.batch_alter_table("sdv_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sdv_status_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sdv_status_site_id"), ["site_id"], unique=False)

    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "record_type",
            sa.Enum(
                "patient",
                "visit",
                name="signature_record_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlocked_by", sa.String(length=100), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlock_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_signatures_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_signatures_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signatures_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_signatures_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "query_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "raise",
                "answer",
                "close",
                "reopen",
                name="query_message_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status_after",
            sa.Enum(
                "open",
                "answered",
                "closed",
                name="query_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["query_id"], ["queries.id"], name=op.f("fk_query_messages_query_id_queries"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_messages")),
    )
    with op.batch_alter_table("query_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_query_messages_query_id"), ["query_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("query_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_query_messages_query_id"))

    op.drop_table("query_messages")
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_index("ix_signatures_record")
        batch_op.drop_index(batch_op.f("ix_signatures_patient_id"))

    op.drop_table("signatures")
    with op.batch_alter_table("sdv_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sdv_status_site_id"))
        batch_op.drop_index(batch_op.f("ix_sdv_status_patient_id"))

    op.drop_table("sdv_status")
    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.drop_index("ix_queries_site_status")
        batch_op.drop_index("ix_queries_record")
        batch_op.drop_index(batch_op.f("ix_queries_patient_id"))

    op.drop_table("queries")
