"""``/api/v1/me`` and ``/api/v1/tokens``: who am I, and my API tokens (shown once, revocable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, Field

from lupuscell.registry import accounts
from lupuscell.web import security
from lupuscell.web.api.models import UtcDatetime
from lupuscell.web.deps import AppState, Principal, principal, state

router = APIRouter(tags=["account"])


class MeOut(BaseModel):
    username: str
    full_name: str
    role: str
    sites: list[str]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what the token is for")


class TokenCreated(BaseModel):
    id: int
    name: str
    prefix: str
    token: str = Field(description="the token; shown only now, store it safely")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


@router.get("/me", response_model=MeOut)
def me(who: Principal = Depends(principal)) -> Any:
    a = who.account
    return {"username": a.username, "full_name": a.full_name, "role": a.role, "sites": list(a.sites)}


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(who: Principal = Depends(principal), app: AppState = Depends(state)) -> Any:
    return accounts.list_tokens(app.engine, who.account.id)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, who: Principal = Depends(principal), app: AppState = Depends(state)) -> Any:
    token, digest, prefix = security.new_api_token()
    token_id = accounts.create_token(app.engine, who.account.id, body.name, digest, prefix)
    return {"id": token_id, "name": body.name, "prefix": prefix, "token": token}


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: int = Path(ge=1, le=2**31 - 1),
    who: Principal = Depends(principal),
    app: AppState = Depends(state),
) -> None:
    accounts.revoke_token(app.engine, who.account.id, token_id)
