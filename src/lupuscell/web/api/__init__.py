"""The JSON API under ``/api/v1`` (OpenAPI schema at ``/api/v1/openapi.json``).

Routers: one per registry entity (:mod:`.records`), scoring (:mod:`.scoring`), a patient's
timeline and endpoints (:mod:`.patients`), a patient's RAND-36 assessments (:mod:`.pro`), API
tokens and the caller (:mod:`.tokens`), the de-identified dataset export (:mod:`.exports`), data
management - queries, SDV, signatures and locks (:mod:`.data_management`) - and a bare
``/health`` (no authentication, no database) used as the baseline of the load benchmark.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from lupuscell.registry.repository import ENTITIES
from lupuscell.web.api import data_management, exports, patients, pro, scoring, tokens
from lupuscell.web.api.models import ERRORS
from lupuscell.web.api.records import entity_router
from lupuscell.web.deps import csrf_guard

router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_guard)], responses=ERRORS)


@router.get("/health", tags=["service"], summary="Liveness (no authentication, no database)")
def health() -> dict[str, str]:
    return {"status": "ok"}


router.include_router(patients.router)
router.include_router(pro.router)  # patient-reported outcomes (RAND-36)
for _entity in ENTITIES:
    router.include_router(entity_router(_entity))
router.include_router(scoring.router)
router.include_router(tokens.router)
router.include_router(exports.router)
router.include_router(data_management.router)

__all__ = ["router"]
