"""The PRO API: ``/api/v1/patients/{code}/pro-assessments`` stores a RAND-36 through the
repository and returns the eight scale scores under the issue's field names; roles, site
isolation and validation errors naming item and value. Both engines (``web`` fixture)."""

from __future__ import annotations

import pytest
from pro_sample import BY_HAND, RESPONSES  # type: ignore[import-not-found]
from web_helpers import Web  # type: ignore[import-not-found]


def _url(code: str) -> str:
    return f"/api/v1/patients/{code}/pro-assessments"


def test_post_and_get_return_the_eight_scales(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    code, visit = web.ids["SA"]["patient"], web.ids["SA"]["visit"]
    body = {
        "assessment_date": "2022-07-10",
        "visit_id": visit,
        "responses": RESPONSES,
        "patient_global_assessment": 4,
        "completed_by": "patient",
    }
    created = client.post(_url(code), json=body, headers=headers)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["patient_code"] == code and out["visit_id"] == visit and out["responses"] == RESPONSES
    for scale, expected in BY_HAND.items():
        assert out["scores"][scale] == pytest.approx(expected), scale
    assert out["scores"]["health_change"] == 50.0 and out["scores"]["complete"] is True
    partial = client.post(
        _url(code), json={"assessment_date": "2023-01-10", "responses": {"q21": 6}}, headers=headers
    )
    assert partial.status_code == 201
    assert partial.json()["scores"]["pain"] == 0.0 and partial.json()["scores"]["general_health"] is None
    listed = client.get(_url(code), headers=web.token("mon_a")).json()
    assert [i["assessment_date"] for i in listed["items"]] == ["2022-07-10", "2023-01-10"]
    one = client.get(f"{_url(code)}/{out['id']}", headers=headers).json()
    assert one["scores"]["role_emotional"] == pytest.approx(200 / 3)
    rows = web.client().app.state.lc.registry.history("pro_assessment", out["id"])
    assert [(r["action"], r["actor"]) for r in rows] == [("create", "coord_a")]


def test_validation_names_item_and_value(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    code = web.ids["SA"]["patient"]
    bad = client.post(
        _url(code),
        json={"assessment_date": "2022-08-01", "responses": {"q3": 7}, "patient_global_assessment": 12},
        headers=headers,
    )
    assert bad.status_code == 422
    detail = {".".join(d["loc"][1:]): d["msg"] for d in bad.json()["detail"]}
    assert "answer 7 is not one of the 3 answers of q3" in detail["responses.q3"]
    assert "12 is outside the range [0, 10]" in detail["patient_global_assessment"]
    missing_date = client.post(_url(code), json={"responses": {}}, headers=headers)
    assert missing_date.status_code == 422 and "assessment_date" in missing_date.text
    assert client.get(_url(code), headers=headers).json()["items"] == []


def test_roles_and_site_isolation(web: Web) -> None:
    client = web.client()
    code_a, code_b = web.ids["SA"]["patient"], web.ids["SB"]["patient"]
    body = {"assessment_date": "2022-08-01", "responses": {"q1": 1}}
    assert client.post(_url(code_a), json=body, headers=web.token("mon_a")).status_code == 403
    assert client.get(_url(code_a), headers=web.token("stat_a")).status_code == 403
    assert client.post(_url(code_b), json=body, headers=web.token("coord_a")).status_code == 404
    assert client.get(_url(code_b), headers=web.token("coord_a")).status_code == 404
    other_visit = {**body, "visit_id": web.ids["SB"]["visit"]}
    refused = client.post(_url(code_a), json=other_visit, headers=web.token("coord_a"))
    assert refused.status_code == 422 and "unknown visit" in refused.text
    made = client.post(_url(code_b), json=body, headers=web.token("coord_b")).json()
    assert client.get(f"{_url(code_b)}/{made['id']}", headers=web.token("inv_a")).status_code == 404
    assert client.get(f"{_url(code_a)}/{made['id']}", headers=web.token("admin")).status_code == 404
