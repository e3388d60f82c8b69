"""Review: ICE 0 because unarousable (grade 4) must not silently override measured ICE items."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.cellular_toxicity import IcansInput, score_icans

FULL = {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}


@pytest.mark.parametrize(
    "components",
    [FULL, {"orientation": 1}, {"naming": 2, "writing": 0}],
)
def test_unarousable_with_nonzero_components_rejected(components: dict[str, int]) -> None:
    with pytest.raises(ValidationError) as err:
        validate_input(IcansInput, {"unarousable_unable_to_perform_ice": True, "ice_components": components})
    assert "unarousable_unable_to_perform_ice" in str(err.value)
    assert "ICE 0" in str(err.value)


def test_unarousable_with_zero_components_accepted_grade_4() -> None:
    zeros = dict.fromkeys(FULL, 0)
    result = score_icans({"unarousable_unable_to_perform_ice": True, "ice_components": zeros})
    assert result["icans_grade"] == 4
    assert result["ice_score"] == 0


def test_ice_zero_awake_is_grade_3_not_4() -> None:
    result = score_icans({"ice_components": dict.fromkeys(FULL, 0)})
    assert result["icans_grade"] == 3
