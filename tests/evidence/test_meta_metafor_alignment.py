"""lupuscell.evidence.meta against metafor's documented results.

Sources of the reference numbers (all printed by metafor to 4 decimals; tolerance 1e-4 plus
half a unit of the last printed digit where the value is a rounded print-out):

* dat.bcg (Colditz et al. 1994, Clin Infect Dis 18:698; 13 BCG trials, log risk ratios):
  - REML, z: metafor README / Viechtbauer 2010 (J Stat Softw 36(3)) print-out of
    ``rma(yi, vi, data=dat)``: tau^2 0.3132 (SE 0.1664), I^2 92.22 %, H^2 12.86,
    Q(12) = 152.2330, estimate -0.7145, SE 0.1798, CI -1.0669 to -0.3622;
  - REML, knha: metafor README ``rma(yi, vi, data=dat, test="knha")``: SE 0.1808,
    CI -1.1084 to -0.3206; ``predict(res, transf=exp, digits=2)``: 0.49 [0.33, 0.73],
    PI [0.14, 1.76]; ``regtest(res)``: t = -0.7812, df = 11, p = 0.4512, limit estimate
    -0.5104 (CI -1.2123, 0.1915);
  - meta-regression on absolute latitude (``mods = ~ ablat``), REML z and knha: metafor
    README / Viechtbauer 2010: tau^2 0.0764, I^2 68.39 %, H^2 3.16, R^2 75.62 %,
    QE(11) = 30.7331, QM(1) = 16.3571, F(1, 11) = 12.5905, coefficients as below;
  - DL, EE, OR, RD, MH: metafor's test suite tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
    (checked there against Stata ``metan``) and test_misc_confint.r (Q-profile CIs, MH RR).
* Proportions: Miller (1978), "The inverse of the Freeman-Tukey double arcsine
  transformation", Am Stat 32:138, as reproduced in metafor's
  tests/testthat/test_analysis_example_miller1978.r (PFT values, harmonic-mean
  back-transformation); random-effects proportions are checked against an independent
  implementation written differently in this file (direct likelihood maximisation and
  textbook DL formulas), and against ``statsmodels.stats.meta_analysis.combine_effects``.
* SMD: metafor tests/testthat/test_misc_rma_uni.r, dat.normand1999 studies 1-4, REML tau^2 1.0090.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special, stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.meta_analysis import combine_effects

from lupuscell.evidence.effects import back_transform, escalc, transf_ipft
from lupuscell.evidence.meta import egger_test, rma, rma_mh

# dat.bcg: tpos, tneg, cpos, cneg, ablat (metafor/metadat)
BCG = [
    (4, 119, 11, 128, 44),
    (6, 300, 29, 274, 55),
    (3, 228, 11, 209, 42),
    (62, 13536, 248, 12619, 52),
    (33, 5036, 47, 5761, 13),
    (180, 1361, 372, 1079, 44),
    (8, 2537, 10, 619, 19),
    (505, 87886, 499, 87892, 13),
    (29, 7470, 45, 7232, 27),
    (17, 1699, 65, 1600, 42),
    (186, 50448, 141, 27197, 18),
    (5, 2493, 3, 2338, 33),
    (27, 16886, 29, 17825, 33),
]
ABLAT = [row[4] for row in BCG]
TOL = 1e-4
PRINTED = 1e-4 + 5e-5  # rounded to 4 decimals by metafor's print method


def bcg(measure: str = "RR"):
    studies = [
        {"id": str(i + 1), "ai": a, "bi": b, "ci": c, "di": d} for i, (a, b, c, d, _) in enumerate(BCG)
    ]
    return escalc(measure, studies)


def test_bcg_escalc_log_rr_matches_metafor_table():
    es = bcg()
    # metafor README print of escalc(measure="RR", ...) for dat.bcg
    yi = [
        -0.8893,
        -1.5854,
        -1.3481,
        -1.4416,
        -0.2175,
        -0.7861,
        -1.6209,
        0.0120,
        -0.4694,
        -1.3713,
        -0.3394,
        0.4459,
        -0.0173,
    ]
    vi = [
        0.3256,
        0.1946,
        0.4154,
        0.0200,
        0.0512,
        0.0069,
        0.2230,
        0.0040,
        0.0564,
        0.0730,
        0.0124,
        0.5325,
        0.0714,
    ]
    np.testing.assert_allclose(es.yi, yi, atol=PRINTED)
    np.testing.assert_allclose(es.vi, vi, atol=PRINTED)


def test_bcg_reml_z():
    res = rma(bcg(), "REML", "z")
    assert res.k == 13
    assert res.tau2 == pytest.approx(0.3132, abs=PRINTED)
    assert res.se_tau2 == pytest.approx(0.1664, abs=PRINTED)
    assert res.i2 == pytest.approx(92.22, abs=0.005 + TOL)
    assert res.h2 == pytest.approx(12.86, abs=0.005 + TOL)
    assert res.q == pytest.approx(152.2330, abs=PRINTED)
    assert res.q_df == 12
    assert res.estimate == pytest.approx(-0.7145, abs=PRINTED)
    assert res.se == pytest.approx(0.1798, abs=PRINTED)
    assert res.stat == pytest.approx(-3.9744, abs=PRINTED)
    assert res.ci_low == pytest.approx(-1.0669, abs=PRINTED)
    assert res.ci_high == pytest.approx(-0.3622, abs=PRINTED)
    # Q-profile CI of tau^2 does not depend on the estimator (test_misc_confint.r)
    assert res.tau2_ci == pytest.approx((0.1197, 1.1115), abs=PRINTED)


def test_bcg_reml_knha_and_prediction_interval():
    res = rma(bcg(), "REML", "knha")
    assert res.se == pytest.approx(0.1808, abs=PRINTED)
    assert res.stat == pytest.approx(-3.9522, abs=PRINTED)
    assert res.df == 12
    assert res.pval == pytest.approx(0.0019, abs=PRINTED)
    assert res.ci_low == pytest.approx(-1.1084, abs=PRINTED)
    assert res.ci_high == pytest.approx(-0.3206, abs=PRINTED)
    # predict(res, transf=exp, digits=2): 0.49 [0.33, 0.73], PI [0.14, 1.76]
    back = res.back
    assert (back.estimate, back.ci_low, back.ci_high) == pytest.approx((0.49, 0.33, 0.73), abs=0.005 + TOL)
    assert (back.pred_low, back.pred_high) == pytest.approx((0.14, 1.76), abs=0.005 + TOL)
    # PI uses t(k - 1) and sqrt(SE^2 + tau^2)
    crit = stats.t.ppf(0.975, 12)
    assert res.pred_low == pytest.approx(res.estimate - crit * np.sqrt(res.se**2 + res.tau2), abs=1e-12)


def test_bcg_dl_random_effects():
    res = rma(bcg(), "DL")
    assert res.estimate == pytest.approx(-0.7141, abs=PRINTED)
    assert res.ci_low == pytest.approx(-1.0644, abs=PRINTED)
    assert res.ci_high == pytest.approx(-0.3638, abs=PRINTED)
    assert res.stat == pytest.approx(-3.9952, abs=PRINTED)
    assert res.tau2 == pytest.approx(0.3088, abs=PRINTED)
    assert res.i2 == pytest.approx(92.1173, abs=PRINTED)
    assert res.h2 == pytest.approx(12.6861, abs=PRINTED)
    assert res.q == pytest.approx(152.2330, abs=PRINTED)
    assert (res.back.estimate, res.back.ci_low, res.back.ci_high) == pytest.approx(
        (0.4896, 0.3449, 0.6950), abs=PRINTED
    )
    # confint(res): tau^2 [0.1197, 1.1115], I^2 [81.9177, 97.6781], H^2 [5.5303, 43.0680].
    # metafor finds the Q-profile bounds with uniroot(tol = .Machine$double.eps^0.25 ~ 1.2e-4),
    # so its tau^2 bounds carry ~1e-4 of root-finding error, amplified in I^2/H^2; lupuscell
    # solves to 1e-12. Agreement is therefore to metafor's own precision here.
    assert res.tau2_ci == pytest.approx((0.1197, 1.1115), abs=PRINTED)
    assert res.i2_ci == pytest.approx((81.9177, 97.6781), abs=0.005)
    assert res.h2_ci == pytest.approx((5.5303, 43.0680), abs=0.005)
    assert not res.tau2_truncated


def test_bcg_equal_effects_rr():
    res = rma(bcg(), "EE")
    assert res.estimate == pytest.approx(-0.4303, abs=PRINTED)
    assert res.ci_low == pytest.approx(-0.5097, abs=PRINTED)
    assert res.ci_high == pytest.approx(-0.3509, abs=PRINTED)
    assert res.stat == pytest.approx(-10.6247, abs=PRINTED)
    assert res.tau2 == 0.0
    assert (res.back.estimate, res.back.ci_low, res.back.ci_high) == pytest.approx(
        (0.6503, 0.6007, 0.7040), abs=PRINTED
    )


@pytest.mark.parametrize(
    ("measure", "method", "expected"),
    [
        # (estimate, ci_low, ci_high, z, Q or tau2, I2) from test_misc_metan_vs_rma.uni_with_dat.bcg.r
        ("OR", "EE", (-0.4361, -0.5190, -0.3533, -10.3190)),
        ("OR", "DL", (-0.7474, -1.1242, -0.3706, -3.8873)),
        ("RD", "EE", (-0.0009, -0.0014, -0.0005, -4.0448)),
        ("RD", "DL", (-0.0071, -0.0101, -0.0040, -4.5128)),
    ],
)
def test_bcg_or_rd(measure, method, expected):
    res = rma(bcg(measure), method)
    assert (res.estimate, res.ci_low, res.ci_high, res.stat) == pytest.approx(expected, abs=PRINTED)


def test_bcg_or_rd_heterogeneity():
    assert rma(bcg("OR"), "EE").q == pytest.approx(163.1649, abs=PRINTED)
    dl_or = rma(bcg("OR"), "DL")
    assert dl_or.tau2 == pytest.approx(0.3663, abs=PRINTED)
    assert dl_or.i2 == pytest.approx(92.6455, abs=PRINTED)
    assert rma(bcg("RD"), "EE").q == pytest.approx(276.4737, abs=PRINTED)
    assert rma(bcg("RD"), "DL").i2 == pytest.approx(95.6596, abs=PRINTED)


def test_bcg_meta_regression_on_latitude_z():
    res = rma(bcg(), "REML", "z", mods={"ablat": ABLAT})
    assert [c.name for c in res.coefficients] == ["intrcpt", "ablat"]
    icpt, slope = res.coefficients
    assert (icpt.estimate, icpt.se, icpt.stat, icpt.p, icpt.ci_low, icpt.ci_high) == pytest.approx(
        (0.2515, 0.2491, 1.0095, 0.3127, -0.2368, 0.7397), abs=PRINTED
    )
    assert (slope.estimate, slope.se, slope.stat, slope.ci_low, slope.ci_high) == pytest.approx(
        (-0.0291, 0.0072, -4.0444, -0.0432, -0.0150), abs=PRINTED
    )
    assert res.tau2 == pytest.approx(0.0764, abs=PRINTED)
    assert res.se_tau2 == pytest.approx(0.0591, abs=PRINTED)
    assert res.i2 == pytest.approx(68.39, abs=0.005 + TOL)
    assert res.h2 == pytest.approx(3.16, abs=0.005 + TOL)
    assert res.r2 == pytest.approx(75.62, abs=0.005 + TOL)
    assert res.q == pytest.approx(30.7331, abs=PRINTED)
    assert res.qm == pytest.approx(16.3571, abs=PRINTED)


def test_bcg_meta_regression_on_latitude_knha():
    res = rma(bcg(), "REML", "knha", mods={"ablat": ABLAT})
    icpt, slope = res.coefficients
    assert (icpt.estimate, icpt.se, icpt.ci_low, icpt.ci_high, icpt.p) == pytest.approx(
        (0.2515, 0.2839, -0.3735, 0.8764, 0.3948), abs=PRINTED
    )
    assert (slope.se, slope.stat, slope.p, slope.ci_low, slope.ci_high) == pytest.approx(
        (0.0082, -3.5483, 0.0046, -0.0472, -0.0111), abs=PRINTED
    )
    assert res.qm == pytest.approx(12.5905, abs=PRINTED)
    assert res.qm_df == (1, 11)


def test_bcg_egger_regtest():
    egg = egger_test(bcg(), "REML", "knha")
    assert egg.stat == pytest.approx(-0.7812, abs=PRINTED)
    assert egg.df == 11
    assert egg.p == pytest.approx(0.4512, abs=PRINTED)
    assert egg.limit_estimate == pytest.approx(-0.5104, abs=PRINTED)
    assert egg.limit_ci == pytest.approx((-1.2123, 0.1915), abs=PRINTED)


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        # metafor tests/testthat/test_misc_metan_vs_rma.mh_with_dat.bcg.r (checked against Stata metan):
        # (estimate, ci_low, ci_high, z, QE)
        ("RR", (-0.4537, -0.5308, -0.3766, -11.5338, 152.5676)),
        ("OR", (-0.4734, -0.5538, -0.3930, -11.5444, 163.9426)),
        ("RD", (-0.0033, -0.0039, -0.0027, -11.4708, 386.7759)),
    ],
)
def test_bcg_mantel_haenszel(measure, expected):
    mh = rma_mh(bcg(measure))
    assert (mh.estimate, mh.ci_low, mh.ci_high, mh.stat, mh.q) == pytest.approx(expected, abs=PRINTED)
    assert mh.i2 == pytest.approx(100 * (mh.q - 12) / mh.q)


def test_bcg_mantel_haenszel_back_transformed_and_statsmodels():
    # confint(rma.mh(measure="RR", ...), transf=exp): 0.6353 [0.5881, 0.6862]
    mh = rma_mh(bcg("RR"))
    assert (mh.back.estimate, mh.back.ci_low, mh.back.ci_high) == pytest.approx(
        (0.6353, 0.5881, 0.6862), abs=PRINTED
    )
    # MH odds ratio and its Robins-Breslow-Greenland SE against statsmodels' StratifiedTable
    mh_or = rma_mh(bcg("OR"))
    assert (mh_or.back.estimate, mh_or.back.ci_low, mh_or.back.ci_high) == pytest.approx(
        (0.6229, 0.5748, 0.6750), abs=PRINTED
    )
    tables = [np.array([[a, b], [c, d]]) for a, b, c, d, _ in BCG]
    st = StratifiedTable(tables)
    assert mh_or.estimate == pytest.approx(np.log(st.oddsratio_pooled), abs=1e-10)
    assert mh_or.se == pytest.approx(st.logodds_pooled_se, abs=1e-10)


def test_normand1999_smd_reml():
    rows = [
        (155, 55, 47, 156, 75, 64),
        (31, 27, 7, 32, 29, 4),
        (75, 64, 17, 71, 119, 29),
        (18, 66, 20, 18, 137, 48),
    ]
    studies = [
        {"id": str(i), "n1i": a, "m1i": b, "sd1i": c, "n2i": d, "m2i": e, "sd2i": f}
        for i, (a, b, c, d, e, f) in enumerate(rows)
    ]
    assert rma(escalc("SMD", studies)).tau2 == pytest.approx(1.0090, abs=PRINTED)


# ----------------------------------------------------------------- proportions


MILLER = [
    {"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate([(3, 11), (6, 17), (10, 21), (1, 6)])
]


def test_miller1978_pft_values():
    es = escalc("PFT", MILLER)
    # Miller 1978 p. 138 (his double arcsine is twice metafor's)
    np.testing.assert_allclose(es.yi * 2, [1.1391, 1.2888, 1.5253, 0.9515], atol=PRINTED)
    np.testing.assert_allclose(es.vi * 4, [0.0870, 0.0571, 0.0465, 0.1538], atol=PRINTED)


def test_miller1978_pooled_back_transformation():
    es = escalc("PFT", MILLER)
    res = rma(es, "EE")
    assert res.estimate * 2 == pytest.approx(1.3093, abs=PRINTED)
    assert res.back.estimate == pytest.approx(0.3595, abs=PRINTED)


def test_miller_style_example_with_zero_and_all_events():
    # metafor test_analysis_example_miller1978.r: EE model, transf.ipft.hm
    studies = [
        {"id": str(i), "events": x, "total": n}
        for i, (x, n) in enumerate([(0, 10), (4, 10), (9, 15), (16, 20), (20, 20)])
    ]
    es = escalc("PFT", studies)
    assert not es.corrected.any()  # nothing added for PFT (metafor default)
    np.testing.assert_allclose(transf_ipft(es.yi, es.ni), [0.0, 0.4, 0.6, 0.8, 1.0], atol=1e-12)
    res = rma(es, "EE")
    assert (res.back.estimate, res.back.ci_low, res.back.ci_high) == pytest.approx(
        (0.6886, 0.5734, 0.7943), abs=PRINTED
    )


# An independent implementation (textbook formulas, written differently from the engine)
PROPS = [(23, 83), (9, 12), (33, 50), (21, 24), (18, 22), (13, 40), (2, 3), (37, 40)]


def _independent_reml(y, v):
    """Maximise the restricted log-likelihood over tau^2 directly (bounded scalar search)."""

    def neg_rll(t):
        w = 1 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    t = optimize.minimize_scalar(neg_rll, bounds=(0, 10), method="bounded", options={"xatol": 1e-12}).x
    w = 1 / (v + t)
    mu = np.sum(w * y) / np.sum(w)
    return t, mu, np.sqrt(1 / np.sum(w))


def _independent_dl(y, v):
    w = 1 / v
    k = len(y)
    ybar = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - ybar) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    t = max(0.0, (q - (k - 1)) / c)
    ws = 1 / (v + t)
    mu = np.sum(ws * y) / np.sum(ws)
    s2 = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))  # Higgins & Thompson typical variance
    return t, mu, np.sqrt(1 / np.sum(ws)), q, 100 * t / (t + s2)


def test_proportion_plo_reml_against_independent_likelihood():
    x = np.array([p[0] for p in PROPS], float)
    n = np.array([p[1] for p in PROPS], float)
    es = escalc("PLO", [{"id": str(i), "events": a, "total": b} for i, (a, b) in enumerate(PROPS)])
    y = np.log(x / (n - x))
    v = 1 / x + 1 / (n - x)
    np.testing.assert_allclose(es.yi, y, rtol=1e-12)
    t, mu, se = _independent_reml(y, v)
    res = rma(es, "REML")
    # metafor's stopping rule (change < 1e-5) vs the exact optimum: well inside 1e-4
    assert res.tau2 == pytest.approx(t, abs=TOL)
    assert res.estimate == pytest.approx(mu, abs=TOL)
    assert res.se == pytest.approx(se, abs=TOL)
    assert res.back.estimate == pytest.approx(special.expit(mu), abs=TOL)


def test_proportion_dl_against_independent_formulas_and_statsmodels():
    es = escalc("PLO", [{"id": str(i), "events": a, "total": b} for i, (a, b) in enumerate(PROPS)])
    t, mu, se, q, i2 = _independent_dl(es.yi, es.vi)
    res = rma(es, "DL")
    assert (res.tau2, res.estimate, res.se, res.q, res.i2) == pytest.approx((t, mu, se, q, i2), abs=1e-10)
    assert res.q_p == pytest.approx(stats.chi2.sf(q, len(PROPS) - 1), abs=1e-12)
    sm = combine_effects(es.yi, es.vi, method_re="dl")
    assert res.tau2 == pytest.approx(sm.tau2, abs=1e-10)
    assert res.estimate == pytest.approx(sm.mean_effect_re, abs=1e-10)
    assert res.se == pytest.approx(sm.sd_eff_w_re, abs=1e-10)
    pm = combine_effects(es.yi, es.vi, method_re="pm")
    assert rma(es, "PM").tau2 == pytest.approx(pm.tau2, abs=1e-5)  # statsmodels iterates to ~1e-6


def test_other_estimators_against_closed_forms():
    y, v = bcg().yi, bcg().vi
    k = len(y)
    # Hedges (HE): unweighted method of moments
    he = (np.sum((y - y.mean()) ** 2) - (k - 1) / k * np.sum(v)) / (k - 1)
    assert rma(bcg(), "HE").tau2 == pytest.approx(he, abs=1e-10)
    # Sidik-Jonkman: one step from tau0 = mean squared deviation
    t0 = np.mean((y - y.mean()) ** 2)
    w = 1 / (v + t0)
    mu = np.sum(w * y) / np.sum(w)
    assert rma(bcg(), "SJ").tau2 == pytest.approx(np.sum(w * (y - mu) ** 2) * t0 / (k - 1), abs=1e-10)
    # PM equals metafor's DLIT/SJIT (0.3181, test_misc_rma_uni.r)
    assert rma(bcg(), "PM").tau2 == pytest.approx(0.3181, abs=PRINTED)


def test_back_transformations():
    assert back_transform("PLO", 0.0) == pytest.approx(0.5)
    assert back_transform("PAS", np.arcsin(np.sqrt(0.3))) == pytest.approx(0.3)
    assert back_transform("RR", np.log(2.0)) == pytest.approx(2.0)
    assert back_transform("RD", -0.1) == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="sample sizes"):
        back_transform("PFT", 0.5)
