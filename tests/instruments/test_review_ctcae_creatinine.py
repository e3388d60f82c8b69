"""Review: the combined creatinine grade must not treat a missing ULN as grade 0 (spec 0, 11.1)."""

from __future__ import annotations

import pytest

from lupuscell.instruments.labs import score_ctcae


def test_combined_creatinine_grade_unknown_without_uln() -> None:
    # 3.0 mg/dL vs baseline 2.9: baseline-based grade 0. With ULN 1.0 it would be grade 3
    # ULN-based, so the combined grade max(both) cannot be 0 while the ULN is missing.
    result = score_ctcae({"creatinine_mg_dl": 3.0, "creatinine_baseline_mg_dl": 2.9})
    assert result["creatinine_increased_grade_baseline_based"] == 0
    assert result["creatinine_increased_grade_uln_based"] is None
    assert result["creatinine_increased_grade"] is None
    assert result.complete is False
    assert "creatinine_uln_mg_dl" in result.missing


@pytest.mark.parametrize(
    ("uln", "baseline", "expected"),
    [
        (1.2, None, 1),  # ULN only: 1.8 = 1.5 x ULN -> grade 1
        (1.2, 0.7, 2),  # baseline 0.7: 1.8 > 1.5 x 0.7 -> grade 2 wins
        (1.2, 0.5, 3),  # 1.8 > 3.0 x 0.5 -> grade 3 wins
        (0.2, 1.5, 4),  # 1.8 > 6 x 0.2 -> grade 4 ULN-based wins
    ],
)
def test_combined_creatinine_grade_is_max_when_both_known(
    uln: float, baseline: float | None, expected: int
) -> None:
    data: dict[str, float] = {"creatinine_mg_dl": 1.8, "creatinine_uln_mg_dl": uln}
    if baseline is not None:
        data["creatinine_baseline_mg_dl"] = baseline
    assert score_ctcae(data)["creatinine_increased_grade"] == expected
