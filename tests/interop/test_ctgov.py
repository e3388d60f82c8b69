"""The ClinicalTrials.gov API v2 client and trial finder, on API responses shipped with the tests
(``data/``, see its README); no network is used."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.interop import ctgov
from lupuscell.interop.ctgov import (
    ClinicalTrialsClient,
    TrialsUnavailableError,
    age_in_years,
    parse_studies,
    screen_patient,
)
from lupuscell.protocols.record import DrugFact, MeasurementFact, PatientRecord

DATA = Path(__file__).parent / "data"
PAGES = [json.loads((DATA / f"ctgov_page{n}.json").read_text()) for n in (1, 2)]
INDEX = dt.date(2025, 6, 1)


def _transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = 1 if "pageToken" not in request.url.params else 2
        return httpx.Response(200, json=PAGES[page - 1])

    return httpx.MockTransport(handler)


def test_client_queries_recruiting_sle_cell_therapy_and_follows_pages() -> None:
    seen: list[httpx.Request] = []
    client = ClinicalTrialsClient(transport=_transport(seen))
    pages = list(client.pages())
    client.close()
    assert len(pages) == 2 and len(seen) == 2
    first = seen[0].url
    assert first.path == "/api/v2/studies"
    assert first.params["query.cond"] == "systemic lupus erythematosus"
    assert "CAR-T" in first.params["query.intr"] and "mesenchymal" in first.params["query.intr"]
    assert first.params["filter.overallStatus"] == "RECRUITING,NOT_YET_RECRUITING"
    assert seen[1].url.params["pageToken"] == "page-2-token"


def test_parse_keeps_recruiting_cell_therapy_trials_only() -> None:
    trials = parse_studies(PAGES)
    assert [t.nct_id for t in trials] == ["NCT09990001", "NCT09990002", "NCT09990003"]
    assert [t.therapies for t in trials] == [("car_t",), ("msc",), ("hsct",)]
    assert trials[2].sex == "FEMALE" and trials[2].maximum_age == "45 Years"
    assert trials[0].url == "https://clinicaltrials.gov/study/NCT09990001"


def test_age_limits() -> None:
    assert age_in_years("18 Years") == 18 and age_in_years("6 Months") == 0.5 and age_in_years("N/A") is None
    with pytest.raises(TrialsUnavailableError, match="unrecognised age limit"):
        age_in_years("eighteen")


def _patient(birth_year: int = 1990, sex: str = "F") -> PatientRecord:
    return PatientRecord(
        person="KI-0009",
        index_date=INDEX,
        birth_year=birth_year,
        sex=sex,
        drugs=(
            DrugFact(None, "cyclophosphamide", None, "prior cyclophosphamide", "before_index"),
            DrugFact(None, "mycophenolate", None, "prior mycophenolate", "before_index"),
        ),
        measurements=(
            MeasurementFact(None, "sledai2k", INDEX - dt.timedelta(days=20), 12.0, "{score}", "visit"),
            MeasurementFact(None, "egfr", INDEX - dt.timedelta(days=20), 25.0, "mL/min/1.73m2", "lab"),
        ),
    )


def test_patient_screened_against_limits_and_readable_items() -> None:
    car_t, msc, hsct = parse_studies(PAGES)
    match = screen_patient(_patient(), car_t)
    checks = {c.item.split(":")[0]: c for c in match.checks}
    assert checks["age"].verdict.label == "met" and checks["sex"].verdict.label == "met"
    labels = {c.item: c.verdict.label for c in match.checks}
    assert labels["SLEDAI-2K score ≥ 8 points"] == "met"
    assert labels["Renal function: eGFR ≥ 30 mL/min/1.73m2"] == "not_met"
    assert labels["Cardiac function: left ventricular ejection fraction (LVEF) ≥ 55%"] == "unknown"
    assert any("2 DMARDs" in item and v == "met" for item, v in labels.items())
    assert "exclusion: Malignancy" in match.not_checked and match.verdict.label == "not_met"
    # the MSC trial's exclusion "eGFR < 30" is read as the requirement eGFR >= 30
    assert any(
        c.item.startswith("eGFR < 30") and c.verdict.label == "not_met"
        for c in screen_patient(_patient(), msc).checks
    )
    male = screen_patient(_patient(sex="M"), hsct)
    assert next(c for c in male.checks if c.item == "sex").verdict.label == "not_met"
    too_old = screen_patient(_patient(birth_year=1975), hsct)  # 50 > 45 years
    assert next(c for c in too_old.checks if c.item == "age").verdict.label == "not_met"


def test_nothing_unchecked_is_reported_as_met() -> None:
    hsct = parse_studies(PAGES)[2]
    young = screen_patient(_patient(birth_year=1995), hsct)
    assert all(c.verdict.label == "met" for c in young.checks if c.item in ("age", "sex"))
    assert young.not_checked and young.verdict.label != "met"


def test_offline_fails_clearly() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    client = ClinicalTrialsClient(transport=httpx.MockTransport(refuse))
    with pytest.raises(TrialsUnavailableError, match=r"cannot reach ClinicalTrials\.gov"):
        list(client.pages())
    server_error = ClinicalTrialsClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(503, text="busy"))
    )
    with pytest.raises(TrialsUnavailableError, match="HTTP 503"):
        list(server_error.pages())


def test_cli_from_saved_pages_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    args = [
        "trials",
        "find",
        "--json",
        "--from-file",
        str(DATA / "ctgov_page1.json"),
        "--from-file",
        str(DATA / "ctgov_page2.json"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [t["nct_id"] for t in json.loads(result.stdout)] == ["NCT09990001", "NCT09990002", "NCT09990003"]
    monkeypatch.setattr(ctgov, "BASE_URL", "http://127.0.0.1:9/api/v2")  # nothing listens on port 9
    offline = runner.invoke(app, ["trials", "find"])
    assert offline.exit_code == 1 and "cannot reach ClinicalTrials.gov" in offline.stderr
    assert "Traceback" not in offline.output
