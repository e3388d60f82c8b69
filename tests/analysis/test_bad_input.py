"""Bad input to the regressions is named (issue 14): a constant covariate and fewer than 10 events
are warnings naming the column, for the Cox model, the Fine-Gray model and its cause-specific
models; the prediction model of relapse-free survival refuses fewer than 10 events and names an
unknown predictor. (Unknown covariates of cox_model and fine_gray, and the remission model's
bad input, are tested in test_regression_r.py, test_finegray_r.py and test_prediction.py.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lupuscell.analysis.finegray import fine_gray
from lupuscell.analysis.prediction import fit_rfs_model
from lupuscell.analysis.regression import cox_model
from lupuscell.errors import ValidationError


def _frame(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(35, 10, n), "sledai": rng.integers(2, 25, n).astype(float)})
    frame["time"] = np.ceil(rng.exponential(400, n))
    frame["status"] = rng.choice([0, 1, 2], n, p=[0.4, 0.35, 0.25])
    frame["event"] = (frame["status"] > 0).astype(int)
    return frame


def test_cox_names_a_constant_covariate_and_too_few_events() -> None:
    frame = _frame(200).assign(site=1.0)
    res = cox_model(frame, duration_col="time", event_col="event", covariates=["age", "site"])
    assert res.data_warnings == ("covariate site is constant in the data and was dropped",)
    assert res.to_dict()["data_warnings"] == list(res.data_warnings)
    few = frame.assign(event=0)
    few.loc[few.index[:7], "event"] = 1
    res = cox_model(few, duration_col="time", event_col="event", covariates=["age", "sledai"])
    assert res.data_warnings == (
        "only 7 event(s) in 'event': fewer than 10, so the estimates are unreliable",
    )
    enough = cox_model(frame, duration_col="time", event_col="event", covariates=["age", "sledai"])
    assert enough.data_warnings == ()


def test_fine_gray_names_a_constant_covariate_and_too_few_events() -> None:
    frame = _frame(300).assign(site=2.0)
    res = fine_gray(frame, duration_col="time", event_col="status", covariates=["age", "site"], cause=1)
    assert "covariate site is constant in the data and was dropped" in res.data_warnings
    assert list(res.coefficients["term"]) == ["age"]
    few = frame.copy()
    cause2 = few.index[few["status"] == 2]
    few.loc[cause2[6:], "status"] = 0  # 6 events of cause 2 remain
    res = fine_gray(few, duration_col="time", event_col="status", covariates=["age", "sledai"], cause=2)
    assert (
        "only 6 event(s) in 'status' == 2: fewer than 10, so the estimates are unreliable"
        in res.data_warnings
    )
    # the cause-specific model of the same cause says so too, naming the cause
    assert any("only 6 event(s) in 'cause 2'" in w for w in res.cause_specific[2].data_warnings)
    assert not any("only" in w for w in res.cause_specific[1].data_warnings)


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Baseline features and relapse-free survival (relapse hazard up with nephritis, assumed)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "AGE": rng.normal(35, 10, n),
            "BSLEDAI": rng.integers(4, 26, n).astype(float),
            "NEPHRITIS": rng.integers(0, 2, n).astype(float),
        }
    )
    t = rng.exponential(700 / np.exp(0.6 * frame["NEPHRITIS"]))
    c = rng.uniform(200, 1500, n)
    frame["rfs_days"] = np.ceil(np.minimum(t, c))
    frame["rfs_event"] = (t <= c).astype(float)
    return frame


def test_rfs_prediction_model_refuses_fewer_than_10_events_and_unknown_predictors() -> None:
    frame = simulate(200, 9)
    few = frame.assign(rfs_event=0.0)
    few.loc[few.index[:8], "rfs_event"] = 1.0
    with pytest.raises(ValidationError, match=r"rfs.*only 8 events among 200 patients"):
        fit_rfs_model(few, n_bootstrap=10)
    with pytest.raises(ValidationError, match="BC3"):
        fit_rfs_model(frame, predictors=["AGE", "BC3"], n_bootstrap=10)
    const = fit_rfs_model(frame.assign(NEPHRITIS=1.0), n_bootstrap=10)
    assert any("NEPHRITIS is constant" in w for w in const.warnings)
