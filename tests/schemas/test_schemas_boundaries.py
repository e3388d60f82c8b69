"""Boundary validation of every schema: code lists, ranges, cross-field rules, error shape."""

from __future__ import annotations

from typing import Any

import pytest

from lupuscell import vocab
from lupuscell.errors import ValidationError
from lupuscell.schemas.errors import validate
from lupuscell.schemas.events import AdverseEventIn, ClinicalEventIn
from lupuscell.schemas.patient import PatientIn, SiteIn
from lupuscell.schemas.therapy import DrugAdministrationIn, TherapyCourseIn
from lupuscell.schemas.visit import LabResultIn, VisitIn

PATIENT = {"code": "KI-0001", "site_code": "KI", "sex": "F", "birth_year": 1985}
COURSE = {"patient_code": "KI-0001", "therapy": "autologous_hsct", "infusion_date": "2020-03-01"}
VISIT = {"patient_code": "KI-0001", "visit_date": "2020-06-01"}
AE = {
    "patient_code": "KI-0001",
    "term": "Sepsis",
    "category": "infection",
    "grade": 3,
    "onset_date": "2020-03-05",
}


def _fields(schema: type, data: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as info:
        validate(schema, data, "rec")
    assert all(p.record == "rec" for p in info.value.problems)
    return {p.field for p in info.value.problems}


def test_valid_records_pass_and_coerce_text() -> None:
    course = validate(TherapyCourseIn, {**COURSE, "cd34_per_kg": "3.5e6", "number_of_infusions": "1"}, "r")
    assert course.cd34_per_kg == 3.5e6 and course.infusion_date.isoformat() == "2020-03-01"
    patient = validate(PatientIn, {**PATIENT, "organ_involvement": ["renal", "renal"]}, "r")
    assert patient.organ_involvement == ["renal"]


@pytest.mark.parametrize(
    ("schema", "base", "field", "value"),
    [
        (TherapyCourseIn, COURSE, "therapy", "stem_cells"),
        (TherapyCourseIn, COURSE, "cell_source", "liver"),
        (TherapyCourseIn, COURSE, "route", "oral"),
        (TherapyCourseIn, COURSE, "donor_type", "sibling"),
        (
            DrugAdministrationIn,
            {"course_id": 1, "drug": "G-CSF", "dose": 10, "unit": "ug/kg", "admin_date": "2020-01-01"},
            "purpose",
            "fun",
        ),
        (PatientIn, PATIENT, "sex", "female"),
        (PatientIn, PATIENT, "nephritis_class", "VII"),
        (PatientIn, PATIENT, "classification_criteria", "acr_1982"),
        (AdverseEventIn, AE, "category", "rash"),
        (AdverseEventIn, AE, "relatedness", "maybe"),
        (ClinicalEventIn, {"patient_code": "KI-0001", "event_date": "2021-01-01"}, "event_type", "stroke"),
    ],
)
def test_unknown_codes_are_rejected_with_the_allowed_values(
    schema: type, base: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as info:
        validate(schema, {**base, field: value}, "rec")
    problem = info.value.problems[0]
    assert problem.field == field
    assert repr(value) in problem.message and "allowed values" in problem.message


def test_every_code_list_value_is_accepted() -> None:
    for therapy in vocab.THERAPIES:
        validate(TherapyCourseIn, {**COURSE, "therapy": therapy}, "r")
    for category in vocab.AE_CATEGORIES:
        validate(AdverseEventIn, {**AE, "category": category}, "r")


@pytest.mark.parametrize("field", ["total_cell_dose", "cell_dose_per_kg", "cd34_per_kg"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf")])
def test_doses_must_be_positive_finite(field: str, value: float) -> None:
    assert _fields(TherapyCourseIn, {**COURSE, field: value}) == {field}


def test_drug_dose_must_be_positive() -> None:
    drug = {
        "course_id": 1,
        "drug": "ATG",
        "dose": 0,
        "unit": "mg/kg",
        "admin_date": "2020-01-01",
        "purpose": "conditioning",
    }
    assert _fields(DrugAdministrationIn, drug) == {"dose"}
    validate(DrugAdministrationIn, {**drug, "dose": 0.5}, "r")


@pytest.mark.parametrize(("value", "ok"), [(0, True), (100, True), (-0.1, False), (100.1, False)])
def test_viability_is_a_percentage(value: float, ok: bool) -> None:
    data = {**COURSE, "viability_percent": value}
    if ok:
        validate(TherapyCourseIn, data, "r")
    else:
        assert _fields(TherapyCourseIn, data) == {"viability_percent"}


@pytest.mark.parametrize(
    ("dates", "blamed"),
    [
        ({"mobilisation_date": "2020-01-10", "harvest_date": "2020-01-09"}, {"harvest_date"}),
        ({"harvest_date": "2020-03-02"}, {"infusion_date"}),
        ({"mobilisation_date": "2020-03-02"}, {"infusion_date"}),
        ({"conditioning_start_date": "2020-03-02"}, {"infusion_date"}),
        ({"discharge_date": "2020-02-29"}, {"discharge_date"}),
    ],
)
def test_phase_dates_must_be_in_clinical_order(dates: dict[str, str], blamed: set[str]) -> None:
    assert _fields(TherapyCourseIn, {**COURSE, **dates}) == blamed


def test_phase_dates_may_coincide() -> None:
    same = "2020-03-01"
    validate(
        TherapyCourseIn,
        {
            **COURSE,
            "mobilisation_date": same,
            "harvest_date": same,
            "conditioning_start_date": same,
            "discharge_date": same,
        },
        "r",
    )


@pytest.mark.parametrize(
    ("therapy", "donor", "ok"),
    [
        ("autologous_hsct", "autologous", True),
        ("autologous_hsct", "allogeneic_related", False),
        ("allogeneic_hsct", "autologous", False),
        ("msc", "allogeneic_third_party", True),
    ],
)
def test_donor_type_must_fit_the_therapy(therapy: str, donor: str, ok: bool) -> None:
    data = {**COURSE, "therapy": therapy, "donor_type": donor}
    if ok:
        validate(TherapyCourseIn, data, "r")
    else:
        assert _fields(TherapyCourseIn, data) == {"donor_type"}


@pytest.mark.parametrize(
    ("pga", "ok"),
    [
        (0, True),
        (3, True),
        (1.3, True),
        ("2.7", True),
        (3.1, False),
        (-0.1, False),
        (1.25, False),
        (0.05, False),
    ],
)
def test_pga_is_0_to_3_at_one_decimal(pga: object, ok: bool) -> None:
    data = {**VISIT, "pga": pga}
    if ok:
        assert validate(VisitIn, data, "r").pga == pytest.approx(float(pga))  # type: ignore[arg-type]
    else:
        assert _fields(VisitIn, data) == {"pga"}


def test_visit_fields_cover_every_sledai_descriptor_and_none_means_not_assessed() -> None:
    visit = validate(VisitIn, {**VISIT, "rash": True}, "r")
    descriptors = visit.descriptors()
    assert list(descriptors) == list(vocab.SLEDAI_2K_DESCRIPTORS)
    assert descriptors["rash"] is True and descriptors["seizure"] is None


def test_negative_prednisone_and_bad_bilag() -> None:
    assert _fields(VisitIn, {**VISIT, "prednisone_mg_per_day": -5}) == {"prednisone_mg_per_day"}
    assert _fields(VisitIn, {**VISIT, "bilag": {"renal": "F"}}) == {"bilag"}
    assert _fields(VisitIn, {**VISIT, "bilag": {"kidney": "A"}}) == {"bilag"}


@pytest.mark.parametrize(("grade", "ok"), [(1, True), (5, True), (0, False), (6, False), (2.5, False)])
def test_ctcae_grade_is_1_to_5(grade: object, ok: bool) -> None:
    data = {**AE, "grade": grade}
    if ok:
        assert validate(AdverseEventIn, data, "r").grading_system == "CTCAE_v5.0"
    else:
        assert _fields(AdverseEventIn, data) == {"grade"}


@pytest.mark.parametrize(
    ("category", "system", "grade", "blamed"),
    [
        ("crs", None, 2, set()),  # default ASTCT_2019 for CRS
        ("crs", "ASTCT_2019", 5, set()),  # grade 5 = death due to CRS
        ("crs", "CTCAE_v5.0", 2, {"grading_system"}),  # CRS is graded by ASTCT only
        ("icans", "ASTCT_2019", 4, set()),
        ("gvhd", "MAGIC_2016", 4, set()),
        ("gvhd", "MAGIC_2016", 5, {"grade"}),  # MAGIC grades I-IV
        ("gvhd", "CTCAE_v5.0", 5, set()),
        ("infection", "MAGIC_2016", 2, {"grading_system"}),
        ("infection", "WHO", 2, {"grading_system"}),
    ],
)
def test_grade_follows_its_grading_system(
    category: str, system: str | None, grade: int, blamed: set[str]
) -> None:
    data = {**AE, "category": category, "grade": grade, "grading_system": system}
    if blamed:
        assert _fields(AdverseEventIn, data) == blamed
    else:
        record = validate(AdverseEventIn, data, "r")
        assert record.grading_system == (system or vocab.default_grading_system(category))


def test_legacy_ctcae_grade_field_is_read_as_grade() -> None:
    legacy = {k: v for k, v in AE.items() if k != "grade"} | {"ctcae_grade": 2, "category": "crs"}
    record = validate(AdverseEventIn, legacy, "r")
    assert (record.grade, record.grading_system) == (2, "ASTCT_2019")
    assert _fields(AdverseEventIn, {**AE, "ctcae_grade": 4}) == {"grade"}  # two names disagree


@pytest.mark.parametrize(
    ("schema", "data", "field"),
    [
        (SiteIn, {"code": "KI", "name": "Karolinska\x00"}, "name"),
        (PatientIn, {**PATIENT, "prior_therapies": ["rituximab\x00"]}, "prior_therapies"),
        (AdverseEventIn, {**AE, "term": "sep\x00sis"}, "term"),
    ],
)
def test_nul_characters_are_refused(schema: type, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate(schema, data, "rec")
    assert [(p.field, "NUL" in p.message) for p in info.value.problems] == [(field, True)]


def test_resolution_not_before_onset() -> None:
    assert _fields(AdverseEventIn, {**AE, "resolution_date": "2020-03-04"}) == {"resolution_date"}
    validate(AdverseEventIn, {**AE, "resolution_date": "2020-03-05"}, "r")


def test_clinical_event_fields_belong_to_their_type() -> None:
    base = {"patient_code": "KI-0001", "event_date": "2021-01-01"}
    validate(ClinicalEventIn, {**base, "event_type": "death", "cause": "infection"}, "r")
    validate(ClinicalEventIn, {**base, "event_type": "flare", "severity": "severe"}, "r")
    assert _fields(ClinicalEventIn, {**base, "event_type": "flare", "cause": "x"}) == {"cause"}
    assert _fields(ClinicalEventIn, {**base, "event_type": "death", "severity": "severe"}) == {"severity"}


def test_patient_cross_field_rules() -> None:
    assert _fields(PatientIn, {**PATIENT, "sle_diagnosis_date": "1984-12-31"}) == {"sle_diagnosis_date"}
    assert _fields(PatientIn, {**PATIENT, "nephritis_class": "IV"}) == {"nephritis_class"}
    validate(PatientIn, {**PATIENT, "nephritis_class": "IV", "organ_involvement": ["renal"]}, "r")
    assert _fields(PatientIn, {**PATIENT, "birth_year": 2999}) == {"birth_year"}
    assert _fields(PatientIn, {**PATIENT, "code": "KI 0001"}) == {"code"}


def test_lab_unit_must_be_accepted_for_the_analyte() -> None:
    lab = {"patient_code": "KI-0001", "result_date": "2020-01-01", "analyte": "creatinine", "value": 80}
    validate(LabResultIn, {**lab, "unit": "umol/L"}, "r")
    assert _fields(LabResultIn, {**lab, "unit": "mg/mmol"}) == {"unit"}
    assert _fields(LabResultIn, {**lab, "analyte": "unobtainium", "unit": "g/L"}) == {"analyte"}


def test_missing_and_unknown_fields_are_named() -> None:
    assert _fields(SiteIn, {"code": "KI", "nmae": "Karolinska"}) == {"name", "nmae"}
    assert _fields(SiteIn, {"code": "KI", "name": "K", "country": "Sweden"}) == {"country"}
