"""Passwords, API tokens, session cookies and CSRF tokens.

* Passwords: argon2id through ``argon2-cffi`` (RFC 9106 defaults of the library); a hash made
  with older parameters is re-hashed at the next successful login.
* API tokens: ``lc_`` + 32 random bytes (URL-safe base64), stored as a SHA-256 digest; shown once.
* Sessions: stateless signed cookies (``itsdangerous``, HMAC-SHA1 over the payload with the
  app's secret key and a timestamp) holding the user id, the user's ``session_epoch`` and the
  login time; any worker can check them, and raising the epoch ends them everywhere. The cookie
  is re-signed on use, so it expires after the idle timeout; the login time bounds it absolutely.
* CSRF: double-submit token. Each browser gets a random token in an HttpOnly, SameSite=Strict
  cookie; every form carries it in a hidden field and every HTMX request in the
  ``X-CSRF-Token`` header; an unsafe request authenticated by cookie without the matching token
  is refused (403). Requests authenticated by an API token need no CSRF token (no cookie is used).

Hand-written only where no library does the job in this stack: the double-submit check is a
``hmac.compare_digest`` of two strings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_COOKIE = "lc_session"
CSRF_COOKIE = "lc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "lc_"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False (never an exception) for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable (None when it is)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    return None


def new_api_token() -> tuple[str, str, str]:
    """(token shown once, its SHA-256 digest stored, a short prefix to recognise it)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token), token[:10]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, submitted: str | None) -> bool:
    """Double-submit check: both present and equal (constant-time comparison)."""
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie), str(submitted))


@dataclass(frozen=True)
class SessionData:
    user_id: int
    epoch: int
    login_at: float


class SessionSigner:
    """Signs and checks session cookies with the app's secret key."""

    def __init__(self, secret_key: str, idle_seconds: int, max_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="lupuscell-session")
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"u": data.user_id, "e": data.epoch, "l": data.login_at})

    def loads(self, cookie: str | None) -> SessionData | None:
        """The session in a cookie, or None when absent, forged, idle too long or too old."""
        if not cookie:
            return None
        try:
            raw: Any = self._serializer.loads(cookie, max_age=self.idle_seconds)
            data = SessionData(int(raw["u"]), int(raw["e"]), float(raw["l"]))
        except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
            return None
        if time.time() - data.login_at > self.max_seconds:
            return None
        return data
