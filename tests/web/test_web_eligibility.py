"""A registry patient's eligibility in the web app (the patient's page and
``/api/v1/patients/{code}/eligibility``) and the patient's trial finder: the same evaluation as
``lupuscell eligibility``, within the caller's sites, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.cli.main import app as cli
from lupuscell.protocols.catalog import shipped_protocol_names
from lupuscell.web.trials import TrialSource

DATA = Path(__file__).parents[1] / "interop" / "data"


def _db(web: Web) -> str:
    return web.engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("protocol", shipped_protocol_names())
def test_the_api_answers_exactly_what_the_cli_prints(web: Web, protocol: str) -> None:
    code = web.ids["SA"]["patient"]
    printed = CliRunner().invoke(
        cli, ["eligibility", "--protocol", protocol, "--patient", code, "--db", _db(web), "--json"]
    )
    assert printed.exit_code == 0, printed.output
    client = web.client()
    response = client.get(
        f"/api/v1/patients/{code}/eligibility", params={"protocol": protocol}, headers=web.token("inv_a")
    )
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(printed.stdout)
    assert response.json()["index_date"] == "2021-12-01"  # the mobilisation date of the seeded course


def test_the_patient_page_shows_every_protocol_with_verdicts_and_evidence(web: Web) -> None:
    client, _ = web.login("inv_a")
    page = client.get(f"/patients/{web.ids['SA']['patient']}").text
    panel = page[page.index('id="eligibility"') : page.index('id="h-timeline"')]
    assert panel.count('<details class="protocol"') == len(shipped_protocol_names())
    assert (
        "Index date <strong>2021-12-01</strong>: first treatment step of the first course (mobilisation"
        in panel
    )
    # the age criterion with its evidence: date, value, unit, and what it is
    assert "2021-12-01 36 years (born 1985)" in panel
    assert '<span class="badge unknown">unknown</span>' in panel  # e.g. LVEF: not held by the registry
    assert "/patients/SA-001/trials" in panel


def test_a_screening_date_is_asked_for_when_there_is_no_course(web: Web) -> None:
    client, _ = web.login("inv_a")
    page = client.get("/patients/SA-002").text
    assert "No screening date: no therapy course recorded" in page and '<details class="protocol"' not in page
    chosen = client.get("/patients/SA-002?index_date=2024-05-02").text
    assert "Index date <strong>2024-05-02</strong>: the screening date given on the page." in chosen
    api = web.client()
    headers = web.token("inv_a")
    missing = api.get("/api/v1/patients/SA-002/eligibility?protocol=hsct_refractory_sle", headers=headers)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "index_date"]
    given = api.get(
        "/api/v1/patients/SA-002/eligibility?protocol=hsct_refractory_sle&index_date=2024-05-02",
        headers=headers,
    )
    assert given.status_code == 200 and given.json()["index_date"] == "2024-05-02"
    far = api.get(
        "/api/v1/patients/SA-002/eligibility?protocol=hsct_refractory_sle&index_date=0001-01-01",
        headers=headers,
    )
    assert far.status_code == 422 and "outside" in far.json()["detail"][0]["msg"]
    assert client.get("/patients/SA-002?index_date=0001-01-01").status_code == 422


def test_eligibility_respects_sites_roles_and_protocol_names(web: Web) -> None:
    api = web.client()
    other = api.get(
        f"/api/v1/patients/{web.ids['SB']['patient']}/eligibility?protocol=hsct_refractory_sle",
        headers=web.token("coord_a"),
    )
    assert other.status_code == 404  # another site's patient reads as unknown
    stat = api.get(
        f"/api/v1/patients/{web.ids['SA']['patient']}/eligibility?protocol=hsct_refractory_sle",
        headers=web.token("stat_a"),
    )
    assert stat.status_code == 403
    unknown = api.get(
        f"/api/v1/patients/{web.ids['SA']['patient']}/eligibility?protocol=../../etc/passwd",
        headers=web.token("inv_a"),
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["query", "protocol"]
    assert api.get(f"/api/v1/patients/{web.ids['SA']['patient']}/eligibility?protocol=x").status_code in (
        401,
        422,
    )
    client, _ = web.login("coord_a")
    assert client.get(f"/patients/{web.ids['SB']['patient']}/trials").status_code == 404


def test_the_patients_trial_finder_screens_and_lists_what_it_could_not_check(web: Web) -> None:
    client, _ = web.login("inv_a", web.client(trials_pages=str(DATA)))
    page = client.get("/patients/SA-001/trials?as_of=2025-06-01").text
    assert "3 recruiting or not-yet-recruiting trials" in page
    assert "saved ClinicalTrials.gov answers, not a live search" in page
    assert "NCT09990001" in page and "NCT09990002" in page and "NCT09990003" in page
    assert "age 40 (index year - birth year); trial 18 Years to 65 Years" in page
    # NCT09990003 takes women aged up to 45: the seeded woman (born 1985) is 40 in 2025
    assert "sex F; trial FEMALE" in page
    assert page.count("Not checked:") >= 3 and "exclusion: Malignancy" in page


def test_the_patients_trial_finder_says_plainly_when_offline(web: Web) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    client = web.client()
    client.app.state.lc.trials = TrialSource(transport=httpx.MockTransport(refuse))  # type: ignore[attr-defined]
    client, _ = web.login("inv_a", client)
    response = client.get("/patients/SA-001/trials")
    assert response.status_code == 200
    assert "ClinicalTrials.gov could not be reached" in response.text and "ConnectError" in response.text
