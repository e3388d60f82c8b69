"""Harrell's concordance: the vectorised counts equal a brute-force count over all pairs."""

from __future__ import annotations

import numpy as np
import pytest

from lupuscell.analysis.concordance import concordance


def _brute(t: np.ndarray, e: np.ndarray, risk: np.ndarray, entry: np.ndarray | None) -> tuple[int, int, int]:
    a = np.full(t.size, -np.inf) if entry is None else entry
    conc = disc = tied = 0
    for i in np.flatnonzero(e):
        for j in range(t.size):
            if j == i or not (a[j] < t[i] <= t[j]) or (e[j] and t[j] == t[i]):
                continue
            if risk[i] > risk[j]:
                conc += 1
            elif risk[i] < risk[j]:
                disc += 1
            else:
                tied += 1
    return conc, disc, tied


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("with_entry", [False, True])
@pytest.mark.parametrize("tied_scores", [False, True])
def test_concordance_equals_brute_force(seed: int, with_entry: bool, tied_scores: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 150
    t = np.ceil(rng.exponential(20, n))  # tied times
    e = rng.random(n) < 0.6
    risk = rng.integers(0, 6, n).astype(float) if tied_scores else rng.normal(size=n)
    entry = np.floor(rng.uniform(0, 1, n) * t * 0.8) - 0.5 if with_entry else None
    c = concordance(t, e, risk, entry)
    assert (c.concordant, c.discordant, c.tied_risk) == _brute(t, e, risk, entry)


def test_concordance_value_matches_the_definition() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([True, True, False, True])
    assert concordance(t, e, [4.0, 3.0, 2.0, 1.0]).value == 1.0  # higher risk always earlier
    assert concordance(t, e, [1.0, 2.0, 3.0, 4.0]).value == 0.0
    assert concordance(t, e, [1.0, 1.0, 1.0, 1.0]).value == 0.5
