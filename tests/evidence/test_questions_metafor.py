"""The open-questions analyses (subgroups by therapy and cell source, dose meta-regression)
against metafor 3.8-1.

Reference numbers: ``tests/evidence/r/metafor_questions.out``, printed by
``tests/evidence/r/metafor_questions.R``. Each analysis first checks that lupuscell selects from
the curated version 2 exactly the rows the R script was given (one row per study, one study per
cohort group), then compares estimates, SEs, tau^2, I^2, Q, prediction intervals, the test for
subgroup differences (separate tau^2) and metafor's common-tau^2 moderator test, and the dose
meta-regression coefficients, to 1e-6 (REML to the exact optimum on both sides: threshold 1e-10).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lupuscell.evidence import questions, studies

OUT = Path(__file__).parent / "r" / "metafor_questions.out"
TOL = 1e-6


def _parse() -> tuple[dict[str, list[str]], dict[tuple[str, ...], dict[str, float]]]:
    data: dict[str, list[str]] = {}
    rows: dict[tuple[str, ...], dict[str, float]] = {}
    for line in OUT.read_text().splitlines():
        if "|" not in line:
            key, values = line.split("=", 1)
            data[key] = values.split(",")
            continue
        parts = line.split("|")
        head = tuple(p for p in parts if "=" not in p)
        rows[head] = {k: float(v) for k, v in (p.split("=", 1) for p in parts if "=" in p)}
    return data, rows


DATA, ROWS = _parse()


@pytest.fixture(scope="module")
def answers():
    return questions.answer_questions(studies.load_studies())


def _check_fit(fit, ref) -> None:
    assert fit.k == ref["k"]
    got = {"est": fit.estimate, "se": fit.se, "tau2": fit.tau2, "I2": fit.i2, "QE": fit.q}
    got |= {"pi_lb": fit.pred_low, "pi_ub": fit.pred_high}
    for key, value in got.items():
        assert value == pytest.approx(ref[key], abs=TOL), key


@pytest.mark.parametrize(
    ("question", "key"),
    [("remission_by_therapy", "remission"), ("trm_by_therapy", "trm"), ("msc_cell_source", "cellsource")],
)
def test_subgroup_analyses_match_metafor(answers, question: str, key: str) -> None:
    a = answers[question]
    records = a.selection.records()
    assert [str(r["events"]) for r in records] == DATA[f"{key}_xi"]
    assert [str(r["total"]) for r in records] == DATA[f"{key}_ni"]
    assert a.groups == DATA[f"{key}_group"]
    _check_fit(a.overall, ROWS[(key, "overall")])
    for group, fit in a.subgroups.groups.items():
        _check_fit(fit, ROWS[(key, "group", group)])
    between = ROWS[(key, "between")]
    assert a.subgroups.q_between == pytest.approx(between["QM"], abs=TOL)
    assert a.subgroups.df == between["df"]
    assert a.subgroups.p == pytest.approx(between["p"], rel=1e-3)
    common = ROWS[(key, "common")]
    assert a.common_tau2.qm == pytest.approx(common["QM"], abs=TOL)
    assert a.common_tau2.tau2 == pytest.approx(common["tau2"], abs=TOL)
    assert a.common_tau2.q == pytest.approx(common["QE"], abs=TOL)


@pytest.mark.parametrize("therapy", ["msc", "car_t"])
def test_dose_meta_regression_matches_metafor(answers, therapy: str) -> None:
    a = answers["dose"]
    key = f"dose_{therapy}"
    records = a.selections[therapy].records()
    assert [str(r["events"]) for r in records] == DATA[f"{key}_xi"]
    assert [str(r["total"]) for r in records] == DATA[f"{key}_ni"]
    assert [f"{d:g}" for d in a.doses[therapy]] == DATA[f"{key}_dose"]
    ref = ROWS[(key, "metareg")]
    fit = a.fits[therapy]
    intercept, slope = fit.coefficients
    got = {"b0": intercept.estimate, "b1": slope.estimate, "se1": slope.se, "ci1_lb": slope.ci_low}
    got |= {"ci1_ub": slope.ci_high, "tau2": fit.tau2, "QM": fit.qm, "QE": fit.q, "R2": fit.r2}
    for name, value in got.items():
        assert value == pytest.approx(ref[name], abs=TOL), name


def test_hsct_has_no_dose_per_kg(answers) -> None:
    assert "hsct" in answers["dose"].not_estimable


def test_a_cell_source_with_no_pooled_study_is_named_with_the_reason(answers) -> None:
    """Version 2's bone-marrow MSC reports all belong to the Nanjing cohort group, which is
    represented by an umbilical-cord study: the answer says plainly that bone marrow cannot be
    compared, naming the study left out and why."""
    answer = answers["msc_cell_source"]
    assert "Bone marrow" not in answer.groups
    plain = [c for c in answer.caveats if c.startswith("No 'bone marrow' subgroup could be pooled")]
    assert len(plain) == 1 and "Sun 2009: shares patients with bao2023" in plain[0]
    assert not any("'umbilical cord' subgroup" in c for c in answer.caveats)  # pooled, so not named
