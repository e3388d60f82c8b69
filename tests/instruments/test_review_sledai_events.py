"""Review: SLEDAI-2K arthritis joint count vs dated events, and monotonicity beyond the checklist.

The descriptors path rejects a tick that contradicts ``tender_or_swollen_inflamed_joint_count``;
the events path silently dropped an in-window arthritis event instead.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.sledai2k import DESCRIPTORS, SEROLOGY, WEIGHTS, score_sledai_2k


def test_in_window_arthritis_event_contradicting_count_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        score_sledai_2k(
            {
                "events": [{"descriptor": "arthritis", "days_before_visit": 1}],
                "tender_or_swollen_inflamed_joint_count": 1,
            }
        )
    assert "arthritis" in str(err.value)
    assert "tender_or_swollen_inflamed_joint_count" in str(err.value)


def test_out_of_window_arthritis_event_does_not_contradict_count() -> None:
    result = score_sledai_2k(
        {
            "events": [{"descriptor": "arthritis", "days_before_visit": 11}],
            "tender_or_swollen_inflamed_joint_count": 1,
        }
    )
    assert result["sledai_2k"] == 0


def test_events_path_count_without_event_scores_arthritis() -> None:
    result = score_sledai_2k({"events": [], "tender_or_swollen_inflamed_joint_count": 2})
    assert result["sledai_2k"] == 4


states = st.sampled_from([True, False, None])
partial_sets = st.dictionaries(st.sampled_from(DESCRIPTORS), states)


@settings(max_examples=150, deadline=None)
@given(partial_sets, st.sampled_from(DESCRIPTORS))
def test_adding_a_descriptor_never_lowers_the_range(ticks: dict[str, bool | None], extra: str) -> None:
    """With unassessed (null) descriptors the score is a range; ticking one more never lowers it."""
    before = score_sledai_2k({"descriptors": ticks})
    after = score_sledai_2k({"descriptors": {**ticks, extra: True}})

    def bounds(r: object) -> tuple[int, int, int, int]:
        v = r.values  # type: ignore[attr-defined]
        if v["sledai_2k"] is not None:
            return v["sledai_2k"], v["sledai_2k"], v["clinical_sledai"], v["clinical_sledai"]
        return v["sledai_2k_min"], v["sledai_2k_max"], v["clinical_sledai_min"], v["clinical_sledai_max"]

    b, a = bounds(before), bounds(after)
    assert a[0] >= b[0] and a[1] >= b[1] and a[2] >= b[2] and a[3] >= b[3]
    # clinical never exceeds full at either end, and the gap is at most the serology weight
    for lo, hi, clo, chi in (a, b):
        assert clo <= lo <= hi <= 105 and clo <= chi <= hi <= 105
        assert lo - clo <= sum(WEIGHTS[k] for k in SEROLOGY)


events = st.lists(
    st.fixed_dictionaries(
        {"descriptor": st.sampled_from(DESCRIPTORS), "days_before_visit": st.integers(0, 40)}
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(events, st.sampled_from(DESCRIPTORS), st.integers(0, 40), st.sampled_from([10, 30]))
def test_adding_an_event_never_lowers_the_score(
    evs: list[dict[str, object]], extra: str, days: int, window: int
) -> None:
    before = score_sledai_2k({"events": evs, "window_days": window})
    after = score_sledai_2k(
        {"events": [*evs, {"descriptor": extra, "days_before_visit": days}], "window_days": window}
    )
    assert after["sledai_2k"] >= before["sledai_2k"]
    assert after["clinical_sledai"] >= before["clinical_sledai"]
    assert after["clinical_sledai"] <= after["sledai_2k"]
    gained = after["sledai_2k"] - before["sledai_2k"]
    in_window = days <= window and extra not in before["active_descriptors"]
    assert gained == (WEIGHTS[extra] if in_window else 0)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(DESCRIPTORS), st.booleans()), st.sampled_from(DESCRIPTORS))
def test_selena_adding_a_new_descriptor_never_lowers_the_score(ticks: dict[str, bool], extra: str) -> None:
    flags = {"proteinuria": True, "rash": False, "alopecia": True, "mucosal_ulcers": False}
    base = {"instrument_version": "selena_sledai", "new_or_worse": flags}
    before = score_sledai_2k({**base, "descriptors": ticks})
    after = score_sledai_2k({**base, "descriptors": {**ticks, extra: True}})
    assert after["sledai_2k"] >= before["sledai_2k"]
    assert after["clinical_sledai"] <= after["sledai_2k"]
