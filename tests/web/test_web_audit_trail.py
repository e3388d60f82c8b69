"""The web application's writes keep the audit trail complete and chained (edits, a refused
stale edit, deletions, accounts, exports), and the dashboard lists the visits to chase by the
protocol calendars' rule (:func:`lupuscell.registry.schedule_read.overdue_visits`)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.registry import audit, audit_chain, audit_replay
from lupuscell.registry.repository import Registry
from lupuscell.web.dashboard import visits_to_chase


def test_web_writes_are_chained_and_replay_to_the_live_registry(web: Web, tmp_path: Path) -> None:
    inv, token = web.login("inv_a")
    coord, coord_token = web.login("coord_a")
    lab = web.ids["SA"]["lab"]
    form = {
        "patient_code": web.ids["SA"]["patient"],
        "result_date": "2022-07-10",
        "analyte": "c3",
        "value": "0.9",
        "unit": "g/L",
        "version": "1",
    }
    saved = inv.post(
        f"/records/lab_result/{lab}/edit",
        data={**form, "csrf_token": token, "reason": "transcription"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    before = len(audit.history(web.engine))
    stale = coord.post(
        f"/records/lab_result/{lab}/edit",
        data={**form, "value": "1.1", "csrf_token": coord_token, "reason": "late edit"},
    )
    assert stale.status_code == 409 and len(audit.history(web.engine)) == before  # nothing written
    gone = inv.post(
        f"/records/lab_result/{lab}/delete",
        data={"version": "2", "csrf_token": token, "reason": "entered twice"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    admin, admin_token = web.login("admin")
    added = admin.post(
        "/admin/users",
        data={"csrf_token": admin_token, "username": "newbie", "role": "monitor",
              "password": "a long enough password", "sites": ["SB"]},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    stat, stat_token = web.login("stat_a")
    assert stat.post("/reports/datasets", data={"csrf_token": stat_token}).status_code == 200
    assert audit_chain.verify(web.engine).ok
    rebuilt, result = audit_replay.rebuild_into_temporary(web.engine, None, tmp_path)
    try:
        assert result.not_rebuilt == [] and audit_replay.differences(web.engine, rebuilt) == []
        assert result.ignored["users"] == 7 and result.ignored["analysis_datasets"] == 1
    finally:
        rebuilt.dispose()


def test_the_dashboard_lists_the_visits_to_chase_of_the_users_sites(web: Web) -> None:
    client, _ = web.login("coord_a")
    page = client.get("/dashboard").text
    section = page[page.index('id="h-visits"') : page.index('id="h-sae"')]
    expected = visits_to_chase(web.engine, ["SA"], dt.date.today())
    assert expected and all(v["site_code"] == "SA" for v in expected)
    shown = re.findall(r'<a href="/patients/([^"]+)">', section)
    assert shown == [v["patient_code"] for v in expected][: len(shown)] and "SB-" not in section
    first = expected[0]
    assert f"{first['window_start']} – {first['window_end']}" in section and first["label"] in section


def test_visits_to_chase_orders_overdue_due_then_soon_upcoming(web: Web) -> None:
    """EBMT day +100 visit (window -15/+15 days) on 2022-05-20: SA-001 (infused 2022-01-10) is
    overdue, a patient infused 2022-02-20 is due, one infused 2022-03-15 opens within 30 days
    (upcoming), one infused 2022-05-01 opens later (not listed)."""
    registry = Registry(web.engine)
    infusions = {"SA-002": "2022-02-20", "SA-003": "2022-03-15", "SA-004": "2022-05-01"}
    for code, day in infusions.items():
        if code != "SA-002":
            patient = {"code": code, "site_code": "SA", "sex": "F", "birth_year": 1990}
            registry.create("patient", patient, actor="t")
        course = {"patient_code": code, "therapy": "autologous_hsct", "infusion_date": day}
        registry.create("therapy_course", course, actor="t")
    rows = visits_to_chase(web.engine, ["SA"], dt.date(2022, 5, 20))
    assert [(r["patient_code"], r["visit_id"], r["status"]) for r in rows] == [
        ("SA-001", "day100", "overdue"),
        ("SA-002", "day100", "due"),
        ("SA-003", "day100", "upcoming"),
    ]
