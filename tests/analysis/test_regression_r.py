"""Cox models against R survival 3.5-3 ``coxph`` (``r/survival_cox.R`` -> ``r/survival_cox.out``).

Coefficients, model-based standard errors, log partial likelihoods, concordance, the
proportional-hazards score test (``cox.zph``) and the predicted survival of a covariate pattern
(``survfit.coxph``) agree to 1e-6 with Efron and with Breslow ties, on R's ``lung`` and ``pbc``
data, with delayed entry (``mgus2`` and ``pbc`` on the age time scale, the synthetic cohort) and
with counting-process rows, several per person (``heart``: before and after transplant).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rref import dataset, mgus2_competing, pbc, reference

from lupuscell.analysis.regression import cox_model
from lupuscell.errors import ValidationError

R = reference("survival_cox")
TOL = 1e-6


def _pbc() -> pd.DataFrame:
    d = pbc()
    return d.assign(
        log_bili=np.log(d["bili"]),
        log_albumin=np.log(d["albumin"]),
        log_protime=np.log(d["protime"]),
        death=(d["status"] == 2).astype(int),
    )


def _lung() -> pd.DataFrame:
    d = dataset("lung")
    return d.assign(death=(d["status"] == 2).astype(int))


def _syn() -> pd.DataFrame:
    d = dataset("synthetic_cohort")
    return d.assign(relapse=(d["status"] == 1).astype(int))


# label -> (data, model arguments, covariate pattern for the predicted survival)
MODELS: dict[str, tuple[Callable[[], pd.DataFrame], dict[str, Any], dict[str, Any]]] = {
    "lung": (
        _lung,
        {"duration_col": "time", "event_col": "death", "covariates": ["age", "sex", "ph.ecog"]},
        {"age": 60, "sex": 2, "ph.ecog": 1},
    ),
    "pbc": (
        _pbc,
        {
            "duration_col": "time",
            "event_col": "death",
            "covariates": ["age", "edema", "log_bili", "log_albumin", "log_protime"],
        },
        {"age": 50, "edema": 0, "log_bili": np.log(1.5), "log_albumin": np.log(3.5), "log_protime": np.log(10.5)},
    ),
    "pbc_age": (
        _pbc,
        {
            "duration_col": "exit_age",
            "entry_col": "age",
            "event_col": "death",
            "covariates": ["edema", "log_bili", "log_albumin"],
        },
        {"edema": 0, "log_bili": np.log(1.5), "log_albumin": np.log(3.5)},
    ),
    "mgus2_age": (
        mgus2_competing,
        {
            "duration_col": "exit_age",
            "entry_col": "age",
            "event_col": "death",
            "covariates": ["sex", "hgb", "creat"],
            "categorical": {"sex": "F"},
        },
        {"sex": "M", "hgb": 13, "creat": 1.1},
    ),
    "heart": (
        lambda: dataset("heart"),
        {
            "duration_col": "stop",
            "entry_col": "start",
            "event_col": "event",
            "id_col": "id",
            "covariates": ["age", "year", "surgery", "transplant"],
        },
        {"age": 0, "year": 3, "surgery": 0, "transplant": 1},
    ),
    "syn_entry": (
        _syn,
        {
            "duration_col": "time",
            "entry_col": "entry",
            "event_col": "relapse",
            "covariates": ["age", "sledai", "nephritis", "therapy"],
            "categorical": {"therapy": "autologous_hsct"},
        },
        {"age": 40, "sledai": 10, "nephritis": 1, "therapy": "msc"},
    ),
}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_cox_matches_r_coxph(name: str, ties: str) -> None:
    load, kwargs, pattern = MODELS[name]
    label = f"{name}_{ties}"
    res = cox_model(load(), ties=ties, **kwargs)  # type: ignore[arg-type]
    c = res.coefficients
    np.testing.assert_allclose(c["coef"], R[(label, "coef")], rtol=0, atol=TOL)
    np.testing.assert_allclose(c["se"], R[(label, "se")], rtol=0, atol=TOL)
    np.testing.assert_allclose([res.loglik_null, res.loglik], R[(label, "loglik")], rtol=1e-10)
    assert res.events == R[(label, "n_event")][0]
    assert res.concordance == pytest.approx(R[(label, "concordance")][0], abs=1e-9)
    zph_p = R[(label, "zph_p")]
    np.testing.assert_allclose(c["ph_p"], zph_p[:-1], rtol=0, atol=TOL)
    assert res.ph_global_p == pytest.approx(zph_p[-1], abs=TOL)
    times = R[(label, "pred_time")] + 1e-9  # R printed 15 digits: step just after each time
    np.testing.assert_allclose(res.predict_survival(pattern, times), R[(label, "pred_surv")], rtol=0, atol=TOL)


def test_heart_counts_people_not_rows() -> None:
    load, kwargs, _ = MODELS["heart"]
    res = cox_model(load(), **kwargs)  # type: ignore[arg-type]
    assert res.n == 103 and len(load()) == 172


def test_unknown_covariate_is_a_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError) as err:
        cox_model(_lung(), duration_col="time", event_col="death", covariates=["age", "ecog", "karno"])
    assert [p.field for p in err.value.problems] == ["ecog", "karno"]
    assert "no such column" in str(err.value)
    with pytest.raises(ValidationError, match="entry_col"):
        cox_model(_lung(), duration_col="time", event_col="death", covariates=["age"], entry_col="start")


def test_bad_ties_and_event_codes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="ties"):
        cox_model(_lung(), duration_col="time", event_col="death", covariates=["age"], ties="exact")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="fine_gray"):
        cox_model(_lung(), duration_col="time", event_col="status", covariates=["age"])


def test_zph_rank_transform_matches_r() -> None:
    res = cox_model(_lung(), duration_col="time", event_col="death", covariates=["age", "sex", "ph.ecog"],
                    ph_transform="rank")
    from scipy import stats

    np.testing.assert_allclose(res.coefficients["ph_p"], stats.chi2.sf(R[("lung_efron", "zph_rank_chisq")][:-1], 1),
                               rtol=0, atol=TOL)
