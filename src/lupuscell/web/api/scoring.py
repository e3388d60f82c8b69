"""``POST /api/v1/score/{instrument}``: score one instrument of the catalog.

The body is the instrument's input (its JSON Schema: ``lupuscell score NAME --schema`` or
``GET /api/v1/score/{instrument}/schema``); the answer is exactly what ``lupuscell score NAME
--json`` prints. Validation errors name the field and the allowed values (422).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Body, Depends

from lupuscell.instruments.base import validate_input
from lupuscell.instruments.catalog import CATALOG
from lupuscell.web.deps import Principal, principal

Instrument = Enum("Instrument", {name: name for name in CATALOG}, type=str)  # type: ignore[misc]

router = APIRouter(prefix="/score", tags=["scores"])


@router.get("", summary="The instruments of the catalog")
def catalog(who: Principal = Depends(principal)) -> list[dict[str, str]]:
    return [
        {"name": s.name, "version": s.version, "summary": s.summary, "source": s.source}
        for s in CATALOG.values()
    ]


@router.get("/{instrument}/schema", summary="JSON Schema of an instrument's input")
def schema(instrument: Instrument, who: Principal = Depends(principal)) -> dict[str, Any]:
    return CATALOG[instrument.value].input_model.model_json_schema()


@router.post("/{instrument}", summary="Score one instrument")
def score(
    instrument: Instrument,
    data: dict[str, Any] = Body(..., description="the instrument's input (see its schema)"),
    who: Principal = Depends(principal),
) -> dict[str, Any]:
    spec = CATALOG[instrument.value]
    model = validate_input(spec.input_model, data, record=f"{spec.name} input")
    return spec.scorer(model).to_dict()
