"""The user journey of the web application in a real browser (Playwright + Debian chromium)."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from e2e_support import Server, login  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow


def _score(page: object, name: str) -> str:
    return page.locator(f'[data-score="{name}"]').inner_text()  # type: ignore[attr-defined]


def _expect_score(page: object, name: str, value: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(f'[data-score="{name}"]')).to_have_text(value)  # type: ignore[attr-defined]


def test_coordinator_journey_monitor_and_isolation(browser: object, server: Server) -> None:
    from playwright.sync_api import expect

    site_a, site_b = server.sites[0], server.sites[1]
    code = f"{site_a}-E2E1"
    page = login(browser, server, "coordinator")
    # create a patient
    page.goto(f"{server.url}/records/patient/new")
    page.fill("#f-code", code)
    page.select_option("#f-sex", "F")
    page.fill("#f-birth_year", "1988")
    page.check('input[name="organ_involvement"][value="renal"]')
    page.click("text=Save")
    page.wait_for_url(f"**/patients/{code}")
    # a therapy course
    page.click('a[href^="/records/therapy_course/new"]')
    page.select_option("#f-therapy", "car_t")
    page.fill("#f-infusion_date", "2024-03-01")
    page.fill("#f-conditioning_start_date", "2024-02-25")
    page.click("#record-form button[type=submit]")
    page.wait_for_url(f"**/patients/{code}")
    # a visit: the live score follows the ticks
    page.click('a[href^="/records/visit/new"]')
    page.fill("#f-visit_date", "2024-06-01")
    page.fill("#f-pga", "0.4")
    page.fill("#f-prednisone_mg_per_day", "5")
    _expect_score(page, "sledai_2k", "0")
    page.check('input[name="arthritis"]')
    _expect_score(page, "sledai_2k", "4")
    page.check('input[name="low_complement"]')
    _expect_score(page, "sledai_2k", "6")
    _expect_score(page, "clinical_sledai", "4")
    page.check('input[name="seizure"]')
    _expect_score(page, "sledai_2k", "14")
    page.uncheck('input[name="seizure"]')
    _expect_score(page, "sledai_2k", "6")
    page.click("text=Save visit")
    page.wait_for_url(f"**/patients/{code}")
    expect(page.locator('img[alt^="Timeline of patient"]')).to_be_visible()
    expect(page.locator("#h-audit + table")).to_contain_text("coordinator")
    # edit the visit with a reason; the audit row shows it
    page.click('a[aria-label^="Edit visit"]')
    page.fill("#f-pga", "0.3")
    page.fill("#f-reason", "PGA corrected from the source note")
    page.click("text=Save visit")
    page.wait_for_url(f"**/patients/{code}")
    expect(page.locator("#h-audit + table")).to_contain_text("PGA corrected from the source note")
    # site isolation: by URL, by search, by API (guessing ids too)
    other = page.request.get(f"{server.url}/api/v1/patients?limit=500").json()
    assert {p["site_code"] for p in other["items"]} == {site_a}
    b_code = page.request.get  # keep a reference for readability below
    admin = login(browser, server, "admin")
    b_patient = admin.request.get(f"{server.url}/api/v1/patients?limit=500").json()["items"]
    b_patient = next(p for p in b_patient if p["site_code"] == site_b)
    b_visit = admin.request.get(f"{server.url}/api/v1/visits?patient_code={b_patient['code']}").json()[
        "items"
    ][0]
    assert page.goto(f"{server.url}/patients/{b_patient['code']}").status == 404
    page.goto(f"{server.url}/patients?q={b_patient['code']}")
    expect(page.locator("main")).to_contain_text("No patient matches")
    assert b_code(f"{server.url}/api/v1/patients/{b_patient['code']}").status == 404
    assert b_code(f"{server.url}/api/v1/visits/{b_visit['id']}").status == 404
    assert page.goto(f"{server.url}/records/visit/{b_visit['id']}/edit").status == 404
    # a monitor cannot edit
    monitor = login(browser, server, "monitor")
    monitor.goto(f"{server.url}/patients/{code}")
    assert monitor.locator('a[aria-label^="Edit visit"]').count() == 0
    visit_id = monitor.request.get(f"{server.url}/api/v1/visits?patient_code={code}").json()["items"][0]["id"]
    assert monitor.goto(f"{server.url}/records/visit/{visit_id}/edit").status == 403
    # an investigator of site A exports: nothing of site B in the datasets
    investigator = login(browser, server, "investigator")
    investigator.goto(f"{server.url}/reports")
    with investigator.expect_download() as download:
        investigator.click("text=Download ADSL / ADTTE / ADRS")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    adsl = archive.read("adsl.csv").decode()
    assert site_b not in adsl and site_a in adsl
    # a stale edit gets the conflict message
    first = login(browser, server, "coordinator")
    second = login(browser, server, "investigator")
    for p in (first, second):
        p.goto(f"{server.url}/records/visit/{visit_id}/edit")
    first.fill("#f-pga", "0.2")
    first.fill("#f-reason", "first correction")
    first.click("text=Save visit")
    first.wait_for_url(f"**/patients/{code}")
    second.fill("#f-prednisone_mg_per_day", "7.5")
    second.fill("#f-reason", "second correction")
    second.click("text=Save visit")
    expect(second.locator(".conflict")).to_contain_text("Someone else saved this record")
    expect(second.locator(".conflict")).to_contain_text("pga")


MAIN_PAGES = (
    "/dashboard",
    "/patients",
    "{patient}",
    "/records/visit/new?patient_code={code}",
    "/evidence",
    "/design",
    "/audit",
    "/reports",
    "/account/tokens",
    "{patient}/trials",
    "{patient}?index_date=2020-01-15",
    "/patient-info?find=1&therapy=car_t",
)
PUBLIC_PAGES = ("/patient-info", "/patient-info?find=1", "/login")


def test_main_pages_have_no_serious_or_critical_accessibility_violations(
    browser: object, server: Server
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page = login(browser, server, "admin")
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.goto(f"{server.url}/patients")
    code = page.locator("tbody a").first.inner_text()
    axe = Axe()
    problems = []
    for template in MAIN_PAGES:
        path = template.format(patient=f"/patients/{code}", code=code)
        page.goto(f"{server.url}{path}")
        result = axe.run(page)
        for v in result.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}")
    assert not problems, "\n".join(problems)
    assert not console_errors, console_errors  # e.g. a CSP violation by the pages or by htmx


def test_public_pages_have_no_serious_or_critical_accessibility_violations(
    browser: object, server: Server
) -> None:
    """The patient information page and its trial finder, seen by a visitor without a login."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    problems = []
    for path in PUBLIC_PAGES:
        page.goto(f"{server.url}{path}")
        for v in Axe().run(page).response["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}")
    assert not problems, "\n".join(problems)
    assert not console_errors, console_errors
    page.goto(f"{server.url}/patient-info")
    page.select_option("#t-therapy", "msc")
    page.click("#trial-finder button[type=submit]")
    page.wait_for_url("**/patient-info?find=1&therapy=msc*")
    assert "1 trial found" in page.locator("#trial-finder").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling


