"""Lupus nephritis response: KDIGO 2024 and EULAR/ERA-EDTA 2019 (spec section 7)."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.renal import score_eular_2019, score_kdigo_2024

KDIGO = {
    "baseline_upcr_g_g": 3.0,
    "followup_upcr_g_g": 0.4,
    "baseline_egfr": 80.0,
    "followup_egfr": 80.0,
    "months_since_treatment_start": 12,
}


def kdigo(**changes: object):
    return score_kdigo_2024({**KDIGO, **changes})


@pytest.mark.parametrize(
    ("followup_upcr", "response"),
    [(0.49, "complete"), (0.5, "partial"), (1.5, "partial"), (1.51, "none"), (2.9, "none")],
)
def test_kdigo_upcr_boundaries(followup_upcr: float, response: str) -> None:
    assert kdigo(followup_upcr_g_g=followup_upcr)["response"] == response


def test_kdigo_partial_needs_below_3() -> None:
    assert kdigo(baseline_upcr_g_g=7.0, followup_upcr_g_g=3.0)["response"] == "none"
    assert kdigo(baseline_upcr_g_g=7.0, followup_upcr_g_g=2.99)["response"] == "partial"


@pytest.mark.parametrize(
    ("egfr", "tol", "stable"),
    [(68.0, 0.15, True), (67.9, 0.15, False), (72.0, 0.10, True), (71.9, 0.10, False), (100.0, 0.15, True)],
)
def test_kdigo_egfr_band(egfr: float, tol: float, stable: bool) -> None:
    result = kdigo(followup_egfr=egfr, egfr_stability_tolerance=tol)
    assert result["egfr_stable_or_improved"] is stable
    assert result["response"] == ("complete" if stable else "none")
    assert result["egfr_stability_tolerance"] == tol


def test_kdigo_timing_and_rescue_recorded() -> None:
    assert kdigo(months_since_treatment_start=3)["timing"] == "before_6_months"
    assert kdigo(months_since_treatment_start=12)["timing"] == "6_to_12_months"
    assert kdigo(months_since_treatment_start=18, rescue_therapy=True)["rescue_therapy"] is True


def test_kdigo_rejects_bad_values() -> None:
    with pytest.raises(ValidationError, match="baseline_egfr"):
        kdigo(baseline_egfr=0)
    with pytest.raises(ValidationError, match="followup_upcr_g_g"):
        kdigo(followup_upcr_g_g=-0.1)


EULAR = {
    "baseline_proteinuria_g_24h": 4.0,
    "followup_proteinuria_g_24h": 0.4,
    "months_since_treatment_start": 12,
    "followup_egfr": 95.0,
}


def eular(**changes: object):
    return score_eular_2019({**EULAR, **changes})


@pytest.mark.parametrize(
    ("protein", "cutoff", "response"),
    [
        (0.49, 0.5, "complete"),
        (0.5, 0.5, "partial"),
        (0.6, 0.7, "complete"),
        (0.7, 0.7, "partial"),
        (2.0, 0.5, "partial"),
        (2.01, 0.5, "none"),
    ],
)
def test_eular_proteinuria_cutoffs(protein: float, cutoff: float, response: str) -> None:
    assert eular(followup_proteinuria_g_24h=protein, proteinuria_cutoff_g_24h=cutoff)["response"] == response


def test_eular_partial_needs_subnephrotic() -> None:
    assert eular(baseline_proteinuria_g_24h=8.0, followup_proteinuria_g_24h=3.5)["response"] == "none"
    assert eular(baseline_proteinuria_g_24h=8.0, followup_proteinuria_g_24h=3.4)["response"] == "partial"


def test_eular_near_normal_gfr() -> None:
    assert eular(followup_egfr=81.0)["response"] == "complete"  # 90 x 0.9
    assert eular(followup_egfr=80.9)["response"] == "none"
    assert eular(followup_egfr=50.0, gfr_normal_or_near_normal=True)["response"] == "complete"
    unknown = score_eular_2019({k: v for k, v in EULAR.items() if k != "followup_egfr"})
    assert unknown["response"] is None and not unknown.complete


@pytest.mark.parametrize(
    ("months", "follow", "target", "met"),
    [
        (2, 3.0, None, None),
        (3, 3.0, 0.25, True),
        (3, 3.01, 0.25, False),
        (6, 2.0, 0.5, True),
        (6, 2.01, 0.5, False),
    ],
)
def test_eular_milestones(months: int, follow: float, target: float | None, met: bool | None) -> None:
    result = eular(months_since_treatment_start=months, followup_proteinuria_g_24h=follow)
    assert result["milestone_target_reduction"] == target and result["milestone_met"] is met


def test_eular_cutoff_option_validated() -> None:
    with pytest.raises(ValidationError, match="proteinuria_cutoff_g_24h"):
        eular(proteinuria_cutoff_g_24h=0.6)


def test_kdigo_missing_values_are_unknown_unless_decided() -> None:
    no_egfr = {k: v for k, v in KDIGO.items() if k != "followup_egfr"}
    assert score_kdigo_2024({**no_egfr, "followup_upcr_g_g": 2.0})["response"] == "none"
    unknown = score_kdigo_2024(no_egfr)
    assert unknown["response"] is None and not unknown.complete and unknown.missing == ("followup_egfr",)
    no_base = {k: v for k, v in KDIGO.items() if k != "baseline_upcr_g_g"}
    assert score_kdigo_2024(no_base)["response"] == "complete"
    assert score_kdigo_2024({**no_base, "followup_upcr_g_g": 1.0})["response"] is None
    assert score_kdigo_2024({**no_base, "followup_upcr_g_g": 3.0})["response"] == "none"
    assert score_kdigo_2024({})["response"] is None
    assert kdigo(baseline_upcr_g_g=0.0, followup_upcr_g_g=0.6)["response"] == "none"
