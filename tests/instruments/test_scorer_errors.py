"""Every scorer called from Python with a plain dict rejects bad input with
:class:`lupuscell.errors.ValidationError` naming the field, never with pydantic's own error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic
import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments import body, cellular_toxicity, gvhd, hct_ci, labs, transplant
from lupuscell.instruments.catalog import CATALOG


def _rejection(scorer: Callable[[Any], Any], data: dict[str, Any]) -> ValidationError:
    with pytest.raises(Exception) as info:
        scorer(data)
    assert type(info.value) is ValidationError, f"{type(info.value).__module__}.{type(info.value).__name__}"
    assert not isinstance(info.value, pydantic.ValidationError)
    return info.value


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_unknown_field_is_named(name: str) -> None:
    error = _rejection(CATALOG[name].scorer, {"no_such_field": 1})
    assert "no_such_field" in {p.field for p in error.problems}, error.problems


#: (scorer, input, the field the error must name, a word of the reason)
WRONG = [
    (transplant.score_hct_ci, {"comorbidities": {"cardiac": "yes"}}, "comorbidities.cardiac", "boolean"),
    (hct_ci.score, {"labs": {"bmi_kg_m2": 400}}, "labs.bmi_kg_m2", "[5, 150]"),
    (transplant.score_magic_agvhd, {"skin_active_rash_bsa_percent": 120}, "skin_active_rash_bsa_percent", "100"),
    (gvhd.score, {"lower_gi_scale": "teen"}, "lower_gi_scale", "adult"),
    (transplant.score_crs, {"oxygen_delivery": "tent"}, "oxygen_delivery", "nasal_cannula"),
    (cellular_toxicity.score_crs, {"max_temperature_c": "39"}, "max_temperature_c", "number"),
    (transplant.score_icans, {"ice_components": {"naming": 4}}, "ice_components.naming", "[0, 3]"),
    (cellular_toxicity.score_icans, {"ice_score": 10, "unarousable_unable_to_perform_ice": True},
     "unarousable_unable_to_perform_ice", "ICE 0"),
    (labs.score_ctcae, {"anc_10e9_l": -1}, "anc_10e9_l", "range"),
    (labs.score_engraftment, {"days": [0, 1], "anc_10e9_l": [1.0]}, "anc_10e9_l", "2"),
    (labs.score_engraftment, {"days": [1, 0], "anc_10e9_l": [1.0, 1.0]}, "days", "increasing"),
    (body.score_body_size, {"height_cm": 170, "weight_kg": 0, "sex": "female"}, "weight_kg", "(0, 700]"),
    (body.score_body_size, {"height_cm": 170, "weight_kg": 70}, "sex", "required"),
    (body.score_egfr, {"creatinine_unit": "mg_dl", "serum_creatinine": 1.0, "age_years": 12, "sex": "male"},
     "age_years", "18"),
]


@pytest.mark.parametrize(("scorer", "data", "field", "word"), WRONG)
def test_wrong_value_names_the_field(
    scorer: Callable[[Any], Any], data: dict[str, Any], field: str, word: str
) -> None:
    error = _rejection(scorer, data)
    problems = {p.field: p.message for p in error.problems}
    assert field in problems, error.problems
    assert word.lower() in problems[field].lower(), problems[field]
