"""Kaplan-Meier, reverse KM and numbers at risk, cross-checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from lupuscell.analysis.survival import kaplan_meier, median_follow_up, numbers_at_risk
from lupuscell.errors import ValidationError


def _cohort(n: int = 2000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(900, n))
    c = np.ceil(rng.uniform(30, 1825, n))
    return np.minimum(t, c), t <= c


def test_km_matches_statsmodels_survival_and_loglog_ci() -> None:
    t, e = _cohort()
    km = kaplan_meier(t, e)
    sf = SurvfuncRight(t, e.astype(float))
    sm_times = np.asarray(sf.surv_times)
    # statsmodels reports event times only; compare there.
    ours = km.table.set_index("time").loc[sm_times]
    np.testing.assert_allclose(ours["survival"].to_numpy(), sf.surv_prob, atol=1e-6)
    # log(-log) CI from statsmodels' Greenwood SE: S^exp(±z se / (S log S)).
    s, se = np.asarray(sf.surv_prob), np.asarray(sf.surv_prob_se)
    ok = (s > 0) & (s < 1)
    z = 1.959963984540054
    theta = np.log(-np.log(s[ok]))
    sd = se[ok] / (s[ok] * np.abs(np.log(s[ok])))
    lo = np.exp(-np.exp(theta + z * sd))
    hi = np.exp(-np.exp(theta - z * sd))
    np.testing.assert_allclose(ours["ci_low"].to_numpy()[ok], lo, atol=1e-6)
    np.testing.assert_allclose(ours["ci_high"].to_numpy()[ok], hi, atol=1e-6)


def test_median_and_landmarks() -> None:
    t, e = _cohort()
    km = kaplan_meier(t, e, landmark_times=[365.25, 1095.75, 5000])
    sf = SurvfuncRight(t, e.astype(float))
    assert km.median == pytest.approx(sf.quantile(0.5), abs=1e-9)
    lm1 = km.landmarks[0]
    assert lm1.survival == pytest.approx(km.survival_at(365.25))
    assert lm1.ci_low is not None and lm1.ci_low < lm1.survival < lm1.ci_high  # type: ignore[operator]
    assert lm1.n_at_risk == int((t >= 365.25).sum())
    assert km.landmarks[2].survival is None  # beyond the last follow-up: not estimable


def test_numbers_at_risk_counts_at_t_not_after() -> None:
    # subjects with time exactly t are still at risk at t (SAS / R survfit convention)
    assert numbers_at_risk([1, 2, 2, 3, 5], [0, 2, 3, 4, 5, 6]) == [5, 4, 2, 1, 1, 0]


def test_reverse_km_median_follow_up_hand_computed() -> None:
    # censored at 10, 20, 30; deaths at 5 and 25 (treated as censored by reverse KM)
    t = np.array([5, 10, 20, 25, 30])
    e = np.array([True, False, False, True, False])
    fu = median_follow_up(t, e)
    # reverse KM: at 10: 1 - 1/4 = .75; at 20: .75*(1-1/3) = .5, and it stays 0.5 until the
    # next drop at 30: the median is the midpoint 25, as R print(survfit(...)) reports
    assert fu.median == 25


def test_km_rejects_negative_durations() -> None:
    with pytest.raises(ValidationError, match="durations"):
        kaplan_meier([1, -2], [True, False])
