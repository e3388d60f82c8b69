"""Cox model: lifelines fit cross-checked against statsmodels PHReg (Efron ties) to 1e-6."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from lupuscell.analysis.regression import cox_model, design_matrix


def _frame(n: int = 1500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "therapy": rng.choice(["autologous_hsct", "msc", "car_t"], n),
            "sledai": rng.integers(0, 30, n),
            "neph": rng.integers(0, 2, n),
            "age": rng.normal(35, 10, n),
        }
    )
    lin = 0.04 * df.sledai + 0.4 * df.neph + np.where(df.therapy == "msc", 0.6, 0.0)
    t = np.ceil(rng.exponential(600 * np.exp(-lin)))
    c = np.ceil(rng.uniform(30, 1825, n))
    df["T"] = np.minimum(t, c)
    df["E"] = t <= c
    return df


def test_cox_matches_statsmodels_efron() -> None:
    df = _frame()
    res = cox_model(
        df,
        duration_col="T",
        event_col="E",
        covariates=["therapy", "sledai", "neph", "age"],
        categorical={"therapy": "autologous_hsct"},
    )
    x, _, _ = design_matrix(df, ["therapy", "sledai", "neph", "age"], {"therapy": "autologous_hsct"})
    sm = PHReg(df["T"].to_numpy(), x.to_numpy(), status=df["E"].astype(float).to_numpy(), ties="efron").fit()
    ours = res.coefficients.set_index("term").loc[list(x.columns)]
    np.testing.assert_allclose(ours["coef"].to_numpy(), sm.params, atol=1e-6)
    np.testing.assert_allclose(ours["se"].to_numpy(), sm.bse, atol=1e-6)
    assert res.reference_levels == {"therapy": "autologous_hsct"}
    # the simulated effects are recovered
    assert ours.loc["therapy[msc]", "hr"] == pytest.approx(np.exp(0.6), rel=0.15)


def test_constant_covariate_is_dropped_and_reported() -> None:
    df = _frame(300)
    df["site"] = "A"
    res = cox_model(
        df, duration_col="T", event_col="E", covariates=["sledai", "site"], categorical={"site": "A"}
    )
    assert list(res.coefficients["term"]) == ["sledai"]
    df["const"] = 1.0
    res2 = cox_model(df, duration_col="T", event_col="E", covariates=["sledai", "const"])
    assert res2.dropped_terms == ("const",)


def test_ph_violation_is_flagged() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    g = rng.integers(0, 2, n)
    # group 1: early hazard high, late hazard low -> crossing hazards
    t = np.where(g == 1, rng.weibull(0.5, n) * 400, rng.weibull(2.0, n) * 400)
    df = pd.DataFrame({"g": g, "T": np.ceil(t) + 1, "E": True})
    res = cox_model(df, duration_col="T", event_col="E", covariates=["g"])
    assert "g" in res.ph_violations


def test_separation_is_reported_not_hidden() -> None:
    # every event in group 1, none in group 0: complete separation
    df = pd.DataFrame({"g": [0] * 20 + [1] * 20, "T": list(range(1, 41)), "E": [False] * 20 + [True] * 20})
    res = cox_model(df, duration_col="T", event_col="E", covariates=["g"])
    assert res.fit_warnings, "a separation warning must be surfaced"
    assert res.to_dict()["fit_warnings"] == list(res.fit_warnings)
