"""The calendar and its status rule, on hand-worked examples; the cohort (vectorised) path equals
the per-patient one."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from schedule_sample import inline_template  # type: ignore[import-not-found]

from lupuscell.schedules import anchor_dates, calendar_frame, load_template, parse_template, patient_calendar

D0 = dt.date(2020, 1, 1)


def _status(template: str, visits: list[dt.date], today: dt.date, **anchors: dt.date | None) -> dict[str, str]:
    chosen = {"day0": D0, **anchors}
    calendar = patient_calendar(load_template(template), chosen, visits, today)
    return {f"{v.visit_id}#{v.occurrence}": v.status for v in calendar}


def test_cibmtr_calendar_worked_example() -> None:
    # day 0 = 2020-01-01: day +100 = 2020-04-10 (window 03-26..04-25); month 6 = day 180 = 2020-06-29
    calendar = patient_calendar(load_template("cibmtr"), {"day0": D0}, [dt.date(2020, 4, 5)], dt.date(2020, 8, 1))
    first, second = calendar[0], calendar[1]
    assert (first.visit_id, first.target_date, first.window_start, first.window_end) == (
        "day100", dt.date(2020, 4, 10), dt.date(2020, 3, 26), dt.date(2020, 4, 25)
    )
    assert (first.status, first.visit_date) == ("done", dt.date(2020, 4, 5))
    month6 = ("month6", dt.date(2020, 6, 29), dt.date(2020, 7, 29))
    assert (second.visit_id, second.target_date, second.window_end) == month6
    assert second.status == "overdue"  # window closed 07-29, year 1 window opens 12-31
    assert [v.label for v in calendar[2:]] == ["Year 1"]  # repeating visits: up to a year ahead


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2020, 3, 25), "upcoming"),  # the day before the window opens
        (dt.date(2020, 3, 26), "due"),  # window opens (day 85)
        (dt.date(2020, 4, 25), "due"),  # window closes (day 115), still due that day
        (dt.date(2020, 4, 26), "overdue"),  # day 116
        (dt.date(2020, 5, 29), "overdue"),  # the day before month 6's window opens (day 150 = 05-30)
        (dt.date(2020, 5, 30), "missed"),
    ],
)
def test_status_of_an_unsatisfied_visit_by_date(today: dt.date, expected: str) -> None:
    assert _status("cibmtr", [], today)["day100#1"] == expected


def test_the_last_planned_visit_is_missed_after_the_templates_grace() -> None:
    template = parse_template(
        """
name: t
title: T
version: "1"
summary: s
missed_after_days: 10
sources: [{id: src, citation: c}]
visits:
  - {id: only, label: Only, day: 30, window: {before: 2, after: 2}, source: src}
"""
    )
    days = (32, 33, 42, 43)
    statuses = [patient_calendar(template, {"day0": D0}, [], D0 + dt.timedelta(days=d))[0].status for d in days]
    assert statuses == ["due", "overdue", "overdue", "missed"]


def test_the_closest_recorded_visit_wins_and_counts_once() -> None:
    template = inline_template(
        """\
  - {id: a, label: A, day: 10, window: {before: 5, after: 5}, source: src}
  - {id: b, label: B, day: 14, window: {before: 5, after: 5}, source: src}
