"""Aalen-Johansen cumulative incidence, cross-checked against a direct numpy implementation."""

from __future__ import annotations

import numpy as np
import pytest

from lupuscell.analysis.competing import cumulative_incidence


def _aalen_johansen_reference(t: np.ndarray, s: np.ndarray, cause: int) -> tuple[np.ndarray, np.ndarray]:
    """Textbook AJ: CIF(t) = sum_{u<=t} S(u-) d_k(u) / n(u), written independently."""
    times = np.unique(t[s > 0])
    surv = 1.0
    cif = 0.0
    out = []
    for u in times:
        n = np.sum(t >= u)
        d_all = np.sum((t == u) & (s > 0))
        d_k = np.sum((t == u) & (s == cause))
        cif += surv * d_k / n
        surv *= 1 - d_all / n
        out.append(cif)
    return times, np.array(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cif_matches_reference_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    ev = np.ceil(rng.exponential(300, n))  # day resolution: many ties
    cens = np.ceil(rng.uniform(10, 900, n))
    cause = rng.integers(1, 3, n)
    s = np.where(ev <= cens, cause, 0)
    t = np.minimum(ev, cens)
    res = cumulative_incidence(t, s, causes={1: "relapse", 2: "NRM"})
    for k in (1, 2):
        times, ref = _aalen_johansen_reference(t, s, k)
        ours = np.array([res.cif_at(k, u) for u in times])
        np.testing.assert_allclose(ours, ref, atol=1e-6)
    # the two causes and overall survival partition probability: CIF1 + CIF2 = 1 - KM(any)
    from lupuscell.analysis.survival import kaplan_meier

    km = kaplan_meier(t, s > 0)
    last = float(t.max())
    assert res.cif_at(1, last) + res.cif_at(2, last) == pytest.approx(1 - km.survival_at(last), abs=1e-9)


def test_landmarks_and_ci_bounds() -> None:
    rng = np.random.default_rng(5)
    t = np.ceil(rng.exponential(200, 300))
    s = rng.integers(0, 3, 300)
    res = cumulative_incidence(t, s, causes={1: "relapse", 2: "NRM"}, landmark_times=[100, 365])
    lm = res.landmarks
    assert list(lm["cause"]) == ["relapse", "NRM", "relapse", "NRM"]
    assert ((lm["ci_low"] <= lm["cif"]) & (lm["cif"] <= lm["ci_high"])).all()
    assert ((lm["ci_low"] >= 0) & (lm["ci_high"] <= 1)).all()


def test_no_events_gives_zero_incidence() -> None:
    res = cumulative_incidence([10, 20, 30], [0, 0, 0], causes={1: "relapse", 2: "NRM"}, landmark_times=[15])
    assert res.cif_at(1, 100) == 0.0
    assert res.landmarks["cif"].tolist() == [0.0, 0.0]
