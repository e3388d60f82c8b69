"""FastAPI dependencies: the application state, who is calling, what they may do, CSRF.

A request is authenticated by an API token (``Authorization: Bearer lc_...``) or by the signed
session cookie; a page without a session redirects to the login form, an API call gets 401.
A role without the permission gets 403. Which patients a caller sees is ``principal.sites``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from lupuscell.registry import accounts
from lupuscell.registry.accounts import Account
from lupuscell.registry.repository import Registry
from lupuscell.web import security
from lupuscell.web.patient_info import PatientInfoCache
from lupuscell.web.patient_list import PatientListCache
from lupuscell.web.roles import allowed
from lupuscell.web.settings import Settings
from lupuscell.web.trials import TrialSource

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No valid session or token: 401 for the API, a redirect to /login for pages."""


class Forbidden(Exception):
    """Authenticated, but the role or the site does not allow this (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfFailed(Exception):
    """An unsafe request authenticated by cookie without the matching CSRF token (403)."""


@dataclass
class AppState:
    """What the routes share: settings, engine, the registry API, cookie signer, templates, the
    trial finder's source and the public patient information page."""

    settings: Settings
    engine: Engine
    reader: Engine
    registry: Registry
    signer: security.SessionSigner
    templates: Jinja2Templates
    trials: TrialSource = field(default_factory=TrialSource)
    patient_info: PatientInfoCache = field(default_factory=PatientInfoCache)
    patient_list: PatientListCache = field(default_factory=PatientListCache)


def read_only(engine: Engine) -> Engine:
    """The engine for the hot read paths (who is calling, the timeline, the patient list).

    On PostgreSQL the same connection pool in autocommit mode: no ``BEGIN`` and ``ROLLBACK``
    round trips around each read (measured: the timeline's selects take half the time). The
    reads see the same data: under PostgreSQL's default READ COMMITTED every statement of a
    transaction takes its own snapshot anyway. SQLite (in-process, no round trips) keeps the
    engine as it is. Never used for writes.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    account: Account
    via: str  # "session" or "token"

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def sites(self) -> tuple[str, ...]:
        return self.account.sites

    def can(self, permission: str) -> bool:
        return allowed(self.account.role, permission)


def state_of(request: Request) -> AppState:
    """The application state of a request."""
    app_state: AppState = request.app.state.lc
    return app_state


async def state(request: Request) -> AppState:
    """Dependency: the application state (``async``: no I/O, so FastAPI runs it on the event
    loop instead of handing it to the thread pool)."""
    return state_of(request)


def add_cookie(request: Request, name: str, value: str, *, max_age: int | None, strict: bool = False) -> None:
    """Queue a Set-Cookie header (HttpOnly, SameSite, Secure over https) for the response."""
    settings = state_of(request).settings
    secure = settings.cookie_secure == "1" or (
        settings.cookie_secure == "auto" and request.url.scheme == "https"
    )
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Strict" if strict else "Lax"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    request.scope.setdefault("lc_cookies", []).append(morsel.OutputString())


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (a new one is issued when it has none)."""
    token = request.cookies.get(security.CSRF_COOKIE) or request.scope.get("lc_csrf")
    if not token:
        token = security.new_csrf_token()
        request.scope["lc_csrf"] = token
        add_cookie(request, security.CSRF_COOKIE, token, max_age=None, strict=True)
    return str(token)


async def csrf_guard(request: Request) -> None:
    """Refuse an unsafe request without a bearer token whose CSRF token does not match."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    submitted = request.headers.get(security.CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(security.CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not security.csrf_matches(request.cookies.get(security.CSRF_COOKIE), submitted):
        raise CsrfFailed()


def _from_token(request: Request, app_state: AppState) -> Principal | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    account = accounts.account_for_token(app_state.reader, security.token_digest(header[7:].strip()))
    if account is None:
        raise LoginRequired()
    return Principal(account, "token")


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None (a bad token is an error, a missing or stale cookie is not)."""
    cached = request.scope.get("lc_principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    app_state = state_of(request)
    principal = _from_token(request, app_state)
    if principal is None:
        data = app_state.signer.loads(request.cookies.get(security.SESSION_COOKIE))
        if data is None:
            return None
        account = accounts.get_account(app_state.reader, data.user_id)
        if account is None or not account.active or account.session_epoch != data.epoch:
            return None
        principal = Principal(account, "session")
        renewed = security.SessionData(account.id, account.session_epoch, data.login_at)
        add_cookie(request, security.SESSION_COOKIE, app_state.signer.dumps(renewed), max_age=None)
    request.scope["lc_principal"] = principal
    return principal


async def principal(who: Principal | None = Depends(optional_principal)) -> Principal:
    """The authenticated caller (LoginRequired otherwise; async: no I/O, no thread hand-off)."""
    if who is None:
        raise LoginRequired()
    return who


def require(permission: str) -> Any:
    """Dependency: the caller, who must hold ``permission`` (403 otherwise)."""

    async def check(who: Principal = Depends(principal)) -> Principal:
        if not who.can(permission):
            raise Forbidden(f"the {who.role} role may not {permission.replace('_', ' ')}")
        return who

    return Depends(check)


def start_session(request: Request, account: Account) -> None:
    """Set the session cookie of a user who just logged in."""
    app_state = state_of(request)
    data = security.SessionData(account.id, account.session_epoch, time.time())
    add_cookie(request, security.SESSION_COOKIE, app_state.signer.dumps(data), max_age=None)


def end_session(request: Request) -> None:
    add_cookie(request, security.SESSION_COOKIE, "", max_age=0)
