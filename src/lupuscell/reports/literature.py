"""The programme beside the published literature (issue 5, item 6, fed by the outcomes engine).

For each therapy with published treatment-related mortality counts, the centre's 1-year
cumulative incidence of non-relapse mortality (Aalen-Johansen, relapse competing) is placed
against the random-effects pooled proportion of the curated studies and its 95% prediction
interval (:mod:`lupuscell.evidence.benchmark`). Published TRM is a crude proportion over each
study's own follow-up, not a 1-year cumulative incidence: the report says so beside the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lupuscell.analysis.competing import CIFResult
from lupuscell.errors import LupuscellError
from lupuscell.evidence import benchmark, studies
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.local import local_evidence_path
from lupuscell.evidence.meta import rma
from lupuscell.reports.plots import THERAPY_LABELS

#: Registry therapy code -> therapy code of the curated evidence dataset.
EVIDENCE_THERAPY = {"autologous_hsct": "hsct", "msc": "msc", "car_t": "car_t"}
LITERATURE_OUTCOME = "treatment_related_mortality"
CAVEAT = (
    "Published treatment-related mortality is a crude proportion over each study's own follow-up; "
    "the centre's value is the 1-year cumulative incidence of non-relapse mortality."
)


def compare_with_literature(
    cif_by_therapy: Mapping[str, CIFResult],
    *,
    landmark_day: float = 365.0,
    min_studies: int = 2,
    evidence: pd.DataFrame | None = None,
) -> tuple[list[dict[str, Any]], list[benchmark.Comparison]]:
    """Comparisons (JSON-ready, with the sentence) and the comparison objects to plot
    (:func:`lupuscell.evidence.benchmark.comparison_plot`), one per therapy with at least
    ``min_studies`` published studies with counts; therapies without are listed with the reason.

    ``evidence`` is the studies table to pool; by default the shipped studies and the user's
    local evidence file (``lupuscell evidence add``), as every other evidence command and the
    web app's evidence page pool them, so the report never disagrees with them."""
    out: list[dict[str, Any]] = []
    comparisons: list[benchmark.Comparison] = []
    table = studies.load_studies(local=local_evidence_path()) if evidence is None else evidence
    for therapy, cif in cif_by_therapy.items():
        ev_therapy = EVIDENCE_THERAPY.get(therapy)
        if ev_therapy is None:
            continue
        sel = studies.select_for_pooling(table, LITERATURE_OUTCOME, ev_therapy)
        if len(sel.rows) < min_studies:
            out.append(
                {
                    "therapy": therapy,
                    "outcome": LITERATURE_OUTCOME,
                    "k": len(sel.rows),
                    "sentence": f"Fewer than {min_studies} published studies report treatment-related "
                    f"mortality counts for {ev_therapy}; no comparison.",
                }
            )
            continue
        lm = cif.landmarks
        row = lm[(lm["time"] == landmark_day) & (lm["cause"] == "non-relapse mortality")]
        if row.empty:
            raise LupuscellError(f"no day-{landmark_day:g} non-relapse mortality landmark for {therapy}")
        r = row.iloc[0]
        if pd.isna(r["cif"]):  # the centre's follow-up ends before the landmark: not estimable
            out.append(
                {
                    "therapy": therapy,
                    "outcome": LITERATURE_OUTCOME,
                    "k": len(sel.rows),
                    "sentence": f"Follow-up of {therapy} patients ends before day {landmark_day:g}; "
                    "the 1-year non-relapse mortality is not estimable, no comparison.",
                }
            )
            continue
        fit = rma(escalc("PLO", sel.records()), "REML", "z")
        centre = benchmark.CentreResult(
            label="This programme",
            estimate=float(r["cif"]),
            ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]),
        )
        name = THERAPY_LABELS.get(therapy, therapy)
        cmp = benchmark.compare(centre, fit, f"1-year non-relapse mortality after {name}")
        rec = cmp.to_dict() | {"therapy": therapy, "studies": list(sel.rows["study_id"]), "caveat": CAVEAT}
        out.append(rec)
        comparisons.append(cmp)
    return out, comparisons
