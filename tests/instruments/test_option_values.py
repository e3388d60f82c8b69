"""Option values and code lists have one source: the ``Literal`` type (read with
``typing.get_args``) or :mod:`lupuscell.vocab`. The tables keyed by them (weights, grades,
cut-offs) must have exactly those keys, and the bulk path must use the per-visit lists."""

from __future__ import annotations

from typing import get_args

from lupuscell import vocab
from lupuscell.instruments import (
    body,
    bulk,
    cellular_toxicity,
    eular_acr_2019,
    gvhd,
    hct_ci,
    labs,
    response,
    sdi,
    sledai2k,
)


def test_sledai_tables_follow_the_literal_types() -> None:
    assert sledai2k.DESCRIPTORS == get_args(sledai2k.Descriptor) == vocab.SLEDAI_2K_DESCRIPTORS
    assert tuple(sledai2k.WEIGHTS) == sledai2k.DESCRIPTORS and set(sledai2k.DEFINITIONS) == set(sledai2k.DESCRIPTORS)
    assert tuple(sledai2k.ARTHRITIS_MIN_JOINTS) == get_args(sledai2k.ArthritisRule)
    assert sledai2k.WINDOWS_DAYS == (10, 30)
    assert set(sledai2k.SELENA_NEW_OR_WORSE) <= set(sledai2k.DESCRIPTORS)
    schema = sledai2k.SledaiInput.model_json_schema()["properties"]
    assert schema["window_days"]["enum"] == list(sledai2k.WINDOWS_DAYS)


def test_response_tables_follow_the_literal_types() -> None:
    assert tuple(response.DORIS_PGA_RULES) == get_args(response.PgaRule)
    assert tuple(response.DORIS_PRED_RULES) == get_args(response.PrednisoloneRule)
    assert get_args(response.ThresholdArithmeticRule) == response.THRESHOLD_ARITHMETIC
    assert response.BILAG_DOMAINS == vocab.BILAG_DOMAINS
    assert get_args(response.BilagGrade) == vocab.BILAG_GRADES
    assert set(response.LLDAS_MAJOR_ORGAN) <= set(sledai2k.DESCRIPTORS)


def test_failure_codes_are_the_criteria_the_scorers_check() -> None:
    lldas = response.score_lldas({})
    doris = response.score_doris_2021({})
    assert tuple(i.name for i in lldas.items) == response.LLDAS_FAILURES
    assert tuple(i.name for i in doris.items) == response.DORIS_FAILURES
    assert bulk.LLDAS_FAILURES is response.LLDAS_FAILURES
    assert bulk.DORIS_FAILURES is response.DORIS_FAILURES


def test_transplant_lab_body_tables_follow_the_literal_types() -> None:
    assert tuple(cellular_toxicity.OXYGEN_GRADE) == get_args(cellular_toxicity.OxygenDelivery)
    assert tuple(cellular_toxicity.LOC_GRADE) == get_args(cellular_toxicity.LevelOfConsciousness)
    assert tuple(cellular_toxicity.SEIZURE_GRADE) == get_args(cellular_toxicity.Seizure)
    assert tuple(cellular_toxicity.ICP_GRADE) == get_args(cellular_toxicity.RaisedIcp)
    assert tuple(cellular_toxicity.ICE_COMPONENT_MAX) == tuple(cellular_toxicity.IceComponents.model_fields)
    assert tuple(gvhd.LOWER_GI_BANDS) == gvhd.LOWER_GI_SCALES
    assert set(labs.GRAFT_FAILURE_DAY) == set(get_args(labs.GraftSource))
    assert set(body.DEVINE_BASE_KG) == set(body.CKD_EPI_2021) == set(get_args(body.Sex))
    assert tuple(hct_ci.WEIGHTS) == tuple(hct_ci.HctCiComorbidities.model_fields)
    assert {label for _, label in hct_ci.RISK_GROUPS} == set(get_args(hct_ci.RiskGroup))


def test_damage_and_classification_item_lists() -> None:
    assert get_args(sdi.SdiItem) == sdi.ITEMS
    derived = {"low_c3_or_low_c4", "low_c3_and_low_c4"}
    criteria = {name for items in eular_acr_2019.DOMAINS.values() for name, _ in items} - derived
    assert set(get_args(eular_acr_2019.Criterion)) == criteria | {"low_c3", "low_c4"}


def test_score_table_uses_the_bulk_instrument_list() -> None:
    from lupuscell.cli import score_cmd

    assert not hasattr(score_cmd, "BULK_NAMES")
    assert bulk.INSTRUMENTS == ("sledai_2k", "clinical_sledai", "lldas", "doris_2021")
