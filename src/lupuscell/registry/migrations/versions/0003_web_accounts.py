"""Web application: users, site memberships, API tokens, login attempts; a ``version`` column on
every clinical table for optimistic locking.

Generated with Alembic autogenerate from ``lupuscell.registry.models`` /
``lupuscell.registry.account_models`` and reviewed. ``version`` starts at 1 for existing rows
(server default) and is incremented by SQLAlchemy on every update (``version_id_col``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "sites",
    "patients",
    "therapy_courses",
    "drug_administrations",
    "visits",
    "lab_results",
    "adverse_events",
    "clinical_events",
)
ROLES = ("admin", "investigator", "coordinator", "monitor", "statistician")


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        _utc("attempted_at"),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "attempted_at"])
    role = sa.Enum(*ROLES, name="user_role", native_enum=False, create_constraint=True, length=32)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", role, nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("last_login_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        _utc("created_at"),
        _utc("last_used_at", nullable=True),
        _utc("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "site_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_memberships_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_site_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_memberships")),
        sa.UniqueConstraint("user_id", "site_id", name="uq_site_memberships_user_site"),
    )
    op.create_index(op.f("ix_site_memberships_site_id"), "site_memberships", ["site_id"])
    op.create_index(op.f("ix_site_memberships_user_id"), "site_memberships", ["user_id"])
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(VERSIONED_TABLES):
        if sqlite:
            # SQLite >= 3.35 drops a plain column in place. Batch mode would copy the table and
            # drop the original, which the foreign keys referring to it (patients, sites) refuse,
            # and would lose the expression indexes of revision 0002 (lower(code)).
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN version')
        else:
            op.drop_column(table, "version")
    op.drop_table("site_memberships")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("login_attempts")
