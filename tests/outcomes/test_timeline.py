"""Day 0, study day, last known alive and end of follow-up (:mod:`lupuscell.outcomes.timeline`)."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import numpy as np
import pandas as pd

from lupuscell import vocab
from lupuscell.instruments import cellular_toxicity, gvhd
from lupuscell.outcomes import timeline
from lupuscell.outcomes.definitions import AE_GRADING_SYSTEMS, CTCAE_V5
from lupuscell.outcomes.json_input import Therapy
from lupuscell.registry import views

D0 = pd.Timestamp("2024-01-01")


def day(n: int) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=n)


def test_study_day_counts_day0_as_0_and_is_none_when_unknown() -> None:
    d0 = dt.date(2024, 1, 1)
    assert timeline.study_day(d0, d0) == 0
    assert timeline.study_day(dt.date(2023, 12, 31), d0) == -1
    assert timeline.study_day(dt.date(2024, 4, 10), d0) == 100
    assert timeline.study_day(None, d0) is None and timeline.study_day(d0, None) is None
    assert views.study_day is timeline.study_day  # the registry views use this one


def test_index_course_is_the_first_infusion_ties_in_recorded_order() -> None:
    courses = pd.DataFrame(
        {
            "patient_id": ["A", "A", "B", "B"],
            "infusion_date": [day(30), day(0), day(5), day(5)],
            "therapy": ["msc", "autologous_hsct", "car_t", "msc"],
        }
    )
    index = timeline.index_courses(courses)
    assert index.loc["A", "therapy"] == "autologous_hsct" and index.loc["A", "infusion_date"] == D0
    assert index.loc["B", "therapy"] == "car_t"  # same day: the first recorded
    assert timeline.day0_by_patient(courses).to_dict() == {"A": D0, "B": day(5)}


def test_day0_of_one_patient_is_the_vectorised_day0() -> None:
    rng = np.random.default_rng(3)
    base = dt.date(2020, 1, 1)
    for _ in range(50):
        dates = [base + dt.timedelta(days=int(d)) for d in rng.integers(0, 40, size=rng.integers(1, 5))]
        frame = pd.DataFrame({"patient_id": 1, "infusion_date": dates})
        assert timeline.day0_of(dates) == timeline.day0_by_patient(frame).iloc[0].date()
    assert timeline.day0_of([]) is None and timeline.day0_of([None]) is None


def test_first_death_is_the_earliest() -> None:
    events = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A"],
            "event_type": ["last_contact", "death", "death"],
            "event_date": [day(300), day(200), day(150)],
            "cause": [None, "sepsis", "cardiac"],
        }
    )
    first = timeline.first_deaths(events)
    assert first.loc["A", "event_date"] == day(150) and first.loc["A", "cause"] == "cardiac"


def _follow(day0: dict, deaths: dict, alive: list[tuple[str, pd.Timestamp]]) -> pd.DataFrame:
    ids = pd.Index(["ALIVE", "DEAD", "NO_COURSE", "NOTHING", "EARLY_DEATH"])
    return timeline.follow_up(
        ids,
        pd.Series(day0, dtype="datetime64[ns]"),
        pd.Series(deaths, dtype="datetime64[ns]"),
        pd.DataFrame(alive, columns=["patient_id", "date"]),
    )


def test_follow_up_of_each_kind_of_patient() -> None:
    out = _follow(
        {"ALIVE": D0, "DEAD": D0, "NOTHING": D0, "EARLY_DEATH": D0},
        {"DEAD": day(90), "EARLY_DEATH": day(-3)},
        [("ALIVE", day(200)), ("ALIVE", day(260)), ("ALIVE", day(-20)), ("DEAD", day(80)),
         ("DEAD", day(120)), ("NO_COURSE", day(50))],
    )  # fmt: skip
    alive, dead = out.loc["ALIVE"], out.loc["DEAD"]
    assert (alive["end_day"], alive["last_alive_day"], alive["dead"]) == (260, 260, False)
    assert alive["end_date"] == day(260)
    # a record after death never extends follow-up nor the last known alive date
    assert (dead["end_day"], dead["last_alive_day"], dead["death_day"], dead["dead"]) == (90, 90, 90, True)
    no_course = out.loc["NO_COURSE"]
    assert pd.isna(no_course["day0"]) and np.isnan(no_course["end_day"])
    assert no_course["end_date"] == day(50)  # known alive, but no study days without day 0
    assert out.loc["NOTHING", "end_day"] == 0  # the infusion itself proves the patient alive
    early = out.loc["EARLY_DEATH"]
    assert early["end_day"] == 0 and early["death_day"] == -3  # never a negative follow-up
    assert tuple(out.columns) == timeline.FOLLOW_UP_COLUMNS


def test_alive_dates_read_every_source_but_death() -> None:
    frames = {
        "therapy_courses": pd.DataFrame({"patient_code": ["A"], "infusion_date": [day(0)]}),
        "visits": pd.DataFrame({"patient_code": ["A", "A"], "visit_date": [day(30), day(90)]}),
        "lab_results": pd.DataFrame({"patient_code": ["A"], "result_date": [day(95)]}),
        "adverse_events": pd.DataFrame(
            {"patient_code": ["A"], "onset_date": [day(97)], "resolution_date": [day(110)]}
        ),
        "drug_administrations": pd.DataFrame({"patient_code": ["A"], "admin_date": [day(100)]}),
        "clinical_events": pd.DataFrame(
            {"patient_code": ["A", "A"], "event_type": ["flare", "death"], "event_date": [day(105), day(400)]}
        ),
    }
    dates = timeline.alive_dates(frames)
    assert dates.groupby("patient_code")["date"].max()["A"] == day(110)  # AE resolution
    assert day(400) not in set(dates["date"])  # death is not "alive"
    assert len(dates) == len(timeline.ALIVE_SOURCES)  # one latest date per source
    del frames["adverse_events"]
    assert timeline.alive_dates(frames).groupby("patient_code")["date"].max()["A"] == day(105)
    assert timeline.alive_dates({}).empty


def test_json_vocabularies_come_from_one_source() -> None:
    assert get_args(Therapy) == vocab.THERAPIES
    assert AE_GRADING_SYSTEMS == (CTCAE_V5, cellular_toxicity.GRADING_SYSTEM, gvhd.GRADING_SYSTEM)
