"""Binomial-normal GLMM against metafor's rma.glmm(measure="PLO") (lme4, nAGQ = 32).

Reference numbers: ``tests/evidence/r/metafor_glmm.out``, printed by
``tests/evidence/r/metafor_glmm.R`` (metafor 3.8-1, lme4 1.1-31; Debian packages). Both fits
integrate the random intercept by adaptive Gauss-Hermite quadrature with 32 nodes; the
remaining differences (~1e-5) are the optimisers' tolerances, so agreement is asserted to 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lupuscell.evidence.effects import escalc
from lupuscell.evidence.glmm import binomial_normal_glmm

OUT = Path(__file__).parent / "r" / "metafor_glmm.out"


def _reference() -> tuple[dict[str, list[int]], dict[str, dict[str, float]]]:
    data: dict[str, list[int]] = {}
    fits: dict[str, dict[str, float]] = {}
    for line in OUT.read_text().splitlines():
        if "|" in line:
            label, *pairs = line.split("|")
            fits[label] = {k: float(v) for k, v in (p.split("=", 1) for p in pairs)}
        elif "=" in line:
            key, values = line.split("=", 1)
            data[key] = [int(v) for v in values.split(",")]
    return data, fits


DATA, FITS = _reference()


@pytest.mark.parametrize("dataset", ["pritz", "msc"])
def test_glmm_matches_metafor_rma_glmm(dataset: str) -> None:
    xi, ni = DATA[f"{dataset}_xi"], DATA[f"{dataset}_ni"]
    es = escalc(
        "PLO", [{"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate(zip(xi, ni, strict=True))]
    )
    res = binomial_normal_glmm(es, nodes=32)
    ref = FITS[f"{dataset}_nAGQ32"]
    assert res.k == ref["k"]
    got = {"est": res.estimate, "se": res.se, "ci_lb": res.ci_low, "ci_ub": res.ci_high, "tau2": res.tau2}
    for key, value in got.items():
        assert value == pytest.approx(ref[key], abs=1e-4), f"{dataset} {key}: {value} vs metafor {ref[key]}"
