"""A'Hern (2001) exact single-stage design.

Published row: A'Hern's design for p0 = 0.10, p1 = 0.20, alpha = 0.05, power = 0.80 is
n = 78 with exact alpha 4.53 % and power 80.81 % (quoted by Khan, Sarker and Hackshaw,
Br J Cancer 2012;107:1801-1809, PMC3504941). The convention is "reject H0 if responses >= r".
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lupuscell.design.single_stage import ahern_design, single_stage_oc
from lupuscell.errors import ValidationError


def test_design_single_stage_published_row():
    d = ahern_design(0.10, 0.20, 0.05, 0.20)
    assert d.n == 78
    assert d.alpha == pytest.approx(0.0453, abs=5e-5)
    assert d.power == pytest.approx(0.8081, abs=1.5e-4)
    # convention: X >= r rejects, so alpha is the upper tail from r
    assert d.alpha == pytest.approx(stats.binom.sf(d.r - 1, d.n, 0.10))
    assert single_stage_oc(d.n, d.r, 0.20) == pytest.approx(d.power)


def _brute(p0, p1, alpha, beta, nmax):
    for n in range(1, nmax + 1):
        for r in range(0, n + 1):
            a = stats.binom.sf(r - 1, n, p0)
            if a <= alpha:
                pw = stats.binom.sf(r - 1, n, p1)
                if pw >= 1 - beta:
                    return n, r
                break  # larger r only lowers the power
    return None


@pytest.mark.parametrize("seed", range(6))
def test_design_single_stage_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    p0 = float(rng.uniform(0.05, 0.6))
    p1 = p0 + float(rng.uniform(0.15, 0.3))
    alpha, beta = float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.05, 0.25))
    want = _brute(p0, p1, alpha, beta, 200)
    got = ahern_design(p0, p1, alpha, beta, 200)
    assert (got.n, got.r) == want
    # boundary: one patient fewer cannot reach the power at any admissible r
    assert _brute(p0, p1, alpha, beta, got.n - 1) is None


def test_design_single_stage_never_smaller_than_ump_bound_and_simon_alpha():
    d = ahern_design(0.05, 0.25, 0.10, 0.10)
    assert d.alpha <= 0.10 and d.power >= 0.90


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"p1": 0.05}, "p1"), ({"alpha": 0.7}, "alpha"), ({"beta": 0.0}, "beta"), ({"nmax": 10}, "nmax")],
)
def test_design_single_stage_bad_input(kwargs, field):
    args = {"p0": 0.1, "p1": 0.2, "alpha": 0.05, "beta": 0.2, "nmax": 1000, **kwargs}
    with pytest.raises(ValidationError) as err:
        ahern_design(**args)
    assert field in [p.field for p in err.value.problems]


def test_design_single_stage_critical_value_is_exact():
    from lupuscell.design._binom import smallest_upper_critical

    n = np.arange(1, 120)
    for p, alpha in ((0.1, 0.05), (0.5, 0.0546875), (0.3, 0.2), (0.8, 0.01)):
        k = smallest_upper_critical(alpha, n, p)
        for m, km in zip(n, k, strict=True):
            want = next(x for x in range(m + 1) if stats.binom.sf(x, m, p) <= alpha)
            assert km == want
