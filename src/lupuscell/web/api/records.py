"""``/api/v1/<entity>``: list, read, create, update and delete every registry entity.

One router factory for all entities (the registry's :data:`~lupuscell.registry.repository.SPECS`
decides fields and rules), so every entity behaves the same: the same validation as the CLI
(422 naming field and reason), site isolation (a record of another site is 404), a reason for
every update and delete, optimistic locking (409 on a stale ``version``).
"""

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, status

from lupuscell.registry import scoped
from lupuscell.registry.repository import SPECS
from lupuscell.web.access import check_write_scope
from lupuscell.web.api.models import PLURALS, ConflictOut, DeletedOut, UpdateIn, page_model, record_model
from lupuscell.web.deps import AppState, Principal, require, state

MAX_PAGE = 500


def _key_param(entity: str) -> Any:
    if entity in ("site", "patient"):
        return Path(min_length=1, max_length=32, description=f"{entity} code (or numeric id)")
    return Path(ge=1, le=2**31 - 1, description=f"{entity} id")


def entity_router(entity: str) -> APIRouter:
    """The five endpoints of one entity."""
    plural = PLURALS[entity]
    schema = SPECS[entity].schema
    out = record_model(entity)
    router = APIRouter(prefix=f"/{plural}", tags=[plural])
    key_type: Any = str if entity in ("site", "patient") else int

    @router.get("", response_model=page_model(entity), summary=f"List {plural}")
    def list_(
        patient_code: str | None = Query(None, max_length=32, description="only this patient's records"),
        offset: int = Query(0, ge=0, le=10**9),
        limit: int = Query(50, ge=1, le=MAX_PAGE),
        who: Principal = require("read"),
        app: AppState = Depends(state),
    ) -> Any:
        page = scoped.list_records(
            app.engine, entity, who.sites, patient_code=patient_code, offset=offset, limit=limit
        )
        return {"total": page.total, "offset": page.offset, "limit": page.limit, "items": page.items}

    @router.get("/{key}", response_model=out, summary=f"Read one of the {plural}")
    def read(
        key: key_type = _key_param(entity),  # type: ignore[valid-type]
        who: Principal = require("read"),
        app: AppState = Depends(state),
    ) -> Any:
        return scoped.get_record(app.engine, entity, key, who.sites)

    @router.post(
        "", response_model=out, status_code=status.HTTP_201_CREATED, summary=f"Create one of the {plural}"
    )
    def create(
        data: schema = Body(...),  # type: ignore[valid-type]
        who: Principal = require("write"),
        app: AppState = Depends(state),
    ) -> Any:
        payload = data.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined]
        check_write_scope(app, who, entity, payload)
        return app.registry.create(entity, payload, actor=who.username)

    @router.patch(
        "/{key}",
        response_model=out,
        responses={409: {"model": ConflictOut, "description": "stale version: the record changed"}},
        summary=f"Update one of the {plural} (reason required)",
    )
    def update(
        body: UpdateIn,
        key: key_type = _key_param(entity),  # type: ignore[valid-type]
        who: Principal = require("write"),
        app: AppState = Depends(state),
    ) -> Any:
        current = scoped.get_record(app.engine, entity, key, who.sites)
        check_write_scope(app, who, entity, {k: v for k, v in body.changes.items() if k != "code"})
        return app.registry.update(
            entity,
            current["id"],
            body.changes,
            actor=who.username,
            reason=body.reason,
            expected_version=body.version,
        )

    @router.delete(
        "/{key}",
        response_model=DeletedOut,
        responses={409: {"model": ConflictOut, "description": "stale version: the record changed"}},
        summary=f"Delete one of the {plural} (reason required)",
    )
    def delete(
        key: key_type = _key_param(entity),  # type: ignore[valid-type]
        reason: str = Query(..., min_length=1, max_length=2000, description="why the record is deleted"),
        version: int | None = Query(None, ge=1, le=2**31 - 1),
        who: Principal = require("delete"),
        app: AppState = Depends(state),
    ) -> Any:
        current = scoped.get_record(app.engine, entity, key, who.sites)
        if entity == "site":
            check_write_scope(app, who, entity, {})
        n = app.registry.delete(
            entity, current["id"], actor=who.username, reason=reason, expected_version=version
        )
        return {"deleted": n}

    return router
