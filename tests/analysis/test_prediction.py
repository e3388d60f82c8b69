"""Prediction models on data simulated in the test with known effects (and with none)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lupuscell.analysis.prediction import (
    PredictionModel,
    calibration_plot,
    fit_remission_model,
    fit_rfs_model,
    prediction_frame,
)
from lupuscell.errors import ValidationError

N_BOOT = 20


def simulate(n: int, seed: int, signal: bool = True) -> pd.DataFrame:
    """Baseline features; remission odds fall with nephritis (OR 0.4) and with SLEDAI-2K (OR 0.92
    per point); the relapse hazard rises with both (HR 1.8, 1.05 per point). Assumed effects."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "USUBJID": [f"P-{i:04d}" for i in range(n)],
            "AGE": rng.normal(35, 10, n).round(1),
            "DIAGDUR": rng.gamma(2.0, 3.0, n).round(1),
            "BSLEDAI": rng.integers(4, 26, n).astype(float),
            "NEPHRITIS": rng.integers(0, 2, n).astype(float),
            "BDSDNA": rng.integers(0, 2, n).astype(float),
            "THERAPY": rng.choice(["autologous_hsct", "msc", "car_t"], n),
        }
    )
    k = 1.0 if signal else 0.0
    lin = 1.2 + k * (np.log(0.4) * frame["NEPHRITIS"] + np.log(0.92) * (frame["BSLEDAI"] - 14))
    frame["remission_12m"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    hazard = np.exp(k * (np.log(1.8) * frame["NEPHRITIS"] + np.log(1.05) * (frame["BSLEDAI"] - 14)))
    t = rng.exponential(700 / hazard)
    c = rng.uniform(200, 1500, n)
    frame["rfs_days"] = np.ceil(np.minimum(t, c))
    frame["rfs_event"] = (t <= c).astype(float)
    return frame


@pytest.fixture(scope="module")
def models() -> tuple[PredictionModel, PredictionModel]:
    frame = simulate(500, 1)
    return fit_remission_model(frame, n_bootstrap=N_BOOT), fit_rfs_model(frame, n_bootstrap=N_BOOT)


def test_effect_directions_are_recovered(models: tuple[PredictionModel, PredictionModel]) -> None:
    remission, rfs = models
    r = remission.coefficients.set_index("term")["coef"]
    h = rfs.coefficients.set_index("term")["coef"]
    assert r["NEPHRITIS"] < 0 and r["BSLEDAI"] < 0
    assert h["NEPHRITIS"] > 0 and h["BSLEDAI"] > 0
    for m in models:
        perf = m.performance.set_index("measure")
        assert perf.loc["c_statistic", "corrected"] < perf.loc["c_statistic", "apparent"]  # optimism > 0
        assert 0.6 < perf.loc["c_statistic", "corrected"] < 0.9


def test_no_signal_gives_corrected_c_near_one_half() -> None:
    frame = simulate(400, 7, signal=False)
    for fit in (fit_remission_model, fit_rfs_model):
        model = fit(frame, n_bootstrap=N_BOOT)
        perf = model.performance.set_index("measure")
        assert perf.loc["c_statistic", "corrected"] == pytest.approx(0.5, abs=0.06)
        assert perf.loc["c_statistic", "apparent"] > perf.loc["c_statistic", "corrected"]


def test_tripod_summary_and_round_trip(models: tuple[PredictionModel, PredictionModel]) -> None:
    for model in models:
        s = model.summary()
        assert s["n"] == 500 and s["events"] == model.events
        assert s["candidate_parameters"] == 7  # AGE, DIAGDUR, BSLEDAI, NEPHRITIS, BDSDNA, 2 therapy dummies
        assert s["events_per_variable"] == pytest.approx(min(model.events, model.non_events) / 7 if model.kind ==
                                                         "logistic" else model.events / 7)
        assert {"c_statistic_apparent", "c_statistic_corrected", "calibration_slope_corrected"} <= set(s)
        rebuilt = PredictionModel.from_dict(json.loads(json.dumps(model.to_dict())))
        candidate = {"AGE": 30, "DIAGDUR": 4, "BSLEDAI": 20, "NEPHRITIS": 1, "BDSDNA": 1, "THERAPY": "msc"}
        assert rebuilt.predict(candidate) == model.predict(candidate)


def test_prediction_for_a_candidate_has_an_interval(models: tuple[PredictionModel, PredictionModel]) -> None:
    remission, rfs = models
    base = {"AGE": 30, "DIAGDUR": 4, "BSLEDAI": 10, "NEPHRITIS": 0, "BDSDNA": 1, "THERAPY": "msc"}
    worse = {**base, "BSLEDAI": 24, "NEPHRITIS": 1}
    p, q = remission.predict(base), remission.predict(worse)
    assert p["ci_low"] < p["probability"] < p["ci_high"]
    assert q["probability"] < p["probability"]
    assert rfs.predict(worse)["probability"] > rfs.predict(base)["probability"]
    with pytest.raises(ValidationError, match="THERAPY"):
        remission.predict({**base, "THERAPY": "rituximab"})
    with pytest.raises(ValidationError, match="AGE"):
        remission.predict({k: v for k, v in base.items() if k != "AGE"})


def test_calibration_plot_is_a_figure(models: tuple[PredictionModel, PredictionModel]) -> None:
    for model in models:
        fig = calibration_plot(model)
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert "n = 500" in ax.get_title() and ax.get_xlabel().startswith("Predicted probability")
        assert len(model.calibration) >= 3


def test_bad_input_is_named() -> None:
    frame = simulate(300, 3)
    with pytest.raises(ValidationError, match="C3"):
        fit_remission_model(frame, predictors=["AGE", "C3"], n_bootstrap=5)
    few = frame.copy()
    few.loc[few.index[9:], "remission_12m"] = 0.0
    few.loc[few.index[:9], "remission_12m"] = 1.0
    with pytest.raises(ValidationError, match="only 9 events"):
        fit_remission_model(few, n_bootstrap=5)
    const = frame.assign(BDSDNA=1.0)
    model = fit_remission_model(const, n_bootstrap=5)
    assert any("BDSDNA is constant" in w for w in model.warnings)
    small = simulate(60, 4)
    assert any("events per variable" in w for w in fit_rfs_model(small, n_bootstrap=5).warnings)


def test_prediction_frame_from_adsl() -> None:
    adsl = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C"],
            "AGE": [30.0, 40.0, 50.0],
            "NEPHRITIS": [True, False, True],
            "LNCLASS": ["IV", None, "III"],
            "FUPDY": [400, 200, 500],
            "first_remission_day": [300, None, None],
            "rfs_days": [400, 200, 500],
            "rfs_event": [False, True, False],
        }
    )
    f = prediction_frame(adsl)
    assert f["remission_12m"].tolist()[0] == 1.0 and np.isnan(f["remission_12m"][1]) and f["remission_12m"][2] == 0
    assert f["LNCLASS"].tolist() == ["IV", "none", "III"]
    assert f["rfs_event"].tolist() == [0.0, 1.0, 0.0]
