"""LLDAS, DORIS 2021 and SRI-4..8 (spec sections 4-6), including the PGA float trap."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.response import score_doris_2021, score_lldas, score_sri

LLDAS_OK = {
    "sledai_2k_active_descriptors": [],
    "haemolytic_anaemia": False,
    "gastrointestinal_activity": False,
    "new_activity_since_previous_assessment": False,
    "pga": 0.5,
    "prednisolone_mg_per_day": 5.0,
    "standard_maintenance_therapy_well_tolerated": True,
}


def lldas(**changes: object):
    return score_lldas({**LLDAS_OK, **changes})


def test_lldas_baseline_case_met() -> None:
    result = lldas()
    assert result["lldas"] is True and result["failed_criteria"] == [] and result["sledai_2k"] == 0


@pytest.mark.parametrize(
    ("active", "ok"),
    [
        (["arthritis"], True),  # 4 points, not major organ
        (["rash", "low_complement"], True),  # 2 + 2
        (["arthritis", "leukopenia"], False),  # 5 > 4
        (["fever"], False),  # 1 point but major organ
        (["pleurisy"], False),
        (["pericarditis"], False),
        (["hematuria"], False),
        (["vasculitis"], False),
        (["thrombocytopenia", "leukopenia", "alopecia"], True),  # 4, not major
    ],
)
def test_lldas_sledai_and_major_organ(active: list[str], ok: bool) -> None:
    result = lldas(sledai_2k_active_descriptors=active)
    assert result["lldas"] is ok
    if not ok:
        assert set(result["failed_criteria"]) & {"sledai_2k_gt_4", "major_organ_activity"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"pga": 1.1}, "pga_gt_1"),
        ({"prednisolone_mg_per_day": 7.51}, "prednisolone_gt_7_5"),
        ({"prednisolone_mg_per_day": 8}, "prednisolone_gt_7_5"),
        ({"haemolytic_anaemia": True}, "major_organ_activity"),
        ({"gastrointestinal_activity": True}, "major_organ_activity"),
        ({"new_activity_since_previous_assessment": True}, "new_activity"),
        (
            {"standard_maintenance_therapy_well_tolerated": False},
            "maintenance_therapy_not_standard_or_not_tolerated",
        ),
        ({"sledai_2k_active_descriptors": ["arthritis", "fever"]}, "sledai_2k_gt_4"),
    ],
)
def test_lldas_each_failure(change: dict, code: str) -> None:
    result = lldas(**change)
    assert result["lldas"] is False and code in result["failed_criteria"]
    assert result["failed_criteria"] == sorted(result["failed_criteria"])


@pytest.mark.parametrize(("pga", "ok"), [(1.0, True), (0.1 + 0.9, True), (1.1, False), (3.0, False)])
def test_lldas_pga_boundary(pga: float, ok: bool) -> None:
    assert lldas(pga=pga)["lldas"] is ok


def test_lldas_prednisolone_boundary() -> None:
    assert lldas(prednisolone_mg_per_day=7.5)["lldas"] is True
    assert lldas(prednisolone_mg_per_day=2.5 * 3)["lldas"] is True


def test_lldas_missing_is_unknown_unless_a_criterion_fails() -> None:
    partial = dict(LLDAS_OK)
    del partial["pga"]
    unknown = score_lldas(partial)
    assert unknown["lldas"] is None and not unknown.complete and unknown.missing == ("pga",)
    failed = score_lldas({**partial, "prednisolone_mg_per_day": 10})
    assert failed["lldas"] is False and failed["failed_criteria"] == ["prednisolone_gt_7_5"]
    assert not failed.complete


def test_lldas_unassessed_descriptors() -> None:
    # rash active (2) + unassessed low_complement (2): SLEDAI <= 4 whatever it is
    ok = lldas(sledai_2k_active_descriptors=["rash"], unassessed_descriptors=["low_complement"])
    assert ok["lldas"] is True and ok["sledai_2k"] is None and not ok.complete
    # unassessed fever could be major activity: unknown
    assert lldas(unassessed_descriptors=["fever"])["lldas"] is None
    # arthritis (4) + unassessed rash: could exceed 4
    assert lldas(sledai_2k_active_descriptors=["arthritis"], unassessed_descriptors=["rash"])["lldas"] is None
    with pytest.raises(ValidationError, match="both active and unassessed"):
        lldas(sledai_2k_active_descriptors=["rash"], unassessed_descriptors=["rash"])


@pytest.mark.parametrize("bad", [{"pga": 3.1}, {"pga": -0.1}, {"prednisolone_mg_per_day": -1}, {"pga": "1"}])
def test_lldas_out_of_range_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError, match=r"allowed range|valid number"):
        lldas(**bad)


DORIS_OK = {
    "sledai_2k_active_descriptors": [],
    "pga": 0.4,
    "prednisolone_mg_per_day": 5,
    "on_antimalarial": True,
    "immunosuppressives_and_biologics_stable": True,
}


def doris(**changes: object):
    return score_doris_2021({**DORIS_OK, **changes})


def test_doris_met_with_serology_active() -> None:
    result = doris(sledai_2k_active_descriptors=["low_complement", "increased_dna_binding"])
    assert result["doris_remission"] is True and result["clinical_sledai"] == 0
    assert result["serology_active"] == ["increased_dna_binding", "low_complement"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"sledai_2k_active_descriptors": ["leukopenia"]}, "clinical_sledai_not_0"),
        ({"sledai_2k_active_descriptors": ["thrombocytopenia"]}, "clinical_sledai_not_0"),
        ({"pga": 0.5}, "pga_ge_0_5"),
        ({"prednisolone_mg_per_day": 5.01}, "prednisolone_gt_5"),
        ({"immunosuppressives_and_biologics_stable": False}, "immunosuppressives_or_biologics_not_stable"),
        ({"prednisolone_mg_per_day": 5, "prednisolone_rule": "lt_5"}, "prednisolone_gt_5"),
    ],
)
def test_doris_failures(change: dict, code: str) -> None:
    result = doris(**change)
    assert result["doris_remission"] is False and result["failed_criteria"] == [code]


def test_doris_rules_are_options() -> None:
    assert doris(pga=0.5, pga_rule="le_0_5")["doris_remission"] is True
    assert doris(pga=0.6, pga_rule="le_0_5")["doris_remission"] is False
    assert doris(prednisolone_mg_per_day=4.99, prednisolone_rule="lt_5")["doris_remission"] is True
    assert doris(on_antimalarial=False)["doris_remission"] is True  # allowed, not required


def test_doris_pga_float_artefact() -> None:
    assert doris(pga=0.1 + 0.2 + 0.1)["doris_remission"] is True  # 0.4000000000000001
    assert doris(pga=0.45)["doris_remission"] is False  # rounds half-up to 0.5


def test_doris_unknown_only_serology_does_not_matter() -> None:
    result = doris(unassessed_descriptors=["low_complement"])
    assert result["doris_remission"] is True and result["clinical_sledai"] == 0 and result.complete
    assert doris(unassessed_descriptors=["rash"])["doris_remission"] is None


SRI_BASE = {
    "sledai_baseline": 10,
    "sledai_followup": 6,
    "bilag_baseline": dict.fromkeys(
        [
            "constitutional",
            "mucocutaneous",
            "neuropsychiatric",
            "musculoskeletal",
            "cardiorespiratory",
            "gastrointestinal",
            "ophthalmic",
            "renal",
            "haematological",
        ],
        "C",
    ),
    "pga_baseline": 1.1,
    "pga_followup": 1.3,
}
SRI_BASE["bilag_followup"] = dict(SRI_BASE["bilag_baseline"])  # type: ignore[arg-type]


def sri(threshold: int | None = None, **changes: object):
    return score_sri({**SRI_BASE, **changes}, threshold=threshold)


def test_sri4_responder() -> None:
    result = sri()
    assert result["sri4_responder"] is True and result["sledai_reduction"] == 4
    assert result["sledai_reduction_ge_4"] is True and result["pga_change"] == pytest.approx(0.2)


def test_sri_pga_trap_exactly_0_3_is_worsening() -> None:
    assert 1.4 - 1.1 < 0.3  # the IEEE trap the implementation must avoid
    result = sri(pga_followup=1.4)
    assert result["pga_change"] == 0.3
    assert result["pga_criterion_met"] is False and result["sri4_responder"] is False


def test_sri_reduction_boundary() -> None:
    assert sri(sledai_followup=7)["sri4_responder"] is False
    assert sri(sledai_followup=11)["sledai_reduction"] == -1


@pytest.mark.parametrize("n", [5, 6, 7, 8])
def test_sri_5_to_8(n: int) -> None:
    met = sri(threshold=n, sledai_baseline=n + 2, sledai_followup=2)
    assert met[f"sri{n}_responder"] is True and met[f"sledai_reduction_ge_{n}"] is True
    short = sri(threshold=n, sledai_baseline=n + 1, sledai_followup=2)
    assert short[f"sri{n}_responder"] is False and short["threshold"] == n


def _follow(**grades: str) -> dict[str, str]:
    return {**SRI_BASE["bilag_baseline"], **grades}  # type: ignore[dict-item]


def test_sri_bilag_rules() -> None:
    new_a = sri(bilag_followup=_follow(renal="A"))
    assert new_a["new_bilag_a_count"] == 1 and new_a["sri4_responder"] is False
    one_b = sri(bilag_followup=_follow(renal="B"))
    assert one_b["new_bilag_b_count"] == 1 and one_b["sri4_responder"] is True
    two_b = sri(bilag_followup=_follow(renal="B", mucocutaneous="B"))
    assert two_b["new_bilag_b_count"] == 2 and two_b["bilag_criterion_met"] is False
    a_to_b = sri(
        bilag_baseline=_follow(renal="A", mucocutaneous="A"),
        bilag_followup=_follow(renal="B", mucocutaneous="B"),
    )
    assert a_to_b["new_bilag_b_count"] == 0 and a_to_b["sri4_responder"] is True
    a_stays = sri(bilag_baseline=_follow(renal="A"), bilag_followup=_follow(renal="A"))
    assert a_stays["new_bilag_a_count"] == 0


def test_sri_missing_bilag_domain_is_unknown() -> None:
    follow = _follow()
    del follow["renal"]
    result = sri(bilag_followup=follow)
    assert result["sri4_responder"] is None and "bilag_followup.renal" in result.missing
    assert sri(bilag_followup=follow, sledai_followup=9)["sri4_responder"] is False


def test_sri_modified_and_rescue() -> None:
    modified = score_sri(
        {k: v for k, v in SRI_BASE.items() if not k.startswith("bilag")} | {"use_bilag": False}
    )
    assert modified["sri4_responder"] is True and modified.complete
    assert sri(rescue_therapy=True)["sri4_responder"] is False
    assert sri(rescue_therapy=False)["sri4_responder"] is True


def test_sri_rejects_bad_grade_and_threshold() -> None:
    with pytest.raises(ValidationError, match=r"bilag_followup\.renal"):
        sri(bilag_followup=_follow(renal="F"))
    with pytest.raises(ValidationError, match="threshold"):
        sri(threshold=3)


def test_numpy_scalars_accepted_nan_and_strings_rejected() -> None:
    import numpy as np

    result = lldas(
        pga=np.float64(1.0), prednisolone_mg_per_day=np.int64(5), haemolytic_anaemia=np.bool_(False)
    )
    assert result["lldas"] is True
    assert sri(sledai_baseline=np.int64(10))["sri4_responder"] is True
    with pytest.raises(ValidationError, match=r"pga: Input should be a finite number \(allowed range"):
        lldas(pga=float("nan"))
    with pytest.raises(ValidationError, match="haemolytic_anaemia"):
        lldas(haemolytic_anaemia="false")
