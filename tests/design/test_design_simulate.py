"""Simulated operating characteristics with virtual cohorts agree with the exact values."""

from __future__ import annotations

import numpy as np
import pytest

from lupuscell.design.simon import two_stage_oc
from lupuscell.design.simulate import Scenario, TwoStageRule, simulate_design, virtual_cohort
from lupuscell.errors import ValidationError

RULE = TwoStageRule(r1=1, n1=10, r=5, n=29)  # Simon optimal, p0 = 0.1, p1 = 0.3, alpha 0.05, beta 0.2


def _within(est, exact, k=4.0):
    assert abs(est.value - exact) <= k * max(est.mc_se, 1e-3), (est, exact)


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_design_simulate_matches_exact_oc(rate):
    res = simulate_design(RULE, [Scenario(rate)], replicates=10_000, seed=11)[0]
    oc = two_stage_oc(RULE.r1, RULE.n1, RULE.r, RULE.n, rate)
    _within(res.reject, oc.reject)
    _within(res.early_stop, oc.pet)
    _within(res.expected_n, oc.en)


def test_design_simulate_dropout_equals_lower_rate():
    """ITT drop-outs are non-responders: rate p with drop-out d behaves like rate p (1 - d)."""
    res = simulate_design(RULE, [Scenario(0.3, dropout=0.2)], replicates=10_000, seed=5)[0]
    oc = two_stage_oc(RULE.r1, RULE.n1, RULE.r, RULE.n, 0.3 * 0.8)
    _within(res.reject, oc.reject)
    _within(res.early_stop, oc.pet)


def test_design_simulate_delayed_response_only_affects_the_interim():
    """With every response delayed, stage 1 sees none: the trial always stops at n1."""
    res = simulate_design(RULE, [Scenario(0.5, delayed=1.0)], replicates=1_000, seed=2)[0]
    assert res.early_stop.value == 1.0 and res.reject.value == 0.0
    assert res.expected_n.value == RULE.n1
    # partial delay: interim responses ~ Bin(n1, p (1 - delay)); final counts every response
    res = simulate_design(RULE, [Scenario(0.3, delayed=0.5)], replicates=10_000, seed=9)[0]
    pet = two_stage_oc(RULE.r1, RULE.n1, RULE.r, RULE.n, 0.15).pet
    _within(res.early_stop, pet)


def test_design_simulate_single_stage_rule():
    rule = TwoStageRule.single_stage(n=25, r_min=6)
    res = simulate_design(rule, [Scenario(0.1)], replicates=5_000, seed=1)[0]
    assert res.early_stop.value == 0.0 and res.expected_n.value == 25 and res.expected_n.mc_se == 0.0
    from scipy import stats

    _within(res.reject, float(stats.binom.sf(5, 25, 0.1)))


def test_design_simulate_reproducible_and_chunk_invariant():
    sc = [Scenario(0.2), Scenario(0.3, 0.1, 0.2)]
    a = simulate_design(RULE, sc, replicates=3_000, seed=42, chunk=3_000)
    b = simulate_design(RULE, sc, replicates=3_000, seed=42, chunk=128)
    c = simulate_design(RULE, sc, replicates=3_000, seed=43)
    assert a == b
    assert a != c
    # adding a scenario does not change the earlier ones
    d = simulate_design(RULE, [*sc, Scenario(0.5)], replicates=3_000, seed=42)
    assert d[:2] == a


def test_design_simulate_progress_counts_every_replicate():
    seen: list[int] = []
    simulate_design(RULE, [Scenario(0.1), Scenario(0.3)], replicates=1_000, chunk=300, progress=seen.append)
    assert sum(seen) == 2_000


def test_design_simulate_virtual_cohort_shapes_and_rates():
    rng = np.random.default_rng(0)
    final, interim = virtual_cohort(rng, (2_000, 50), Scenario(0.4, dropout=0.25, delayed=0.5))
    assert final.shape == interim.shape == (2_000, 50)
    assert not (interim & ~final).any()
    assert final.mean() == pytest.approx(0.3, abs=0.01)
    assert interim.mean() == pytest.approx(0.15, abs=0.01)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Scenario(1.2), "rate"),
        (lambda: Scenario(0.2, dropout=-0.1), "dropout"),
        (lambda: Scenario(0.2, delayed=2), "delayed"),
        (lambda: TwoStageRule(r1=1, n1=30, r=5, n=29), "n1"),
        (lambda: TwoStageRule(r1=10, n1=10, r=5, n=29), "r1"),
        (lambda: TwoStageRule(r1=1, n1=10, r=29, n=29), "r"),
        (lambda: simulate_design(RULE, [Scenario(0.1)], replicates=10), "replicates"),
        (lambda: simulate_design(RULE, [], replicates=1000), "scenarios"),
    ],
)
def test_design_simulate_bad_input(call, field):
    with pytest.raises(ValidationError) as err:
        call()
    assert field in [p.field for p in err.value.problems]


def test_design_simulate_rule_of_a_simon_design():
    """TwoStageRule.simon is the chosen design of simon_design (Simon 1989 Table 1: p0 0.1, p1 0.3)."""
    from lupuscell.design.simulate import TwoStageRule

    assert TwoStageRule.simon(0.1, 0.3, 0.05, 0.2) == TwoStageRule(r1=1, n1=10, r=5, n=29)
    assert TwoStageRule.simon(0.1, 0.3, 0.05, 0.2, "minimax") == TwoStageRule(r1=1, n1=15, r=5, n=25)
    with pytest.raises(ValidationError) as err:
        TwoStageRule.simon(0.1, 0.3, 0.05, 0.2, "best")
    assert err.value.problems[0].field == "design"


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.05, "type I error"), (0.1, "type I error"), (0.2, "P(reject H0)"), (0.3, "power")],
)
def test_design_simulate_reported_quantity(rate, expected):
    from lupuscell.design.simulate import reported_quantity

    assert reported_quantity(rate, 0.1, 0.3) == expected
    assert reported_quantity(rate, None, None) == "P(reject H0)"
