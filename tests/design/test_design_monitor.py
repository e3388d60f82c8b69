"""Bayesian beta-binomial safety monitoring: boundaries and exact operating characteristics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from lupuscell.design.bayes_monitor import MonitoringRule, boundaries, operating_characteristics
from lupuscell.errors import ValidationError


def test_design_monitor_boundary_is_the_smallest_stopping_count():
    rule = MonitoringRule(a=1, b=9, theta=0.10, cutoff=0.90, cohort=5, n_max=40)
    for b in boundaries(rule):
        post = lambda x, m=b.patients: stats.beta.sf(0.10, 1 + x, 9 + m - x)  # noqa: E731
        assert b.min_events is not None
        assert post(b.min_events) > 0.90
        if b.min_events > 0:
            assert post(b.min_events - 1) <= 0.90
    assert [b.patients for b in boundaries(rule)] == [5, 10, 15, 20, 25, 30, 35, 40]


def test_design_monitor_last_look_is_n_max_and_cannot_stop_is_none():
    rule = MonitoringRule(a=1, b=1, theta=0.5, cutoff=0.999, cohort=3, n_max=7)
    bounds = boundaries(rule)
    assert [b.patients for b in bounds] == [3, 6, 7]
    assert bounds[0].min_events is None  # 3/3 events: P(rate > 0.5) = 0.9375 < 0.999


def _enumerate(rule: MonitoringRule, q: float) -> tuple[float, float]:
    """P(stop) and E[N] by listing every sequence of outcomes (2^N of them)."""
    stop_at = {b.patients: b.min_events for b in boundaries(rule)}
    p_stop = e_n = 0.0
    for seq in itertools.product((0, 1), repeat=rule.n_max):
        prob = float(np.prod([q if s else 1 - q for s in seq]))
        n_used, stopped = rule.n_max, False
        for m in range(1, rule.n_max + 1):
            bound = stop_at.get(m)
            if bound is not None and sum(seq[:m]) >= bound:
                n_used, stopped = m, True
                break
        p_stop += prob * stopped
        e_n += prob * n_used
    return p_stop, e_n


@pytest.mark.parametrize("cohort", [1, 2, 3])
def test_design_monitor_exact_oc_equals_enumeration(cohort):
    rule = MonitoringRule(a=0.5, b=4.5, theta=0.2, cutoff=0.8, cohort=cohort, n_max=10)
    rates = [0.05, 0.2, 0.4]
    for oc, q in zip(operating_characteristics(rule, rates), rates, strict=True):
        p_stop, e_n = _enumerate(rule, q)
        assert oc.p_stop == pytest.approx(p_stop, abs=1e-12)
        assert oc.expected_n == pytest.approx(e_n, abs=1e-10)
        assert oc.p_stop_by_look[-1] == pytest.approx(oc.p_stop)


def test_design_monitor_oc_monotone_in_true_rate():
    rule = MonitoringRule(a=1, b=9, theta=0.10, cutoff=0.90, cohort=1, n_max=50)
    oc = operating_characteristics(rule, [0.0, 0.05, 0.1, 0.2, 0.4, 1.0])
    p = [o.p_stop for o in oc]
    assert p == sorted(p)
    assert p[0] == 0.0 and p[-1] == pytest.approx(1.0)
    assert oc[0].expected_n == 50


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"a": 0}, "prior_a"),
        ({"b": -1}, "prior_b"),
        ({"theta": 1.0}, "theta"),
        ({"cutoff": 0}, "cutoff"),
        ({"cohort": 0}, "cohort"),
        ({"cohort": 50}, "cohort"),
        ({"n_max": 0}, "n_max"),
        ({"n_max": 10**6}, "n_max"),
    ],
)
def test_design_monitor_bad_input(kwargs, field):
    args = {"a": 1, "b": 1, "theta": 0.1, "cutoff": 0.9, "cohort": 1, "n_max": 40, **kwargs}
    with pytest.raises(ValidationError) as err:
        MonitoringRule(**args)
    assert field in [p.field for p in err.value.problems]


def test_design_monitor_bad_rates():
    rule = MonitoringRule(a=1, b=1, theta=0.1, cutoff=0.9, cohort=1, n_max=10)
    with pytest.raises(ValidationError) as err:
        operating_characteristics(rule, [0.1, 1.5])
    assert err.value.problems[0].field == "rates[1]"
