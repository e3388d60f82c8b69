"""SLEDAI-2K, clinical SLEDAI, windows, SELENA variant and arthritis rule (spec section 1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.sledai2k import (
    DESCRIPTORS,
    SEROLOGY,
    WEIGHTS,
    score_sledai_2k,
)

# Transcribed independently from spec section 1.1 (key, weight), in spec order.
SPEC_TABLE = [
    ("seizure", 8),
    ("psychosis", 8),
    ("organic_brain_syndrome", 8),
    ("visual_disturbance", 8),
    ("cranial_nerve_disorder", 8),
    ("lupus_headache", 8),
    ("cva", 8),
    ("vasculitis", 8),
    ("arthritis", 4),
    ("myositis", 4),
    ("urinary_casts", 4),
    ("hematuria", 4),
    ("proteinuria", 4),
    ("pyuria", 4),
    ("rash", 2),
    ("alopecia", 2),
    ("mucosal_ulcers", 2),
    ("pleurisy", 2),
    ("pericarditis", 2),
    ("low_complement", 2),
    ("increased_dna_binding", 2),
    ("fever", 1),
    ("thrombocytopenia", 1),
    ("leukopenia", 1),
]


def test_descriptor_order_and_weights_match_spec() -> None:
    assert [k for k, _ in SPEC_TABLE] == list(DESCRIPTORS)
    assert dict(SPEC_TABLE) == dict(WEIGHTS)
    assert SEROLOGY == ("low_complement", "increased_dna_binding")


@pytest.mark.parametrize(("key", "weight"), SPEC_TABLE)
def test_each_descriptor_scores_its_weight(key: str, weight: int) -> None:
    result = score_sledai_2k({"descriptors": {key: True}})
    assert result["sledai_2k"] == weight
    assert result["clinical_sledai"] == (0 if key in SEROLOGY else weight)
    assert [(i.name, i.points) for i in result.items] == [(key, weight)]
    assert result.complete


def test_all_descriptors_give_105_and_clinical_101() -> None:
    result = score_sledai_2k({"descriptors": dict.fromkeys(DESCRIPTORS, True)})
    assert result["sledai_2k"] == 105
    assert result["clinical_sledai"] == 101


def test_absent_and_false_descriptors_do_not_score() -> None:
    result = score_sledai_2k({"descriptors": {"seizure": False}})
    assert result["sledai_2k"] == 0
    assert result.complete


def test_lab_items_stay_in_clinical_sledai() -> None:
    result = score_sledai_2k(
        {"descriptors": {"leukopenia": True, "thrombocytopenia": True, "increased_dna_binding": True}}
    )
    assert (result["sledai_2k"], result["clinical_sledai"]) == (4, 2)


def test_not_assessed_descriptor_is_unknown_with_range() -> None:
    result = score_sledai_2k({"descriptors": {"seizure": True, "low_complement": None}})
    assert result["sledai_2k"] is None and result["clinical_sledai"] is None
    assert not result.complete
    assert result.missing == ("descriptors.low_complement",)
    assert (result["sledai_2k_min"], result["sledai_2k_max"]) == (8, 10)
    assert (result["clinical_sledai_min"], result["clinical_sledai_max"]) == (8, 8)
    assert result.to_dict()["complete"] is False


@pytest.mark.parametrize(
    ("window", "days", "scores"),
    [(10, 0, True), (10, 10, True), (10, 11, False), (30, 11, True), (30, 30, True), (30, 31, False)],
)
def test_window_is_inclusive(window: int, days: int, scores: bool) -> None:
    result = score_sledai_2k(
        {"events": [{"descriptor": "pleurisy", "days_before_visit": days}], "window_days": window}
    )
    assert result["sledai_2k"] == (2 if scores else 0)
    assert result.window_days == window
    assert result.to_dict()["window_days"] == window


def test_repeated_events_count_once() -> None:
    events = [{"descriptor": "rash", "days_before_visit": d} for d in (0, 3, 9)]
    assert score_sledai_2k({"events": events})["sledai_2k"] == 2


@pytest.mark.parametrize("window", [0, 7, 28, 31])
def test_other_windows_rejected(window: int) -> None:
    with pytest.raises(ValidationError, match="window_days"):
        score_sledai_2k({"events": [], "window_days": window})


def test_descriptors_and_events_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        score_sledai_2k({"descriptors": {}, "events": []})
    with pytest.raises(ValidationError, match="required"):
        score_sledai_2k({})


@pytest.mark.parametrize(
    "bad", [{"descriptors": {"fevr": True}}, {"descriptors": {"fever": "yes"}}, {"x": 1}]
)
def test_unknown_field_or_wrong_type_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        score_sledai_2k(bad)


@pytest.mark.parametrize(
    ("rule", "count", "scores"),
    [("ge_2", 1, False), ("ge_2", 2, True), ("gt_2", 2, False), ("gt_2", 3, True), ("ge_2", 0, False)],
)
def test_arthritis_joint_count_rule(rule: str, count: int, scores: bool) -> None:
    result = score_sledai_2k(
        {"descriptors": {}, "tender_or_swollen_inflamed_joint_count": count, "arthritis_rule": rule}
    )
    assert result["sledai_2k"] == (4 if scores else 0)
    assert result["arthritis_rule"] == rule


def test_arthritis_tick_contradicting_count_rejected() -> None:
    with pytest.raises(ValidationError, match=r"descriptors\.arthritis"):
        score_sledai_2k(
            {
                "descriptors": {"arthritis": True},
                "tender_or_swollen_inflamed_joint_count": 2,
                "arthritis_rule": "gt_2",
            }
        )


@pytest.mark.parametrize("item", ["proteinuria", "rash", "alopecia", "mucosal_ulcers"])
def test_selena_requires_new_or_worse(item: str) -> None:
    base = {"descriptors": {item: True}, "instrument_version": "selena_sledai"}
    weight = WEIGHTS[item]
    persistent = score_sledai_2k({**base, "new_or_worse": {item: False}})
    assert persistent["sledai_2k"] == 0 and persistent.complete
    new = score_sledai_2k({**base, "new_or_worse": {item: True}})
    assert new["sledai_2k"] == weight == new["selena_sledai"]
    assert new.version == "selena_sledai"
    unknown = score_sledai_2k(base)
    assert unknown["sledai_2k"] is None and unknown.missing == (f"new_or_worse.{item}",)
    # SLEDAI-2K scores persistent findings: the flag is not needed
    assert (
        score_sledai_2k({"descriptors": {item: True}, "new_or_worse": {item: False}})["sledai_2k"] == weight
    )


def test_selena_other_items_unchanged() -> None:
    result = score_sledai_2k(
        {"descriptors": {"seizure": True, "fever": True}, "instrument_version": "selena_sledai"}
    )
    assert result["sledai_2k"] == 9


descriptor_sets = st.dictionaries(st.sampled_from(DESCRIPTORS), st.booleans())


@settings(max_examples=150, deadline=None)
@given(descriptor_sets, st.sampled_from(DESCRIPTORS))
def test_adding_a_descriptor_never_lowers_the_score(ticks: dict[str, bool], extra: str) -> None:
    before = score_sledai_2k({"descriptors": ticks})["sledai_2k"]
    after = score_sledai_2k({"descriptors": {**ticks, extra: True}})["sledai_2k"]
    assert after >= before
    assert after - before == (0 if ticks.get(extra) else WEIGHTS[extra])


@settings(max_examples=150, deadline=None)
@given(descriptor_sets)
def test_clinical_sledai_at_most_sledai(ticks: dict[str, bool]) -> None:
    result = score_sledai_2k({"descriptors": ticks})
    assert 0 <= result["clinical_sledai"] <= result["sledai_2k"] <= 105
    serology = sum(WEIGHTS[k] for k in SEROLOGY if ticks.get(k))
    assert result["sledai_2k"] - result["clinical_sledai"] == serology
