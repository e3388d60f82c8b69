"""The RAND-36 questionnaire filled in on a tablet (1024x768, touch) in a real browser: every
item answered by touch, saved, the eight scale scores shown as worked by hand (RAND Tables 1
and 2), then the patient page's RAND-36 chart. Screenshots go to ``LUPUSCELL_DM_SCREENSHOT_DIR``
(docs/data_management/img when refreshing the docs) or a temp dir."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from e2e_support import PASSWORD, Server  # type: ignore[import-not-found]

from lupuscell.registry.models import ClinicalEvent, Patient, Site, TherapyCourse
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine

pytestmark = pytest.mark.slow

ANSWERS = {
    1: 2, 2: 3, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 2, 10: 3, 11: 3, 12: 3,
    13: 1, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 1, 20: 2, 21: 3, 22: 2,
    23: 3, 24: 5, 25: 6, 26: 2, 27: 4, 28: 5, 29: 4, 30: 3, 31: 3, 32: 4,
    33: 4, 34: 2, 35: 3, 36: 2,
}  # fmt: skip
BY_HAND = {  # tests/web/pro_sample.py: the scales of this survey worked by hand
    "physical_functioning": "75.0",
    "role_physical": "75.0",
    "role_emotional": "66.7",
    "energy_fatigue": "50.0",
    "emotional_wellbeing": "80.0",
    "social_functioning": "75.0",
    "pain": "67.5",
    "general_health": "70.0",
}


def _living_patient(server: Server) -> str:
    """A living patient of the first site with a course, given two earlier questionnaires (before
    day 0 and at month 6) so that the patient page shows a trajectory."""
    engine = make_engine(server.db_url)
    try:
        with engine.connect() as conn:
            dead = sa.select(ClinicalEvent.patient_id).where(ClinicalEvent.event_type == "death")
            code, day0 = conn.execute(
                sa.select(Patient.code, sa.func.min(TherapyCourse.infusion_date))
                .join(Site)
                .join(TherapyCourse, TherapyCourse.patient_id == Patient.id)
                .where(Site.code == server.sites[0], Patient.id.not_in(dead))
                .group_by(Patient.code)
                .order_by(Patient.code)
                .limit(1)
            ).one()
        registry = Registry(engine)
        for days, answers in (
            (-20, {"q3": 1, "q21": 5, "q23": 5, "q1": 4}),
            (180, {"q3": 2, "q21": 4, "q23": 3, "q1": 3}),
        ):
            date = str(day0 + dt.timedelta(days=days))
            registry.create(
                "pro_assessment",
                {"patient_code": code, "assessment_date": date, "responses": answers},
                actor="e2e",
            )
        return str(code)
    finally:
        engine.dispose()


def test_tablet_fills_the_rand36_and_sees_the_scores(browser: object, server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    out = Path(os.environ.get("LUPUSCELL_DM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    code = _living_patient(server)
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{server.url}/login")
    page.fill("#username", "coordinator")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    page.goto(f"{server.url}/patients/{code}")
    page.click(f'a[href="/patients/{code}/pro/new"]')
    page.wait_for_url(f"**/patients/{code}/pro/new")
    expect(page.locator('nav[aria-label="Main"]')).to_have_count(0)  # patient-facing: no navigation
    for item, answer in ANSWERS.items():
        page.locator(f'input[name="q{item}"][value="{answer}"]').tap()
    page.locator('input[name="patient_global_assessment"][value="3"]').tap()
    for item, answer in ANSWERS.items():
        expect(page.locator(f'input[name="q{item}"][value="{answer}"]')).to_be_checked()
    box = page.locator('label.pro-answer:has(input[name="q3"][value="1"])').bounding_box()
    assert box is not None and box["height"] >= 44  # a touch target (WCAG 2.5.5)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "pro_form.png"))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/pro/\d+$"))
    for scale, value in BY_HAND.items():
        expect(page.locator(f'tr[data-scale="{scale}"] td.num').first).to_have_text(value)
    page.screenshot(path=str(out / "pro_scores.png"))
    page.click("text=Staff: back to the patient page")
    page.wait_for_url(f"**/patients/{code}")
    chart = page.locator("#pro img.chart")
    expect(chart).to_be_visible()
    assert (chart.get_attribute("src") or "").startswith("data:image/svg+xml")
    page.locator("#pro").scroll_into_view_if_needed()
    page.locator("#pro").screenshot(path=str(out / "pro_timeline.png"))
    context.close()