"""
    )
    day = lambda n: D0 + dt.timedelta(days=n)  # noqa: E731
    # 9 and 12 both lie in A's window (5..15): A (target 10) takes the closest, 9; 12 is left to B
    calendar = patient_calendar(template, {"day0": D0}, [day(9), day(12)], day(30))
    assert [(v.visit_id, v.visit_date) for v in calendar] == [("a", day(9)), ("b", day(12))]
    # one recorded visit in both windows satisfies only the earlier planned visit
    calendar = patient_calendar(template, {"day0": D0}, [day(12)], day(30))
    assert [(v.visit_id, v.status, v.visit_date) for v in calendar] == [("a", "done", day(12)), ("b", "overdue", None)]
    # a tie in distance goes to the earlier date; outside every window counts for nothing
    calendar = patient_calendar(template, {"day0": D0}, [day(8), day(12), day(40)], day(60))
    assert [v.visit_date for v in calendar] == [day(8), day(12)]


def test_no_visit_is_planned_after_death() -> None:
    died = dt.date(2021, 6, 1)
    calendar = patient_calendar(load_template("ebmt"), {"day0": D0}, [], dt.date(2025, 1, 1), death_date=died)
    assert [(v.visit_id, v.occurrence) for v in calendar] == [("day100", 1), ("annual", 1)]


def test_repeating_visits_are_planned_a_year_ahead_and_stop_at_until() -> None:
    calendar = patient_calendar(load_template("ebmt"), {"day0": D0}, [], dt.date(2023, 6, 1))
    annual = [v for v in calendar if v.visit_id == "annual"]
    assert annual[-1].target_date <= dt.date(2024, 6, 1) < annual[-1].target_date + dt.timedelta(days=365)
    cibmtr = patient_calendar(load_template("cibmtr"), {"day0": D0}, [], dt.date(2040, 1, 1))
    assert [v.label for v in cibmtr if v.visit_id == "annual"] == ["Year 2", "Year 3", "Year 4", "Year 5", "Year 6"]
    assert [v.label for v in cibmtr if v.visit_id == "biennial"][:3] == ["Year 8", "Year 10", "Year 12"]


def test_anchors_other_than_day0() -> None:
    hsct = patient_calendar(
        load_template("hsct_refractory_sle"), {"day0": D0, "course:mobilisation_date": dt.date(2019, 11, 10)},
        [dt.date(2019, 10, 20)], dt.date(2020, 2, 1),
    )  # fmt: skip
    baseline = hsct[0]
    assert (baseline.visit_id, baseline.target_date, baseline.window_start) == (
        "baseline", dt.date(2019, 11, 10), dt.date(2019, 10, 11)
    )
    assert baseline.status == "done"
    without = patient_calendar(load_template("hsct_refractory_sle"), {"day0": D0}, [], dt.date(2020, 2, 1))
    assert "baseline" not in {v.visit_id for v in without}  # no mobilisation date: not planned


def test_a_visit_anchored_on_another_counts_from_the_date_it_was_done() -> None:
    template = inline_template(
        """\
  - {id: infusion2, label: Second infusion check, day: 7, window: {before: 3, after: 3}, source: src}
  - {id: after2, label: 4 weeks after it, day: 28, window: {before: 2, after: 2}, anchor: "visit:infusion2",
     source: src}
"""
    )
    done = patient_calendar(template, {"day0": D0}, [dt.date(2020, 1, 10)], dt.date(2020, 3, 1))
    assert done[1].target_date == dt.date(2020, 2, 7)  # 2020-01-10 + 28
    not_done = patient_calendar(template, {"day0": D0}, [], dt.date(2020, 3, 1))
    assert not_done[1].target_date == dt.date(2020, 2, 5)  # target of infusion2 (01-08) + 28


def test_anchor_dates_use_the_index_course_and_the_first_event_after_day0() -> None:
    courses = pd.DataFrame(
        {
            "patient_id": [1, 1, 2],
            "infusion_date": pd.to_datetime(["2021-05-01", "2020-03-01", "2022-01-10"]),
            "discharge_date": pd.to_datetime(["2021-05-20", "2020-03-25", None]),
        }
    )
    events = pd.DataFrame(
        {
            "patient_id": [1, 1, 1],
            "event_type": ["relapse", "relapse", "flare"],
            "event_date": pd.to_datetime(["2019-01-01", "2020-09-01", "2020-02-01"]),
        }
    )
    anchors = anchor_dates(courses, events)
    assert anchors.loc[1, "day0"] == pd.Timestamp("2020-03-01")  # the first infusion, not the first row
    assert anchors.loc[1, "course:discharge_date"] == pd.Timestamp("2020-03-25")
    assert anchors.loc[1, "event:relapse"] == pd.Timestamp("2020-09-01")  # the 2019 one is before day 0
    assert pd.isna(anchors.loc[1, "event:flare"]) and pd.isna(anchors.loc[2, "course:discharge_date"])


def test_the_cohort_calendar_equals_one_patient_at_a_time() -> None:
    rng = random.Random(4)
    template = load_template("cibmtr")
    today = dt.date(2026, 1, 1)
    day0 = {k: D0 + dt.timedelta(days=rng.randrange(0, 2000)) for k in range(150)}
    visits = {
        k: [d + dt.timedelta(days=rng.randrange(60, 2400)) for _ in range(rng.randrange(0, 12))]
        for k, d in day0.items()
    }
    death = {k: d + dt.timedelta(days=rng.randrange(50, 3000)) for k, d in day0.items() if rng.random() < 0.2}
    anchors = pd.DataFrame({"day0": pd.to_datetime(pd.Series(day0))})
    recorded = pd.DataFrame([(k, pd.Timestamp(d)) for k, ds in visits.items() for d in ds], columns=["key", "date"])
    frame = calendar_frame(template, anchors, recorded, today, pd.to_datetime(pd.Series(death, dtype=object)))
    for key in day0:
        mine = frame[frame["key"] == key]
        alone = patient_calendar(template, {"day0": day0[key]}, visits[key], today, death.get(key))
        assert list(mine["status"]) == [v.status for v in alone], key
        assert [None if pd.isna(d) else d.date() for d in mine["visit_date"]] == [v.visit_date for v in alone]
