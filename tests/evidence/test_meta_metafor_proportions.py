"""Proportion meta-analyses against metafor itself (acceptance of issue 5).

Reference numbers: ``tests/evidence/r/metafor_proportions.out``, printed by
``tests/evidence/r/metafor_proportions.R`` with metafor 3.8-1 (Debian r-cran-metafor, R 4.2.2).
Data: the published meta-analysis of proportions of Pritz (1997), shipped with metafor as
``dat.pritz1997`` (14 studies), under every proportion measure (PR, PLO, PAS, PFT) and every
tau^2 estimator (REML, DL, ML, PM, HE, SJ), Wald and Knapp-Hartung tests; and the MSC remission
rows of the curated SLE dataset. Estimate, SE, CI, prediction interval, tau^2, I^2, H^2 and Q
must agree to 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import rma

OUT = Path(__file__).parent / "r" / "metafor_proportions.out"
TOL = 1e-4


def _reference() -> tuple[dict[str, list[int]], dict[str, dict[str, float]]]:
    data: dict[str, list[int]] = {}
    fits: dict[str, dict[str, float]] = {}
    for line in OUT.read_text().splitlines():
        if "=" in line and "|" not in line:
            key, values = line.split("=", 1)
            data[key] = [int(v) for v in values.split(",")]
        elif "|" in line:
            label, *pairs = line.split("|")
            fits[label] = {k: float(v) for k, v in (p.split("=", 1) for p in pairs)}
    return data, fits


DATA, FITS = _reference()
MSC = {"xi": [4, 23, 9, 2], "ni": [4, 83, 12, 3]}


def _studies(label: str) -> list[dict[str, object]]:
    if label.startswith("pritz"):
        xi, ni = DATA["pritz_xi"], DATA["pritz_ni"]
    else:
        xi, ni = MSC["xi"], MSC["ni"]
    return [{"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate(zip(xi, ni, strict=True))]


def test_reference_file_is_complete() -> None:
    assert len(DATA["pritz_xi"]) == 14
    assert len(FITS) == 4 * 7 + 2


@pytest.mark.parametrize("label", sorted(FITS))
def test_matches_metafor(label: str) -> None:
    _, measure, method, test = label.split("_")
    ref = FITS[label]
    res = rma(escalc(measure, _studies(label)), method, test)
    assert res.k == ref["k"]
    got = {
        "est": res.estimate,
        "se": res.se,
        "ci_lb": res.ci_low,
        "ci_ub": res.ci_high,
        "pi_lb": res.pred_low,
        "pi_ub": res.pred_high,
        "tau2": res.tau2,
        "I2": res.i2,
        "H2": res.h2,
        "QE": res.q,
    }
    for key, value in got.items():
        assert value == pytest.approx(ref[key], abs=TOL), f"{label} {key}: {value} vs metafor {ref[key]}"
    assert res.q_p == pytest.approx(ref["QEp"], rel=1e-4)
