"""Baseline effects of the synthetic cohort: present by their documented amounts, absent with
the switch, and the marginal rates still the calibrated ones.

The effects are recovered from the registry tables as a user would: features from the
patients table and the baseline visit, remission from the visits, relapse from the clinical
events; a plain logistic regression (statsmodels) and a Cox model (lifelines) on 5,000
patients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines import CoxPHFitter
from scipy.special import expit

from lupuscell import vocab
from lupuscell.instruments import sledai2k
from lupuscell.synth import calibration as cal
from lupuscell.synth import effects, profiles
from lupuscell.synth.cohort import _Block, generate_cohort_tables, signal_model

DESCRIPTORS = list(vocab.SLEDAI_2K_DESCRIPTORS)
WEIGHTS = np.array([sledai2k.WEIGHTS[d] for d in DESCRIPTORS])
N, SEED = 5000, 5
FEATURES = ["lupus_nephritis", "sledai_2k", "prior_immunosuppressants", "age", "msc", "car_t"]


def _per_patient(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Baseline features, remission by the month-12 visit, and relapse after the first remission."""
    patients = tables["patients"].set_index("code")
    course = tables["therapy_courses"].set_index("patient_code")
    visits = tables["visits"].merge(course[["infusion_date"]], left_on="patient_code", right_index=True)
    visits["day"] = (visits["visit_date"] - visits["infusion_date"]).dt.days
    base = visits[visits["day"] < 0].set_index("patient_code")
    out = pd.DataFrame(index=patients.index)
    out["lupus_nephritis"] = patients["nephritis_class"].notna().astype(float)
    out["sledai_2k"] = pd.Series(base[DESCRIPTORS].astype(int).to_numpy() @ WEIGHTS, index=base.index)
    out["prior_immunosuppressants"] = [
        float(sum(name in profiles.PRIOR_IMMUNOSUPPRESSANTS for name in prior))
        for prior in patients["prior_therapies"]
    ]
    out["age"] = (course["infusion_date"].dt.year - patients["birth_year"]).astype(float)
    out["anti_dsdna_negative"] = (~base["increased_dna_binding"].astype(bool)).astype(float)
    out["msc"] = (course["therapy"] == "msc").astype(float)
    out["car_t"] = (course["therapy"] == "car_t").astype(float)
    events = tables["clinical_events"].merge(
        course[["infusion_date"]], left_on="patient_code", right_index=True
    )
    events["day"] = (events["event_date"] - events["infusion_date"]).dt.days
    out["end_day"] = events[events["event_type"].isin(["death", "last_contact"])].set_index("patient_code")[
        "day"
    ]
    out["relapse_day"] = events[events["event_type"] == "relapse"].set_index("patient_code")["day"]
    quiet = visits[(visits["day"] > 0) & ~visits[DESCRIPTORS].any(axis=1)]
    out["first_remission_day"] = quiet.groupby("patient_code")["day"].min()
    out["remission_12m"] = (out["first_remission_day"] <= 400).astype(float)
    return out


@pytest.fixture(scope="module")
def with_signal() -> pd.DataFrame:
    return _per_patient(generate_cohort_tables(N, SEED))


@pytest.fixture(scope="module")
def without_signal() -> pd.DataFrame:
    return _per_patient(generate_cohort_tables(N, SEED, baseline_signal=False))


def _logit(frame: pd.DataFrame) -> pd.DataFrame:
    followed = frame[frame["end_day"] >= 400]  # deaths and censoring do not depend on the features
    fit = sm.Logit(followed["remission_12m"], sm.add_constant(followed[FEATURES])).fit(disp=0)
    return pd.DataFrame({"coef": fit.params, "se": fit.bse, "llr_p": fit.llr_pvalue})


def _cox(frame: pd.DataFrame) -> pd.DataFrame:
    remitters = frame.dropna(subset=["first_remission_day"]).copy()
    remitters["event"] = remitters["relapse_day"].notna().astype(int)
    stop = remitters["relapse_day"].fillna(remitters["end_day"])
    remitters["years"] = ((stop - remitters["first_remission_day"]) / 365.25).clip(lower=1 / 365.25)
    remitters["anti_dsdna_negative_hsct"] = remitters["anti_dsdna_negative"] * (
        1 - remitters["msc"] - remitters["car_t"]
    )
    columns = ["years", "event", *FEATURES, "anti_dsdna_negative", "anti_dsdna_negative_hsct"]
    fit = CoxPHFitter().fit(remitters[columns], "years", "event")
    return pd.DataFrame({"coef": fit.params_, "se": fit.standard_errors_})


def _expected(outcome: str) -> dict[str, float]:
    """True log ratio per unit of each feature (the HSCT-only effect as an interaction term)."""
    out = {}
    for e in cal.BASELINE_EFFECTS:
        if e.outcome == outcome:
            name = e.feature if len(e.therapies) == 3 else f"{e.feature}_hsct"
            out[name] = e.value / e.per
    return out


