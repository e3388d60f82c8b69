"""Aalen-Johansen cumulative incidence against R survival 3.5-3 (``r/survival_km_aj.R``).

Estimate, infinitesimal-jackknife standard error (R ``survfit``'s for multi-state curves),
log(-log) limits and numbers at risk agree to 1e-9 on R's ``mgus2`` (progression vs death) and
``pbc`` (transplant vs death), on two time scales (follow-up, and age with delayed entry), on a
synthetic cohort with delayed entry, and at a last time where everyone at risk has an event.
"""

from __future__ import annotations

import numpy as np
import pytest
from rref import dataset, mgus2_competing, pbc, reference

from lupuscell.analysis.competing import cumulative_incidence

R = reference("survival_km_aj")
TOL = 1e-9

CASES = {
    "mgus2_aj": lambda: (mgus2_competing()["etime"], mgus2_competing()["event"], None),
    "mgus2_aj_age": lambda: (mgus2_competing()["eexit_age"], mgus2_competing()["event"], mgus2_competing()["age"]),
    "pbc_aj": lambda: (pbc()["time"], pbc()["status"], None),
    "pbc_aj_age": lambda: (pbc()["exit_age"], pbc()["status"], pbc()["age"]),
    "syn_aj_entry": lambda: (
        dataset("synthetic_cohort")["time"],
        dataset("synthetic_cohort")["status"],
        dataset("synthetic_cohort")["entry"],
    ),
    "last_time_aj": lambda: ([2, 3, 3, 5, 6, 8, 8], [1, 0, 2, 1, 0, 1, 2], None),
}


@pytest.mark.parametrize("label", sorted(CASES))
def test_aalen_johansen_matches_r(label: str) -> None:
    t, s, entry = CASES[label]()
    res = cumulative_incidence(t, s, entry=entry)
    tab = res.table
    np.testing.assert_allclose(tab["time"], R[(label, "time")], rtol=0, atol=TOL)
    np.testing.assert_array_equal(tab["n_at_risk"], R[(label, "n_risk")])
    for k in (1, 2):
        np.testing.assert_allclose(tab[f"cif_{k}"], R[(label, f"cif_{k}")], rtol=0, atol=TOL)
        np.testing.assert_allclose(tab[f"se_{k}"], R[(label, f"se_{k}")], rtol=0, atol=TOL)
        for ours, field in (("ci_low", "lower"), ("ci_high", "upper")):
            theirs = R[(label, f"{field}_{k}")]
            defined = ~np.isnan(theirs)  # R leaves the limits missing where the incidence is 0
            np.testing.assert_allclose(tab[f"{ours}_{k}"][defined], theirs[defined], rtol=0, atol=TOL)
            assert (tab[f"{ours}_{k}"][~defined] == tab[f"cif_{k}"][~defined]).all()


def test_last_event_time_has_a_finite_standard_error_and_interval() -> None:
    # the two subjects at risk at day 8 both have an event there (one of each cause)
    res = cumulative_incidence([2, 3, 3, 5, 6, 8, 8], [1, 0, 2, 1, 0, 1, 2], landmark_times=[8])
    last = res.table.iloc[-1]
    assert np.isfinite(last["se_1"]) and last["se_1"] > 0
    assert 0 < last["ci_low_1"] < last["cif_1"] < last["ci_high_1"] < 1
    lm = res.landmarks.iloc[0]
    assert lm["ci_low"] < lm["cif"] < lm["ci_high"]


def test_landmark_after_last_follow_up_is_null_like_kaplan_meier() -> None:
    res = cumulative_incidence([10, 20, 30], [1, 2, 0], causes={1: "relapse", 2: "NRM"}, landmark_times=[25, 31])
    lms = res.to_dict()["landmarks"]
    assert [lm["cif"] for lm in lms[:2]] == [pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert all(lm["cif"] is None and lm["ci_low"] is None and lm["ci_high"] is None for lm in lms[2:])
    assert [lm["n_at_risk"] for lm in lms] == [1, 1, 0, 0]
