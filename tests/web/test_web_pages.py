"""Pages: every role sees what it may, site isolation in the UI, forms with reasons and
conflicts, live scores, exports audited and de-identified, XSS escaped everywhere it shows."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from web_helpers import Web, csrf_of  # type: ignore[import-not-found]

import lupuscell
from lupuscell.registry.repository import Registry

PAGES = ("/dashboard", "/patients", "/audit", "/reports", "/evidence", "/design", "/account/tokens")


@pytest.mark.parametrize("username", ["admin", "inv_a", "coord_a", "mon_a", "stat_a"])
def test_every_role_gets_its_pages_and_only_those(web: Web, username: str) -> None:
    client, _ = web.login(username)
    code = web.ids["SA"]["patient"]
    expected = {
        "/patients": username != "stat_a",
        "/audit": username != "stat_a",
        "/reports": username != "coord_a",
        f"/patients/{code}": username != "stat_a",
        "/admin/users": username == "admin",
        f"/records/visit/{web.ids['SA']['visit']}/edit": username in ("admin", "inv_a", "coord_a"),
    }
    for path in PAGES + tuple(expected):
        status = client.get(path).status_code
        assert status == (200 if expected.get(path, True) else 403), (username, path, status)


def test_the_patient_list_searches_filters_and_pages_within_the_users_sites(web: Web) -> None:
    client, _ = web.login("coord_a")
    listed = client.get("/patients").text
    assert "SA-001" in listed and "SA-002" in listed and "SB-001" not in listed
    assert "SB-" not in client.get("/patients?q=SB").text
    assert "SB-001" not in client.get("/patients?site=SB").text
    assert re.search(r"1 patient\(s\)", client.get("/patients?therapy=autologous_hsct").text)
    sorted_desc = client.get("/patients?sort=code&desc=1").text
    assert sorted_desc.index("SA-002") < sorted_desc.index("SA-001")
    assert client.get(f"/patients/{web.ids['SB']['patient']}").status_code == 404
    assert client.get(f"/patients/{web.ids['SB']['patient']}/audit").status_code == 404
    assert client.get(f"/records/visit/{web.ids['SB']['visit']}/edit").status_code == 404


def test_a_monitor_sees_the_visit_but_cannot_edit_it(web: Web) -> None:
    client, token = web.login("mon_a")
    vid = web.ids["SA"]["visit"]
    assert client.get(f"/patients/{web.ids['SA']['patient']}").status_code == 200
    response = client.post(
        f"/records/visit/{vid}/edit", data={"csrf_token": token, "reason": "x", "pga": "0.1"}
    )
    assert response.status_code == 403
    assert Registry(web.engine).get("visit", vid)["pga"] == 0.5


def _visit_form(code: str, token: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "patient_code": code,
        "visit_date": "2022-09-01",
        "sledai_assessed": "yes",
        "arthritis": "yes",
        "pga": "0.4",
        "prednisone_mg_per_day": "5",
        **extra,
    }


def test_a_visit_with_labs_is_saved_scored_and_audited(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    form = _visit_form(code, token, **{"lab0.analyte": "c4", "lab0.value": "0.05", "lab0.unit": "g/L"})
    response = client.post("/records/visit/new", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/patients/{code}"
    reg = Registry(web.engine)
    visit = next(
        v for v in reg.list_records("visit", patient_code=code) if str(v["visit_date"]) == "2022-09-01"
    )
    assert visit["arthritis"] is True and visit["seizure"] is False
    assert any(lab["analyte"] == "c4" for lab in reg.list_records("lab_result", patient_code=code))
    page = client.get(f"/patients/{code}").text
    assert "2022-09-01" in page and "coord_a" in page and "data:image/svg+xml;base64," in page


def test_an_unknown_lab_unit_is_refused_and_nothing_is_saved(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    form = _visit_form(code, token, **{"lab0.analyte": "c4", "lab0.value": "5", "lab0.unit": "mg/furlong"})
    response = client.post("/records/visit/new", data=form)
    assert response.status_code == 422 and "mg/furlong" in response.text
    assert not [
        v
        for v in Registry(web.engine).list_records("visit", patient_code=code)
        if str(v["visit_date"]) == "2022-09-01"
    ]


def test_live_score_changes_as_descriptors_are_ticked(web: Web) -> None:
    client, token = web.login("coord_a")

    def scores(**ticked: str) -> dict[str, str]:
        html = client.post(
            "/forms/visit/score",
            data={"sledai_assessed": "yes", "pga": "0.2", "prednisone_mg_per_day": "0", **ticked},
            headers={"X-CSRF-Token": token},
        ).text
        return dict(re.findall(r'data-score="(\w+)">([^<]*)<', html))

    assert scores()["sledai_2k"] == "0"
    assert scores(arthritis="yes")["sledai_2k"] == "4"
    both = scores(arthritis="yes", seizure="yes")
    assert both["sledai_2k"] == "12" and both["clinical_sledai"] == "12" and both["lldas"] == "no"
    assert scores(seizure__na="1")["sledai_2k"] == "—"


def test_an_edit_needs_a_reason_and_a_stale_edit_shows_what_changed(web: Web) -> None:
    coord, t1 = web.login("coord_a")
    inv, t2 = web.login("inv_a")
    ae = web.ids["SA"]["ae"]
    form = coord.get(f"/records/adverse_event/{ae}/edit").text
    assert 'name="version" value="1"' in form
    assert f"lupuscell {lupuscell.__version__} ·" in form  # the record's version is not the app's
    assert 'name="grading_system"' in form and '<option value="CTCAE_v5.0" selected>' in form  # a dropdown
    base = {
        "patient_code": web.ids["SA"]["patient"],
        "term": "Febrile neutropenia",
        "category": "infection",
        "grade": "3",
        "grading_system": "CTCAE_v5.0",
        "onset_date": "2022-01-15",
        "serious": "yes",
        "version": "1",
    }
    no_reason = coord.post(f"/records/adverse_event/{ae}/edit", data={**base, "csrf_token": t1, "reason": ""})
    assert no_reason.status_code == 422 and "reason is required" in no_reason.text
    saved = inv.post(
        f"/records/adverse_event/{ae}/edit",
        data={**base, "grade": "4", "csrf_token": t2, "reason": "worst grade per source"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stale = coord.post(
        f"/records/adverse_event/{ae}/edit",
        data={**base, "term": "Neutropenic fever", "csrf_token": t1, "reason": "wording"},
    )
    assert stale.status_code == 409
    assert "Someone else saved this record" in stale.text and "grade" in stale.text
    assert 'value="Neutropenic fever"' in stale.text  # the user's input is kept
    assert Registry(web.engine).get("adverse_event", ae)["term"] == "Febrile neutropenia"
    audit = coord.get(f"/patients/{web.ids['SA']['patient']}/audit").text
    assert "worst grade per source" in audit and "inv_a" in audit


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_free_text_is_escaped_on_every_page_that_shows_it(web: Web) -> None:
    reg = Registry(web.engine)
    code = web.ids["SA"]["patient"]
    reg.update("adverse_event", web.ids["SA"]["ae"], {"term": XSS}, actor="coord_a", reason=XSS)
    reg.create(
        "clinical_event",
        {"patient_code": code, "event_type": "death", "event_date": "2023-03-01", "cause": XSS},
        actor="coord_a",
    )
    client, _ = web.login("admin")
    pages = [
        f"/patients/{code}",
        f"/patients/{code}/audit",
        "/audit",
        "/dashboard",
        f"/records/adverse_event/{web.ids['SA']['ae']}/edit",
    ]
    for path in pages:
        html = client.get(path).text
        assert XSS not in html and "<script>alert" not in html, path
    assert "&lt;script&gt;" in client.get(f"/patients/{code}").text
    search = client.get("/patients", params={"q": '"><script>alert(2)</script>'}).text
    assert "<script>alert(2)" not in search


def test_dataset_export_is_audited_and_holds_no_patient_code(web: Web) -> None:
    client, token = web.login("stat_a")
    response = client.post("/reports/datasets", data={"csrf_token": token})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"adsl.csv", "adtte.csv", "adrs.csv"} <= set(archive.namelist())
    text = "".join(archive.read(n).decode() for n in archive.namelist())
    assert "SA-001" not in text and "SUBJ-000001" in text and "SB-" not in text
    header = archive.read("adsl.csv").decode().splitlines()[0].split(",")
    assert "TRTSDT" not in header and "2022-01-10" not in text  # no calendar date
    exports = [r for r in Registry(web.engine).history() if r["action"] == "export"]
    assert exports and exports[-1]["actor"] == "stat_a" and exports[-1]["entity"] == "analysis_datasets"


def test_admin_adds_a_user_who_can_log_in(web: Web) -> None:
    client, token = web.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "newbie",
            "role": "monitor",
            "password": "a long enough password",
            "sites": ["SB"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    fresh = web.client()
    page = fresh.get("/login")
    ok = fresh.post(
        "/login",
        data={"username": "newbie", "password": "a long enough password", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "SB-001" in fresh.get("/patients").text and "SA-001" not in fresh.get("/patients").text


def test_the_outcomes_report_is_built_for_the_users_sites_and_audited(web: Web) -> None:
    from lupuscell.registry import accounts
    from lupuscell.registry.bulk import load_tables
    from lupuscell.synth.cohort import iter_cohort_tables

    load_tables(web.engine, iter_cohort_tables(60, 3, chunk_size=60), actor="t", source="test", reason="test")
    synthetic = [s for s in accounts.site_codes(web.engine) if s not in ("SA", "SB")]
    accounts.update_account(web.engine, "inv_a", actor="admin", sites=synthetic)
    client, token = web.login("inv_a")
    response = client.post("/reports/build", data={"csrf_token": token, "fmt": "html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "SA-001" not in response.text and "SB-001" not in response.text
    exports = [r for r in Registry(web.engine).history() if r["action"] == "export"]
    assert exports[-1]["entity"] == "outcomes_report_html" and exports[-1]["actor"] == "inv_a"
    accounts.update_account(web.engine, "stat_a", actor="admin", sites=synthetic)
    stat, token = web.login("stat_a")
    report = stat.post("/reports/build", data={"csrf_token": token, "fmt": "html"})
    assert report.status_code == 200


def test_the_statisticians_report_cohort_carries_no_patient_code() -> None:
    from lupuscell.outcomes.endpoints import derive_endpoints
    from lupuscell.synth.cohort_data import from_synthetic
    from lupuscell.web.routes.reports import pseudonymous_cohort

    cohort = from_synthetic(30, seed=5)
    hidden = pseudonymous_cohort(cohort)
    codes = set(cohort.patients["patient_id"])
    for before, after in zip(cohort.frames(), hidden.frames(), strict=True):
        assert len(before) == len(after) and not codes & set(after["patient_id"])
    assert set(hidden.patients["patient_id"]) == {f"SUBJ-{i:06d}" for i in range(1, 31)}
    ends = derive_endpoints(hidden).patients
    assert sorted(ends["os_days"]) == sorted(derive_endpoints(cohort).patients["os_days"])


def test_helpers_grade_crs_and_compute_body_size_with_the_instruments(web: Web) -> None:
    client, token = web.login("coord_a")
    crs = client.post(
        "/forms/helper/astct_crs",
        data={"csrf_token": token, "astct_crs.max_temperature_c": "39.2", "astct_crs.hypotension": "yes"},
    )
    assert crs.status_code == 200 and re.search(r"crs grade</th><td>2<", crs.text)
    body = client.post(
        "/forms/helper/body_size",
        data={
            "csrf_token": token,
            "body_size.height_cm": "170",
            "body_size.weight_kg": "70",
            "body_size.sex": "female",
        },
    )
    assert body.status_code == 200 and "1.82" in body.text  # Mosteller sqrt(170*70/3600)
    bad = client.post("/forms/helper/body_size", data={"csrf_token": token, "body_size.height_cm": "-5"})
    assert bad.status_code == 200 and "height_cm" in bad.text


def test_a_report_on_one_patient_says_what_cannot_be_fitted_never_a_500(web: Web) -> None:
    client, token = web.login("mon_a")  # site SA: one treated patient
    response = client.post("/reports/build", data={"csrf_token": token, "fmt": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    html = client.post("/reports/build", data={"csrf_token": token, "fmt": "html"})
    assert (
        html.status_code == 200 and "Cox model not estimable: no covariate varies among these 1" in html.text
    )
