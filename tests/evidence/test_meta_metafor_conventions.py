"""Mantel-Haenszel drop00, the change and rate measures, and Zhou 2020's MD against metafor.

Reference numbers: ``tests/evidence/r/metafor_conventions.out``, printed by
``tests/evidence/r/metafor_conventions.R`` with metafor 3.8-1 (Debian r-cran-metafor, R 4.2.2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import double_zero, rma, rma_mh

OUT = Path(__file__).parent / "r" / "metafor_conventions.out"
TOL = 1e-8


def _parse() -> tuple[dict[str, list[float]], dict[tuple[str, ...], dict[str, str]]]:
    data: dict[str, list[float]] = {}
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for line in OUT.read_text().splitlines():
        if "|" not in line:
            key, values = line.split("=", 1)
            data[key] = [float(v) for v in values.split(",")]
            continue
        parts = line.split("|")
        head = tuple(p for p in parts if "=" not in p)
        rows[head] = dict(p.split("=", 1) for p in parts if "=" in p)
    return data, rows


DATA, ROWS = _parse()


def _mh_studies() -> list[dict[str, object]]:
    cells = zip(DATA["mh_ai"], DATA["mh_bi"], DATA["mh_ci"], DATA["mh_di"], strict=True)
    return [{"id": f"s{i + 1}", "ai": a, "bi": b, "ci": c, "di": d} for i, (a, b, c, d) in enumerate(cells)]


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
@pytest.mark.parametrize("drop00", [True, False])
def test_mantel_haenszel_drop00_matches_metafor(measure: str, drop00: bool) -> None:
    ref = ROWS[("mh", measure, str(drop00).upper())]
    fit = rma_mh(escalc(measure, _mh_studies()), drop00=drop00)
    assert fit.k == int(ref["k"])
    assert fit.q_df == int(ref["kyi"]) - 1
    for got, key in ((fit.estimate, "est"), (fit.se, "se"), (fit.q, "QE"), (fit.i2, "I2"), (fit.h2, "H2")):
        assert got == pytest.approx(float(ref[key]), abs=TOL), key
    assert fit.q_p == pytest.approx(float(ref["QEp"]), rel=1e-8)
    assert any("double-zero" in n for n in fit.notes) is drop00


def test_double_zero_detects_no_events_and_all_events() -> None:
    es = escalc(
        "OR",
        [
            {"ai": 0, "bi": 5, "ci": 0, "di": 5},
            {"ai": 5, "bi": 0, "ci": 4, "di": 0},
            {"ai": 1, "bi": 4, "ci": 0, "di": 5},
        ],
    )
    assert double_zero(es).tolist() == [True, True, False]


def test_change_and_rate_measures_match_metafor() -> None:
    mc = escalc("MC", [{"m1i": 3.2, "m2i": 12.2, "sd1i": 3.3, "sd2i": 2.8, "ni": 12, "ri": 0.5}])
    assert mc.yi[0] == pytest.approx(float(ROWS[("es", "MC")]["yi"]), abs=TOL)
    assert mc.vi[0] == pytest.approx(float(ROWS[("es", "MC")]["vi"]), abs=TOL)
    smcr = escalc("SMCR", [{"m1i": 3.2, "m2i": 12.2, "sd1i": 3.3, "sd2i": 2.8, "ni": 12, "ri": 0.5}])
    assert smcr.yi[0] == pytest.approx(float(ROWS[("es", "SMCR")]["yi"]), abs=TOL)
    assert smcr.vi[0] == pytest.approx(float(ROWS[("es", "SMCR")]["vi"]), abs=TOL)
    rates = [{"xi": x, "ti": t} for x, t in ((0, 10), (2, 20), (13, 405))]
    for measure in ("IRLN", "IR"):
        es = escalc(measure, rates)
        ref = ROWS[("es", measure)]
        np.testing.assert_allclose(es.yi, [float(v) for v in ref["yi"].split(",")], rtol=1e-9)
        np.testing.assert_allclose(es.vi, [float(v) for v in ref["vi"].split(",")], rtol=1e-9)


def test_zhou_2020_creatinine_single_trial_md_and_smd_match_metafor() -> None:
    deng = [{"id": "deng2017", "m1i": 63, "sd1i": 18, "n1i": 12, "m2i": 59, "sd2i": 9, "n2i": 6}]
    for measure, key in (("MD", "zhou_md"), ("SMD", "zhou_smd")):
        fit = rma(escalc(measure, deng), "EE")
        ref = ROWS[(key,)]
        assert fit.estimate == pytest.approx(float(ref["est"]), abs=TOL)
        assert fit.ci_low == pytest.approx(float(ref["ci_lb"]), abs=TOL)
        assert fit.ci_high == pytest.approx(float(ref["ci_ub"]), abs=TOL)
