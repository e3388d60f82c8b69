"""`lupuscell score` over the transplant, lab and body-size instruments (spec section 16 fields)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app

runner = CliRunner()

# instrument -> (input, spec section 16 output fields that must be present)
CASES: dict[str, tuple[dict, set[str]]] = {
    "hct_ci": (
        {"comorbidities": {"cardiac": True}, "labs": {"bmi_kg_m2": 36}},
        {"hct_ci_score", "risk_group", "scored_comorbidities", "hct_ci_excluding_indication", "hct_ci_age"},
    ),
    "magic_agvhd": (
        {"skin_active_rash_bsa_percent": 30, "stool_volume_ml_per_day": 800},
        {"skin_stage", "liver_stage", "upper_gi_stage", "lower_gi_stage", "overall_grade", "grading_system"},
    ),
    "astct_crs": ({"max_temperature_c": 38.6, "hypotension": True}, {"crs_grade", "grading_system"}),
    "astct_icans": ({"ice_score": 8}, {"ice_score", "icans_grade", "grading_system"}),
    "ctcae_v5": (
        {"anc_10e9_l": 0.8, "anc_lln_10e9_l": 1.8},
        {
            "neutrophil_count_decreased_grade",
            "platelet_count_decreased_grade",
            "lymphocyte_count_decreased_grade",
            "anemia_grade",
            "creatinine_increased_grade_uln_based",
        },
    ),
    "engraftment": (
        {
            "days": [0, 1, 2, 3, 4],
            "anc_10e9_l": [0.1, 0.6, 0.7, 0.8, 0.9],
            "platelets_10e9_l": [5, 25, 25, 25, 25],
        },
        {
            "neutrophil_engraftment_day",
            "platelet_engraftment_day_3_consecutive",
            "platelet_engraftment_day_7_consecutive",
        },
    ),
    "body_size": (
        {"height_cm": 165, "weight_kg": 60, "sex": "female"},
        {"bsa_mosteller_m2", "bsa_dubois_m2", "bsa_haycock_m2", "ibw_devine_kg", "adjusted_body_weight_kg"},
    ),
    "egfr_ckd_epi_2021": (
        {"serum_creatinine": 80, "creatinine_unit": "umol_l", "age_years": 40, "sex": "male"},
        {"egfr_ml_min_1_73m2"},
    ),
}
VERSIONS = {
    "hct_ci": "sorror_2005",
    "magic_agvhd": "magic_2016",
    "astct_crs": "astct_2019",
    "astct_icans": "astct_2019",
    "ctcae_v5": "ctcae_v5.0",
    "engraftment": "cibmtr_astct_2021",
    "egfr_ckd_epi_2021": "ckd_epi_2021_cr",
}


def test_list_shows_every_instrument() -> None:
    result = runner.invoke(app, ["score", "--list", "--json"])
    assert result.exit_code == 0
    names = {row["name"] for row in json.loads(result.stdout)}
    assert set(CASES) <= names


@pytest.mark.parametrize("name", sorted(CASES))
def test_schema(name: str) -> None:
    result = runner.invoke(app, ["score", name, "--schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    for field in CASES[name][0]:
        assert field in schema["properties"], field


@pytest.mark.parametrize("name", sorted(CASES))
def test_score_json_has_spec_fields(name: str) -> None:
    data, fields = CASES[name]
    result = runner.invoke(app, ["score", name, "--input", "-", "--json"], input=json.dumps(data))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert fields <= set(out), fields - set(out)
    assert out["instrument"] == name
    assert out["version"] == VERSIONS.get(name, out["version"])
    assert all({"name", "points", "reason"} <= set(item) for item in out["items"])


def test_score_table_output_and_values() -> None:
    result = runner.invoke(
        app,
        ["score", "astct_crs", "--input", "-"],
        input=json.dumps({"max_temperature_c": 39, "vasopressin": True}),
    )
    assert result.exit_code == 0
    assert "crs_grade" in result.stdout
    assert "vasopressin alone" in result.stdout


def test_file_input(tmp_path: Path) -> None:
    path = tmp_path / "crs.json"
    path.write_text(json.dumps({"max_temperature_c": 38.2, "oxygen_delivery": "cpap"}))
    result = runner.invoke(app, ["score", "astct_crs", "--input", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["crs_grade"] == 4


@pytest.mark.parametrize(
    ("name", "data", "needles"),
    [
        ("astct_icans", {"ice_components": {"orientation": 5}}, ["ice_components.orientation", "[0, 4]"]),
        ("astct_icans", {"ice_score": 12}, ["ice_score", "[0, 10]"]),
        ("astct_crs", {"max_temperature_c": 60}, ["max_temperature_c", "[25, 45]"]),
        ("body_size", {"height_cm": 170, "weight_kg": -5, "sex": "male"}, ["weight_kg", "(0, 700] kg"]),
        ("magic_agvhd", {"skin_active_rash_bsa_percent": 130}, ["skin_active_rash_bsa_percent", "[0, 100]"]),
        ("hct_ci", {"comorbidities": {"cardiac": "yes"}}, ["comorbidities.cardiac", "boolean"]),
        ("hct_ci", {"comorbidities": {"lupus": True}}, ["comorbidities.lupus", "unknown field"]),
        ("ctcae_v5", {"anc_10e9_l": "0.4"}, ["anc_10e9_l", "number"]),
        (
            "egfr_ckd_epi_2021",
            {"serum_creatinine": 1, "creatinine_unit": "mg_dl", "age_years": 12, "sex": "male"},
            ["age_years", "18"],
        ),
        ("engraftment", {"days": [0, 2, 1], "anc_10e9_l": [0.1, 0.2, 0.3]}, ["strictly increasing"]),
    ],
)
def test_bad_input_exit_2_names_field_and_range(name: str, data: dict, needles: list[str]) -> None:
    result = runner.invoke(app, ["score", name, "--input", "-", "--json"], input=json.dumps(data))
    assert result.exit_code == 2
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