def _assert_recovered(fit: pd.DataFrame, expected: dict[str, float]) -> None:
    assert expected
    for term, true in expected.items():
        coef, se = fit.loc[term, "coef"], fit.loc[term, "se"]
        assert np.sign(coef) == np.sign(true), (term, coef, true)
        # rough size: within 30 % of the true value, give or take 2.5 standard errors
        assert abs(coef - true) <= 0.3 * abs(true) + 2.5 * se, (term, coef, se, true)


def test_remission_odds_follow_the_documented_effects(with_signal: pd.DataFrame) -> None:
    fit = _logit(with_signal)
    _assert_recovered(fit, _expected("complete_response"))
    # the therapies still differ as calibrated (MSC below HSCT, CAR-T above)
    assert fit.loc["msc", "coef"] < -1.0 and fit.loc["car_t", "coef"] > 0.5


def test_relapse_hazard_follows_the_documented_effects(with_signal: pd.DataFrame) -> None:
    fit = _cox(with_signal)
    _assert_recovered(fit, _expected("relapse"))
    # anti-dsDNA negativity acts after HSCT only (Jayne 2004)
    assert abs(fit.loc["anti_dsdna_negative", "coef"]) < 2.5 * fit.loc["anti_dsdna_negative", "se"]


def test_no_signal_cohort_has_nothing_to_predict(without_signal: pd.DataFrame) -> None:
    logit = _logit(without_signal)
    terms = logit.drop(index="const")
    assert (terms["coef"].abs() < 3 * terms["se"]).all(), terms
    assert logit["llr_p"].iloc[0] > 0.01  # the model as a whole predicts nothing, therapy included
    cox = _cox(without_signal)
    assert (cox["coef"].abs() < 3 * cox["se"]).all(), cox


def test_the_switch_changes_the_disease_course_only() -> None:
    signal = generate_cohort_tables(300, 3)
    null = generate_cohort_tables(300, 3, baseline_signal=False)
    pd.testing.assert_frame_equal(signal["patients"], null["patients"])
    # the course is the same; only a discharge after an (earlier or later) death differs
    courses = [t["therapy_courses"].drop(columns="discharge_date") for t in (signal, null)]
    pd.testing.assert_frame_equal(*courses)
    assert not signal["clinical_events"].equals(null["clinical_events"])


def test_calibrated_constants_keep_the_marginal_rates() -> None:
    """On a fresh baseline sample (not the reference one) the mean response probability of each
    therapy and the cumulative relapse incidence of its complete responders are the targets."""
    model = signal_model()
    sample = _Block.reference_baseline(seed=2027, m=30_000)
    features, ti = sample.features(), sample.ti
    p_cr, p_pr = effects.response_probabilities(model, features, ti)
    assert np.all(p_cr + p_pr <= 1.0)
    u = np.random.default_rng(0).random(len(ti))
    years = effects.relapse_years(model, u, features, ti)
    for k, therapy in enumerate(effects.THERAPIES):
        c, mask = cal.CALIBRATION[therapy], ti == k
        assert p_cr[mask].mean() == pytest.approx(c.response_complete.p, abs=0.01), therapy
        assert p_pr[mask].mean() == pytest.approx(c.response_partial.p, abs=0.01), therapy
        for t, target in c.relapse_after_remission.anchors:
            incidence = np.average(years[mask] <= t, weights=p_cr[mask])
            assert incidence == pytest.approx(target, abs=0.02), (therapy, t)


def test_linear_predictor_adds_the_effects_per_unit() -> None:
    features = {name: np.array([0.0, 1.0, 2.0]) for name in cal.BASELINE_FEATURES}
    hsct, msc = effects.THERAPIES.index("autologous_hsct"), effects.THERAPIES.index("msc")
    lp = effects.linear_predictor(features, np.array([hsct, hsct, msc]), "relapse")
    per_unit = sum(e.value / e.per for e in cal.BASELINE_EFFECTS if e.outcome == "relapse")
    hsct_only = sum(
        e.value / e.per
        for e in cal.BASELINE_EFFECTS
        if e.outcome == "relapse" and e.therapies != effects.THERAPIES
    )
    assert lp == pytest.approx([0.0, per_unit, 2 * (per_unit - hsct_only)])
    assert expit(model_intercept := signal_model().intercept[hsct]) > 0.5 and np.isfinite(model_intercept)


def test_every_effect_is_sourced_and_uses_a_known_feature() -> None:
    for e in cal.BASELINE_EFFECTS:
        assert e.feature in cal.BASELINE_FEATURES
        assert e.source and e.note
        assert set(e.therapies) <= set(cal.CALIBRATION)
        assert e.per > 0
