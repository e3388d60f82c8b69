"""ORM models of the people who use the registry: users, site memberships, API tokens and login
attempts (Alembic migration 0003).

A user has exactly one role (:data:`ROLES`) and belongs to one or more sites; every read of
clinical data is restricted to the patients of those sites. Passwords are stored only as argon2
hashes (RFC 9106) and API tokens only as SHA-256 digests (a token is 256 random bits, so a fast
digest is enough; it is shown once at creation and cannot be recovered). ``session_epoch`` is
part of every signed session cookie: raising it (disable, role change, new password) ends the
user's sessions on every worker at once.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lupuscell.registry.models import Base, Site, _enum, _utcnow

ROLES: tuple[str, ...] = ("admin", "investigator", "coordinator", "monitor", "statistician")
"""Roles of the web application; what each may do is in :mod:`lupuscell.web.roles`."""


class User(Base):
    """A person with a login (never a patient)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(_enum(ROLES, "user_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), default=None)

    memberships: Mapped[list[SiteMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class SiteMembership(Base):
    """The user may see and edit (as the role allows) the patients of this site."""

    __tablename__ = "site_memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "site_id", name="uq_site_memberships_user_site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    site: Mapped[Site] = relationship()


class ApiToken(Base):
    """A revocable bearer token of one user for scripts (``Authorization: Bearer lc_...``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), default=None)


class LoginAttempt(Base):
    """One password check (kept in the database so throttling holds across workers)."""

    __tablename__ = "login_attempts"
    __table_args__ = (sa.Index("ix_login_attempts_username_at", "username", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    remote_addr: Mapped[str] = mapped_column(sa.String(64), default="")
    attempted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    succeeded: Mapped[bool] = mapped_column(sa.Boolean, default=False)
