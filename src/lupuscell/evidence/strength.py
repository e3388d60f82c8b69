"""One sentence on how much a pooled result can bear, from the features of its evidence.

Not a formal GRADE assessment (no risk-of-bias review, no imprecision thresholds per outcome):
a short, rule-based reading of the features GRADE names for downgrading observational and
small evidence (Guyatt et al. 2008; Balshem et al. 2011): how many studies and patients, whether
any was randomised, whether the numbers come from full papers or from abstracts, conference
abstracts and secondary sources, and how inconsistent the studies are. The rules are data
(:data:`LIMITS`); the sentence names each feature that limits the result, so a reader sees why.

References
----------
Guyatt GH, Oxman AD, Vist GE, et al. GRADE: an emerging consensus on rating quality of evidence
and strength of recommendations. BMJ 2008;336:924-926. doi:10.1136/bmj.39489.470347.AD.
Balshem H, Helfand M, Schünemann HJ, et al. GRADE guidelines: 3. Rating the quality of evidence.
J Clin Epidemiol 2011;64:401-406. doi:10.1016/j.jclinepi.2010.07.015.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Evidence levels that are not a full paper's results table or abstract of a full paper.
WEAK_LEVELS = ("conference_abstract", "secondary", "low_confidence")
#: Thresholds of the rules below.
LIMITS = {
    "few_studies": 5,  # fewer studies than this: "few studies"
    "small_total": 100,  # fewer patients in total: "few patients"
    "inconsistent_i2": 50.0,  # I^2 (%) above this: "inconsistent results"
}


@dataclass(frozen=True)
class EvidenceFeatures:
    """What the sentence is built from (one entry per pooled study for the lists)."""

    k: int
    n: int
    randomised: int
    levels: Sequence[str]
    i2: float | None = None


def limitations(f: EvidenceFeatures) -> list[str]:
    """The features that limit the evidence, in plain words."""
    out = []
    if f.k < LIMITS["few_studies"]:
        out.append(f"only {f.k} {'study' if f.k == 1 else 'studies'}")
    if f.n < LIMITS["small_total"]:
        out.append(f"{f.n} patients in all")
    if f.randomised == 0:
        out.append("no randomised comparison (single-arm series)")
    abstract = sum(1 for lv in f.levels if lv != "table")
    if abstract:
        out.append(f"{abstract} of {f.k} read from abstracts or secondary sources, not full results tables")
    weak = sum(1 for lv in f.levels if lv in WEAK_LEVELS)
    if weak:
        out.append(f"{weak} from conference abstracts, reviews or unverified copies")
    if f.i2 is not None and f.i2 > LIMITS["inconsistent_i2"]:
        out.append(f"inconsistent results (I² = {f.i2:.0f}%)")
    return out


def strength_sentence(f: EvidenceFeatures) -> str:
    """``The evidence is very limited: ...`` (or limited, or moderate), naming each limitation."""
    if f.k == 0:
        return "No study in the curated evidence answers this question."
    lims = limitations(f)
    grade = "very limited" if len(lims) >= 3 else ("limited" if lims else "moderate")
    because = f": {'; '.join(lims)}" if lims else ""
    advice = (
        " Read the pooled numbers as a description of published series, not as the effect of the therapy."
        if f.randomised == 0
        else ""
    )
    return f"The evidence is {grade}{because}.{advice}"
