"""Users, roles, site memberships, API tokens and login attempts: the SQL side of the web
application's accounts (the hashing of passwords and tokens is done by the caller,
:mod:`lupuscell.web.security`; this module only stores and compares digests).

Every change to an account is written to the audit log (entity ``users``) in the same
transaction, with the actor and a reason, like any change to clinical data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from lupuscell.errors import NotFoundError, Problem, ValidationError
from lupuscell.registry import audit
from lupuscell.registry.account_models import ROLES, ApiToken, LoginAttempt, SiteMembership, User
from lupuscell.registry.models import Site
from lupuscell.registry.session import transaction

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{1,62}$"
TOKEN_TOUCH_SECONDS = 300
"""``last_used_at`` of a token is refreshed at most this often (a write per request would
serialise the API on the token row)."""


@dataclass(frozen=True)
class Account:
    """A user as the web application needs it (never the password hash)."""

    id: int
    username: str
    full_name: str
    role: str
    active: bool
    session_epoch: int
    sites: tuple[str, ...]
    last_login_at: dt.datetime | None = None


def _user_query() -> sa.Select[Any]:
    """Users with their memberships and sites in the same round trips (no lazy load per site)."""
    return sa.select(User).options(selectinload(User.memberships).joinedload(SiteMembership.site))


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        active=user.active,
        session_epoch=user.session_epoch,
        sites=tuple(sorted(m.site.code for m in user.memberships)),
        last_login_at=user.last_login_at,
    )


def _user(session: Session, username: str) -> User:
    user = session.scalars(sa.select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist")
    return user


def _check(username: str, role: str) -> None:
    import re

    problems = []
    if not re.match(USERNAME_PATTERN, username):
        problems.append(
            Problem(f"user {username}", "username", "2-63 lower-case letters, digits, '_', '.' or '-'")
        )
    if role not in ROLES:
        problems.append(
            Problem(f"user {username}", "role", f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        )
    if problems:
        raise ValidationError(problems)


def _site_ids(session: Session, codes: Iterable[str], label: str) -> list[int]:
    codes = list(dict.fromkeys(codes))
    found = {
        code: sid for code, sid in session.execute(sa.select(Site.code, Site.id).where(Site.code.in_(codes)))
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(Problem(label, "sites", f"unknown site(s): {', '.join(unknown)}"))
    return [found[c] for c in codes]


def _audit(
    session: Session, user: User, actor: str, reason: str, field: str, old: object, new: object
) -> None:
    audit.log_update(session, user, {field: (old, new)}, actor=actor, reason=reason)


def create_user(
    engine: Engine,
    *,
    username: str,
    password_hash: str,
    role: str,
    sites: Sequence[str],
    actor: str,
    full_name: str = "",
) -> Account:
    """Add a user (ValidationError for a bad or taken username, an unknown role or site)."""
    username = username.strip().lower()
    _check(username, role)
    label = f"user {username}"
    with transaction(engine) as session:
        if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
            raise ValidationError(Problem(label, "username", f"user {username!r} already exists"))
        user = User(username=username, full_name=full_name, role=role, password_hash=password_hash)
        user.memberships = [SiteMembership(site_id=i) for i in _site_ids(session, sites, label)]
        session.add(user)
        session.flush()
        session.add(
            audit.AuditLog(
                actor=actor,
                action="create",
                entity="users",
                entity_id=str(user.id),
                new_value=audit.encode({"username": username, "role": role, "sites": list(sites)}),
                reason="user administration",
            )
        )
        return _account(user)


def get_account(engine: Engine, user_id: int) -> Account | None:
    """The account with this id, or None (Core selects: this runs on every page)."""
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(User.__table__).where(User.__table__.c.id == user_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else _account_from_row(conn, row)


def _account_from_row(conn: sa.Connection, row: Any) -> Account:
    """An :class:`Account` from a ``users`` row and the user's site codes."""
    m, s = SiteMembership.__table__, Site.__table__
    query = (
        sa.select(s.c.code).join(m, m.c.site_id == s.c.id).where(m.c.user_id == row["id"]).order_by(s.c.code)
    )
    sites: list[str] = list(conn.execute(query).scalars().all())
    return Account(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=row["role"],
        active=row["active"],
        session_epoch=row["session_epoch"],
        sites=tuple(sites),
        last_login_at=row["last_login_at"],
    )


def get_by_username(engine: Engine, username: str) -> tuple[Account, str] | None:
    """(account, password hash) of a user, or None when the username is unknown."""
    with Session(engine) as session:
        user = session.scalars(sa.select(User).where(User.username == username.strip().lower())).one_or_none()
        return None if user is None else (_account(user), user.password_hash)


