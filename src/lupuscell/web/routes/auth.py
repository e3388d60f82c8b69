"""Log in (throttled) and log out."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from lupuscell.registry import accounts
from lupuscell.web import security
from lupuscell.web.deps import (
    AppState,
    Principal,
    csrf_guard,
    end_session,
    optional_principal,
    start_session,
    state,
)
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/")
def home() -> Response:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
def login_form(
    request: Request, next: str = "/dashboard", who: Principal | None = Depends(optional_principal)
) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None}, None)


def _throttled(app: AppState, username: str, addr: str) -> bool:
    settings = app.settings
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.login_window_minutes)
    by_user, by_addr = accounts.recent_failures(app.engine, username, addr, since)
    return by_user >= settings.login_max_failures or by_addr >= settings.login_max_failures_per_address


@router.post("/login")
def login(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    next: str = Form("/dashboard", max_length=2000),
    app: AppState = Depends(state),
) -> Response:
    name = username.strip().lower()[:64]
    addr = request.client.host if request.client else ""
    context = {"next": _safe_next(next), "username": name}
    if _throttled(app, name, addr):
        minutes = app.settings.login_window_minutes
        message = f"Too many failed logins. Try again in {minutes} minutes or ask an administrator."
        return render(request, "login.html", {**context, "error": message}, None, status=429)
    found = accounts.get_by_username(app.engine, name)
    ok = found is not None and found[0].active and security.verify_password(found[1], password)
    accounts.record_login(app.engine, name, addr, ok)
    if not ok or found is None:
        return render(
            request, "login.html", {**context, "error": "Unknown user or wrong password."}, None, status=401
        )
    account, digest = found
    if security.needs_rehash(digest):
        accounts.update_account(app.engine, name, actor=name, password_hash=security.hash_password(password))
        account = accounts.get_account(app.engine, account.id) or account
    start_session(request, account)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    end_session(request)
    return RedirectResponse("/login", status_code=303)
