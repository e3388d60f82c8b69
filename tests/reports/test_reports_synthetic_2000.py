"""Acceptance (issue 4): on a 2,000-patient synthetic cohort the report builds, and its
Kaplan-Meier, cumulative-incidence and Cox numbers equal a second implementation to 1e-6
(statsmodels ``SurvfuncRight`` and ``PHReg``; a textbook Aalen-Johansen written here)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from lupuscell.analysis.regression import design_matrix
from lupuscell.reports.pipeline import report_from_cohort
from lupuscell.synth.cohort_data import from_synthetic


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, object, Path]:
    out = tmp_path_factory.mktemp("report2000")
    summary, datasets = report_from_cohort(
        from_synthetic(2000, seed=2026), out, source="synthetic seed 2026", n_bootstrap=10
    )
    return summary, datasets, out


def _sm_survival_at(t: np.ndarray, e: np.ndarray, at: float) -> float:
    sf = SurvfuncRight(t, e.astype(float))
    times = np.asarray(sf.surv_times)
    idx = np.searchsorted(times, at, side="right") - 1
    return 1.0 if idx < 0 else float(sf.surv_prob[idx])


def test_report_files(built: tuple[dict, object, Path]) -> None:
    summary, _, out = built
    assert summary["n_patients"] == 2000
    for name in ("report.html", "report.pdf", "summary.json"):
        assert (out / name).stat().st_size > 10_000


@pytest.mark.parametrize("param", ["OS", "RFS"])
def test_km_landmarks_equal_statsmodels(built: tuple[dict, object, Path], param: str) -> None:
    summary, datasets, _ = built
    adtte = datasets.adtte  # type: ignore[attr-defined]
    rows = adtte[adtte["PARAMCD"] == param]
    for group, res in summary["km"][param].items():
        sub = rows if group == "all" else rows[rows["THERAPY"] == group]
        t = sub["AVAL"].to_numpy(float)
        e = (sub["CNSR"] == 0).to_numpy()
        assert res["n"] == len(sub) and res["events"] == int(e.sum())
        for lm in res["landmarks"]:
            if lm["survival"] is None:
                assert lm["time"] > t.max()
                continue
            assert lm["survival"] == pytest.approx(_sm_survival_at(t, e, lm["time"]), abs=1e-6)
        if res["median"] is not None:
            assert res["median"] == pytest.approx(SurvfuncRight(t, e.astype(float)).quantile(0.5), abs=1e-6)


def _aj(t: np.ndarray, s: np.ndarray, cause: int, at: float) -> float:
    surv, cif = 1.0, 0.0
    for u in np.unique(t[(s > 0) & (t <= at)]):
        n = np.sum(t >= u)
        cif += surv * np.sum((t == u) & (s == cause)) / n
        surv *= 1 - np.sum((t == u) & (s > 0)) / n
    return cif


def test_cif_landmarks_equal_textbook_aalen_johansen(built: tuple[dict, object, Path]) -> None:
    summary, datasets, _ = built
    adtte = datasets.adtte  # type: ignore[attr-defined]
    rel = adtte[adtte["PARAMCD"] == "REL"]
    cause_code = {"relapse": 1, "non-relapse mortality": 2}
    checked = 0
    for group, res in summary["cumulative_incidence"].items():
        sub = rel if group == "all" else rel[rel["THERAPY"] == group]
        t, s = sub["AVAL"].to_numpy(float), sub["EVCODE"].to_numpy(int)
        for lm in res["landmarks"]:
            assert lm["cif"] == pytest.approx(_aj(t, s, cause_code[lm["cause"]], lm["time"]), abs=1e-6)
            checked += 1
    assert checked >= 8


def test_cox_equals_statsmodels_phreg(built: tuple[dict, object, Path]) -> None:
    summary, datasets, _ = built
    adsl, adtte = datasets.adsl, datasets.adtte  # type: ignore[attr-defined]
    rfs = adtte[adtte["PARAMCD"] == "RFS"][["USUBJID", "AVAL", "CNSR"]]
    data = adsl.merge(rfs, on="USUBJID")
    covs = [c["term"] for c in summary["cox"]["coefficients"]]
    base = ["THERAPY", "BSLEDAI", "NEPHRITIS", "BDSDNA", "AGE"]
    data = data[["AVAL", "CNSR", *base]].dropna()
    for c in ("NEPHRITIS", "BDSDNA"):
        data[c] = data[c].astype(float)
    x, _, _ = design_matrix(data, base, {"THERAPY": "autologous_hsct"})
    assert list(x.columns) == covs
    fit = PHReg(
        data["AVAL"].to_numpy(float),
        x.to_numpy(float),
        status=(data["CNSR"] == 0).to_numpy(float),
        ties="efron",
    ).fit(method="newton", tol=1e-12, maxiter=200)
    ours = pd.DataFrame(summary["cox"]["coefficients"]).set_index("term").loc[covs]
    np.testing.assert_allclose(ours["coef"].to_numpy(), fit.params, atol=1e-6)
    np.testing.assert_allclose(ours["se"].to_numpy(), fit.bse, atol=1e-6)
    assert summary["cox"]["n"] == len(data)


def test_programme_is_compared_with_the_literature(built: tuple[dict, object, Path]) -> None:
    summary, _, out = built
    hsct = next(r for r in summary["literature"] if r["therapy"] == "autologous_hsct")
    nrm = next(
        lm
        for lm in summary["cumulative_incidence"]["autologous_hsct"]["landmarks"]
        if lm["time"] == 365 and lm["cause"] == "non-relapse mortality"
    )
    assert hsct["centre_estimate"] == pytest.approx(nrm["cif"])
    assert hsct["k"] >= 2 and hsct["position"] in ("below", "within", "above")
    assert hsct["prediction_interval"][0] <= hsct["pooled_estimate"] <= hsct["prediction_interval"][1]
    assert hsct["sentence"] in html.unescape((out / "report.html").read_text())