def test_keyboard_reaches_the_main_content_first(browser: object, server: Server) -> None:
    page = login(browser, server, "coordinator")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_screenshots_at_1280x800(browser: object, server: Server, tmp_path: Path) -> None:
    """Dashboard (top, and its visits to chase), patient timeline, visit form, evidence page,
    the patient's eligibility panel, the minimum-data completeness of the patient page and the
    visit form's not done / unknown choices, and the public patient information page with trial
    search results; written to
    ``LUPUSCELL_SCREENSHOT_DIR`` (docs/web/img when refreshing the docs) or a temp dir."""
    out = Path(os.environ.get("LUPUSCELL_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "admin")
    page.goto(f"{server.url}/patients?therapy=autologous_hsct&sort=code")
    codes = page.locator("tbody a").all_inner_texts()
    chosen = codes[min(2, len(codes) - 1)]
    shots = {
        "dashboard.png": "/dashboard",
        "dashboard-visits.png": "/dashboard",
        "patient-timeline.png": f"/patients/{chosen}",
        "visit-form.png": f"/records/visit/new?patient_code={chosen}",
        "evidence.png": "/evidence?therapy=msc&outcome=remission",
        "patient-eligibility.png": f"/patients/{chosen}",
        "patient-completeness.png": f"/patients/{chosen}",
        "visit-form-missing-states.png": f"/records/visit/new?patient_code={chosen}",
        "patient-info.png": "/patient-info?find=1",
    }
    for name, path in shots.items():
        page.goto(f"{server.url}{path}")
        if name == "visit-form.png":
            page.fill("#f-pga", "0.8")
            page.fill("#f-prednisone_mg_per_day", "10")
            for d in ("arthritis", "rash", "low_complement", "increased_dna_binding"):
                page.check(f'input[name="{d}"]')
            page.wait_for_timeout(800)
            page.evaluate(  # the descriptors just below the sticky live-score bar, nothing peeking under it
                "window.scrollTo(0, document.querySelector('fieldset').getBoundingClientRect().top + window.scrollY"
                " - document.querySelector('.score-wrap').offsetHeight - 12)"
            )
        if name == "dashboard-visits.png":
            page.evaluate("window.scrollTo(0, document.getElementById('h-visits').offsetTop - 8)")
        if name == "patient-completeness.png":
            page.evaluate("window.scrollTo(0, document.getElementById('completeness').offsetTop - 8)")
        if name == "visit-form-missing-states.png":
            page.evaluate(
                "window.scrollTo(0, document.getElementById('missing-states').getBoundingClientRect().top"
                " + window.scrollY - document.querySelector('.score-wrap').offsetHeight - 12)"
            )
        if name == "patient-eligibility.png":
            page.evaluate("window.scrollTo(0, document.getElementById('eligibility').offsetTop - 8)")
        if name == "patient-timeline.png":
            page.evaluate("window.scrollTo(0, document.getElementById('h-timeline').offsetTop - 8)")
        page.screenshot(path=str(out / name))
        assert (out / name).stat().st_size > 20_000
    assert re.match(r"^[A-Z]+-\d+$", chosen)
