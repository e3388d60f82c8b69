"""User administration (admin role) and each user's own API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from lupuscell.errors import LupuscellError
from lupuscell.registry import accounts
from lupuscell.registry.account_models import ROLES
from lupuscell.web import security
from lupuscell.web.deps import AppState, Principal, csrf_guard, principal, require, state
from lupuscell.web.pages import render
from lupuscell.web.roles import ROLE_DESCRIPTIONS

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
USERNAME = Path(pattern=r"^[a-z0-9][a-z0-9_.\-]{1,62}$")


def _users_page(
    request: Request, who: Principal, app: AppState, error: str | None = None, status: int = 200
) -> Response:
    context = {
        "users": accounts.list_accounts(app.engine),
        "roles": ROLES,
        "descriptions": ROLE_DESCRIPTIONS,
        "all_sites": accounts.site_codes(app.engine),
        "error": error,
    }
    return render(request, "admin_users.html", context, who, status=status)


@router.get("/admin/users")
def users(
    request: Request, who: Principal = require("manage_users"), app: AppState = Depends(state)
) -> Response:
    return _users_page(request, who, app)


@router.post("/admin/users")
async def add_user(
    request: Request,
    username: str = Form(..., max_length=64),
    full_name: str = Form("", max_length=200),
    role: str = Form(..., max_length=32),
    password: str = Form(..., max_length=1000),
    who: Principal = require("manage_users"),
    app: AppState = Depends(state),
) -> Response:
    form = await request.form()
    sites = [s for s in form.getlist("sites") if isinstance(s, str)]
    problem = security.password_problem(password)
    if problem:
        return _users_page(request, who, app, error=problem, status=422)
    try:
        accounts.create_user(
            app.engine,
            username=username,
            full_name=full_name,
            role=role,
            sites=sites,
            password_hash=security.hash_password(password),
            actor=who.username,
        )
    except LupuscellError as exc:
        return _users_page(request, who, app, error=str(exc), status=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}")
async def change_user(
    request: Request,
    username: str = USERNAME,
    role: str = Form(..., max_length=32),
    active: str = Form("no", max_length=3),
    password: str = Form("", max_length=1000),
    who: Principal = require("manage_users"),
    app: AppState = Depends(state),
) -> Response:
    form = await request.form()
    sites = [s for s in form.getlist("sites") if isinstance(s, str)]
    if password and (problem := security.password_problem(password)):
        return _users_page(request, who, app, error=problem, status=422)
    try:
        accounts.update_account(
            app.engine,
            username,
            actor=who.username,
            role=role,
            active=active == "yes",
            sites=sites,
            password_hash=security.hash_password(password) if password else None,
        )
    except LupuscellError as exc:
        return _users_page(request, who, app, error=str(exc), status=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/account/tokens")
def tokens(request: Request, who: Principal = Depends(principal), app: AppState = Depends(state)) -> Response:
    context = {"tokens": accounts.list_tokens(app.engine, who.account.id), "new_token": None}
    return render(request, "tokens.html", context, who)


@router.post("/account/tokens")
def new_token(
    request: Request,
    name: str = Form(..., min_length=1, max_length=100),
    who: Principal = Depends(principal),
    app: AppState = Depends(state),
) -> Response:
    token, digest, prefix = security.new_api_token()
    accounts.create_token(app.engine, who.account.id, name, digest, prefix)
    context = {"tokens": accounts.list_tokens(app.engine, who.account.id), "new_token": token}
    return render(request, "tokens.html", context, who)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(
    request: Request,
    token_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = Depends(principal),
    app: AppState = Depends(state),
) -> Response:
    accounts.revoke_token(app.engine, who.account.id, token_id)
    return RedirectResponse("/account/tokens", status_code=303)
