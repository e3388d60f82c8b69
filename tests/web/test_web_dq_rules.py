"""Data-quality rules through the web forms (TestClient, SQLite and PostgreSQL): a soft rule saves
and raises a query, a hard rule refuses the save with the error next to the field it names."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.registry import queries
from lupuscell.registry.repository import Registry


def _visit_form(code: str, token: str, prednisone: str, date: str = "2022-09-01") -> dict[str, str]:
    return {
        "csrf_token": token,
        "patient_code": code,
        "visit_date": date,
        "sledai_assessed": "yes",
        "pga": "1.0",
        "prednisone_mg_per_day": prednisone,
    }


def _visits_on(web: Web, code: str, date: str) -> list[dict[str, Any]]:
    return [
        v
        for v in Registry(web.engine).list_records("visit", patient_code=code)
        if str(v["visit_date"]) == date
    ]


def _rule_queries(web: Web) -> list[dict[str, Any]]:
    with Session(web.engine) as session:
        return [q for q in queries.list_queries(session) if q["rule_id"] and q["record_type"] == "visit"]


def test_soft_rule_saves_the_visit_and_raises_a_query(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    response = client.post("/records/visit/new", data=_visit_form(code, token, "150"), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/patients/{code}"
    (visit,) = _visits_on(web, code, "2022-09-01")
    (query,) = _rule_queries(web)
    assert (query["record_id"], query["field"], query["rule_id"], query["status"]) == (
        visit["id"],
        "prednisone_mg_per_day",
        "prednisone_high",
        "open",
    )
    assert "prednisone_mg_per_day = 150.0" in query["text"] and "saved by coord_a" in query["text"]
    # corrected through the edit form: the rule holds, its query is closed
    edit = client.get(f"/records/visit/{visit['id']}/edit")
    assert edit.status_code == 200
    form = {**_visit_form(code, token, "40"), "version": str(visit["version"]), "reason": "source: 40 mg/day"}
    saved = client.post(f"/records/visit/{visit['id']}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert [q["status"] for q in _rule_queries(web)] == ["closed"]


def test_hard_rule_refuses_the_save_and_names_the_field(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    response = client.post("/records/visit/new", data=_visit_form(code, token, "2000"))
    assert response.status_code == 422
    text = re.sub(r"\s+", " ", response.text)
    assert "more than a 1 g methylprednisolone pulse" in text and "rule prednisone_maximum" in text
    error = re.search(r'<p class="field-error" id="f-prednisone_mg_per_day-err">([^<]*)</p>', text)
    assert error and "rule prednisone_maximum" in error.group(1), text
    assert _visits_on(web, code, "2022-09-01") == [] and _rule_queries(web) == []
