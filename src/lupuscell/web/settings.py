"""Settings of the web application, read from the environment (twelve-factor style).

* ``LUPUSCELL_DATABASE_URL``: the registry (default: the embedded SQLite registry);
* ``LUPUSCELL_SECRET_KEY``: signs session cookies, and every worker must share it (default: a
  random key kept in ``<data dir>/lupuscell/web-secret``, mode 0600);
* ``LUPUSCELL_SESSION_IDLE_MINUTES`` (30): a session unused this long ends;
* ``LUPUSCELL_SESSION_MAX_HOURS`` (12): a session ends this long after login, however active;
* ``LUPUSCELL_COOKIE_SECURE`` (``auto``): Secure cookies when the request came over https;
  ``1`` always (behind a TLS proxy); ``0`` never;
* ``LUPUSCELL_LOGIN_MAX_FAILURES`` (5) failed logins per username within
  ``LUPUSCELL_LOGIN_WINDOW_MINUTES`` (15) before further logins are refused (429);
* ``LUPUSCELL_TRIALS_PAGES`` (unset): a folder of saved ClinicalTrials.gov answers
  (``lupuscell trials find --save-raw DIR``) for the trial finder of a server without internet
  access; unset, the finder asks ClinicalTrials.gov;
* ``LUPUSCELL_WEB_THREADS`` (8): threads per worker process that run the request handlers
  (they block on the database). anyio's default of 40 lets 40 threads fight for one GIL under
  load: measured with ``benchmarks/web_load.py``, 8 threads spend about half the server CPU per
  timeline request that 40 do, at the same latency; raise it for many slow reports at once;
* ``LUPUSCELL_PATIENT_LIST_CACHE`` (``1``): ``0`` computes every page of the patient list anew
  instead of caching pages and rows on the registry's data version (:mod:`lupuscell.web.patient_list`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from lupuscell.registry.session import default_database_path, default_database_url

ENV_SECRET = "LUPUSCELL_SECRET_KEY"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.strip() else default


def secret_key(path: Path | None = None) -> str:
    """``LUPUSCELL_SECRET_KEY``, else a key generated once and kept beside the embedded registry."""
    key = os.environ.get(ENV_SECRET)
    if key:
        return key
    path = path or default_database_path().parent / "web-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs (see the module docstring for the variables)."""

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = field(default_factory=secret_key)
    session_idle_minutes: int = field(default_factory=lambda: _int("LUPUSCELL_SESSION_IDLE_MINUTES", 30))
    session_max_hours: int = field(default_factory=lambda: _int("LUPUSCELL_SESSION_MAX_HOURS", 12))
    cookie_secure: str = field(default_factory=lambda: os.environ.get("LUPUSCELL_COOKIE_SECURE", "auto"))
    login_max_failures: int = field(default_factory=lambda: _int("LUPUSCELL_LOGIN_MAX_FAILURES", 5))
    login_window_minutes: int = field(default_factory=lambda: _int("LUPUSCELL_LOGIN_WINDOW_MINUTES", 15))
    login_max_failures_per_address: int = 50
    threads: int = field(default_factory=lambda: max(1, _int("LUPUSCELL_WEB_THREADS", 8)))
    patient_list_cache: bool = field(
        default_factory=lambda: os.environ.get("LUPUSCELL_PATIENT_LIST_CACHE", "1").strip() != "0"
    )
    trials_pages: str | None = field(default_factory=lambda: os.environ.get("LUPUSCELL_TRIALS_PAGES") or None)
