"""The RAND-36 tablet form: entry by coordinators and investigators (not monitors or
statisticians), CSRF, errors beside the item, the scores page, the patient-facing layout (no
other data of the patient), and the patient page's chart and table. Both engines."""

from __future__ import annotations

import re

import pytest
from pro_sample import BY_HAND, RESPONSES  # type: ignore[import-not-found]
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.web import pro_form


def _form(token: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "assessment_date": "2022-07-10",
        "completed_by": "patient",
        "patient_global_assessment": "4",
        **{k: str(v) for k, v in RESPONSES.items()},
        **extra,
    }


def test_form_lists_every_item_with_its_answers_and_no_other_data(web: Web) -> None:
    client, _ = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    page = client.get(f"/patients/{code}/pro/new")
    assert page.status_code == 200
    html = page.text
    for number in range(1, 37):
        assert f'id="item-q{number}"' in html
    assert html.count('type="radio" name="q21"') == 6 and html.count('type="radio" name="q13"') == 2
    assert "Vigorous activities, such as running" in html and "My health is excellent" in html
    assert "developed at RAND as part of the Medical Outcomes Study" in html
    # patient-facing: no navigation, no user bar, no record of the patient beyond the code
    assert 'aria-label="Main"' not in html and "Log out" not in html
    assert "Febrile neutropenia" not in html and "SLEDAI" not in html and "audit" not in html.lower()


def test_saving_shows_the_eight_scales_and_is_audited(web: Web) -> None:
    client, token = web.login("inv_a")
    code, visit = web.ids["SA"]["patient"], web.ids["SA"]["visit"]
    saved = client.post(
        f"/patients/{code}/pro/new", data=_form(token, visit_id=str(visit)), follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    assert page.status_code == 200
    for scale, expected in BY_HAND.items():
        row = re.search(rf'data-scale="{scale}"><td>[^<]+</td><td class="num">([^<]+)</td>', page.text)
        assert row and float(row.group(1)) == pytest.approx(expected, abs=0.05), scale
    assert "Staff: back to the patient page" in page.text and 'aria-label="Main"' not in page.text
    registry = web.client().app.state.lc.registry
    stored = registry.list_records("pro_assessment", patient_code=code)
    assert len(stored) == 1 and stored[0]["responses"] == RESPONSES and stored[0]["visit_id"] == visit
    assert stored[0]["patient_global_assessment"] == 4
    audit = registry.history("pro_assessment", stored[0]["id"])
    assert [(r["action"], r["actor"], r["reason"]) for r in audit] == [
        ("create", "inv_a", "entered on the tablet form")
    ]
    patient = client.get(f"/patients/{code}")
    assert 'id="h-pro"' in patient.text and "RAND-36 scales of patient" in patient.text
    assert f'href="/patients/{code}/pro/new"' in patient.text
    assert "75.0" in patient.text  # physical functioning in the table


def test_rejected_form_keeps_answers_and_names_the_item(web: Web) -> None:
    client, token = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    bad = client.post(
        f"/patients/{code}/pro/new", data=_form(token, q3="7", q14="x", patient_global_assessment="11")
    )
    assert bad.status_code == 422
    assert "answer 7 is not one of the 3 answers of q3" in bad.text
    assert "q14" in bad.text and "11 is outside the range [0, 10]" in bad.text
    assert 'name="q21" value="3" checked' in bad.text  # the other answers are kept
    assert web.client().app.state.lc.registry.list_records("pro_assessment") == []
    partial = {"csrf_token": token, "assessment_date": "2022-07-11", "completed_by": "staff", "q21": "6"}
    saved = client.post(f"/patients/{code}/pro/new", data=partial, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert re.search(r'data-scale="pain"><td>Pain</td><td class="num">0.0<', page)
    assert re.search(r'data-scale="general_health"><td>General health</td><td class="num">not scored<', page)


def test_roles_csrf_and_sites(web: Web) -> None:
    code_a, code_b = web.ids["SA"]["patient"], web.ids["SB"]["patient"]
    monitor, token = web.login("mon_a")
    assert monitor.get(f"/patients/{code_a}/pro/new").status_code == 403
    assert monitor.post(f"/patients/{code_a}/pro/new", data=_form(token)).status_code == 403
    coord, token = web.login("coord_a")
    assert coord.get(f"/patients/{code_b}/pro/new").status_code == 404
    assert coord.post(f"/patients/{code_b}/pro/new", data=_form(token)).status_code == 404
    no_csrf = coord.post(f"/patients/{code_a}/pro/new", data=_form("wrong"))
    assert no_csrf.status_code == 403
    other_visit = coord.post(
        f"/patients/{code_a}/pro/new", data=_form(token, visit_id=str(web.ids["SB"]["visit"]))
    )
    assert other_visit.status_code == 422 and "unknown visit" in other_visit.text
    assert web.client().app.state.lc.registry.list_records("pro_assessment") == []


def test_the_item_wording_file_matches_the_scoring() -> None:
    sections = pro_form.sections()
    items = [item for section in sections for item in section["items"]]
    assert [i["number"] for i in items] == list(range(1, 37))
    assert items[0]["answers"][0] == (1, "Excellent") and len(items[20]["answers"]) == 6
    assert items[31]["answers"][2] == (3, "Some of the time")  # q32: five answers, no "a good bit"


def test_docs_page_is_linked_and_names_the_licensed_instruments() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "data_management"
    page = (docs / "patient_reported_outcomes.md").read_text(encoding="utf-8")
    for name in ("LupusQoL", "LupusPRO", "FACIT-Fatigue", "PROMIS-29"):
        assert f"| {name} (" in page, name
    assert "builds **none that needs a licence**" in page and "Hays RD, Sherbourne CD, Mazel RM" in page
    assert "(patient_reported_outcomes.md)" in (docs / "index.md").read_text(encoding="utf-8")
    for image in ("pro_form.png", "pro_scores.png", "pro_timeline.png"):
        assert (docs / "img" / image).stat().st_size > 10_000
