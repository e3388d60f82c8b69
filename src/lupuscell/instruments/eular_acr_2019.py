"""2019 EULAR/ACR classification criteria for SLE.

Source
------
Aringer M, Costenbader K, Daikh D, et al. 2019 European League Against Rheumatism/American
College of Rheumatology classification criteria for systemic lupus erythematosus. Ann Rheum
Dis 2019;78(9):1151-1159, doi:10.1136/annrheumdis-2018-214819 (also Arthritis Rheumatol
2019;71(9):1400-1412). Final weights only; the provisional MCDA weights are a different scale.

Rules implemented
-----------------
1. Entry criterion: ANA >= 1:80 on HEp-2 cells (or equivalent) at least once. Not met ->
   ``entry_criterion_met=false``, ``total_score=null``, ``classified_sle=false``; not recorded
   (``ana_ge_1_80_ever`` null) -> the additive score is still shown, classification is null.
2. ``criteria`` is a checklist (absent means false); criteria are lifetime ("ever") findings
   and count only when nothing explains them better than SLE (clinician-adjudicated).
3. Within each domain only the highest weight counts (so mixed class IV+V nephritis -> 10).
4. Complement is derived from ``low_c3``/``low_c4``: one low -> 3, both -> 4.
5. Classified when total >= 10 AND at least one clinical criterion.

These are classification criteria, not diagnostic criteria.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, StrictBool

from lupuscell.instruments.base import (
    InstrumentResult,
    InstrumentSpec,
    Item,
    StrictInput,
    validate_input,
)

VERSION = "eular_acr_2019"
SOURCE = "Aringer M et al. Ann Rheum Dis 2019;78(9):1151-1159, doi:10.1136/annrheumdis-2018-214819"
CLASSIFICATION_THRESHOLD = 10

#: domain -> ((criterion, weight), ...); complement_proteins is derived from low_c3/low_c4.
DOMAINS: Mapping[str, tuple[tuple[str, int], ...]] = MappingProxyType(
    {
        "constitutional": (("fever", 2),),
        "hematologic": (("leukopenia", 3), ("thrombocytopenia", 4), ("autoimmune_hemolysis", 4)),
        "neuropsychiatric": (("delirium", 2), ("psychosis", 3), ("seizure", 5)),
        "mucocutaneous": (
            ("non_scarring_alopecia", 2),
            ("oral_ulcers", 2),
            ("subacute_cutaneous_or_discoid_lupus", 4),
            ("acute_cutaneous_lupus", 6),
        ),
        "serosal": (("pleural_or_pericardial_effusion", 5), ("acute_pericarditis", 6)),
        "musculoskeletal": (("joint_involvement", 6),),
        "renal": (
            ("proteinuria_gt_0_5_g_24h", 4),
            ("renal_biopsy_class_ii_or_v", 8),
            ("renal_biopsy_class_iii_or_iv", 10),
        ),
        "antiphospholipid_antibodies": (("antiphospholipid_antibodies", 2),),
        "complement_proteins": (("low_c3_or_low_c4", 3), ("low_c3_and_low_c4", 4)),
        "sle_specific_antibodies": (("anti_dsdna", 6), ("anti_smith", 6)),
    }
)
CLINICAL_DOMAINS: tuple[str, ...] = (
    "constitutional",
    "hematologic",
    "neuropsychiatric",
    "mucocutaneous",
    "serosal",
    "musculoskeletal",
    "renal",
)
IMMUNOLOGY_DOMAINS: tuple[str, ...] = (
    "antiphospholipid_antibodies",
    "complement_proteins",
    "sle_specific_antibodies",
)

Criterion = Literal[
    "fever",
    "leukopenia",
    "thrombocytopenia",
    "autoimmune_hemolysis",
    "delirium",
    "psychosis",
    "seizure",
    "non_scarring_alopecia",
    "oral_ulcers",
    "subacute_cutaneous_or_discoid_lupus",
    "acute_cutaneous_lupus",
    "pleural_or_pericardial_effusion",
    "acute_pericarditis",
    "joint_involvement",
    "proteinuria_gt_0_5_g_24h",
    "renal_biopsy_class_ii_or_v",
    "renal_biopsy_class_iii_or_iv",
    "antiphospholipid_antibodies",
    "low_c3",
    "low_c4",
    "anti_dsdna",
    "anti_smith",
]


class EularAcrInput(StrictInput):
    """Input of ``eular_acr_2019_sle`` (docs/instruments/eular_acr_2019_sle.md)."""

    ana_ge_1_80_ever: StrictBool | None = Field(
        default=None, description="Entry criterion: ANA >= 1:80 on HEp-2 cells (or equivalent) ever."
    )
    criteria: dict[Criterion, StrictBool] = Field(
        default_factory=dict, description="Checklist of criteria ever present (absent means false)."
    )
    evidence: dict[Criterion, str] = Field(
        default_factory=dict,
        description="Optional date/source of each criterion (e.g. '2021-03-04 biopsy'), echoed in items.",
    )


def _ticked(data: EularAcrInput) -> set[str]:
    ticked: set[str] = {k for k, v in data.criteria.items() if v}
    low = {"low_c3", "low_c4"} & ticked
    ticked -= {"low_c3", "low_c4"}
    if len(low) == 2:
        ticked.add("low_c3_and_low_c4")
    elif low:
        ticked.add("low_c3_or_low_c4")
    return ticked


@dataclass(frozen=True, kw_only=True)
class EularAcrResult(InstrumentResult):
    """Result of ``eular_acr_2019_sle``: the additive score (null when the ANA entry criterion is
    not met), its clinical and immunologic parts, the per-domain maxima and the classification."""

    entry_criterion_met: bool | None = None
    total_score: int | None = None
    clinical_score: int = 0
    immunologic_score: int = 0
    has_clinical_criterion: bool = False
    classified_sle: bool | None = None
    domain_scores: Mapping[str, int] = field(default_factory=dict)
    note: str = "classification criteria, not diagnostic criteria"


def _domain_items(data: EularAcrInput, ticked: set[str]) -> tuple[dict[str, int], list[Item]]:
    """Per-domain maximum weight and one item per ticked criterion (counted or not, and why)."""
    evidence: dict[str, str] = {str(k): v for k, v in data.evidence.items()}
    domain_scores: dict[str, int] = {}
    items: list[Item] = []
    for domain, criteria in DOMAINS.items():
        present = [(name, w) for name, w in criteria if name in ticked]
        best = max((w for _, w in present), default=0)
        domain_scores[domain] = best
        counted = False
        for name, weight in sorted(present, key=lambda p: -p[1]):
            sources = ("low_c3", "low_c4") if domain == "complement_proteins" else (name,)
            note = "; ".join(evidence[k] for k in sources if k in evidence)
            suffix = f" [{note}]" if note else ""
            if weight == best and not counted:
                counted = True
                items.append(Item(name, weight, f"{domain}: highest weight in domain{suffix}"))
            else:
                items.append(
                    Item(name, 0, f"{domain}: not counted, a higher-weighted criterion counts{suffix}")
                )
    return domain_scores, items


def score_eular_acr_2019(inp: EularAcrInput | Mapping[str, Any]) -> EularAcrResult:
    """Classify SLE by the 2019 EULAR/ACR criteria (entry criterion, domain maxima, >= 10 + clinical).

    References
    ----------
    Aringer M et al. Ann Rheum Dis 2019;78(9):1151-1159, doi:10.1136/annrheumdis-2018-214819.
    """
    data = validate_input(EularAcrInput, inp)
    domain_scores, items = _domain_items(data, _ticked(data))
    clinical = sum(domain_scores[d] for d in CLINICAL_DOMAINS)
    immunologic = sum(domain_scores[d] for d in IMMUNOLOGY_DOMAINS)
    total = clinical + immunologic
    has_clinical = clinical > 0
    meets = total >= CLASSIFICATION_THRESHOLD and has_clinical
    entry = data.ana_ge_1_80_ever
    if entry is False:
        items.insert(
            0, Item("ana_ge_1_80_ever", None, "entry criterion not met: additive criteria not applied")
        )
    return EularAcrResult(
        instrument="eular_acr_2019_sle",
        version=VERSION,
        items=tuple(items),
        complete=entry is not None,
        missing=() if entry is not None else ("ana_ge_1_80_ever",),
        entry_criterion_met=entry,
        total_score=None if entry is False else total,
        clinical_score=clinical,
        immunologic_score=immunologic,
        has_clinical_criterion=has_clinical,
        classified_sle=False if entry is False else (meets if entry else (False if not meets else None)),
        domain_scores=domain_scores,
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="eular_acr_2019_sle",
        input_model=EularAcrInput,
        scorer=score_eular_acr_2019,
        version=VERSION,
        source=SOURCE,
        summary="2019 EULAR/ACR SLE classification (ANA entry, 10 domains, >=10 points + clinical)",
        result_type=EularAcrResult,
    ),
)
