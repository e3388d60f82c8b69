"""Table 1, response rates with exact / Wilson CIs, trajectories."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from lupuscell.analysis.tables import proportion_with_ci, response_rates, table_one, trajectory


def test_clopper_pearson_matches_beta_quantiles() -> None:
    r = proportion_with_ci(7, 20)
    assert r["rate"] == 0.35
    assert r["exact_low"] == pytest.approx(stats.beta.ppf(0.025, 7, 14), abs=1e-9)
    assert r["exact_high"] == pytest.approx(stats.beta.ppf(0.975, 8, 13), abs=1e-9)


def test_wilson_matches_closed_form() -> None:
    x, n, z = 7, 20, stats.norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    r = proportion_with_ci(x, n)
    assert r["wilson_low"] == pytest.approx(centre - half, abs=1e-9)
    assert r["wilson_high"] == pytest.approx(centre + half, abs=1e-9)


def test_edge_cases_zero_and_all() -> None:
    assert proportion_with_ci(0, 10)["exact_low"] == 0.0
    assert proportion_with_ci(10, 10)["exact_high"] == 1.0
    assert proportion_with_ci(0, 0)["rate"] is None


ADSL = pd.DataFrame(
    {
        "THERAPY": ["msc", "msc", "car_t", "car_t", "car_t"],
        "AGE": [30, 40, 25, 35, 45],
        "SEX": ["F", "M", "F", "F", "F"],
        "NEPHRITIS": [True, False, True, True, False],
        "FUPDY": [365, 730, 180, 365, 400],
        "doris_m6": [True, None, True, False, True],
    }
)


def test_table_one_counts() -> None:
    t1 = table_one(ADSL)
    assert list(t1.columns) == ["car_t (n=3)", "msc (n=2)", "All (n=5)"]
    assert t1.loc["Female, n (%)", "msc (n=2)"] == "1 (50%)"
    assert t1.loc["Lupus nephritis, n (%)", "All (n=5)"] == "3 (60%)"
    assert t1.loc["Age at day 0, years, median (IQR)", "car_t (n=3)"] == "35.0 (30.0–40.0)"


def test_response_rates_exclude_not_evaluable() -> None:
    rr = response_rates(ADSL, ["doris_m6"]).set_index("group")
    assert rr.loc["msc", "total"] == 1 and rr.loc["msc", "not_evaluable"] == 1
    assert rr.loc["car_t", "successes"] == 2 and rr.loc["car_t", "total"] == 3
    assert rr.loc["All", "total"] == 4


def test_trajectory_mean_and_ci() -> None:
    adrs = pd.DataFrame({"THERAPY": ["msc"] * 4, "AVISITN": [0, 0, 6, 6], "SLEDAI2K": [10, 14, 2, 4]})
    tr = trajectory(adrs, "SLEDAI2K").set_index("AVISITN")
    assert tr.loc[0, "mean"] == 12 and tr.loc[6, "n"] == 2
    half = stats.t.ppf(0.975, 1) * (2 * math.sqrt(2)) / math.sqrt(2)
    assert tr.loc[0, "ci_high"] == pytest.approx(12 + half)
