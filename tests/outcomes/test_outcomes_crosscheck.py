"""The vectorised engine equals the per-patient pure-Python reference, cell for cell."""

from __future__ import annotations

import pytest
from outcomes_helpers import frame_differences, random_cohort

from lupuscell.outcomes.definitions import EndpointOptions
from lupuscell.outcomes.endpoints import derive_endpoints
from lupuscell.outcomes.inputs import from_tables
from lupuscell.outcomes.reference import reference_endpoints

OPTIONS = [
    EndpointOptions(),
    EndpointOptions(
        flare_rule="selena_flare_index",
        flare_origin="day0",
        window_tie="later",
        platelet_consecutive=7,
        sustained_min_visits=3,
        lab_daily_aggregate="max",
        doris_prednisolone_rule="lt_5",
        doris_pga_rule="le_0_5",
    ),
    EndpointOptions(flare_rule="selena_flare_index", sfi_severity="severe", baseline_window_days=30),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "variant", "severe_sfi"])
def test_vectorised_equals_reference_on_random_boundary_cohort(options: EndpointOptions) -> None:
    cohort = random_cohort(300, seed=11)
    fast = derive_endpoints(cohort, options).patients
    slow = reference_endpoints(cohort, options)
    assert set(fast.columns) == set(slow.columns)
    assert frame_differences(fast, slow) == {}
    # the comparison is not vacuous: every endpoint is reached by someone
    for col in (
        "first_remission_day",
        "first_lldas_day",
        "flare_day",
        "neutrophil_engraftment_day",
        "platelet_engraftment_day",
        "pred_m6",
        "baseline_sledai_2k",
    ):
        assert fast[col].notna().sum() > 0, col
    assert fast["os_event"].any() and (fast["relapse_nrm_status"] == 1).any()


def test_vectorised_equals_reference_on_synthetic_cohort() -> None:
    from lupuscell.synth.cohort import generate_cohort_tables

    cohort = from_tables(generate_cohort_tables(250, 3))
    fast = derive_endpoints(cohort).patients
    slow = reference_endpoints(cohort)
    assert frame_differences(fast, slow) == {}
    assert fast["first_remission_day"].notna().sum() > 10
    assert fast["neutrophil_engraftment_day"].notna().sum() > 10
    assert fast["sri4_m6"].notna().sum() > 0


def test_a_difference_is_detected() -> None:
    """Guard for the guard: the comparison helper reports a changed cell."""
    cohort = random_cohort(40, seed=5)
    fast = derive_endpoints(cohort).patients
    slow = reference_endpoints(cohort)
    slow.loc[0, "os_days"] = slow.loc[0, "os_days"] + 1
    assert list(frame_differences(fast, slow)) == ["os_days"]
