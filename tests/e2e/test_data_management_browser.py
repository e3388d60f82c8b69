"""The data-management acceptance scenario in a real browser (Playwright + Debian chromium):
a monitor raises a query on a visit's PGA, the coordinator answers it and corrects the value
with a reason, the monitor closes it and marks the visit verified; an investigator signs the
visit and a locked visit refuses an edit; an admin unlocks it with a reason.

With ``LUPUSCELL_DM_SCREENSHOT_DIR`` set (``docs/data_management/img`` when refreshing the
data manager's guide) the pages are saved there at 1280x800; otherwise into a temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_support import PASSWORD, Server, login  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow


def _shot(page: object, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _visit(page: object, server: Server) -> dict[str, object]:
    """A visit with a PGA of a site-A patient (the synthetic registry), not signed yet."""
    request = page.request  # type: ignore[attr-defined]
    visits = request.get(f"{server.url}/api/v1/visits?limit=200").json()["items"]
    for visit in visits:
        lock = request.get(f"{server.url}/api/v1/signatures/visit/{visit['id']}").json()["lock"]
        if visit["pga"] is not None and lock is None and visit["pga"] < 2.5:
            return dict(visit)
    raise AssertionError("no unsigned visit with a PGA in the synthetic registry")


def test_query_correct_close_verify_sign_lock(browser: object, server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    out = Path(os.environ.get("LUPUSCELL_DM_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    monitor = login(browser, server, "monitor")
    visit = _visit(monitor, server)
    vid, code = visit["id"], visit["patient_code"]
    # the monitor raises a query on the visit's PGA from the visit's review page
    monitor.goto(f"{server.url}/patients/{code}")  # type: ignore[attr-defined]
    monitor.click(f'a[aria-label="Review visit {vid}"]')  # type: ignore[attr-defined]
    monitor.wait_for_url(f"**/records/visit/{vid}")  # type: ignore[attr-defined]
    _shot(monitor, out, "record_review")
    monitor.click('a[aria-label="Raise a query on pga"]')  # type: ignore[attr-defined]
    expect(monitor.locator("#q-field")).to_have_value("pga")  # type: ignore[attr-defined]
    monitor.fill("#q-text", f"PGA {visit['pga']} here, but the source note says 0.3: please check.")  # type: ignore[attr-defined]
    _shot(monitor, out, "query_raise")
    monitor.click("#raise-form button[type=submit]")  # type: ignore[attr-defined]
    monitor.wait_for_url("**/queries/*")  # type: ignore[attr-defined]
    query_url = monitor.url  # type: ignore[attr-defined]
    expect(monitor.locator("#query-status")).to_have_text("open")  # type: ignore[attr-defined]
    # the coordinator finds it among the open queries, corrects the PGA with a reason, answers
    coordinator = login(browser, server, "coordinator")
    coordinator.goto(f"{server.url}/queries?status=open")  # type: ignore[attr-defined]
    _shot(coordinator, out, "queries_list")
    coordinator.click(f'table.queries a[href="{query_url.removeprefix(server.url)}"]')  # type: ignore[attr-defined]
    coordinator.click("#correct-link")  # type: ignore[attr-defined]
    coordinator.fill("#f-pga", "0.3")  # type: ignore[attr-defined]
    coordinator.fill("#f-reason", "PGA corrected from the source note (query)")  # type: ignore[attr-defined]
    coordinator.click("text=Save visit")  # type: ignore[attr-defined]
    coordinator.wait_for_url(f"**/patients/{code}")  # type: ignore[attr-defined]
    coordinator.goto(query_url)  # type: ignore[attr-defined]
    coordinator.fill("#t-answer", "Checked against the source note: PGA corrected to 0.3.")  # type: ignore[attr-defined]
    coordinator.click("#form-answer button[type=submit]")  # type: ignore[attr-defined]
    expect(coordinator.locator("#query-status")).to_have_text("answered")  # type: ignore[attr-defined]
    # the monitor closes it and marks the visit verified
    monitor.goto(query_url)  # type: ignore[attr-defined]
    expect(monitor.locator("#thread")).to_contain_text("PGA corrected to 0.3")  # type: ignore[attr-defined]
    _shot(monitor, out, "query_answered")
    monitor.fill("#t-close", "Resolved: the value matches the source.")  # type: ignore[attr-defined]
    monitor.click("#form-close button[type=submit]")  # type: ignore[attr-defined]
    expect(monitor.locator("#query-status")).to_have_text("closed")  # type: ignore[attr-defined]
    monitor.goto(f"{server.url}/records/visit/{vid}")  # type: ignore[attr-defined]
    expect(monitor.locator("#field-pga")).to_contain_text("0.3")  # type: ignore[attr-defined]
    monitor.select_option("#sdv-select", "verified")  # type: ignore[attr-defined]
    monitor.click("#sdv button[type=submit]")  # type: ignore[attr-defined]
    expect(monitor.locator("#sdv-status")).to_have_text("verified")  # type: ignore[attr-defined]
    _shot(monitor, out, "sdv_status")
    monitor.goto(f"{server.url}/sdv")  # type: ignore[attr-defined]
    _shot(monitor, out, "sdv_report")
    # an investigator signs the visit (password again, meaning shown); it is locked
    investigator = login(browser, server, "investigator")
    investigator.goto(f"{server.url}/sign/visit/{vid}")  # type: ignore[attr-defined]
    expect(investigator.locator("#meaning")).to_contain_text("complete and accurate")  # type: ignore[attr-defined]
    investigator.fill("#sign-password", PASSWORD)  # type: ignore[attr-defined]
    _shot(investigator, out, "sign")
    investigator.click("#sign-form button[type=submit]")  # type: ignore[attr-defined]
    expect(investigator.locator("#lock-banner")).to_contain_text("Demo investigator")  # type: ignore[attr-defined]
    # a locked visit refuses an edit, naming the lock
    coordinator.goto(f"{server.url}/records/visit/{vid}/edit")  # type: ignore[attr-defined]
    coordinator.fill("#f-pga", "0.2")  # type: ignore[attr-defined]
    coordinator.fill("#f-reason", "another correction")  # type: ignore[attr-defined]
    coordinator.click("text=Save visit")  # type: ignore[attr-defined]
    expect(coordinator.locator("main")).to_contain_text(f"visit {vid} is locked")  # type: ignore[attr-defined]
    expect(coordinator.locator("main")).to_contain_text("signed by Demo investigator")  # type: ignore[attr-defined]
    _shot(coordinator, out, "locked_edit")
    # an admin unlocks it with a reason; the signature stays as history
    admin = login(browser, server, "admin")
    admin.goto(f"{server.url}/sign/visit/{vid}")  # type: ignore[attr-defined]
    admin.fill("#unlock-reason", "Prednisone dose to correct after the signature")  # type: ignore[attr-defined]
    _shot(admin, out, "unlock")
    admin.click("#unlock-form button[type=submit]")  # type: ignore[attr-defined]
    expect(admin.locator("#signatures")).to_contain_text("unlocked by admin")  # type: ignore[attr-defined]
    expect(admin.locator("#lock-banner")).to_have_count(0)  # type: ignore[attr-defined]
