"""Outcome rates of the synthetic cohort against the calibration targets (and their sources).

Tolerances are about 2.5 binomial standard errors at the group sizes of a 2,000-patient
cohort (HSCT ~800, MSC ~800, CAR-T ~400), so a wrong assumption fails but sampling noise
does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from lupuscell import vocab
from lupuscell.synth import calibration as cal
from lupuscell.synth.cohort import generate_cohort_tables

DESCRIPTORS = list(vocab.SLEDAI_2K_DESCRIPTORS)


# -- the piecewise-exponential sampler ---------------------------------------------------


def test_quantile_reproduces_every_anchor() -> None:
    anchors = ((1.0, 0.15), (5.0, 0.45))
    times = cal.piecewise_exponential_quantile(np.random.default_rng(0).random(200_000), anchors)
    assert np.mean(times <= 1.0) == pytest.approx(0.15, abs=0.004)
    assert np.mean(times <= 5.0) == pytest.approx(0.45, abs=0.004)
    assert np.isinf(times).mean() == pytest.approx(0.55, abs=0.004)
    assert np.mean(times <= 3.0) == pytest.approx(cal.cumulative_incidence(anchors, 3.0), abs=0.004)


def test_quantile_boundaries() -> None:
    anchors = ((1.0, 0.5),)
    out = cal.piecewise_exponential_quantile(np.array([0.0, 0.5 - 1e-12, 0.5, 0.9]), anchors)
    assert out[0] == 0.0
    assert out[1] == pytest.approx(1.0)
    assert np.isinf(out[2]) and np.isinf(out[3])  # at or beyond the last incidence: no event
    assert cal.cumulative_incidence(anchors, 1.0) == 0.5
    assert cal.cumulative_incidence(anchors, 7.0) == 0.5
    assert cal.cumulative_incidence(anchors, 0.0) == 0.0


def test_every_assumption_names_a_source() -> None:
    for therapy, c in cal.CALIBRATION.items():
        for name in (
            "response_complete",
            "relapse_after_remission",
            "treatment_related_death",
            "other_death",
        ):
            assert getattr(c, name).source, (therapy, name)
        for name, assumption in c.extra.items():
            assert assumption.source, (therapy, name)
    shares = sum(c.share.p for c in cal.CALIBRATION.values())
    assert shares == pytest.approx(1.0)


# -- generated cohort ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort() -> dict[str, pd.DataFrame]:
    return generate_cohort_tables(2000, seed=99)


@pytest.fixture(scope="module")
def per_patient(cohort: dict[str, pd.DataFrame]) -> pd.DataFrame:
    c = cohort["therapy_courses"].set_index("patient_code")
    ev = cohort["clinical_events"].merge(c[["infusion_date"]], left_on="patient_code", right_index=True)
    ev["day"] = (ev["event_date"] - ev["infusion_date"]).dt.days
    out = c[["therapy"]].copy()
    death = ev[ev["event_type"] == "death"].set_index("patient_code")
    out["dead"] = out.index.isin(death.index)
    out["death_day"] = death["day"]
    out["trm"] = death["treatment_related"].reindex(out.index).fillna(False).astype(bool)
    end = ev[ev["event_type"].isin(["death", "last_contact"])].set_index("patient_code")["day"]
    out["end_day"] = end
    relapse = ev[ev["event_type"] == "relapse"].set_index("patient_code")["day"]
    out["relapse_day"] = relapse
    visits = cohort["visits"].merge(c[["infusion_date"]], left_on="patient_code", right_index=True)
    visits["day"] = (visits["visit_date"] - visits["infusion_date"]).dt.days
    quiet = visits[~visits[DESCRIPTORS].any(axis=1) & (visits["day"] > 0)]
    out["first_remission_day"] = quiet.groupby("patient_code")["day"].min()
    m12 = visits[visits["day"].between(330, 400)].set_index("patient_code")
    out["remission_m12"] = ~m12[DESCRIPTORS].any(axis=1)
    return out


def _group(per_patient: pd.DataFrame, therapy: str) -> pd.DataFrame:
    return per_patient[per_patient["therapy"] == therapy]


def test_hsct_treatment_related_mortality(per_patient: pd.DataFrame) -> None:
    hsct = _group(per_patient, "autologous_hsct")
    target = cal.CALIBRATION["autologous_hsct"].treatment_related_death.p
    assert hsct["trm"].mean() == pytest.approx(target, abs=0.025)
    trm100 = (hsct["trm"] & (hsct["death_day"] <= 100)).mean()
    # between the recent series (0-5 %, Burt 2018, Huang 2019) and the EBMT 11 % (Tyndall 2011)
    assert 0.03 <= trm100 <= 0.11
    assert not _group(per_patient, "msc")["trm"].any()


def test_remission_rates(per_patient: pd.DataFrame) -> None:
    hsct = _group(per_patient, "autologous_hsct")
    evaluable = hsct[hsct["end_day"] >= 200]
    by_6m = (evaluable["first_remission_day"] <= 200).mean()
    assert by_6m == pytest.approx(0.66, abs=0.06)  # Jayne 2004: 33/50 by 6 months
    cart = _group(per_patient, "car_t")
    evaluable = cart[cart["end_day"] >= 200]
    assert (evaluable["first_remission_day"] <= 200).mean() == pytest.approx(0.75, abs=0.07)
    msc = _group(per_patient, "msc").dropna(subset=["remission_m12"])
    # Wang 2013: 23/83 (28 %) complete remission at 1 year; Wang 2014 MCR 13/40 (33 %)
    assert msc["remission_m12"].astype(bool).mean() == pytest.approx(0.29, abs=0.06)


def _km_incidence(durations: pd.Series, events: pd.Series, at_days: float) -> float:
    kmf = KaplanMeierFitter().fit(durations, events)
    return 1.0 - float(kmf.survival_function_at_times(at_days).iloc[0])


def test_relapse_incidence_among_remitters(per_patient: pd.DataFrame) -> None:
    for therapy, target in (("autologous_hsct", 0.45), ("msc", 0.30)):
        g = _group(per_patient, therapy).dropna(subset=["first_remission_day"])
        g = g[g["first_remission_day"] <= 365]
        relapsed = g["relapse_day"].notna()
        duration = g["relapse_day"].fillna(g["end_day"])
        assert _km_incidence(duration, relapsed, 5 * 365.25) == pytest.approx(target, abs=0.10), therapy


def test_survival(per_patient: pd.DataFrame) -> None:
    msc = _group(per_patient, "msc")
    death_5y = _km_incidence(msc["end_day"], msc["dead"], 5 * 365.25)
    assert death_5y == pytest.approx(0.16, abs=0.05)  # Wang 2018: 5-year OS 84 %
    hsct = _group(per_patient, "autologous_hsct")
    death_5y = _km_incidence(hsct["end_day"], hsct["dead"], 5 * 365.25)
    assert 0.08 <= death_5y <= 0.19  # EBMT 5-year OS 81 %, Jinling 91 %


def test_car_t_crs_and_icans(cohort: dict[str, pd.DataFrame], per_patient: pd.DataFrame) -> None:
    n_cart = len(_group(per_patient, "car_t"))
    ae = cohort["adverse_events"]
    crs = ae[ae["category"] == "crs"]
    assert crs["patient_code"].nunique() / n_cart == pytest.approx(0.56, abs=0.07)
    assert crs["grade"].isin([1, 2]).mean() >= 0.92
    assert set(crs["grading_system"]) == {"ASTCT_2019"}
    icans = ae[ae["category"] == "icans"]
    assert icans["patient_code"].nunique() / n_cart <= 0.07
    car_t_codes = set(_group(per_patient, "car_t").index)
    assert set(crs["patient_code"]) <= car_t_codes and set(icans["patient_code"]) <= car_t_codes


def test_assumption_accessors() -> None:
    hsct = cal.CALIBRATION["autologous_hsct"]
    assert hsct.treatment_related_death.p == 0.07
    assert hsct.relapse_after_remission.anchors[-1] == (5.0, 0.45)
    with pytest.raises(TypeError):
        _ = hsct.relapse_after_remission.p
    with pytest.raises(TypeError):
        _ = hsct.treatment_related_death.anchors
