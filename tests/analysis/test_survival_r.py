"""Kaplan-Meier against R survival 3.5-3 (``r/survival_km_aj.R`` -> ``r/survival_km_aj.out``).

Survival, Greenwood standard error, log(-log) limits, numbers at risk and the median with its
confidence limits (R ``quantile.survfit``, including the midpoint rule where S(t) = 0.5 over an
interval) agree to 1e-9 on R's own ``lung``, ``mgus2`` and ``pbc`` data and a synthetic cohort,
with and without delayed entry (R ``Surv(entry, exit, event)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rref import dataset, mgus2_competing, pbc, reference

from lupuscell.analysis.survival import kaplan_meier

R = reference("survival_km_aj")
TOL = 1e-9


def _flat() -> tuple[list[float], list[int]]:
    return [1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0]


CASES = {
    "lung": lambda: (dataset("lung")["time"], dataset("lung")["status"] == 2, None),
    "lung_female": lambda: (
        dataset("lung").query("sex == 2")["time"],
        dataset("lung").query("sex == 2")["status"] == 2,
        None,
    ),
    "flat_median": lambda: (*_flat(), None),
    "flat_to_end": lambda: ([1, 2, 3, 9], [1, 1, 0, 0], None),
    "mgus2_age": lambda: (mgus2_competing()["exit_age"], mgus2_competing()["death"], mgus2_competing()["age"]),
    "pbc_death_age": lambda: (pbc()["exit_age"], pbc()["status"] == 2, pbc()["age"]),
    "syn_entry": lambda: (
        dataset("synthetic_cohort")["time"],
        dataset("synthetic_cohort")["status"] > 0,
        dataset("synthetic_cohort")["entry"],
    ),
    "syn_no_entry": lambda: (dataset("synthetic_cohort")["time"], dataset("synthetic_cohort")["status"] > 0, None),
}


def _close(ours: np.ndarray, theirs: np.ndarray, surv: np.ndarray | None = None) -> None:
    both = ~np.isnan(theirs)
    if surv is not None:
        # R's survfit leaves log-log limits missing where S = 1 (no event yet); lupuscell reports
        # the degenerate interval [1, 1] there, as R's own summary.survfit prints before the
        # first event time
        one = ~both & (surv == 1)
        np.testing.assert_array_equal(ours[one], 1.0)
        both |= one
        theirs = np.where(one, 1.0, theirs)
    assert np.array_equal(np.isnan(ours), ~both), "missing values differ from R's"
    np.testing.assert_allclose(ours[both], theirs[both], rtol=0, atol=TOL)


@pytest.mark.parametrize("label", sorted(CASES))
def test_kaplan_meier_matches_r(label: str) -> None:
    t, e, entry = CASES[label]()
    km = kaplan_meier(t, e, entry=entry)
    tab = km.table
    np.testing.assert_allclose(tab["time"], R[(label, "time")], rtol=0, atol=TOL)
    np.testing.assert_array_equal(tab["n_at_risk"], R[(label, "n_risk")])
    np.testing.assert_array_equal(tab["n_events"], R[(label, "n_event")])
    _close(tab["survival"].to_numpy(), R[(label, "surv")])
    _close(tab["std_err"].to_numpy(), R[(label, "std_err")])
    _close(tab["ci_low"].to_numpy(), R[(label, "lower")], tab["survival"].to_numpy())
    _close(tab["ci_high"].to_numpy(), R[(label, "upper")], tab["survival"].to_numpy())
    ours = np.array([np.nan if v is None else v for v in (km.median, *km.median_ci)])
    _close(ours, R[(label, "median")])


def test_midpoint_median_worked_example() -> None:
    # S = 5/6, 4/6, 3/6 after the events at 1, 2, 3; 0.5 until the event at 5: median (3 + 5) / 2
    assert kaplan_meier(*_flat()).median == 4.0
    # 0.5 from day 2 to the last follow-up on day 9: (2 + 9) / 2
    assert kaplan_meier([1, 2, 3, 9], [1, 1, 0, 0]).median == 5.5
    # the first time at or below 0.5 otherwise
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).median == 2.5
    assert kaplan_meier([1, 2, 3], [1, 1, 1]).median == 2.0


def test_numbers_at_risk_with_delayed_entry_count_only_those_entered() -> None:
    frame = pd.DataFrame({"entry": [0, 0, 2, 3, 0, 5], "exit": [4, 6, 7, 8, 3, 9], "event": [1, 0, 1, 1, 1, 0]})
    km = kaplan_meier(frame["exit"], frame["event"], entry=frame["entry"], landmark_times=[5])
    # at t = 5: (0,6], (2,7], (3,8] are at risk; (5,9] enters only after 5 (R's summary() prints 4,
    # the risk set of the next time in the fit)
    assert km.numbers_at_risk([0, 1, 3, 5, 5.5, 9, 10]) == [0, 3, 4, 3, 4, 1, 0]
    assert km.landmarks[0].n_at_risk == 3
    assert list(km.table["n_at_risk"]) == [4, 4, 4, 3, 2, 1]  # R survfit's n.risk
