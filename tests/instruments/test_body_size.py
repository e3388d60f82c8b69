"""BSA (Mosteller, DuBois, Haycock), Devine IBW, adjusted and dosing weight (spec section 12)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.body import (
    BodySizeInput,
    adjusted_body_weight,
    dosing_weight,
    ibw_devine,
    score_body_size,
)

# Hand-computed reference values (170 cm, 70 kg), accuracy required by the spec: BSA +-0.005 m2.
#   Mosteller sqrt(170*70/3600) = sqrt(3.30556) = 1.8181
#   DuBois 0.007184 * 70^0.425 (6.0837) * 170^0.725 (41.418) = 1.8102
#   Haycock 0.024265 * 70^0.5378 (9.8243) * 170^0.3964 (7.6585) = 1.8257
REF_170_70 = {"bsa_mosteller_m2": 1.8181, "bsa_dubois_m2": 1.8102, "bsa_haycock_m2": 1.8257}


def test_bsa_three_formulas() -> None:
    r = score_body_size({"height_cm": 170, "weight_kg": 70, "sex": "male"})
    for key, expected in REF_170_70.items():
        assert r[key] == pytest.approx(expected, abs=0.005), key


def test_bsa_mosteller_exact_square() -> None:
    # 180 cm x 80 kg / 3600 = 4 -> BSA exactly 2
    assert score_body_size({"height_cm": 180, "weight_kg": 80, "sex": "female"})["bsa_mosteller_m2"] == 2.0


@pytest.mark.parametrize(
    ("height_cm", "sex", "ibw"),
    [
        (152.4, "female", 45.5),  # exactly 60 in
        (152.4, "male", 50.0),
        (177.8, "male", 50 + 2.3 * 10),  # 70 in
        (162.56, "female", 45.5 + 2.3 * 4),  # 64 in
        (142.24, "female", 45.5 - 2.3 * 4),  # 56 in: below 60 in, NOT clamped
    ],
)
def test_devine(height_cm: float, sex: str, ibw: float) -> None:
    assert ibw_devine(height_cm, sex) == pytest.approx(ibw, abs=0.01)  # type: ignore[arg-type]


def test_devine_below_60_in_flagged_not_clamped() -> None:
    r = score_body_size({"height_cm": 142.24, "weight_kg": 40, "sex": "female"})
    assert r["ibw_devine_kg"] == pytest.approx(36.3, abs=0.01)
    assert r["ibw_below_60_in"] is True
    assert "not clamped" in next(i.reason for i in r.items if i.name == "ibw_devine_kg")
    assert score_body_size({"height_cm": 152.4, "weight_kg": 50, "sex": "female"})["ibw_below_60_in"] is False


def test_adjusted_weight_factor_default_and_parameter() -> None:
    # 177.8 cm male: IBW 73.0; TBW 123 -> AdjBW = 73 + 0.4 * 50 = 93.0; f = 0.25 -> 85.5
    r = score_body_size({"height_cm": 177.8, "weight_kg": 123, "sex": "male"})
    assert r["adjusted_body_weight_kg"] == pytest.approx(93.0, abs=0.01)
    assert r["adjusted_weight_factor"] == 0.4
    r = score_body_size({"height_cm": 177.8, "weight_kg": 123, "sex": "male", "adjusted_weight_factor": 0.25})
    assert r["adjusted_body_weight_kg"] == pytest.approx(85.5, abs=0.01)


def test_adjusted_weight_is_bare_formula_even_below_ibw() -> None:
    assert adjusted_body_weight(60.0, 70.0, 0.4) == pytest.approx(66.0)


@pytest.mark.parametrize(
    ("tbw", "basis", "weight"),
    [
        (60.0, "tbw", 60.0),  # TBW < IBW -> TBW
        (70.0, "ibw", 70.0),  # TBW == IBW
        (84.0, "ibw", 70.0),  # exactly 120 % of IBW: not above
        (84.1, "adjusted", 70.0 + 0.4 * 14.1),
        (100.0, "adjusted", 82.0),
    ],
)
def test_dosing_weight_rule(tbw: float, basis: str, weight: float) -> None:
    ibw = 70.0
    got, got_basis = dosing_weight(tbw, ibw, adjusted_body_weight(tbw, ibw))
    assert got_basis == basis
    assert got == pytest.approx(weight)


def test_dosing_weight_between_option() -> None:
    assert dosing_weight(80.0, 70.0, 74.0, between="tbw") == (80.0, "tbw")
    r = score_body_size({"height_cm": 177.8, "weight_kg": 80, "sex": "male", "dosing_weight_between": "tbw"})
    assert r["dosing_weight_basis"] == "tbw"


@pytest.mark.parametrize(
    ("data", "field", "range_text"),
    [
        ({"height_cm": 170, "weight_kg": -70, "sex": "male"}, "weight_kg", "(0, 700] kg"),
        ({"height_cm": 170, "weight_kg": 0, "sex": "male"}, "weight_kg", "(0, 700] kg"),
        ({"height_cm": 400, "weight_kg": 70, "sex": "male"}, "height_cm", "[20, 275] cm"),
        ({"height_cm": 170, "weight_kg": 70, "sex": "M"}, "sex", "female"),
        (
            {"height_cm": 170, "weight_kg": 70, "sex": "male", "adjusted_weight_factor": 1.5},
            "adjusted_weight_factor",
            "[0, 1]",
        ),
        ({"height_cm": 170, "weight_kg": 70}, "sex", ""),
        ({"height_cm": 170, "weight_kg": 70, "sex": "male", "bmi": 3}, "bmi", ""),
    ],
)
def test_bad_input_names_field_and_range(data: dict, field: str, range_text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(BodySizeInput, data)
    problem = exc.value.problems[0]
    assert problem.field == field
    assert range_text in problem.message


@given(st.floats(50, 220), st.floats(3, 250), st.floats(0.1, 20), st.floats(0.1, 20))
def test_bsa_increases_with_height_and_weight(h: float, w: float, dh: float, dw: float) -> None:
    base = score_body_size({"height_cm": h, "weight_kg": w, "sex": "female"})
    taller = score_body_size({"height_cm": h + dh, "weight_kg": w, "sex": "female"})
    heavier = score_body_size({"height_cm": h, "weight_kg": w + dw, "sex": "female"})
    for key in REF_170_70:
        assert taller[key] > base[key]
        assert heavier[key] > base[key]
