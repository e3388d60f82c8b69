"""Review: a rejection names the offending field (issue 3, "Bad input"), not just "(input)"."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.response import DorisInput, LldasInput


@pytest.mark.parametrize("model", [LldasInput, DorisInput])
def test_descriptor_both_active_and_unassessed_names_the_field(model: type) -> None:
    with pytest.raises(ValidationError) as err:
        validate_input(
            model, {"sledai_2k_active_descriptors": ["rash", "fever"], "unassessed_descriptors": ["rash"]}
        )
    problem = err.value.problems[0]
    assert problem.field == "unassessed_descriptors"
    assert "rash" in problem.message and "sledai_2k_active_descriptors" in problem.message
