"""The JSON API: CRUD with the CLI's validation, roles, site isolation, reasons, optimistic
locking, scoring, timeline and tokens."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.registry.repository import Registry


def test_unauthenticated_calls_get_401_and_health_needs_nothing(web: Web) -> None:
    client = web.client()
    assert client.get("/api/v1/patients").status_code == 401
    assert client.get("/api/v1/patients", headers={"Authorization": "Bearer lc_nonsense"}).status_code == 401
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_create_read_update_delete_a_visit_with_reasons_and_audit(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    code = web.ids["SA"]["patient"]
    created = client.post(
        "/api/v1/visits", json={"patient_code": code, "visit_date": "2022-10-01", "pga": 1.0}, headers=headers
    )
    assert created.status_code == 201, created.text
    visit = created.json()
    assert visit["version"] == 1 and visit["patient_code"] == code
    no_reason = client.patch(
        f"/api/v1/visits/{visit['id']}", json={"changes": {"pga": 0.5}, "reason": ""}, headers=headers
    )
    assert no_reason.status_code == 422
    changed = client.patch(
        f"/api/v1/visits/{visit['id']}",
        json={"changes": {"pga": 0.5}, "reason": "source document", "version": 1},
        headers=headers,
    )
    assert changed.status_code == 200 and changed.json()["pga"] == 0.5 and changed.json()["version"] == 2
    rows = web.client().app.state.lc.registry.history("visit", visit["id"])
    assert [(r["action"], r["field"], r["actor"], r["reason"]) for r in rows][-1] == (
        "update",
        "pga",
        "coord_a",
        "source document",
    )
    # a coordinator may not delete; an investigator may, with a reason
    assert client.delete(f"/api/v1/visits/{visit['id']}?reason=dup", headers=headers).status_code == 403
    inv = web.token("inv_a")
    assert client.delete(f"/api/v1/visits/{visit['id']}", headers=inv).status_code == 422
    gone = client.delete(f"/api/v1/visits/{visit['id']}?reason=entered twice", headers=inv)
    assert gone.status_code == 200 and gone.json() == {"deleted": 1}
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=inv).status_code == 404


def test_validation_errors_name_the_field_and_the_reason(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    code = web.ids["SA"]["patient"]
    bad_pga = client.post(
        "/api/v1/visits", json={"patient_code": code, "visit_date": "2022-11-01", "pga": 7}, headers=headers
    )
    assert bad_pga.status_code == 422 and bad_pga.json()["detail"][0]["loc"][-1] == "pga"
    unit = client.post(
        "/api/v1/lab-results",
        json={
            "patient_code": code,
            "result_date": "2022-11-01",
            "analyte": "c3",
            "value": 1,
            "unit": "furlongs",
        },
        headers=headers,
    )
    assert unit.status_code == 422 and "unit" in str(unit.json()["detail"])
    same_day = client.post(
        "/api/v1/visits", json={"patient_code": code, "visit_date": "2022-07-10"}, headers=headers
    )
    assert same_day.status_code == 422 and "already has a visit" in same_day.json()["detail"][0]["msg"]
    course = client.patch(
        f"/api/v1/therapy-courses/{web.ids['SA']['course']}",
        json={"changes": {"donor_type": "allogeneic_unrelated"}, "reason": "x"},
        headers=headers,
    )
    assert course.status_code == 422 and course.json()["detail"][0]["loc"][-1] == "donor_type"


def test_a_stale_version_is_refused_with_409_and_the_current_record(web: Web) -> None:
    client = web.client()
    a, b = web.token("coord_a"), web.token("inv_a")
    vid = web.ids["SA"]["visit"]
    first = client.patch(
        f"/api/v1/visits/{vid}", json={"changes": {"pga": 1.0}, "reason": "r1", "version": 1}, headers=a
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/api/v1/visits/{vid}", json={"changes": {"pga": 2.0}, "reason": "r2", "version": 1}, headers=b
    )
    assert stale.status_code == 409
    body = stale.json()
    assert "changed by someone else" in body["detail"] and body["current"]["pga"] == 1.0
    assert (
        client.get(f"/api/v1/visits/{vid}", headers=b).json()["pga"] == 1.0
    )  # nothing lost, nothing written


def test_a_monitor_reads_but_cannot_write_and_a_statistician_reads_no_records(web: Web) -> None:
    client = web.client()
    mon, stat = web.token("mon_a"), web.token("stat_a")
    vid = web.ids["SA"]["visit"]
    assert client.get(f"/api/v1/visits/{vid}", headers=mon).status_code == 200
    edit = client.patch(f"/api/v1/visits/{vid}", json={"changes": {"pga": 0.1}, "reason": "x"}, headers=mon)
    assert edit.status_code == 403
    assert client.get("/api/v1/patients", headers=stat).status_code == 403
    assert (
        client.get(f"/api/v1/patients/{web.ids['SA']['patient']}/timeline", headers=stat).status_code == 403
    )


def test_site_a_cannot_open_list_search_or_guess_site_b_records(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    b = web.ids["SB"]
    listed = client.get("/api/v1/patients?limit=100", headers=headers).json()
    assert {p["site_code"] for p in listed["items"]} == {"SA"} and listed["total"] == 2
    assert client.get(f"/api/v1/patients/{b['patient']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/patients/{b['patient']}/timeline", headers=headers).status_code == 404
    assert client.get(f"/api/v1/visits?patient_code={b['patient']}", headers=headers).json()["total"] == 0
    for path in (
        f"visits/{b['visit']}",
        f"lab-results/{b['lab']}",
        f"adverse-events/{b['ae']}",
        f"therapy-courses/{b['course']}",
    ):
        assert client.get(f"/api/v1/{path}", headers=headers).status_code == 404, path
        assert (
            client.patch(f"/api/v1/{path}", json={"changes": {}, "reason": "x"}, headers=headers).status_code
            == 404
        )
    into_b = client.post(
        "/api/v1/visits", json={"patient_code": b["patient"], "visit_date": "2023-01-01"}, headers=headers
    )
    assert into_b.status_code == 422 and "unknown patient" in into_b.json()["detail"][0]["msg"]
    new_b = client.post(
        "/api/v1/patients",
        json={"code": "SB-999", "site_code": "SB", "sex": "M", "birth_year": 1990},
        headers=headers,
    )
    assert new_b.status_code == 403
    moved = client.patch(
        f"/api/v1/patients/{web.ids['SA']['patient']}",
        json={"changes": {"site_code": "SB"}, "reason": "move"},
        headers=headers,
    )
    assert moved.status_code == 403


def test_scoring_endpoint_matches_the_instrument(web: Web) -> None:
    client, headers = web.client(), web.token("stat_a")
    result = client.post(
        "/api/v1/score/sledai_2k",
        json={"descriptors": {"arthritis": True, "low_complement": True}},
        headers=headers,
    )
    assert result.status_code == 200
    assert result.json()["sledai_2k"] == 6 and result.json()["clinical_sledai"] == 4
    bad = client.post("/api/v1/score/sledai_2k", json={"descriptors": {"nonsense": True}}, headers=headers)
    assert bad.status_code == 422
    assert client.post("/api/v1/score/no_such", json={}, headers=headers).status_code == 422


def test_timeline_and_endpoints_of_a_patient(web: Web) -> None:
    client, headers = web.client(), web.token("inv_a")
    code = web.ids["SA"]["patient"]
    timeline = client.get(f"/api/v1/patients/{code}/timeline", headers=headers).json()
    assert timeline["day0"] == "2022-01-10" and timeline["visits"][0]["study_day"] == 181
    endpoints = client.get(f"/api/v1/patients/{code}/endpoints", headers=headers).json()
    assert endpoints["patient_code"] == code and endpoints["endpoints"]["os_event"] in (0, False)


def test_tokens_are_shown_once_listed_without_secret_and_revocable(web: Web) -> None:
    client, headers = web.client(), web.token("inv_a")
    made = client.post("/api/v1/tokens", json={"name": "script"}, headers=headers)
    assert made.status_code == 201
    token = made.json()["token"]
    listed = client.get("/api/v1/tokens", headers=headers).json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=mine).json()["username"] == "inv_a"
    assert client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=mine).status_code == 401


def _adsl_rows(response: Any) -> list[str]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {"adsl.csv", "adtte.csv", "adrs.csv", "README.txt"}
    return archive.read("adsl.csv").decode().splitlines()[1:]


def test_dataset_export_by_api_holds_only_the_callers_sites_and_is_audited(web: Web) -> None:
    client = web.client()
    stat, admin = web.token("stat_a"), web.token("admin")
    own = client.get("/api/v1/exports/datasets", headers=stat)
    assert own.status_code == 200 and own.headers["content-type"] == "application/zip"
    text = "".join(
        zipfile.ZipFile(io.BytesIO(own.content)).read(n).decode() for n in ("adsl.csv", "adrs.csv")
    )
    assert "SA-" not in text and "SB-" not in text  # de-identified: random subject ids only
    guessed = client.get("/api/v1/exports/datasets?site=SB", headers=stat)
    assert guessed.status_code == 404 and "'SB' is not one of your sites" in guessed.text
    assert client.get("/api/v1/exports/datasets", headers=web.token("coord_a")).status_code == 403
    both = _adsl_rows(client.get("/api/v1/exports/datasets", headers=admin))
    only_b = _adsl_rows(client.get("/api/v1/exports/datasets?site=SB", headers=admin))
    assert len(_adsl_rows(own)) >= 1 and len(only_b) >= 1
    assert len(both) == len(_adsl_rows(own)) + len(only_b)
    exports = [r for r in Registry(web.engine).history() if r["action"] == "export"]
    assert [r["actor"] for r in exports[-3:]] == ["stat_a", "admin", "admin"]
    assert "SB" in str(exports[-1]) and "SA" not in str(exports[-1]["new_value"] or "")
