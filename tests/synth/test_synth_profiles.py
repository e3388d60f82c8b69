"""The data tables of the synthetic cohort (lupuscell.synth.profiles) are coherent."""

from __future__ import annotations

import numpy as np

from lupuscell import vocab
from lupuscell.synth import profiles


def _range(law: profiles.LogNormal | profiles.Uniform) -> tuple[float, float]:
    if isinstance(law, profiles.Uniform):
        return law.low, law.high
    return (law.floor if law.floor is not None else 0.0, law.ceiling if law.ceiling is not None else np.inf)


def test_abnormal_and_normal_lab_values_never_overlap() -> None:
    """Every lab law keeps scored and unscored visits on either side of one cut-off."""
    for analyte, law in profiles.VISIT_LAB_LAWS.items():
        assert law.descriptor in vocab.SLEDAI_2K_DESCRIPTORS, analyte
        abnormal = _range(law.abnormal)
        normals = [_range(law.normal)] + (
            [] if law.normal_nephritis is None else [_range(law.normal_nephritis)]
        )
        for normal in normals:
            assert abnormal[1] < normal[0] or normal[1] < abnormal[0], analyte
        assert law.note, analyte


def test_count_curves_cross_the_engraftment_thresholds() -> None:
    """Before recovery the counts stay below the CIBMTR thresholds, from recovery at or above."""
    anc, plt = profiles.HSCT_ANC, profiles.HSCT_PLATELETS
    assert anc.cap < 0.5 <= anc.engrafted_floor
    assert profiles.HSCT_ANC_DAY_BEFORE_RECOVERY.high <= anc.cap
    assert plt.deep_cap < 20 <= plt.engrafted_floor
    assert profiles.PLATELET_TRANSFUSION_BELOW < profiles.PLATELET_TRANSFUSION_SOMETIMES_BELOW[0] <= 20
    assert len(profiles.CAR_T_ANC[0]) == len(profiles.CAR_T_PLATELETS[0]) == len(profiles.CAR_T_COUNT_DAYS)


def test_criteria_years_are_decreasing_and_valid() -> None:
    years = [y for y, _ in profiles.CLASSIFICATION_CRITERIA_FROM_YEAR]
    assert years == sorted(years, reverse=True)
    names = [n for _, n in profiles.CLASSIFICATION_CRITERIA_FROM_YEAR] + [
        profiles.CLASSIFICATION_CRITERIA_BEFORE
    ]
    assert set(names) <= set(vocab.CLASSIFICATION_CRITERIA)
    assert set(profiles.FALLBACK_DESCRIPTOR.values()) <= set(vocab.SLEDAI_2K_DESCRIPTORS)
