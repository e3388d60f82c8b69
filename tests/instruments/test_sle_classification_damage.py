"""EULAR/ACR 2019 classification (spec section 2) and SLICC/ACR SDI (spec section 3)."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.eular_acr_2019 import score_eular_acr_2019
from lupuscell.instruments.sdi import EVER_ITEMS, ITEMS, score_sdi

# spec section 2.3, transcribed: criterion -> (domain, weight)
EULAR_WEIGHTS = {
    "fever": ("constitutional", 2),
    "leukopenia": ("hematologic", 3),
    "thrombocytopenia": ("hematologic", 4),
    "autoimmune_hemolysis": ("hematologic", 4),
    "delirium": ("neuropsychiatric", 2),
    "psychosis": ("neuropsychiatric", 3),
    "seizure": ("neuropsychiatric", 5),
    "non_scarring_alopecia": ("mucocutaneous", 2),
    "oral_ulcers": ("mucocutaneous", 2),
    "subacute_cutaneous_or_discoid_lupus": ("mucocutaneous", 4),
    "acute_cutaneous_lupus": ("mucocutaneous", 6),
    "pleural_or_pericardial_effusion": ("serosal", 5),
    "acute_pericarditis": ("serosal", 6),
    "joint_involvement": ("musculoskeletal", 6),
    "proteinuria_gt_0_5_g_24h": ("renal", 4),
    "renal_biopsy_class_ii_or_v": ("renal", 8),
    "renal_biopsy_class_iii_or_iv": ("renal", 10),
    "antiphospholipid_antibodies": ("antiphospholipid_antibodies", 2),
    "low_c3": ("complement_proteins", 3),
    "low_c4": ("complement_proteins", 3),
    "anti_dsdna": ("sle_specific_antibodies", 6),
    "anti_smith": ("sle_specific_antibodies", 6),
}
CLINICAL = {
    "constitutional",
    "hematologic",
    "neuropsychiatric",
    "mucocutaneous",
    "serosal",
    "musculoskeletal",
    "renal",
}


def eular(*criteria: str, ana: bool | None = True):
    return score_eular_acr_2019({"ana_ge_1_80_ever": ana, "criteria": dict.fromkeys(criteria, True)})


@pytest.mark.parametrize(("criterion", "domain_weight"), EULAR_WEIGHTS.items())
def test_each_criterion_weight_and_domain(criterion: str, domain_weight: tuple[str, int]) -> None:
    domain, weight = domain_weight
    result = eular(criterion)
    assert result["domain_scores"][domain] == weight == result["total_score"]
    assert result["has_clinical_criterion"] is (domain in CLINICAL)
    assert sum(result["domain_scores"].values()) == weight


def test_entry_criterion_not_met() -> None:
    result = eular("renal_biopsy_class_iii_or_iv", "anti_dsdna", ana=False)
    assert result["entry_criterion_met"] is False
    assert result["total_score"] is None and result["classified_sle"] is False


def test_entry_criterion_unknown() -> None:
    result = eular("renal_biopsy_class_iii_or_iv", "anti_dsdna", ana=None)
    assert result["classified_sle"] is None and result["total_score"] == 16 and not result.complete
    assert eular("fever", ana=None)["classified_sle"] is False


def test_only_highest_weight_in_domain_counts() -> None:
    result = eular("leukopenia", "thrombocytopenia", "autoimmune_hemolysis")
    assert result["domain_scores"]["hematologic"] == 4 and result["total_score"] == 4
    mixed = eular("renal_biopsy_class_ii_or_v", "renal_biopsy_class_iii_or_iv", "proteinuria_gt_0_5_g_24h")
    assert mixed["domain_scores"]["renal"] == 10
    counted = [i for i in mixed.items if i.points]
    assert [(i.name, i.points) for i in counted] == [("renal_biopsy_class_iii_or_iv", 10)]


def test_complement_3_or_4() -> None:
    assert eular("low_c3")["domain_scores"]["complement_proteins"] == 3
    assert eular("low_c3", "low_c4")["domain_scores"]["complement_proteins"] == 4


def test_classification_threshold_and_clinical_rule() -> None:
    assert eular("anti_dsdna", "low_c3", "low_c4")["classified_sle"] is False  # 10, no clinical
    nine = eular("acute_cutaneous_lupus", "low_c3")
    assert nine["total_score"] == 9 and nine["classified_sle"] is False
    ten = eular("acute_cutaneous_lupus", "low_c3", "low_c4")
    assert ten["total_score"] == 10 and ten["classified_sle"] is True
    assert (ten["clinical_score"], ten["immunologic_score"]) == (6, 4)


def test_maximum_is_51() -> None:
    assert eular(*EULAR_WEIGHTS)["total_score"] == 51


def test_unknown_criterion_rejected() -> None:
    with pytest.raises(ValidationError, match=r"criteria\.anti_sm"):
        score_eular_acr_2019({"ana_ge_1_80_ever": True, "criteria": {"anti_sm": True}})


# -------------------------------------------------------------------------------------------- SDI

DOMAIN_MAX = {
    "ocular": 2,
    "neuropsychiatric": 6,
    "renal": 3,
    "pulmonary": 5,
    "cardiovascular": 6,
    "peripheral_vascular": 5,
    "gastrointestinal": 6,
    "musculoskeletal": 7,
    "skin": 3,
    "premature_gonadal_failure": 1,
    "diabetes": 1,
    "malignancy": 2,
}


def test_sdi_item_count_and_maximum() -> None:
    assert len(ITEMS) == 41
    items = {i: (2 if i.endswith(("_count", "_sites")) else True) for i in ITEMS}
    result = score_sdi({"items": items})
    assert result["sdi_total"] == 47
    assert result["domain_scores"] == DOMAIN_MAX


@pytest.mark.parametrize(("count", "points"), [(0, 0), (1, 1), (2, 2), (5, 2)])
def test_sdi_count_items_cap_at_2(count: int, points: int) -> None:
    assert score_sdi({"items": {"malignancy_sites": count}})["sdi_total"] == points


def test_sdi_esrd_replaces_gfr_and_proteinuria() -> None:
    both = score_sdi({"items": {"gfr_below_50_percent": True, "proteinuria_ge_3_5_g_24h": True}})
    assert both["domain_scores"]["renal"] == 2
    esrd = score_sdi(
        {
            "items": {
                "gfr_below_50_percent": True,
                "proteinuria_ge_3_5_g_24h": True,
                "end_stage_renal_disease": True,
            }
        }
    )
    assert esrd["domain_scores"]["renal"] == 3 and esrd["sdi_total"] == 3


@pytest.mark.parametrize(("months", "points"), [(5.9, 0), (6, 1), (24, 1)])
def test_sdi_six_month_rule(months: float, points: int) -> None:
    result = score_sdi({"items": {"diabetes": True}, "months_present": {"diabetes": months}})
    assert result["sdi_total"] == points


def test_sdi_six_month_rule_for_own_duration_items() -> None:
    items = {"skin_ulceration_6_months": True}
    assert score_sdi({"items": items, "months_present": {"skin_ulceration_6_months": 3}})["sdi_total"] == 0


@pytest.mark.parametrize("item", EVER_ITEMS)
def test_sdi_ever_items_ignore_duration(item: str) -> None:
    result = score_sdi({"items": {item: 1}, "months_present": {item: 0}})
    assert result["sdi_total"] == 1


def test_sdi_without_months_takes_tick_as_attested() -> None:
    assert score_sdi({"items": {"tendon_rupture": True}})["sdi_total"] == 1


def test_sdi_warns_when_total_drops() -> None:
    result = score_sdi({"items": {"cataract": True}, "previous_sdi_total": 3})
    assert result["warnings"] and "lower than the previous 3" in result["warnings"][0]
    assert score_sdi({"items": {"cataract": True}, "previous_sdi_total": 1})["warnings"] == []


@pytest.mark.parametrize(
    "bad",
    [
        {"items": {"diabetes": 2}},
        {"items": {"cataracts": True}},
        {"items": {"malignancy_sites": -1}},
        {"months_present": {"diabetes": -1}},
    ],
)
def test_sdi_bad_input(bad: dict) -> None:
    with pytest.raises(ValidationError):
        score_sdi(bad)


@pytest.mark.parametrize("item", [i for i in ITEMS if i != "end_stage_renal_disease"])
def test_sdi_each_item_scores_one_in_its_domain(item: str) -> None:
    from lupuscell.instruments.sdi import DOMAINS

    domain = next(d for d, (_, items) in DOMAINS.items() if item in items)
    result = score_sdi({"items": {item: 1 if item.endswith(("_count", "_sites")) else True}})
    assert result["sdi_total"] == 1 == result["domain_scores"][domain]
    assert [(i.name, i.points) for i in result.items] == [(item, 1)]


def test_evidence_is_echoed_in_items() -> None:
    result = score_eular_acr_2019(
        {
            "ana_ge_1_80_ever": True,
            "criteria": {"low_c3": True, "low_c4": True, "seizure": True},
            "evidence": {"low_c4": "2020-01-05 lab", "seizure": "2019 EEG"},
        }
    )
    reasons = {i.name: i.reason for i in result.items}
    assert "[2020-01-05 lab]" in reasons["low_c3_and_low_c4"] and "[2019 EEG]" in reasons["seizure"]
