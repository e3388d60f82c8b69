"""Two-arm sample size, cross-checked against statsmodels.stats.power where they overlap."""

from __future__ import annotations

import math

import pytest
from scipy import integrate, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from lupuscell.design.power import (
    binary_exact_power,
    binary_sample_size,
    continuous_sample_size,
    events_required,
    probability_of_event,
    simulate_binary_power,
    survival_sample_size,
)
from lupuscell.errors import ValidationError

Z975, Z80 = stats.norm.isf(0.025), stats.norm.isf(0.2)


@pytest.mark.parametrize(
    ("p1", "p2", "ratio", "alpha", "beta"),
    [(0.3, 0.5, 1, 0.05, 0.2), (0.2, 0.45, 2, 0.05, 0.1), (0.6, 0.4, 0.5, 0.1, 0.2)],
)
def test_design_power_arcsine_matches_statsmodels(p1, p2, ratio, alpha, beta):
    got = binary_sample_size(p1, p2, alpha, beta, ratio, method="arcsine")
    h = proportion_effectsize(p2, p1)
    want = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=1 - beta, ratio=ratio)
    assert got.raw == pytest.approx(want, rel=1e-6)
    assert got.n1 == math.ceil(want)


@pytest.mark.parametrize(
    ("delta", "sd", "ratio", "alpha", "beta"),
    [(4, 6, 1, 0.05, 0.2), (2, 5, 2, 0.05, 0.1), (3, 4, 0.5, 0.1, 0.2)],
)
def test_design_power_continuous_t_matches_statsmodels(delta, sd, ratio, alpha, beta):
    got = continuous_sample_size(delta, sd, alpha, beta, ratio, method="t")
    want = TTestIndPower().solve_power(effect_size=delta / sd, alpha=alpha, power=1 - beta, ratio=ratio)
    assert got.raw == pytest.approx(want, rel=1e-6)
    assert got.n2 == math.ceil(got.n1 * ratio)


def test_design_power_continuous_normal_matches_statsmodels_normal():
    got = continuous_sample_size(4, 6, method="normal")
    want = NormalIndPower().solve_power(effect_size=4 / 6, alpha=0.05, power=0.8, ratio=1)
    assert got.raw == pytest.approx(want, rel=1e-4)  # statsmodels adds the negligible far tail
    assert got.raw == pytest.approx(2 * (Z975 + Z80) ** 2 / (4 / 6) ** 2)


def test_design_power_binary_normal_and_continuity_correction():
    n = binary_sample_size(0.3, 0.5, method="normal")
    pbar = 0.4
    want = (Z975 * math.sqrt(2 * pbar * (1 - pbar)) + Z80 * math.sqrt(0.3 * 0.7 + 0.5 * 0.5)) ** 2 / 0.2**2
    assert n.raw == pytest.approx(want)
    assert (n.n1, n.n2) == (93, 93)
    cc = binary_sample_size(0.3, 0.5, method="normal-cc")
    assert cc.raw == pytest.approx(want / 4 * (1 + math.sqrt(1 + 4 / (want * 0.2))) ** 2)
    assert cc.n1 == 103 and cc.n1 > n.n1


def test_design_power_binary_exact_is_the_smallest_n():
    ex = binary_sample_size(0.3, 0.5, method="exact")
    assert ex.power is not None and ex.power >= 0.8
    assert binary_exact_power(ex.n1 - 1, ex.n2 - 1, 0.3, 0.5, 0.05) < 0.8
    # the exact enumeration is what a simulation converges to
    sim = simulate_binary_power(ex.n1, ex.n2, 0.3, 0.5, replicates=20_000, seed=7)
    assert abs(sim.power - ex.power) < 4 * sim.mc_se
    # exact size of the test under H0 is close to nominal
    assert binary_exact_power(ex.n1, ex.n2, 0.4, 0.4, 0.05) == pytest.approx(0.05, abs=0.01)


def test_design_power_simulation_is_seeded():
    a = simulate_binary_power(50, 50, 0.3, 0.5, seed=3)
    b = simulate_binary_power(50, 50, 0.3, 0.5, seed=3)
    c = simulate_binary_power(50, 50, 0.3, 0.5, seed=4)
    assert a == b and a != c


def test_design_power_schoenfeld_and_freedman():
    z2 = (Z975 + Z80) ** 2
    assert events_required(0.6) == pytest.approx(z2 / (0.25 * math.log(0.6) ** 2))
    assert events_required(0.6, method="freedman") == pytest.approx(z2 * 1.6**2 / 0.4**2)
    # unequal allocation: Schoenfeld grows as p(1-p) shrinks
    assert events_required(0.6, allocation=2 / 3) == pytest.approx(z2 / (2 / 9 * math.log(0.6) ** 2))
    # Freedman with phi = 2
    assert events_required(0.6, allocation=2 / 3, method="freedman") == pytest.approx(
        z2 * (1 + 1.2) ** 2 / (2 * 0.16)
    )


@pytest.mark.parametrize(
    ("lam", "acc", "fu", "eta"), [(0.03, 24, 12, 0.0), (0.1, 12, 6, 0.01), (0.05, 0, 18, 0.0)]
)
def test_design_power_probability_of_event_equals_integral(lam, acc, fu, eta):
    def observed_by(t):
        return lam / (lam + eta) * (1 - math.exp(-(lam + eta) * t))

    want = (
        observed_by(fu) if acc == 0 else integrate.quad(lambda u: observed_by(acc + fu - u) / acc, 0, acc)[0]
    )
    assert probability_of_event(lam, acc, fu, eta) == pytest.approx(want, rel=1e-9)


def test_design_power_survival_patients():
    res = survival_sample_size(0.6, median_control=24, accrual=24, follow_up=12)
    lam = math.log(2) / 24
    pe = 0.5 * probability_of_event(lam, 24, 12) + 0.5 * probability_of_event(0.6 * lam, 24, 12)
    assert res.events == 121
    assert res.p_event == pytest.approx(pe)
    assert res.patients == math.ceil(121 / pe)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: binary_sample_size(0.3, 0.3), "p2"),
        (lambda: binary_sample_size(0.3, 1.2), "p2"),
        (lambda: binary_sample_size(0.3, 0.5, alpha=0.6), "alpha"),
        (lambda: binary_sample_size(0.3, 0.5, method="magic"), "method"),  # type: ignore[arg-type]
        (lambda: binary_sample_size(0.3, 0.5, ratio=0), "ratio"),
        (lambda: continuous_sample_size(0, 5), "delta"),
        (lambda: continuous_sample_size(2, -1), "sd"),
        (lambda: events_required(1.0), "hr"),
        (lambda: events_required(0.7, allocation=1.0), "allocation"),
        (lambda: survival_sample_size(0.7, 12, 0, 0), "follow_up"),
        (lambda: survival_sample_size(0.7, -12, 12, 12), "median_control"),
    ],
)
def test_design_power_bad_input(call, field):
    with pytest.raises(ValidationError) as err:
        call()
    assert field in [p.field for p in err.value.problems]
