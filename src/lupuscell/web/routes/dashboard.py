"""The programme dashboard (aggregate; every role, restricted to the user's sites)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from lupuscell.web.dashboard import build_dashboard
from lupuscell.web.deps import AppState, Principal, csrf_guard, principal, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


@router.get("/dashboard")
def dashboard(
    request: Request, who: Principal = Depends(principal), app: AppState = Depends(state)
) -> Response:
    board = build_dashboard(app.engine, who.sites)
    return render(request, "dashboard.html", {"board": board, "show_codes": who.can("read")}, who)
