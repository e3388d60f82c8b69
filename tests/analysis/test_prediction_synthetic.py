"""Acceptance (issue 14): the prediction pipeline on the synthetic cohort of lupuscell.synth.

With its baseline effects on (docs/synth.md: lupus nephritis OR 0.5 and baseline SLEDAI-2K OR
0.95 per point for complete response) the remission model, fitted on the analysis dataset ADSL
the registry pipeline derives, recovers both directions and reports an optimism-corrected
C-statistic below the apparent one. With the effects off (``baseline_signal=False``: nothing
recorded at baseline, therapy included, changes the course) the corrected C-statistic of both
models is about 0.5. (The relapse effects of the synthetic cohort act among remitters only,
where nephritis also lowers the chance of remission, so no direction is asserted for the model
of relapse-free survival from day 0.)
"""

from __future__ import annotations

import pandas as pd
import pytest

from lupuscell.analysis.prediction import fit_remission_model, fit_rfs_model, prediction_frame
from lupuscell.outcomes.datasets import build_datasets
from lupuscell.synth.cohort import generate_cohort_tables
from lupuscell.synth.cohort_data import from_tables

N, SEED, N_BOOT = 800, 1, 10


def _frame(signal: bool) -> pd.DataFrame:
    cohort = from_tables(generate_cohort_tables(N, SEED, baseline_signal=signal))
    return prediction_frame(build_datasets(cohort).adsl)


@pytest.mark.slow
def test_signal_cohort_directions_and_corrected_c() -> None:
    model = fit_remission_model(_frame(signal=True), n_bootstrap=N_BOOT)
    coef = model.coefficients.set_index("term")["coef"]
    assert coef["NEPHRITIS"] < 0, "nephritis lowers the odds of remission in the synthetic cohort"
    assert coef["BSLEDAI"] < 0, "higher baseline SLEDAI-2K lowers the odds of remission"
    s = model.summary()
    assert s["c_statistic_corrected"] < s["c_statistic_apparent"]
    assert 0.7 < s["c_statistic_corrected"] < 0.95
    assert s["c_statistic_optimism"] > 0


@pytest.mark.slow
def test_no_signal_cohort_corrected_c_near_one_half() -> None:
    frame = _frame(signal=False)
    for fit in (fit_remission_model, fit_rfs_model):
        s = fit(frame, n_bootstrap=N_BOOT).summary()
        assert s["c_statistic_corrected"] == pytest.approx(0.5, abs=0.08), fit.__name__
        assert s["c_statistic_apparent"] > s["c_statistic_corrected"]
