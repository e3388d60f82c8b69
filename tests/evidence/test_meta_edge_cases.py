"""Edge cases of the meta-analysis engine, handled as metafor does or rejected clearly."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from lupuscell.errors import ValidationError
from lupuscell.evidence.effects import escalc, hedges_correction
from lupuscell.evidence.meta import leave_one_out, rma, rma_mh, subgroup_analysis
from lupuscell.evidence.request import run_request


def props(pairs):
    return [{"id": f"s{i}", "events": x, "total": n} for i, (x, n) in enumerate(pairs)]


# ------------------------------------------------------------ zero cells


def test_plo_adds_half_only_to_studies_with_zero_or_all_events():
    es = escalc("PLO", props([(0, 10), (5, 10), (10, 10)]))
    assert es.corrected.tolist() == [True, False, True]
    assert es.yi[0] == pytest.approx(np.log(0.5 / 10.5))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5)
    assert es.yi[1] == pytest.approx(0.0)  # untouched
    assert es.yi[2] == pytest.approx(np.log(10.5 / 0.5))


def test_correction_is_configurable():
    es_all = escalc("PLO", props([(1, 10), (5, 10)]), to="all")
    assert es_all.corrected.all()
    assert es_all.yi[0] == pytest.approx(np.log(1.5 / 9.5))
    es_other = escalc("PLO", props([(0, 10), (5, 10)]), add=0.25)
    assert es_other.yi[0] == pytest.approx(np.log(0.25 / 10.25))
    with pytest.raises(ValidationError, match=r"study s0: events: effect size undefined"):
        escalc("PLO", props([(0, 10), (5, 10)]), to="none")


def test_pft_and_pas_need_no_correction():
    for measure in ("PFT", "PAS"):
        es = escalc(measure, props([(0, 10), (10, 10)]))
        assert not es.corrected.any()
        assert np.isfinite(es.yi).all()


def test_two_by_two_zero_cell_correction_like_metafor():
    es = escalc(
        "OR",
        [{"id": "z", "ai": 0, "bi": 10, "ci": 3, "di": 7}, {"id": "nz", "ai": 2, "bi": 8, "ci": 3, "di": 7}],
    )
    assert es.corrected.tolist() == [True, False]
    assert es.yi[0] == pytest.approx(np.log(0.5 * 7.5 / (10.5 * 3.5)))
    assert es.vi[1] == pytest.approx(1 / 2 + 1 / 8 + 1 / 3 + 1 / 7)
    rr = escalc("RR", [{"id": "z", "ai": 0, "bi": 10, "ci": 3, "di": 7}])
    assert rr.yi[0] == pytest.approx(np.log((0.5 / 11) / (3.5 / 11)))
    rd = escalc("RD", [{"id": "z", "ai": 0, "bi": 10, "ci": 3, "di": 7}])
    assert rd.yi[0] == pytest.approx(0.5 / 11 - 3.5 / 11)


def test_zero_event_studies_pool_without_error():
    res = rma(escalc("PLO", props([(0, 30), (0, 22), (1, 50), (0, 53)])))
    assert 0 < res.back.estimate < 0.05
    assert res.k == 4


# ------------------------------------------------------------ k = 1, identical studies, negative DL


def test_single_study():
    res = rma(escalc("PLO", props([(9, 12)])), "REML")
    assert res.k == 1
    assert res.tau2 == 0.0
    assert res.estimate == pytest.approx(np.log(9 / 3))
    assert res.se == pytest.approx(np.sqrt(1 / 9 + 1 / 3))
    # metafor for a saturated model: QE = 0, QEp = 1, I^2 = 0, H^2 = 1
    assert res.q == 0.0 and res.q_df == 0 and res.q_p == 1.0
    assert res.i2 == 0.0 and res.h2 == 1.0
    assert (res.pred_low, res.pred_high) == pytest.approx((res.ci_low, res.ci_high))
    assert any("k = 1" in n for n in res.notes)
    summary = run_request({"measure": "PLO", "studies": props([(9, 12)])})
    assert summary["i2"] == 0.0 and summary["k"] == 1 and summary["tau2_ci"] == [None, None]


def test_single_study_knha_rejected_clearly():
    with pytest.raises(ValidationError, match="knha needs more studies"):
        rma(escalc("PLO", props([(9, 12)])), "REML", "knha")


@pytest.mark.parametrize("method", ["DL", "REML", "ML", "PM", "HE", "SJ"])
def test_identical_studies_give_tau2_zero(method):
    es = escalc("PLO", props([(10, 40)] * 5))
    res = rma(es, method)
    assert res.tau2 == 0.0
    assert res.q == pytest.approx(0.0, abs=1e-12)
    assert res.i2 == pytest.approx(0.0)
    assert res.h2 == pytest.approx(1.0)
    assert res.estimate == pytest.approx(np.log(10 / 30))
    assert res.tau2_ci == (0.0, 0.0)


def test_negative_dl_is_truncated_and_reported_unlike_statsmodels():
    y = np.array([0.10, 0.12, 0.09, 0.11, 0.10])
    v = np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    es = escalc("GEN", [{"id": str(i), "yi": a, "vi": b} for i, (a, b) in enumerate(zip(y, v, strict=True))])
    res = rma(es, "DL")
    sm = combine_effects(y, v, method_re="dl")
    assert sm.tau2 < 0  # the statsmodels trap
    assert res.tau2 == 0.0
    assert res.tau2_raw == pytest.approx(sm.tau2)
    assert res.tau2_truncated
    assert any("truncated at 0" in n for n in res.notes)
    assert np.isfinite(res.se)
    # with tau^2 = 0 the RE model equals the EE model
    assert res.estimate == pytest.approx(rma(es, "EE").estimate)
    assert run_request({"measure": "GEN", "method": "DL", "studies": es_records(y, v)})["tau2_truncated"]


def es_records(y, v):
    return [{"id": str(i), "yi": float(a), "vi": float(b)} for i, (a, b) in enumerate(zip(y, v, strict=True))]


# ------------------------------------------------------------ bad input names the study and field


@pytest.mark.parametrize(
    ("measure", "studies", "pattern"),
    [
        ("PLO", [{"id": "a", "events": 12, "total": 10}], r"study a: events: exceeds total"),
        ("PLO", [{"id": "a", "events": -1, "total": 10}], r"study a: events: must be >= 0"),
        ("PLO", [{"id": "a", "events": 1.5, "total": 10}], r"study a: events: must be a whole number"),
        ("PLO", [{"id": "a", "events": 1, "total": 0}], r"study a: total: must be > 0"),
        ("PLO", [{"id": "b", "events": "x", "total": 10}], r"study b: events: not a number"),
        ("PLO", [{"id": "c", "total": 10}], r"study c: events: missing"),
        ("GEN", [{"id": "d", "yi": 0.1, "vi": -0.01}], r"study d: vi: sampling variance must be >= 0"),
        (
            "MD",
            [{"id": "e", "m1i": 1, "sd1i": -1, "n1i": 5, "m2i": 1, "sd2i": 1, "n2i": 5}],
            r"study e: sd1i",
        ),
        ("RR", [{"id": "f", "ai": 0, "bi": 0, "ci": 1, "di": 1}], r"study f: ai: group 1 has no patients"),
    ],
)
def test_bad_input_is_rejected_naming_study_and_field(measure, studies, pattern):
    with pytest.raises(ValidationError, match=pattern):
        escalc(measure, studies)


def test_unknown_measure_method_test_rejected():
    with pytest.raises(ValidationError, match="measure: unknown measure 'XYZ'"):
        escalc("XYZ", props([(1, 2)]))
    es = escalc("PLO", props([(1, 5), (2, 5)]))
    with pytest.raises(ValidationError, match="method: unknown method 'FOO'"):
        rma(es, "FOO")
    with pytest.raises(ValidationError, match="test: unknown test 't'"):
        rma(es, "REML", "t")
    with pytest.raises(ValidationError, match=r"input: measure: unknown measure"):
        run_request({"measure": "LOGIT", "studies": props([(1, 5)])})
    with pytest.raises(ValidationError, match=r"input: colour: unknown key"):
        run_request({"measure": "PLO", "colour": 1, "studies": props([(1, 5)])})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        escalc("PLO", [{"id": "a", "events": 12, "total": 10}, {"id": "b", "events": 20, "total": 10}])
    assert [p.record for p in info.value.problems] == ["study a", "study b"]
    assert {p.field for p in info.value.problems} == {"events"}


def test_moderator_length_and_collinearity_checked():
    es = escalc("PLO", props([(1, 5), (2, 5), (3, 5)]))
    with pytest.raises(ValidationError, match="mods: year: needs one value per study"):
        rma(es, mods={"year": [2000, 2001]})
    with pytest.raises(ValidationError, match="collinear"):
        rma(es, mods={"const": [1, 1, 1]})


def test_random_effects_with_zero_variance_rejected():
    es = escalc("GEN", [{"id": "a", "yi": 0.1, "vi": 0.0}, {"id": "b", "yi": 0.2, "vi": 0.1}])
    with pytest.raises(ValidationError, match="vi > 0"):
        rma(es, "REML")


# ------------------------------------------------------------ SMD, MD, MH, subgroups, leave-one-out


def test_hedges_g_small_sample_correction():
    # exact J(10) = 0.9228 (Hedges & Olkin 1985, Table 2); J(df) ~ 1 - 3 / (4 df - 1) for larger df
    assert hedges_correction(np.array([10.0]))[0] == pytest.approx(0.9228, abs=1e-4)
    for df in (30.0, 100.0):
        assert hedges_correction(np.array([df]))[0] == pytest.approx(1 - 3 / (4 * df - 1), abs=5e-5)
    es = escalc("SMD", [{"id": "a", "m1i": 10, "sd1i": 2, "n1i": 20, "m2i": 9, "sd2i": 2, "n2i": 20}])
    g = hedges_correction(np.array([38.0]))[0] * 0.5
    assert es.yi[0] == pytest.approx(g)
    assert es.vi[0] == pytest.approx(1 / 20 + 1 / 20 + g**2 / 80)
    md = escalc("MD", [{"id": "a", "m1i": 10, "sd1i": 2, "n1i": 20, "m2i": 9, "sd2i": 3, "n2i": 10}])
    assert (md.yi[0], md.vi[0]) == pytest.approx((1.0, 4 / 20 + 9 / 10))


def test_mh_rejects_non_binary_measure():
    with pytest.raises(ValidationError, match="Mantel-Haenszel needs RR, OR or RD"):
        rma_mh(escalc("PLO", props([(1, 5), (2, 5)])))


def test_mh_rd_equals_common_difference_when_tables_are_identical():
    es = escalc("RD", [{"id": str(i), "ai": 5, "bi": 15, "ci": 10, "di": 10} for i in range(3)])
    mh = rma_mh(es)
    assert mh.estimate == pytest.approx(0.25 - 0.5)
    # Sato/Greenland-Robins variance reduces to the pooled binomial variance here
    assert mh.se == pytest.approx(np.sqrt((0.25 * 0.75 / 20 + 0.5 * 0.5 / 20) / 3), rel=1e-6)


def test_subgroup_differences_separate_and_common():
    es = escalc("PLO", props([(2, 20), (3, 20), (4, 25), (15, 20), (16, 20), (14, 18)]))
    groups = ["a", "a", "a", "b", "b", "b"]
    sub = subgroup_analysis(es, groups, "REML")
    assert set(sub.groups) == {"a", "b"}
    assert sub.df == 1
    mu = np.array([sub.groups["a"].estimate, sub.groups["b"].estimate])
    w = 1 / np.array([sub.groups["a"].se, sub.groups["b"].se]) ** 2
    mbar = np.sum(w * mu) / np.sum(w)
    assert sub.q_between == pytest.approx(np.sum(w * (mu - mbar) ** 2))
    assert sub.p < 0.001
    common = subgroup_analysis(es, groups, "REML", tau2="common")
    assert common.p < 0.001
    assert common.tau2_rule == "common"
    with pytest.raises(ValidationError, match="at least two subgroups"):
        subgroup_analysis(es, ["a"] * 6)


def test_leave_one_out_matches_refits():
    es = escalc("PLO", props([(2, 20), (3, 20), (4, 25), (15, 20)]))
    loo = leave_one_out(es, "DL")
    assert list(loo["omitted"]) == list(es.ids)
    mask = np.array([True, True, True, False])
    assert loo.loc[3, "estimate"] == pytest.approx(rma(es.subset(mask), "DL").estimate)
    assert loo.loc[3, "estimate"] < rma(es, "DL").estimate  # dropping the high study lowers the mean


def test_identical_studies_with_knha_give_zero_se_and_a_note():
    res = rma(escalc("PLO", props([(10, 40)] * 4)), "REML", "knha")
    assert res.se == 0.0
    assert res.ci_low == res.ci_high == pytest.approx(np.log(10 / 30))
    assert any("Knapp-Hartung scale factor is 0" in n for n in res.notes)
