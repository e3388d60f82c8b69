"""Data-quality rules in a real browser (Playwright + Debian chromium): a hard rule refuses the
visit with the error next to the field it names; the corrected, still unusual value is saved
and a soft rule raises a query on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_support import Server, login  # type: ignore[import-not-found]
from sqlalchemy.orm import Session

from lupuscell.registry import queries
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine

pytestmark = pytest.mark.slow


def test_hard_rule_refuses_and_soft_rule_raises_a_query(
    browser: object, server: Server, tmp_path: Path
) -> None:
    """Screenshots go to ``LUPUSCELL_DM_SCREENSHOT_DIR`` (docs/data_management/img when
    refreshing the data manager's guide) or a temporary folder."""
    from playwright.sync_api import expect

    shots = Path(os.environ.get("LUPUSCELL_DM_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    engine = make_engine(server.db_url)
    code = f"{server.sites[0]}-DQ1"
    Registry(engine).create(
        "patient", {"code": code, "site_code": server.sites[0], "sex": "F", "birth_year": 1990}, actor="e2e"
    )
    page = login(browser, server, "coordinator")
    page.goto(f"{server.url}/records/visit/new?patient_code={code}")  # type: ignore[attr-defined]
    page.fill("#f-visit_date", "2024-06-01")  # type: ignore[attr-defined]
    page.fill("#f-pga", "1.0")  # type: ignore[attr-defined]
    page.fill("#f-prednisone_mg_per_day", "2000")  # type: ignore[attr-defined]
    page.click("text=Save visit")  # type: ignore[attr-defined]
    error = page.locator("#f-prednisone_mg_per_day-err")  # type: ignore[attr-defined]
    expect(error).to_contain_text("1 g methylprednisolone pulse")
    expect(error).to_contain_text("rule prednisone_maximum")
    expect(page.locator("#f-prednisone_mg_per_day")).to_have_attribute("aria-invalid", "true")  # type: ignore[attr-defined]
    page.locator("#f-prednisone_mg_per_day").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dq_hard_rule_refused.png"))  # type: ignore[attr-defined]
    assert Registry(engine).list_records("visit", patient_code=code) == []
    # corrected to a value that is possible but unusual: saved, and a query raised on it
    page.fill("#f-prednisone_mg_per_day", "150")  # type: ignore[attr-defined]
    page.click("text=Save visit")  # type: ignore[attr-defined]
    page.wait_for_url(f"**/patients/{code}")  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dq_soft_rule_saved.png"), full_page=True)  # type: ignore[attr-defined]
    (visit,) = Registry(engine).list_records("visit", patient_code=code)
    with Session(engine) as session:
        found = [q for q in queries.list_queries(session, patient=code) if q["rule_id"]]
    engine.dispose()
    assert [(q["record_id"], q["field"], q["rule_id"], q["status"]) for q in found] == [
        (visit["id"], "prednisone_mg_per_day", "prednisone_high", "open")
    ]
