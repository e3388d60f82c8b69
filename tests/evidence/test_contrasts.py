"""Trial arms and before/after summaries from the curated rows (continuous outcomes)."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence import contrasts, studies
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import rma
from lupuscell.evidence.pooling import PoolOptions, pool_curated


@pytest.fixture(scope="module")
def df():
    return studies.load_studies()


def test_zhou_2020_serum_creatinine_reproduced_from_deng_2017(df) -> None:
    """Zhou 2020 (Stem Cells Int, doi 10.1155/2020/6518508) prints 3.92 (-8.55 to 16.39) for this
    single trial: the same width; from the published rounded means the inverse-variance MD is
    4.00 (-8.47 to 16.47)."""
    c = contrasts.arm_contrasts(df, "serum_creatinine_6mo")
    assert c.records() == [
        {"id": "deng2017", "m1i": 63.0, "sd1i": 18.0, "n1i": 12.0, "m2i": 59.0, "sd2i": 9.0, "n2i": 6.0}
    ]
    fit = rma(escalc("MD", c.records()), "EE")
    assert (round(fit.estimate, 2), round(fit.ci_low, 2), round(fit.ci_high, 2)) == (4.00, -8.47, 16.47)
    assert fit.ci_high - fit.ci_low == pytest.approx(16.39 - -8.55, abs=0.01)  # Zhou's width


def test_pool_command_library_md_and_smd(df) -> None:
    a = pool_curated(df, PoolOptions(outcome="serum_creatinine_6mo", measure="MD"))
    doc = a.document()
    assert doc["k"] == 1 and round(doc["estimate"], 2) == 4.0
    assert doc["studies"][0]["summary"] == "63 (18), n = 12 vs 59 (9), n = 6"
    smd = pool_curated(df, PoolOptions(outcome="serum_creatinine_6mo", measure="SMD"))
    assert smd.fit.estimate == pytest.approx(0.2418422438, abs=1e-8)  # metafor, metafor_conventions.out


def test_binary_arms_give_risk_ratio(df) -> None:
    c = contrasts.arm_contrasts(df, "complete_remission")
    assert c.records() == [{"id": "deng2017", "ai": 5.0, "bi": 7.0, "ci": 3.0, "di": 3.0}]
    assert c.summaries() == ["5/12 vs 3/6"]


def test_arms_missing_control_are_named(df) -> None:
    with pytest.raises(ValidationError, match="no study reports both remission_x_msc_arm"):
        contrasts.arm_contrasts(df, "remission_x")


def test_before_after_changes_with_the_correlation_stated(df) -> None:
    c = contrasts.change_contrasts(df, "sledai", correlation=0.5)
    ids = [r["id"] for r in c.records()]
    assert ids == ["ash2007_pbsct17", "liang2010", "li2016_fuzhou"]
    liang = c.records()[1]
    assert (liang["m1i"], liang["m2i"], liang["sd1i"], liang["sd2i"], liang["ni"], liang["ri"]) == (
        3.2,
        12.2,
        3.3,
        2.8,
        12.0,
        0.5,
    )
    assert "r = 0.5" in c.assumption
    reasons = {s: why for s, _, why in c.excluded}
    assert reasons["wang2024_ard_ccar"].startswith("sd and total not reported")
    mc = rma(escalc("MC", c.records()))
    assert mc.estimate < 0  # SLEDAI falls in every series
    r0 = contrasts.change_contrasts(df, "sledai", correlation=0.0)
    assert rma(escalc("MC", r0.records()), "EE").se > rma(escalc("MC", c.records()), "EE").se


def test_change_options_validated(df) -> None:
    with pytest.raises(ValidationError, match="correlation: must lie in"):
        contrasts.change_contrasts(df, "sledai", correlation=1.5)
    with pytest.raises(ValidationError, match="no study reports 'gfr'"):
        contrasts.change_contrasts(df, "gfr")  # Gu 2014 gives no n


def test_stem_removes_time_tokens() -> None:
    assert contrasts.stem("sledai_12mo") == "sledai"
    assert contrasts.stem("sledai2k_baseline") == "sledai2k"
    assert contrasts.stem("sledai_6mo_4responders") == "sledai_4responders"
    assert contrasts.stem("sledai_24wk") == "sledai"