def list_accounts(engine: Engine) -> list[Account]:
    """Every user, by username."""
    with Session(engine) as session:
        return [_account(u) for u in session.scalars(_user_query().order_by(User.username))]


def update_account(
    engine: Engine,
    username: str,
    *,
    actor: str,
    role: str | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
    sites: Sequence[str] | None = None,
    full_name: str | None = None,
) -> Account:
    """Change role, active flag, password, sites or name; ends the user's sessions (new epoch)
    whenever role, active flag, password or sites change."""
    label = f"user {username}"
    with transaction(engine) as session:
        user = _user(session, username.strip().lower())
        why = "user administration"
        if role is not None and role != user.role:
            _check(user.username, role)
            _audit(session, user, actor, why, "role", user.role, role)
            user.role = role
        if active is not None and active != user.active:
            _audit(session, user, actor, why, "active", user.active, active)
            user.active = active
        if password_hash is not None:
            _audit(session, user, actor, why, "password", "(hidden)", "(changed)")
            user.password_hash = password_hash
        if sites is not None:
            old = sorted(m.site.code for m in user.memberships)
            if sorted(set(sites)) != old:
                ids = _site_ids(session, sites, label)
                user.memberships.clear()
                session.flush()
                user.memberships.extend(SiteMembership(site_id=i) for i in ids)
                _audit(session, user, actor, why, "sites", old, sorted(set(sites)))
        if full_name is not None and full_name != user.full_name:
            _audit(session, user, actor, why, "full_name", user.full_name, full_name)
            user.full_name = full_name
        if session.dirty or session.new or session.deleted:
            user.session_epoch += 1
        session.flush()
        session.refresh(user)
        return _account(user)


def record_login(engine: Engine, username: str, remote_addr: str, succeeded: bool) -> None:
    """Remember one password check; a success also stamps the user's last login."""
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        session.add(
            LoginAttempt(
                username=username[:64], remote_addr=remote_addr[:64], attempted_at=now, succeeded=succeeded
            )
        )
        if succeeded:
            session.execute(sa.update(User).where(User.username == username).values(last_login_at=now))


def recent_failures(engine: Engine, username: str, remote_addr: str, since: dt.datetime) -> tuple[int, int]:
    """Failed logins since ``since`` for this username and for this address."""
    with Session(engine) as session:
        base = (
            sa.select(sa.func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.attempted_at >= since, LoginAttempt.succeeded.is_(False))
        )
        by_user = session.scalar(base.where(LoginAttempt.username == username)) or 0
        by_addr = session.scalar(base.where(LoginAttempt.remote_addr == remote_addr)) or 0
        return int(by_user), int(by_addr)


# --------------------------------------------------------------------------- API tokens


def create_token(engine: Engine, user_id: int, name: str, token_hash: str, prefix: str) -> int:
    """Store a token digest for the user; returns the token id."""
    with transaction(engine) as session:
        token = ApiToken(user_id=user_id, name=name[:100], token_hash=token_hash, prefix=prefix)
        session.add(token)
        session.flush()
        return token.id


def account_for_token(engine: Engine, token_hash: str) -> Account | None:
    """The active owner of a non-revoked token, or None.

    Two Core selects on one connection (token with its user, then the user's sites): this runs
    on every API call, so it avoids building ORM objects.
    """
    now = dt.datetime.now(dt.UTC)
    t, u = ApiToken.__table__, User.__table__
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(u, t.c.id.label("token_id"), t.c.last_used_at)
                .join(t, t.c.user_id == u.c.id)
                .where(t.c.token_hash == token_hash, t.c.revoked_at.is_(None), u.c.active.is_(True))
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        last = row["last_used_at"]
        if (
            last is None
            or (now - last.replace(tzinfo=last.tzinfo or dt.UTC)).total_seconds() > TOKEN_TOUCH_SECONDS
        ):
            conn.execute(sa.update(ApiToken).where(ApiToken.id == row["token_id"]).values(last_used_at=now))
            conn.commit()
        return _account_from_row(conn, row)


def list_tokens(engine: Engine, user_id: int) -> list[dict[str, object]]:
    """The user's tokens (name, prefix, dates; never the digest)."""
    with Session(engine) as session:
        rows = session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
        return [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in rows
        ]


def revoke_token(engine: Engine, user_id: int, token_id: int) -> None:
    """Revoke one of the user's tokens (NotFoundError if it is not theirs)."""
    with transaction(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id:
            raise NotFoundError(f"token {token_id} does not exist")
        if token.revoked_at is None:
            token.revoked_at = dt.datetime.now(dt.UTC)


def site_codes(engine: Engine) -> list[str]:
    """Every site code, sorted."""
    with Session(engine) as session:
        return list(session.scalars(sa.select(Site.code).order_by(Site.code)))
