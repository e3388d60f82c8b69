"""CKD-EPI 2021 creatinine eGFR (Inker 2021; spec section 12)."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.base import validate_input
from lupuscell.instruments.body import EgfrInput, deindex_egfr, egfr_ckd_epi_2021, score_egfr


def test_worked_example_female_55_scr_0_9() -> None:
    # public page shows "~76" through intermediate rounding; exact value 75.50 (spec 12)
    r = score_egfr({"serum_creatinine": 0.9, "creatinine_unit": "mg_dl", "age_years": 55, "sex": "female"})
    assert r["egfr_ml_min_1_73m2"] == pytest.approx(75.50, abs=0.01)
    assert r.to_dict()["version"] == "ckd_epi_2021_cr"


def test_umol_per_l_is_divided_by_88_4() -> None:
    a = score_egfr({"serum_creatinine": 79.56, "creatinine_unit": "umol_l", "age_years": 55, "sex": "female"})
    assert a["creatinine_mg_dl"] == pytest.approx(0.9)
    assert a["egfr_ml_min_1_73m2"] == pytest.approx(75.50, abs=0.01)


@pytest.mark.parametrize(("sex", "kappa", "factor"), [("female", 0.7, 1.012), ("male", 0.9, 1.0)])
def test_at_the_knot_only_age_and_sex_remain(sex: str, kappa: float, factor: float) -> None:
    # Scr = kappa: both min and max terms are 1 -> 142 * 0.9938^age * sex factor
    assert egfr_ckd_epi_2021(kappa, 40, sex) == pytest.approx(142 * 0.9938**40 * factor)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sex", "kappa", "alpha"), [("female", 0.7, -0.241), ("male", 0.9, -0.302)])
def test_exponents_below_and_above_kappa(sex: str, kappa: float, alpha: float) -> None:
    at = egfr_ckd_epi_2021(kappa, 50, sex)  # type: ignore[arg-type]
    assert egfr_ckd_epi_2021(kappa / 2, 50, sex) == pytest.approx(at * 0.5**alpha)  # type: ignore[arg-type]
    assert egfr_ckd_epi_2021(kappa * 2, 50, sex) == pytest.approx(at * 2**-1.2)  # type: ignore[arg-type]


def test_no_race_input() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(
            EgfrInput,
            {
                "serum_creatinine": 1,
                "creatinine_unit": "mg_dl",
                "age_years": 50,
                "sex": "male",
                "race": "black",
            },
        )
    assert exc.value.problems[0].field == "race"


def test_deindexing() -> None:
    assert deindex_egfr(90.0, 1.73) == pytest.approx(90.0)
    assert deindex_egfr(60.0, 2.0) == pytest.approx(60.0 * 2.0 / 1.73)
    r = score_egfr(
        {"serum_creatinine": 0.9, "creatinine_unit": "mg_dl", "age_years": 55, "sex": "female", "bsa_m2": 1.5}
    )
    assert r["egfr_ml_min"] == pytest.approx(75.4988 * 1.5 / 1.73, abs=0.01)
    assert (
        score_egfr({"serum_creatinine": 0.9, "creatinine_unit": "mg_dl", "age_years": 55, "sex": "female"})[
            "egfr_ml_min"
        ]
        is None
    )


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        (
            {"serum_creatinine": 1, "creatinine_unit": "mg_dl", "age_years": 17, "sex": "male"},
            "age_years",
            "18",
        ),
        (
            {"serum_creatinine": -1, "creatinine_unit": "mg_dl", "age_years": 50, "sex": "male"},
            "serum_creatinine",
            "",
        ),
        (
            {"serum_creatinine": 90, "creatinine_unit": "mg_dl", "age_years": 50, "sex": "male"},
            "serum_creatinine",
            "(0, 40] mg/dL",
        ),
        (
            {"serum_creatinine": 1, "creatinine_unit": "mmol_l", "age_years": 50, "sex": "male"},
            "creatinine_unit",
            "",
        ),
    ],
)
def test_bad_input(data: dict, field: str, text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_input(EgfrInput, data)
    assert exc.value.problems[0].field == field
    assert text in exc.value.problems[0].message
