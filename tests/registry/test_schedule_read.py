"""Visit calendars read from the registry (SQLite and PostgreSQL): one patient, overdue visits per
site in one call, the template chosen from the index course's protocol, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from registry_sample import ACTOR  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.repository import Registry
from lupuscell.registry.schedule_read import overdue_visits, patient_schedule

runner = CliRunner()
TODAY = dt.date(2021, 2, 1)


def _patient(registry: Registry, code: str, site: str, infusion: str, visits: list[str], **course: Any) -> None:
    registry.create("patient", {"code": code, "site_code": site, "sex": "F", "birth_year": 1980}, actor=ACTOR)
    registry.create(
        "therapy_course",
        {"patient_code": code, "therapy": "autologous_hsct", "infusion_date": infusion, **course},
        actor=ACTOR,
    )
    for date in visits:
        registry.create("visit", {"patient_code": code, "visit_date": date}, actor=ACTOR)


@pytest.fixture
def cohort(engine: Engine) -> Engine:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    registry.create("site", {"code": "NW", "name": "Northwestern"}, actor=ACTOR)
    # day 0 2020-01-01: day +100 done (04-05), year 1 (2020-12-31, window 11-16..2021-02-14) due on TODAY
    _patient(registry, "KI-0001", "KI", "2020-01-01", ["2020-04-05"])
    # day 0 2019-06-01: day +100 (09-09) missed, year 1 (2020-05-31, window ..07-15) overdue on TODAY
    _patient(registry, "KI-0002", "KI", "2019-06-01", [])
    # same dates at the other site, protocol with its own template (CAR-T assessments)
    _patient(registry, "NW-0001", "NW", "2019-06-01", [], protocol_id="cart19_refractory_sle")
    registry.create("patient", {"code": "NW-0002", "site_code": "NW", "sex": "M", "birth_year": 1990}, actor=ACTOR)
    return engine


def test_a_patients_calendar(cohort: Engine) -> None:
    result = patient_schedule(cohort, "KI-0001", today=TODAY)
    assert (result["template"], result["day0"]) == ("ebmt", dt.date(2020, 1, 1))
    rows = [(v["visit_id"], v["target_date"], v["status"], v["visit_date"]) for v in result["visits"]]
    assert rows[:2] == [
        ("day100", dt.date(2020, 4, 10), "done", dt.date(2020, 4, 5)),
        ("annual", dt.date(2020, 12, 31), "due", None),
    ]
    assert patient_schedule(cohort, "NW-0002", today=TODAY)["visits"] == []  # no course: no day 0


def test_overdue_visits_per_site_in_one_call(cohort: Engine) -> None:
    rows = overdue_visits(cohort, today=TODAY)
    assert [(r["site_code"], r["patient_code"], r["template"], r["visit_id"]) for r in rows] == [
        ("KI", "KI-0002", "ebmt", "annual"),
        ("NW", "NW-0001", "cart19_refractory_sle", "semiannual"),
    ]
    assert rows[0]["days_overdue"] == (TODAY - dt.date(2020, 7, 15)).days
    assert [r["patient_code"] for r in overdue_visits(cohort, sites=["KI"], today=TODAY)] == ["KI-0002"]
    assert overdue_visits(cohort, sites=["XX"], today=TODAY) == []
    with_missed = overdue_visits(cohort, sites=["KI"], today=TODAY, statuses=("overdue", "missed"))
    assert [(r["visit_id"], r["status"]) for r in with_missed] == [("day100", "missed"), ("annual", "overdue")]
    forced = overdue_visits(cohort, sites=["NW"], template="ebmt", today=TODAY)
    assert [(r["patient_code"], r["template"]) for r in forced] == [("NW-0001", "ebmt")]


def _cli(engine: Engine, *args: str) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    return runner.invoke(app, ["schedule", *args, "--db", url, "--today", TODAY.isoformat()])


def test_schedule_cli(cohort: Engine) -> None:
    shown = _cli(cohort, "--patient", "KI-0001", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["visits"][0]["status"] == "done"
    table = _cli(cohort, "--patient", "KI-0002")
    assert table.exit_code == 0 and "missed" in table.stdout and "overdue" in table.stdout
    overdue = _cli(cohort, "overdue", "--site", "KI", "--json")
    assert overdue.exit_code == 0, overdue.output
    assert [r["patient_code"] for r in json.loads(overdue.stdout)] == ["KI-0002"]
    assert _cli(cohort, "--patient", "ZZ-0404").exit_code == 2
    assert _cli(cohort, "overdue", "--template", "moon").exit_code == 2
    assert runner.invoke(app, ["schedule", "--patient", "KI-0001", "--today", "1st May"]).exit_code == 2
