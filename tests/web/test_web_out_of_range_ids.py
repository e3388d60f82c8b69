"""Ids beyond what the registry's keys can hold (32-bit ``INTEGER`` on PostgreSQL; 64-bit on
SQLite, and beyond that an ``OverflowError`` in the driver) are refused or read as "no such
record" before they reach the database: never a 500, on both engines, in bodies and in paths."""

from __future__ import annotations

import re

import pytest
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.errors import NotFoundError
from lupuscell.registry.repository import SPECS, Registry
from lupuscell.schemas.base import MAX_ROW_ID
from lupuscell.web.api.models import PLURALS

TOO_LARGE = [MAX_ROW_ID + 1, 2**63, 2**70, -(2**63) - 1, 10**40]
RECORDS = {"visit": "visit", "lab_result": "lab", "adverse_event": "ae", "therapy_course": "course"}


def _numeric_fields(entity: str) -> list[str]:
    fields = SPECS[entity].schema.model_fields
    return [name for name, info in fields.items() if re.search(r"\b(int|float)\b", str(info.annotation))]


@pytest.mark.parametrize("entity", sorted(RECORDS))
def test_huge_numbers_in_a_body_are_a_4xx_naming_the_field(web: Web, entity: str) -> None:
    client, headers = web.client(), web.token("inv_a")
    plural, key = PLURALS[entity], web.ids["SA"][RECORDS[entity]]
    fields = _numeric_fields(entity)
    assert fields, f"{entity} has numeric fields to try"
    for field in fields:
        for value in TOO_LARGE:
            patched = client.patch(
                f"/api/v1/{plural}/{key}", json={"changes": {field: value}, "reason": "fuzz"}, headers=headers
            )
            assert patched.status_code < 500, (field, value, patched.text)
            if patched.status_code != 200:
                assert patched.status_code in (404, 409, 422) and field in patched.text, (field, value, patched.text)


def test_an_adverse_event_cannot_point_at_a_course_id_beyond_the_key_range(web: Web) -> None:
    client, headers = web.client(), web.token("inv_a")
    body = {
        "patient_code": web.ids["SA"]["patient"],
        "term": "Fever",
        "category": "infection",
        "grade": 1,
        "grading_system": "CTCAE_v5.0",
        "onset_date": "2022-02-01",
    }
    for value in TOO_LARGE:
        created = client.post("/api/v1/adverse-events", json={**body, "course_id": value}, headers=headers)
        assert created.status_code == 422 and "course_id" in created.text, created.text


def test_reading_an_id_beyond_the_key_range_is_not_found(web: Web) -> None:
    registry = Registry(web.engine)
    for key in (MAX_ROW_ID + 1, 2**63, 2**70, str(2**70)):
        with pytest.raises(NotFoundError):
            registry.update("visit", key, {"pga": 1.0}, actor="tester", reason="fuzz")
    client, headers = web.client(), web.token("inv_a")
    assert client.get(f"/api/v1/visits/{2**70}", headers=headers).status_code == 422
