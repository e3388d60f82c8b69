"""Patient-reported outcome assessments: the RAND 36-Item Health Survey 1.0 with a patient global
assessment (:mod:`lupuscell.registry.pro_models`).

Written from the model and reviewed (Alembic autogenerate layout). One new table; the clinical
tables are unchanged.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "pro_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("assessment_date", sa.Date(), nullable=False),
        sa.Column("instrument", _enum(("rand36",), "pro_instrument"), nullable=False),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("patient_global_assessment", sa.Float(), nullable=True),
        sa.Column(
            "patient_global_assessment_scale",
            _enum(("nrs_0_10", "vas_0_100_mm"), "pro_pga_scale"),
            nullable=False,
        ),
        sa.Column("completed_by", _enum(("patient", "proxy", "staff"), "pro_completed_by"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "patient_global_assessment IS NULL OR "
            "(patient_global_assessment >= 0 AND patient_global_assessment <= 100)",
            name=op.f("ck_pro_assessments_pga_range"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pro_assessments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_pro_assessments_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pro_assessments")),
    )
    with op.batch_alter_table("pro_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pro_assessments_patient_date", ["patient_id", "assessment_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pro_assessments_visit_id"), ["visit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pro_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pro_assessments_visit_id"))
        batch_op.drop_index("ix_pro_assessments_patient_date")

    op.drop_table("pro_assessments")
