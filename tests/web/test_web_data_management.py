"""Data-management pages: queries (raise, answer, close, re-open; role rules; per site and
patient), source-data verification (status per form, reset after an edit, report per site),
signing and locking (password re-entry, a locked record refuses an edit, admin unlock), and
site isolation (another site's query, record or report reads as absent: 404)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Web, csrf_of  # type: ignore[import-not-found]

from lupuscell.registry import scoped
from lupuscell.registry.models import AuditLog


def _post(client: TestClient, token: str, url: str, **data: str) -> object:
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def _raise(web: Web, client: TestClient, token: str, field: str = "pga", site: str = "SA") -> int:
    visit = web.ids[site]["visit"]
    response = _post(
        client, token, "/queries/new", record_type="visit", record_id=str(visit), field=field, text="PGA 0.5?"
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    match = re.fullmatch(r"/queries/(\d+)", response.headers["location"])  # type: ignore[attr-defined]
    assert match
    return int(match.group(1))


def test_query_thread_with_role_rules(web: Web) -> None:
    monitor, mtoken = web.login("mon_a")
    visit = web.ids["SA"]["visit"]
    view = monitor.get(f"/records/visit/{visit}")
    assert view.status_code == 200
    assert f'href="/queries/new?record_type=visit&record_id={visit}&field=pga"' in view.text
    form = monitor.get(f"/queries/new?record_type=visit&record_id={visit}&field=pga")
    assert form.status_code == 200 and '<option value="pga" selected>' in form.text
    query_id = _raise(web, monitor, mtoken)
    page = monitor.get(f"/queries/{query_id}")
    assert "open" in page.text and "PGA 0.5?" in page.text and "mon_a" in page.text
    assert 'id="form-answer"' not in page.text and 'id="form-close"' in page.text
    # a coordinator may not raise, but answers
    coord, ctoken = web.login("coord_a")
    refused = _post(
        coord, ctoken, "/queries/new", record_type="visit", record_id=str(visit), field="pga", text="x"
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert coord.get(f"/queries/new?record_type=visit&record_id={visit}").status_code == 403
    assert 'id="form-close"' not in coord.get(f"/queries/{query_id}").text
    assert _post(coord, ctoken, f"/queries/{query_id}/close", text="done").status_code == 403  # type: ignore[attr-defined]
    blank = _post(coord, ctoken, f"/queries/{query_id}/answer", text="  ")
    assert blank.status_code == 422 and "a text is required" in blank.text  # type: ignore[attr-defined]
    assert _post(coord, ctoken, f"/queries/{query_id}/answer", text="checked: 0.4").status_code == 303  # type: ignore[attr-defined]
    # the raiser closes, and may re-open; another monitor-less user (an investigator) may not
    inv, itoken = web.login("inv_a")
    assert _post(inv, itoken, f"/queries/{query_id}/close", text="ok").status_code == 403  # type: ignore[attr-defined]
    assert _post(monitor, mtoken, f"/queries/{query_id}/close", text="resolved").status_code == 303  # type: ignore[attr-defined]
    closed = _post(coord, ctoken, f"/queries/{query_id}/answer", text="again")
    assert closed.status_code == 422 and "a closed query cannot be answered" in closed.text  # type: ignore[attr-defined]
    assert _post(monitor, mtoken, f"/queries/{query_id}/reopen", text="source says 0.3").status_code == 303  # type: ignore[attr-defined]
    thread = monitor.get(f"/queries/{query_id}").text
    assert [k for k in ("raise", "answer", "close", "reopen") if f"<td>{k}</td>" in thread] == [
        "raise",
        "answer",
        "close",
        "reopen",
    ]
    # the admin closes any query
    admin, atoken = web.login("admin")
    assert _post(admin, atoken, f"/queries/{query_id}/close", text="closed by admin").status_code == 303  # type: ignore[attr-defined]


def test_raise_names_the_bad_field_and_lists_filter(web: Web) -> None:
    monitor, token = web.login("mon_a")
    visit = web.ids["SA"]["visit"]
    bad = _post(
        monitor, token, "/queries/new", record_type="visit", record_id=str(visit), field="colour", text="?"
    )
    assert bad.status_code == 422 and "visit has no field" in bad.text  # type: ignore[attr-defined]
    first = _raise(web, monitor, token)
    _raise(web, monitor, token, field="prednisone_mg_per_day")
    coord, ctoken = web.login("coord_a")
    _post(coord, ctoken, f"/queries/{first}/answer", text="ok")
    listing = monitor.get("/queries?status=open&site=SA")
    assert listing.status_code == 200
    assert "prednisone_mg_per_day" in listing.text and f'href="/queries/{first}"' not in listing.text
    assert f'href="/queries/{first}"' in monitor.get("/queries?patient=SA-001").text
    assert "No query." in monitor.get("/queries?patient=SA-002").text
    counts = re.search(
        r'href="/queries\?site=SA&status=open">SA</a></td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td>',
        listing.text,
    )
    assert counts and counts.groups() == ("1", "1")
    per_patient = re.search(
        r'href="/queries\?patient=SA-001">SA-001</a></td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
        listing.text,
    )
    assert per_patient and per_patient.groups() == ("1", "1")
    huge = _post(
        monitor, token, "/queries/new", record_type="visit", record_id="9" * 30, field="pga", text="?"
    )
    assert huge.status_code == 404  # type: ignore[attr-defined]
    assert monitor.get(f"/sign/patient/{'9' * 30}").status_code == 404


def test_site_isolation_of_queries_records_and_reports(web: Web) -> None:
    admin, atoken = web.login("admin")
    b_query = _raise(web, admin, atoken, site="SB")
    monitor, token = web.login("mon_a")
    assert monitor.get(f"/queries/{b_query}").status_code == 404
    assert monitor.get("/queries?site=SB").status_code == 404
    assert monitor.get(f"/queries?patient={web.ids['SB']['patient']}").status_code == 404
    assert f"/queries/{b_query}" not in monitor.get("/queries").text
    b_visit = web.ids["SB"]["visit"]
    assert monitor.get(f"/records/visit/{b_visit}").status_code == 404
    assert monitor.get("/records/visit/999999").status_code == 404
    assert _post(monitor, token, f"/queries/{b_query}/close", text="x").status_code == 404  # type: ignore[attr-defined]
    raised = _post(
        monitor, token, "/queries/new", record_type="visit", record_id=str(b_visit), field="pga", text="x"
    )
    assert raised.status_code == 404  # type: ignore[attr-defined]
    assert _post(monitor, token, f"/records/visit/{b_visit}/sdv", status="verified").status_code == 404  # type: ignore[attr-defined]
    assert monitor.get("/sdv?site=SB").status_code == 404
    assert "Site SB" not in monitor.get("/sdv").text
    coord_b, _ = web.login("coord_b")
    assert coord_b.get(f"/queries/{b_query}").status_code == 200
    stat, _ = web.login("stat_a")
    assert stat.get("/queries").status_code == 403


def test_sdv_status_set_by_a_monitor_and_reset_after_an_edit(web: Web) -> None:
    monitor, token = web.login("mon_a")
    visit = web.ids["SA"]["visit"]
    no_text = _post(
        monitor, token, f"/records/visit/{visit}/sdv", status="verified_with_findings", findings=""
    )
    assert no_text.status_code == 422 and "findings" in no_text.text  # type: ignore[attr-defined]
    ok = _post(
        monitor, token, f"/records/visit/{visit}/sdv", status="verified_with_findings", findings="PGA differs"
    )
    assert ok.status_code == 303  # type: ignore[attr-defined]
    page = monitor.get(f"/records/visit/{visit}").text
    assert 'id="sdv-status">verified with findings' in page and "PGA differs" in page
    report = monitor.get("/sdv?site=SA").text
    assert (
        '<td>visit</td><td class="num">1</td><td class="num">0 (0.0 %)</td><td class="num">0 (0.0 %)</td>'
        '<td class="num">1 (100.0 %)</td>' in report
    )
    coord, ctoken = web.login("coord_a")
    assert _post(coord, ctoken, f"/records/visit/{visit}/sdv", status="verified").status_code == 403  # type: ignore[attr-defined]
    record = scoped.get_record(web.engine, "visit", visit, ["SA"])
    web.client().app.state.lc.registry.update(
        "visit", visit, {"pga": 0.4}, actor="coord_a", reason="source", expected_version=record["version"]
    )
    assert 'id="sdv-status">not verified' in monitor.get(f"/records/visit/{visit}").text
    # an adverse event verified, then corrected through the web form: back to not verified
    ae, course = web.ids["SA"]["ae"], web.ids["SA"]["course"]
    assert _post(monitor, token, f"/records/adverse_event/{ae}/sdv", status="verified").status_code == 303  # type: ignore[attr-defined]
    course_page = monitor.get(f"/records/therapy_course/{course}").text
    assert 'id="sdv-status">not verified' in course_page and "Raise a query on infusion_date" in course_page
    form = coord.get(f"/records/adverse_event/{ae}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version
    edited = _post(
        coord,
        ctoken,
        f"/records/adverse_event/{ae}/edit",
        grade="2",
        reason="CTCAE grade per source",
        version=version.group(1),
    )
    assert edited.status_code == 303, edited.text  # type: ignore[attr-defined]
    assert scoped.get_record(web.engine, "adverse_event", ae, ["SA"])["grade"] == 2
    assert 'id="sdv-status">not verified' in monitor.get(f"/records/adverse_event/{ae}").text


def test_sign_locks_the_visit_the_edit_is_refused_and_admin_unlocks(web: Web) -> None:
    visit = web.ids["SA"]["visit"]
    inv, itoken = web.login("inv_a")
    page = inv.get(f"/sign/visit/{visit}")
    assert "I approve the data of this visit as complete and accurate." in page.text
    wrong = _post(inv, itoken, f"/sign/visit/{visit}", password="not it")
    assert wrong.status_code == 422 and "the user name or the password is wrong" in wrong.text  # type: ignore[attr-defined]
    assert _post(inv, itoken, f"/sign/visit/{visit}", password=PASSWORD).status_code == 303  # type: ignore[attr-defined]
    signed = inv.get(f"/sign/visit/{visit}").text
    assert 'id="lock-banner"' in signed and "inv_a" in signed and "active (locks)" in signed
    # a coordinator's edit is refused, naming the lock
    coord, ctoken = web.login("coord_a")
    form = coord.get(f"/records/visit/{visit}/edit")
    assert 'id="lock-banner"' in form.text and "signed by" in form.text  # shown before typing
    edit = coord.post(
        f"/records/visit/{visit}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "visit_date": "2022-07-10",
            "pga": "0.2",
            "reason": "fix",
            "version": re.search(r'name="version" value="(\d+)"', form.text).group(1),
        },  # type: ignore[union-attr]
    )
    assert edit.status_code == 422 and f"visit {visit} is locked" in edit.text and "signed by" in edit.text
    assert scoped.get_record(web.engine, "visit", visit, ["SA"])["pga"] == 0.5
    # a coordinator may not sign, nor an investigator unlock
    assert (
        _post(coord, ctoken, f"/sign/patient/{web.ids['SA']['patient']}", password=PASSWORD).status_code
        == 403
    )  # type: ignore[attr-defined]
    assert _post(inv, itoken, f"/unlock/visit/{visit}", reason="typo").status_code == 403  # type: ignore[attr-defined]
    admin, atoken = web.login("admin")
    blank = _post(admin, atoken, f"/unlock/visit/{visit}", reason=" ")
    assert blank.status_code == 422 and "a text is required" in blank.text  # type: ignore[attr-defined]
    assert _post(admin, atoken, f"/unlock/visit/{visit}", reason="PGA to correct").status_code == 303  # type: ignore[attr-defined]
    history = admin.get(f"/sign/visit/{visit}").text
    assert (
        "unlocked by admin" in history and "PGA to correct" in history and 'id="lock-banner"' not in history
    )
    with web.engine.connect() as conn:  # the signature and the unlock are audited
        rows = conn.execute(
            sa.select(AuditLog.action, AuditLog.actor, AuditLog.reason)
            .where(AuditLog.entity == "signatures")
            .order_by(AuditLog.id)
        ).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("create", "inv_a"),
        ("update", "admin"),
        ("update", "admin"),
    ]
    assert rows[-1].reason == "PGA to correct"


def test_signed_patient_locks_its_visit(web: Web) -> None:
    code, visit = web.ids["SA"]["patient"], web.ids["SA"]["visit"]
    inv, itoken = web.login("inv_a")
    assert _post(inv, itoken, f"/sign/patient/{code}", password=PASSWORD).status_code == 303  # type: ignore[attr-defined]
    view = inv.get(f"/records/visit/{visit}").text
    assert f"Its patient {code} was" in view and f'href="/records/visit/{visit}/edit"' not in view
    assert _post(inv, itoken, f"/sign/visit/{visit}", password=PASSWORD).status_code == 422  # type: ignore[attr-defined]
