"""Neutrophil and platelet engraftment (CIBMTR / ASTCT 2021; spec 11.2)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.labs import (
    EngraftmentInput,
    neutrophil_engraftment,
    neutrophil_engraftment_day,
    platelet_engraftment,
    platelet_engraftment_day,
    score_engraftment,
)

# CIBMTR Forms Instruction Manual, "Reporting Platelet Recovery" example (counts x10^9/L,
# days 0..10); with a platelet transfusion on day 0 the reported date is day 7.
CIBMTR_DAYS = list(range(11))
CIBMTR_PLATELETS = [10, 35, 30, 25, 10, 15, 19, 23, 25, 40, 50]


def test_cibmtr_platelet_worked_example() -> None:
    assert platelet_engraftment_day(CIBMTR_DAYS, CIBMTR_PLATELETS, [0]) == 7
    # without the transfusion the day 1-3 run would (wrongly) count
    assert platelet_engraftment_day(CIBMTR_DAYS, CIBMTR_PLATELETS) == 1


def test_platelet_seven_day_window_edges() -> None:
    days = list(range(20))
    plt = [10.0] * 6 + [30.0] * 14
    # transfusion on day 5: days 5..11 supported, 12 is the first eligible count
    assert platelet_engraftment_day(days, plt, [5]) == 12
    assert platelet_engraftment_day(days, plt, [5], transfusion_free_days=3) == 8
    # 7-consecutive variant
    assert platelet_engraftment_day(days, plt, [5], consecutive=7) == 12
    assert platelet_engraftment_day(days[:18], plt[:18], [5], consecutive=7) is None
    assert platelet_engraftment_day(days[:19], plt[:19], [5], consecutive=7) == 12


def test_platelet_never_below_and_never_transfused() -> None:
    assert platelet_engraftment(list(range(5)), [150, 120, 90, 60, 40], []) == (None, "never_below")
    # one transfusion is enough to make recovery reportable
    day, status = platelet_engraftment(list(range(12)), [150] * 12, [0])
    assert (day, status) == (7, "engrafted")


def test_platelet_not_reached() -> None:
    assert platelet_engraftment(list(range(6)), [10, 25, 25, 10, 25, 25], []) == (None, "not_reached")


def test_neutrophil_nadir_rule() -> None:
    days = list(range(16))
    anc = [3.0, 2.0, 0.6, 0.7, 0.8, 0.2, 0.0, 0.0, 0.1, 0.5, 0.6, 0.4, 0.5, 0.5, 0.7, 1.0]
    # the run on days 2-4 is before the nadir (day 6, earliest of the tie) and does not count;
    # 9-10 is broken by day 11; 12-14 is the first run of 3
    day, status, nadir = neutrophil_engraftment(days, anc)
    assert (day, status, nadir) == (12, "engrafted", 6)
    assert neutrophil_engraftment_day(days, anc, consecutive=1) == 9  # single-day variant
    # exactly 0.5 counts (>= 0.5)
    assert neutrophil_engraftment_day([0, 1, 2, 3], [0.1, 0.5, 0.5, 0.5]) == 1


def test_neutrophil_never_below() -> None:
    assert neutrophil_engraftment([0, 1, 2], [2.0, 1.0, 0.5]) == (None, "never_below", 2)
    assert neutrophil_engraftment_day([0, 1, 2], [2.0, 1.0, 0.5]) is None


def test_calendar_gaps_break_runs_unless_relaxed() -> None:
    days = [0, 1, 2, 4, 5, 7]
    anc = [0.1, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert neutrophil_engraftment_day(days, anc) is None
    assert neutrophil_engraftment_day(days, anc, require_consecutive_days=False) == 1
    days = [0, 1, 2, 3, 4]
    anc = [0.1, 0.6, math.nan, 0.8, 0.9]  # an unmeasured day breaks the calendar run
    assert neutrophil_engraftment_day(days, anc) is None
    assert neutrophil_engraftment_day(days, anc, require_consecutive_days=False) == 1


def test_length_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="anc has 2 values but days has 3"):
        neutrophil_engraftment_day([0, 1, 2], [0.1, 0.2])


# ---- reference implementation written from the spec text, for property tests ----------------
def _ref_neutrophil(days: list[int], anc: list[float]) -> int | None:
    finite = [(v, i) for i, v in enumerate(anc) if not math.isnan(v)]
    if not finite or min(finite)[0] >= 0.5:
        return None
    nadir = min(finite)[1]  # min value, earliest index on a tie
    by_day = {d: v for d, v in zip(days, anc, strict=True)}
    for d in days[nadir:]:
        if all(by_day.get(d + k, math.nan) >= 0.5 for k in range(3)):
            return d
    return None


def _ref_platelet(days: list[int], plt: list[float], tx: list[int], run: int) -> int | None:
    lows = [d for d, v in zip(days, plt, strict=True) if v < 20]
    starts = lows[:1] + sorted(tx)[:1]
    if not starts:
        return None
    start = min(starts)
    by_day = dict(zip(days, plt, strict=True))

    def eligible(d: int) -> bool:
        return by_day.get(d, math.nan) >= 20 and not any(d - 6 <= t <= d for t in tx)

    for d in days:
        if d >= start and all(eligible(d + k) for k in range(run)):
            return d
    return None


series = st.integers(3, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 2), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.0, 0.1, 0.4, 0.5, 0.6, 1.0, 3.0, math.nan]), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(series)
def test_neutrophil_matches_reference(data: tuple[list[int], list[float]]) -> None:
    steps, anc = data
    days = [sum(steps[:i]) for i in range(len(steps))]  # gaps of 1 or 2 days
    assert neutrophil_engraftment_day(days, anc) == _ref_neutrophil(days, anc)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([5.0, 19.0, 20.0, 25.0, 60.0]), min_size=3, max_size=40),
    st.lists(st.integers(0, 40), max_size=3),
    st.sampled_from([3, 7]),
)
def test_platelet_matches_reference(plt: list[float], tx: list[int], run: int) -> None:
    days = list(range(len(plt)))
    got = platelet_engraftment_day(days, plt, tx, consecutive=run)
    assert got == _ref_platelet(days, plt, tx, run)


# ---- the catalog instrument ------------------------------------------------------------------
def test_score_engraftment_fields_and_graft_failure() -> None:
    days = list(range(35))
    anc = [0.1] * 35
    r = score_engraftment({"days": days, "anc_10e9_l": anc})
    assert r["neutrophil_engraftment_day"] is None
    assert r["neutrophil_engraftment_status"] == "not_reached"
    assert r["primary_graft_failure"] is True
    assert r["primary_graft_failure_cutoff_day"] == 30
    # cord blood: +42, series too short to tell
    r = score_engraftment({"days": days, "anc_10e9_l": anc, "graft_source": "cord_blood"})
    assert r["primary_graft_failure"] is None
    # engrafted on day 30 exactly: no graft failure
    anc2 = [0.1] * 30 + [0.6] * 5
    r = score_engraftment({"days": days, "anc_10e9_l": anc2})
    assert (r["neutrophil_engraftment_day"], r["primary_graft_failure"]) == (30, False)
    # day 31: graft failure by the ANC criterion
    anc3 = [0.1] * 31 + [0.6] * 4
    assert score_engraftment({"days": days, "anc_10e9_l": anc3})["primary_graft_failure"] is True


def test_score_engraftment_platelets_both_variants_and_null_values() -> None:
    plt: list[float | None] = [*CIBMTR_PLATELETS, 60, None, 80, 85, 90]
    r = score_engraftment(
        {"days": list(range(16)), "platelets_10e9_l": plt, "platelet_transfusion_days": [0]}
    )
    d = r.to_dict()
    assert d["platelet_engraftment_day_3_consecutive"] == 7
    assert d["platelet_engraftment_day_7_consecutive"] is None  # day 12 not measured breaks the 7-run
    assert d["version"] == "cibmtr_astct_2021"
    assert "neutrophil_engraftment_day" not in d


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"days": [0, 1, 1], "anc_10e9_l": [0.1, 0.2, 0.3]}, "days"),
        ({"days": [0, 1], "anc_10e9_l": [0.1, -0.2]}, "anc_10e9_l.1"),
        ({"days": [0, 1]}, "(input)"),
        ({"days": [0, 1], "platelets_10e9_l": [5.0]}, "platelets_10e9_l"),
        ({"days": [0, 1.5], "anc_10e9_l": [0.1, 0.2]}, "days.1"),
        ({"days": [], "anc_10e9_l": []}, "days"),
        ({"days": [0], "anc_10e9_l": [0.1], "graft_source": "liver"}, "graft_source"),
    ],
)
def test_bad_input(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(EngraftmentInput, data)
    assert exc.value.problems[0].field == field
