"""Missing-value states in the web app (both engines): the visit and course forms offer value /
not done / unknown per minimum-data field, the patient page shows the completeness table and
never leaves a state blank, the API accepts and returns ``missing``."""

from __future__ import annotations

import re

from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.registry.repository import Registry


def _visit_form(code: str, token: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "patient_code": code,
        "visit_date": "2022-09-01",
        "sledai_assessed": "yes",
        "pga": "0.4",
        **extra,
    }


def _saved_visit(web: Web, code: str) -> dict[str, object]:
    visits = Registry(web.engine).list_records("visit", patient_code=code)
    return next(v for v in visits if str(v["visit_date"]) == "2022-09-01")


def test_visit_form_offers_states_and_saves_them(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    page = client.get(f"/records/visit/new?patient_code={code}").text
    assert 'name="missing.prednisone_mg_per_day"' in page and 'name="missing.lab.c3"' in page
    assert ">not done<" in page and ">unknown<" in page
    form = _visit_form(
        code,
        token,
        **{"missing.prednisone_mg_per_day": "unknown", "missing.lab.upcr": "not_done", "fever__na": "1"},
    )
    form["missing.fever"] = "unknown"
    response = client.post("/records/visit/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    visit = _saved_visit(web, code)
    assert visit["missing"] == {
        "prednisone_mg_per_day": "unknown",
        "lab.upcr": "not_done",
        "fever": "unknown",
    }
    assert visit["fever"] is None
    edit = client.get(f"/records/visit/{visit['id']}/edit").text
    assert re.search(r'name="missing.prednisone_mg_per_day">.*?<option value="unknown" selected>', edit, re.S)


def test_value_and_state_together_is_refused_beside_the_field(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    form = _visit_form(code, token, **{"missing.pga": "not_done"})
    response = client.post("/records/visit/new", data=form)
    assert response.status_code == 422
    assert "has both a value (0.4) and the missing state &#39;not_done&#39;" in response.text
    assert not [
        v
        for v in Registry(web.engine).list_records("visit", patient_code=code)
        if str(v["visit_date"]) == "2022-09-01"
    ]


def test_course_form_offers_the_course_fields(web: Web) -> None:
    client, token = web.login("inv_a")
    course_id = web.ids["SA"]["course"]
    page = client.get(f"/records/therapy_course/{course_id}/edit").text
    assert 'name="missing.cd34_per_kg"' in page and 'name="missing"' not in page
    version = Registry(web.engine).get("therapy_course", course_id)["version"]
    response = client.post(
        f"/records/therapy_course/{course_id}/edit",
        data={
            "csrf_token": token,
            "reason": "dose not in source",
            "version": str(version),
            "missing.total_cell_dose": "unknown",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert Registry(web.engine).get("therapy_course", course_id)["missing"] == {"total_cell_dose": "unknown"}


def test_patient_page_shows_completeness_and_states_never_blank(web: Web) -> None:
    reg = Registry(web.engine)
    code = web.ids["SA"]["patient"]
    reg.create(
        "visit",
        {
            "patient_code": code,
            "visit_date": "2022-09-01",
            "pga": 0.3,
            "missing": {"prednisone_mg_per_day": "not_done"},
        },
        actor="t",
    )
    client, _ = web.login("mon_a")
    page = client.get(f"/patients/{code}").text
    assert "Minimum data completeness" in page
    row = re.search(r"<tr><td>2022-09-01 \(.*?</tr>", page, re.S)
    assert row is not None and "not done" in row.group(0)  # the visits table: the state, not a dash
    detail = page[page.index('id="completeness-detail"') :]
    assert "Prednisone-equivalent dose (mg/day)" in detail and "not done" in detail
    assert "empty - to chase" in detail


def test_api_accepts_and_returns_states(web: Web) -> None:
    client, headers = web.client(), web.token("coord_a")
    code = web.ids["SA"]["patient"]
    created = client.post(
        "/api/v1/visits",
        json={"patient_code": code, "visit_date": "2022-10-01", "missing": {"pga": "unknown"}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["missing"] == {"pga": "unknown"}
    bad = client.post(
        "/api/v1/visits",
        json={"patient_code": code, "visit_date": "2022-10-02", "pga": 1.0, "missing": {"pga": "unknown"}},
        headers=headers,
    )
    assert bad.status_code == 422 and "pga" in bad.text and "Traceback" not in bad.text


def test_a_lab_value_that_also_has_a_state_is_shown_to_resolve(web: Web) -> None:
    reg = Registry(web.engine)
    code = web.ids["SA"]["patient"]
    visit = web.ids["SA"]["visit"]  # 2022-07-10, with a C3 result on the same day
    version = reg.get("visit", visit)["version"]
    reg.update(
        "visit", visit, {"missing": {"lab.c3": "not_done"}}, actor="t", reason="r", expected_version=version
    )
    client, _ = web.login("mon_a")
    page = client.get(f"/patients/{code}").text
    assert "value, but recorded as not done: resolve" in page
