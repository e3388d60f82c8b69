"""The public patient information page with the trial finder: served without a login, the same
text and numbers as ``lupuscell evidence patient-info`` (local rows included), readable, under
the app's CSP, no patient data and no cookie, and a trial search that replays recorded
ClinicalTrials.gov answers (no network) and says plainly when it cannot reach the registry."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import textstat
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.evidence import studies
from lupuscell.reports.patient_page import render_patient_page
from lupuscell.web.patient_info import PatientInfoCache, body_of
from lupuscell.web.trials import TrialSource

DATA = Path(__file__).parents[1] / "interop" / "data"
PAGES = [json.loads((DATA / f"ctgov_page{n}.json").read_text()) for n in (1, 2)]
ANSWERS = ("cells", "how", "benefits", "risks", "cure", "recovery", "trials")


class _Text(HTMLParser):
    """Text runs with the ids of their enclosing elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.runs: list[tuple[str, set[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "br", "link", "img", "input"):
            self.stack.append((tag, dict(attrs).get("id") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(t in ("style", "title", "script") for t, _ in self.stack):
            self.runs.append((data, {i for _, i in self.stack if i}))


def _text(html: str, ids: tuple[str, ...], leave_out: tuple[str, ...] = ()) -> str:
    walker = _Text()
    walker.feed(html)
    return " ".join(t for t, found in walker.runs if found & set(ids) and not found & set(leave_out))


def _replay(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PAGES[1 if "pageToken" in request.url.params else 0])

    return httpx.MockTransport(handler)


def _with_source(web: Web, source: TrialSource) -> object:
    client = web.client()
    client.app.state.lc.trials = source  # type: ignore[attr-defined]
    return client


def test_served_without_login_with_the_pages_text_numbers_and_links(web: Web) -> None:
    response = web.client().get("/patient-info")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers  # nothing depends on the visitor
    title, body = body_of(render_patient_page(studies.load_studies()))
    assert f"<title>{title} · lupuscell</title>" in response.text
    # every number of the page, with the rows it is computed from, is served as it is built
    facts = re.findall(r'<a class="num" href="#fact-[^"]+"[^>]*>[^<]+</a>', body)
    assert len(facts) > 40 and all(f in response.text for f in facts)
    assert 'id="ref-' in response.text and "This page is not medical advice." in response.text


def test_the_page_keeps_the_csp_and_has_one_main_and_labelled_navigation(web: Web) -> None:
    response = web.client().get("/patient-info")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.text
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert html.count("<main") == 1 and html.count("<footer") == 1
    assert 'aria-label="Questions on this page"' in html and 'id="trial-finder"' in html


def test_no_patient_data_on_the_public_side(web: Web) -> None:
    client = _with_source(web, TrialSource(saved_pages=DATA))
    for path in ("/patient-info", "/patient-info?find=1", "/patient-info?find=1&therapy=msc&place=china"):
        html = client.get(path).text  # type: ignore[attr-defined]
        assert not re.search(r"\bS[AB]-\d{3}\b", html) and "Site SA" not in html
        assert 'href="/patients' not in html and "Log out" not in html
    logged, _ = web.login("admin")
    logged.app.state.lc.trials = TrialSource(saved_pages=DATA)  # type: ignore[attr-defined]
    assert (
        "SA-001" not in logged.get("/patient-info?find=1").text
        and "admin" not in logged.get("/patient-info").text
    )


def test_the_answers_and_the_finder_read_easily(web: Web) -> None:
    html = _with_source(web, TrialSource(saved_pages=DATA)).get("/patient-info?find=1").text  # type: ignore[attr-defined]
    answers = _text(html, ANSWERS)
    assert len(answers.split()) > 500
    assert textstat.flesch_reading_ease(answers) >= 50
    finder = _text(html, ("trial-finder",), leave_out=("trial-list",))  # trial titles are not ours
    assert len(finder.split()) > 50 and textstat.flesch_reading_ease(finder) >= 50


def test_the_trial_search_replays_recorded_answers_and_filters(web: Web) -> None:
    seen: list[httpx.Request] = []
    client = _with_source(web, TrialSource(transport=_replay(seen)))
    assert not seen and "trials found" not in client.get("/patient-info").text  # type: ignore[attr-defined]
    html = client.get("/patient-info?find=1").text  # type: ignore[attr-defined]
    assert len(seen) == 2 and seen[1].url.params["pageToken"] == "page-2-token"
    assert "<strong>3 trials found</strong>" in html and "a live search of ClinicalTrials.gov" in html
    assert "NCT09990004" not in html  # the non-cell-therapy study of the recording is left out
    car_t = client.get("/patient-info?find=1&therapy=car_t").text  # type: ignore[attr-defined]
    assert "<strong>1 trial found</strong>" in car_t and "NCT09990001" in car_t
    assert "women and men, aged 18 years to 65 years" in car_t
    place = client.get("/patient-info?find=1&place=erlangen").text  # type: ignore[attr-defined]
    assert "NCT09990001" in place and "NCT09990002" not in place
    none = client.get("/patient-info?find=1&therapy=hsct&place=nowhere").text  # type: ignore[attr-defined]
    assert "No trial matches this search" in none
    assert len(seen) == 2  # one search serves every visitor for an hour
    bad = client.get("/patient-info?find=1&therapy=<script>&place=" + "x" * 61)  # type: ignore[attr-defined]
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (None, "ConnectError"),
        (httpx.Response(503, text="busy"), "HTTP 503"),
        (httpx.Response(200, text="<html>not json</html>"), "could not be read"),
        (httpx.Response(200, json={"studies": "oops"}), "could not be read"),
    ],
)
def test_offline_or_a_bad_answer_is_said_plainly_never_a_500(
    web: Web, answer: httpx.Response | None, said: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if answer is None:
            raise httpx.ConnectError("network unreachable", request=request)
        return answer

    client = _with_source(web, TrialSource(transport=httpx.MockTransport(handler)))
    response = client.get("/patient-info?find=1")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "We could not reach ClinicalTrials.gov just now" in response.text and said in response.text
    assert "What cells are used?" in response.text  # the answers are still there


def test_local_rows_are_included_and_a_change_rebuilds_the_page(tmp_path: Path) -> None:
    local = tmp_path / "local_studies.csv"
    cache = PatientInfoCache(local)
    before = cache.get()
    assert not before.local_rows
    local.write_text(
        "study_id,year,therapy,outcome,events,total,source_note\n"
        "mine2026,2026,hsct,remission,40,40,our registry\n",
        encoding="utf-8",
    )
    after = cache.get()
    assert after.local_rows and after.body != before.body
    assert "mine2026" in after.body and cache.get() is after  # unchanged file: built once
    local.write_text("study_id,year\nbroken,notayear\n", encoding="utf-8")
    assert cache.get().body == before.body  # a broken local file is left out, the page stays up
