"""Benchmarking a centre against the pooled literature (prediction interval)."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence.benchmark import CentreResult, compare, comparison_plot
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import rma


def pooled():
    pairs = [(7, 53), (1, 50), (0, 30), (1, 22)]  # HSCT treatment-related mortality rows
    return rma(escalc("PLO", [{"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate(pairs)]))


def test_within_below_above_boundaries():
    fit = pooled()
    lo, hi = fit.back.pred_low, fit.back.pred_high
    assert compare(CentreResult(estimate=(lo + hi) / 2), fit, "trm").position == "within"
    assert compare(CentreResult(estimate=lo), fit, "trm").position == "within"  # boundary counts as within
    assert compare(CentreResult(estimate=hi), fit, "trm").position == "within"
    assert compare(CentreResult(estimate=hi + 1e-9), fit, "trm").position == "above"
    assert lo > 1e-6
    assert compare(CentreResult(estimate=lo - 1e-9), fit, "trm").position == "below"
    assert compare(CentreResult(estimate=0.9), fit, "trm").position == "above"


def test_counts_give_exact_ci_and_sentence():
    cmp = compare(CentreResult(label="Centre A", events=2, total=25), pooled(), "treatment_related_mortality")
    assert cmp.centre_estimate == pytest.approx(0.08)
    assert cmp.centre_ci == pytest.approx((0.00984, 0.26030), abs=1e-4)  # Clopper-Pearson
    assert cmp.sentence.startswith("Centre A's treatment related mortality of 8% (2/25)")
    assert "prediction interval" in cmp.sentence and "4 published studies" in cmp.sentence
    assert cmp.to_dict()["position"] == cmp.position
    _fig, data = comparison_plot(cmp)
    assert list(data["row"]) == ["centre", "literature"]
    assert data.loc[1, "pred_low"] == pytest.approx(cmp.prediction_interval[0])


def test_estimate_with_ci_input():
    cmp = compare(CentreResult(label="Registry", estimate=0.12, ci_low=0.05, ci_high=0.2), pooled(), "nrm_1y")
    assert cmp.centre_ci == (0.05, 0.2)


@pytest.mark.parametrize(
    ("centre", "pattern"),
    [
        (CentreResult(events=5, total=3), "centre This centre: events: events \\(5\\) exceed total"),
        (CentreResult(events=1, total=0), "total: must be > 0"),
        (CentreResult(events=1), "total: events and total go together"),
        (CentreResult(), "estimate: give events/total or an estimate"),
        (CentreResult(estimate=1.5), "estimate: must be a proportion"),
        (CentreResult(estimate=0.5, ci_low=0.6, ci_high=0.7), "ci_low: CI must contain the estimate"),
    ],
)
def test_bad_centre_input(centre, pattern):
    with pytest.raises(ValidationError, match=pattern):
        compare(centre, pooled(), "trm")


def test_needs_a_proportion_fit():
    rr = escalc("RR", [{"id": "a", "ai": 4, "bi": 119, "ci": 11, "di": 128}])
    with pytest.raises(ValidationError, match="proportion measure"):
        compare(CentreResult(estimate=0.1), rma(rr, "EE"), "x")
