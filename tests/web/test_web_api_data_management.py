"""The data-management JSON API: queries (role rules, thread, statuses, 4xx naming the field),
SDV status per form (set, reset after an edit, report per site), signatures (password in the
body) and locks (an update refused while signed, admin unlock), site isolation (404)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Web  # type: ignore[import-not-found]


def _raise(client: TestClient, headers: dict[str, str], visit: int, field: str = "pga") -> Any:
    return client.post(
        "/api/v1/queries",
        json={"record_type": "visit", "record_id": visit, "field": field, "text": "PGA 0.5 in the source?"},
        headers=headers,
    )


def test_query_life_cycle_and_role_rules(web: Web) -> None:
    client, mon, coord, inv = web.client(), web.token("mon_a"), web.token("coord_a"), web.token("inv_a")
    visit = web.ids["SA"]["visit"]
    assert _raise(client, coord, visit).status_code == 403
    created = _raise(client, mon, visit)
    assert created.status_code == 201, created.text
    query = created.json()
    assert (query["status"], query["field"], query["raised_by"], query["patient_code"]) == (
        "open",
        "pga",
        "mon_a",
        "SA-001",
    )
    assert query["raised_at"].endswith("+00:00")
    qid = query["id"]
    assert client.post(f"/api/v1/queries/{qid}/answer", json={"text": "x"}, headers=mon).status_code == 403
    answered = client.post(f"/api/v1/queries/{qid}/answer", json={"text": "it is 0.4"}, headers=coord)
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert client.post(f"/api/v1/queries/{qid}/close", json={"text": "x"}, headers=inv).status_code == 403
    assert client.post(f"/api/v1/queries/{qid}/reopen", json={"text": "x"}, headers=coord).status_code == 403
    closed = client.post(f"/api/v1/queries/{qid}/close", json={"text": "resolved"}, headers=mon)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/api/v1/queries/{qid}/answer", json={"text": "more"}, headers=coord)
    assert again.status_code == 422 and again.json()["detail"][0]["loc"][-1] == "status"
    reopened = client.post(f"/api/v1/queries/{qid}/reopen", json={"text": "no"}, headers=mon)
    assert reopened.json()["status"] == "open"
    thread = client.get(f"/api/v1/queries/{qid}", headers=coord).json()["messages"]
    assert [(m["kind"], m["actor"], m["status_after"]) for m in thread] == [
        ("raise", "mon_a", "open"),
        ("answer", "coord_a", "answered"),
        ("close", "mon_a", "closed"),
        ("reopen", "mon_a", "open"),
    ]
    listing = client.get("/api/v1/queries?status=open&patient=SA-001", headers=coord).json()["items"]
    assert [q["id"] for q in listing] == [qid] and listing[0]["messages"] is None
    assert client.get("/api/v1/queries?status=closed", headers=coord).json()["items"] == []
    _raise(client, mon, visit, field="prednisone_mg_per_day")
    counts = client.get("/api/v1/query-counts", headers=coord).json()
    assert counts == {
        "sites": {"SA": {"open": 2, "answered": 0}},
        "patients": {"SA-001": {"open": 2, "answered": 0}},
    }


def test_bad_input_is_4xx_naming_the_field(web: Web) -> None:
    client, mon = web.client(), web.token("mon_a")
    visit = web.ids["SA"]["visit"]
    field = _raise(client, mon, visit, field="colour")
    assert field.status_code == 422 and field.json()["detail"][0]["loc"][-1] == "field"
    assert "visit has no field 'colour'" in field.json()["detail"][0]["msg"]
    blank = client.post(
        "/api/v1/queries",
        json={"record_type": "visit", "record_id": visit, "field": "pga", "text": ""},
        headers=mon,
    )
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "text"
    kind = client.post(
        "/api/v1/queries",
        json={"record_type": "site", "record_id": 1, "field": "name", "text": "?"},
        headers=mon,
    )
    assert kind.status_code == 422 and kind.json()["detail"][0]["loc"][-1] == "record_type"
    extra = client.post(f"/api/v1/queries/{1}/answer", json={"text": "x", "colour": 1}, headers=mon)
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"][-1] == "colour"
    status = client.get("/api/v1/queries?status=pending", headers=mon)
    assert status.status_code == 422 and status.json()["detail"][0]["loc"][-1] == "status"
    assert client.post(
        "/api/v1/queries", content=b"{", headers={**mon, "content-type": "application/json"}
    ).status_code in (400, 422)
    sdv = client.put(f"/api/v1/sdv/visit/{visit}", json={"status": "verified", "findings": "x"}, headers=mon)
    assert sdv.status_code == 422 and sdv.json()["detail"][0]["loc"][-1] == "findings"
    assert (
        client.put(f"/api/v1/sdv/lab_result/{visit}", json={"status": "verified"}, headers=mon).status_code
        == 422
    )
    assert client.get("/api/v1/queries/2147483647", headers=mon).status_code == 404
    assert client.get("/api/v1/queries/2147483648", headers=mon).status_code == 422
    for huge in ("2147483648", "9" * 32):
        assert client.get(f"/api/v1/signatures/patient/{huge}", headers=mon).status_code == 404
        assert client.get(f"/api/v1/signatures/visit/{huge}", headers=mon).status_code == 404
    assert _raise(client, mon, 2**31).status_code == 422  # the body model's bound, naming record_id


def test_site_isolation(web: Web) -> None:
    client, admin, mon = web.client(), web.token("admin"), web.token("mon_a")
    b_visit = web.ids["SB"]["visit"]
    b_query = _raise(client, admin, b_visit).json()["id"]
    assert client.get(f"/api/v1/queries/{b_query}", headers=mon).status_code == 404
    assert client.post(f"/api/v1/queries/{b_query}/close", json={"text": "x"}, headers=mon).status_code == 404
    assert _raise(client, mon, b_visit).status_code == 404
    assert _raise(client, mon, 10**6).status_code == 404
    assert client.get("/api/v1/queries", headers=mon).json()["items"] == []
    assert client.get("/api/v1/queries?site=SB", headers=mon).status_code == 404
    assert client.get(f"/api/v1/sdv/visit/{b_visit}", headers=mon).status_code == 404
    assert (
        client.put(f"/api/v1/sdv/visit/{b_visit}", json={"status": "verified"}, headers=mon).status_code
        == 404
    )
    assert client.get("/api/v1/sdv-report?site=SB", headers=mon).status_code == 404
    assert [r["site"] for r in client.get("/api/v1/sdv-report", headers=mon).json()["reports"]] == ["SA"]
    assert client.get(f"/api/v1/signatures/visit/{b_visit}", headers=mon).status_code == 404
    inv = web.token("inv_a")
    signing = client.post(f"/api/v1/signatures/visit/{b_visit}", json={"password": PASSWORD}, headers=inv)
    assert signing.status_code == 404
    assert client.get("/api/v1/queries", headers=web.token("stat_a")).status_code == 403


def test_sdv_set_reset_after_an_edit_and_report(web: Web) -> None:
    client, mon, coord = web.client(), web.token("mon_a"), web.token("coord_a")
    visit, ae = web.ids["SA"]["visit"], web.ids["SA"]["ae"]
    assert client.get(f"/api/v1/sdv/visit/{visit}", headers=coord).json()["status"] == "not_verified"
    assert (
        client.put(f"/api/v1/sdv/visit/{visit}", json={"status": "verified"}, headers=coord).status_code
        == 403
    )
    done = client.put(f"/api/v1/sdv/visit/{visit}", json={"status": "verified"}, headers=mon)
    assert done.status_code == 200 and (done.json()["status"], done.json()["set_by"]) == ("verified", "mon_a")
    found = client.put(
        f"/api/v1/sdv/adverse_event/{ae}",
        json={"status": "verified_with_findings", "findings": "grade 4 in source"},
        headers=mon,
    )
    assert found.json()["findings"] == "grade 4 in source"
    report = client.get("/api/v1/sdv-report?site=SA", headers=mon).json()["reports"][0]
    assert report["forms"]["visit"]["counts"] == {
        "not_verified": 0,
        "verified": 1,
        "verified_with_findings": 0,
    }
    assert report["forms"]["adverse_event"]["percent"]["verified_with_findings"] == 100.0
    assert [(u["record_type"], u["record_id"]) for u in report["unverified"]] == [
        ("therapy_course", web.ids["SA"]["course"])
    ]
    version = client.get(f"/api/v1/visits/{visit}", headers=coord).json()["version"]
    edit = client.patch(
        f"/api/v1/visits/{visit}",
        json={"changes": {"pga": 0.4}, "reason": "source", "version": version},
        headers=coord,
    )
    assert edit.status_code == 200, edit.text
    reset = client.get(f"/api/v1/sdv/visit/{visit}", headers=mon).json()
    assert (reset["status"], reset["set_by"]) == ("not_verified", "coord_a")


def test_sign_lock_refuses_update_and_admin_unlocks(web: Web) -> None:
    client, inv, coord, admin = web.client(), web.token("inv_a"), web.token("coord_a"), web.token("admin")
    visit = web.ids["SA"]["visit"]
    info = client.get(f"/api/v1/signatures/visit/{visit}", headers=coord).json()
    assert (
        info["lock"] is None
        and info["meaning"] == "I approve the data of this visit as complete and accurate."
    )
    wrong = client.post(f"/api/v1/signatures/visit/{visit}", json={"password": "guess"}, headers=inv)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][-1] == "password"
    missing = client.post(f"/api/v1/signatures/visit/{visit}", json={}, headers=inv)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "password"
    assert (
        client.post(
            f"/api/v1/signatures/visit/{visit}", json={"password": PASSWORD}, headers=coord
        ).status_code
        == 403
    )
    signed = client.post(f"/api/v1/signatures/visit/{visit}", json={"password": PASSWORD}, headers=inv)
    assert signed.status_code == 201, signed.text
    assert (signed.json()["signer"], signed.json()["active"]) == ("inv_a", True)
    locked = client.patch(
        f"/api/v1/visits/{visit}", json={"changes": {"pga": 0.1}, "reason": "fix"}, headers=coord
    )
    assert locked.status_code == 422
    assert (
        f"visit {visit} is locked" in locked.json()["detail"][0]["msg"]
        and "inv_a" in locked.json()["detail"][0]["msg"]
    )
    assert client.delete(f"/api/v1/visits/{visit}?reason=dup", headers=inv).status_code == 422
    unlock = f"/api/v1/signatures/visit/{visit}/unlock"
    assert client.post(unlock, json={"reason": "fix"}, headers=inv).status_code == 403
    assert client.post(unlock, json={"reason": ""}, headers=admin).status_code == 422
    ended = client.post(unlock, json={"reason": "PGA to correct"}, headers=admin)
    assert ended.status_code == 200 and ended.json()["signatures_ended"] == 1
    assert client.post(unlock, json={"reason": "again"}, headers=admin).status_code == 422
    history = client.get(f"/api/v1/signatures/visit/{visit}", headers=coord).json()
    assert history["lock"] is None and history["signatures"][0]["unlock_reason"] == "PGA to correct"
    edited = client.patch(
        f"/api/v1/visits/{visit}", json={"changes": {"pga": 0.1}, "reason": "fix"}, headers=coord
    )
    assert edited.status_code == 200


def test_signed_patient_locks_its_records_by_code(web: Web) -> None:
    client, inv, coord = web.client(), web.token("inv_a"), web.token("coord_a")
    code, ae = web.ids["SA"]["patient"], web.ids["SA"]["ae"]
    assert (
        client.post(
            f"/api/v1/signatures/patient/{code}", json={"password": PASSWORD}, headers=inv
        ).status_code
        == 201
    )
    lock = client.get(f"/api/v1/signatures/adverse_event/{ae}", headers=coord).json()["lock"]
    assert lock["record_type"] == "patient" and lock["signer"] == "inv_a"
    refused = client.patch(
        f"/api/v1/adverse-events/{ae}", json={"changes": {"grade": 2}, "reason": "x"}, headers=coord
    )
    assert refused.status_code == 422 and f"its patient {code}" in refused.json()["detail"][0]["msg"]
