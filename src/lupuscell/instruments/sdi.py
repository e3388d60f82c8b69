"""SLICC/ACR Damage Index (SDI) with the 6-month rule.

Source
------
Gladman D, Ginzler E, Goldsmith C, et al. The development and initial validation of the
Systemic Lupus International Collaborating Clinics/American College of Rheumatology damage
index for systemic lupus erythematosus. Arthritis Rheum 1996;39(3):363-369. Item list as
reproduced by PhenX (protocol 171001) and the HHE 2019 table; maximum 47.

Conventions
-----------
* ``items`` is a checklist (absent means false/0). Count items (``*_count``, ``*_sites``) score
  ``min(count, 2)``: 2 when more than one event or site. Repeat *episodes* (CVA, MI, AVN)
  must be >= 6 months apart to score 2 (Gladman 1996); the count is clinician-entered and must
  include only episodes that far apart (the platform holds no episode dates to check it).
* 6-month rule: items worded "ever" (:data:`EVER_ITEMS`) score when they happen;
  all other items, including those carrying their own 6-month duration, need >= 6 months'
  persistence. When ``months_present[item]`` is given and < 6, the item does not score;
  when it is not given the tick is taken as the clinician's attestation that the rule is met
  (as on the paper form). ``months_present`` for an "ever" item is recorded but not used.
* End-stage renal disease scores 3 and replaces GFR < 50% and proteinuria >= 3.5 g/24 h.
* Domain maxima are applied; SDI never decreases: pass ``previous_sdi_total`` to get a
  warning when the new total is lower.
* Tendon rupture is kept (needed for the maximum of 47); diabetes counts "regardless of
  treatment"; proteinuria is ">= 3.5 g/24 h" (docs/instruments/slicc_acr_sdi.md says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt

from lupuscell.instruments.base import (
    InstrumentResult,
    InstrumentSpec,
    Item,
    StrictInput,
    validate_input,
)

VERSION = "slicc_acr_sdi_1996"
SOURCE = "Gladman D et al. Arthritis Rheum 1996;39(3):363-369"
PERSISTENCE_MONTHS = 6

#: domain -> (maximum, items). Count items are those ending in _count or _sites.
DOMAINS: Mapping[str, tuple[int, tuple[str, ...]]] = MappingProxyType(
    {
        "ocular": (2, ("cataract", "retinal_change_or_optic_atrophy")),
        "neuropsychiatric": (
            6,
            (
                "cognitive_impairment_or_major_psychosis",
                "seizures_requiring_therapy_6_months",
                "cerebrovascular_accident_count",
                "cranial_or_peripheral_neuropathy",
                "transverse_myelitis",
            ),
        ),
        "renal": (3, ("gfr_below_50_percent", "proteinuria_ge_3_5_g_24h", "end_stage_renal_disease")),
        "pulmonary": (
            5,
            (
                "pulmonary_hypertension",
                "pulmonary_fibrosis",
                "shrinking_lung",
                "pleural_fibrosis",
                "pulmonary_infarction",
            ),
        ),
        "cardiovascular": (
            6,
            (
                "angina_or_coronary_artery_bypass",
                "myocardial_infarction_count",
                "cardiomyopathy",
                "valvular_disease",
                "pericarditis_6_months_or_pericardiectomy",
            ),
        ),
        "peripheral_vascular": (
            5,
            (
                "claudication_6_months",
                "minor_tissue_loss",
                "significant_tissue_loss_sites",
                "venous_thrombosis_with_swelling_ulceration_or_stasis",
            ),
        ),
        "gastrointestinal": (
            6,
            (
                "gi_infarction_or_resection_sites",
                "mesenteric_insufficiency",
                "chronic_peritonitis",
                "stricture_or_upper_gi_surgery",
                "pancreatic_insufficiency",
            ),
        ),
        "musculoskeletal": (
            7,
            (
                "muscle_atrophy_or_weakness",
                "deforming_or_erosive_arthritis",
                "osteoporosis_with_fracture_or_vertebral_collapse",
                "avascular_necrosis_count",
                "osteomyelitis",
                "tendon_rupture",
            ),
        ),
        "skin": (
            3,
            ("scarring_chronic_alopecia", "extensive_scarring_or_panniculum", "skin_ulceration_6_months"),
        ),
        "premature_gonadal_failure": (1, ("premature_gonadal_failure",)),
        "diabetes": (1, ("diabetes",)),
        "malignancy": (2, ("malignancy_sites",)),
    }
)
ITEMS: tuple[str, ...] = tuple(item for _, items in DOMAINS.values() for item in items)
COUNT_ITEMS: tuple[str, ...] = tuple(i for i in ITEMS if i.endswith(("_count", "_sites")))
EVER_ITEMS: tuple[str, ...] = (
    "cataract",
    "cerebrovascular_accident_count",
    "myocardial_infarction_count",
    "significant_tissue_loss_sites",
    "gi_infarction_or_resection_sites",
    "stricture_or_upper_gi_surgery",
)
ESRD_POINTS = 3
ESRD_REPLACES: tuple[str, ...] = ("gfr_below_50_percent", "proteinuria_ge_3_5_g_24h")
MAXIMUM = sum(m for m, _ in DOMAINS.values())  # 47

SdiItem = Literal[
    "cataract",
    "retinal_change_or_optic_atrophy",
    "cognitive_impairment_or_major_psychosis",
    "seizures_requiring_therapy_6_months",
    "cerebrovascular_accident_count",
    "cranial_or_peripheral_neuropathy",
    "transverse_myelitis",
    "gfr_below_50_percent",
    "proteinuria_ge_3_5_g_24h",
    "end_stage_renal_disease",
    "pulmonary_hypertension",
    "pulmonary_fibrosis",
    "shrinking_lung",
    "pleural_fibrosis",
    "pulmonary_infarction",
    "angina_or_coronary_artery_bypass",
    "myocardial_infarction_count",
    "cardiomyopathy",
    "valvular_disease",
    "pericarditis_6_months_or_pericardiectomy",
    "claudication_6_months",
    "minor_tissue_loss",
    "significant_tissue_loss_sites",
    "venous_thrombosis_with_swelling_ulceration_or_stasis",
    "gi_infarction_or_resection_sites",
    "mesenteric_insufficiency",
    "chronic_peritonitis",
    "stricture_or_upper_gi_surgery",
    "pancreatic_insufficiency",
    "muscle_atrophy_or_weakness",
    "deforming_or_erosive_arthritis",
    "osteoporosis_with_fracture_or_vertebral_collapse",
    "avascular_necrosis_count",
    "osteomyelitis",
    "tendon_rupture",
    "scarring_chronic_alopecia",
    "extensive_scarring_or_panniculum",
    "skin_ulceration_6_months",
    "premature_gonadal_failure",
    "diabetes",
    "malignancy_sites",
]


class SdiInput(StrictInput):
    """Input of ``slicc_acr_sdi`` (docs/instruments/slicc_acr_sdi.md)."""

    items: dict[SdiItem, StrictBool | Annotated[StrictInt, Field(ge=0, le=50)]] = Field(
        default_factory=dict,
        description="Damage items (absent means false/0); booleans, or counts for *_count/*_sites items.",
    )
    months_present: dict[SdiItem, Annotated[float, Field(ge=0, le=1200)]] = Field(
        default_factory=dict, description="Months each item has been present (6-month rule)."
    )
    previous_sdi_total: Annotated[StrictInt, Field(ge=0, le=47)] | None = Field(
        default=None, description="Previous SDI total: a lower new total is flagged (SDI never decreases)."
    )


def _points(item: str, value: bool | int) -> int:
    if item in COUNT_ITEMS:
        return min(int(value), 2)
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1):
        return value
    from lupuscell.errors import ValidationError

    raise ValidationError.single("input", f"items.{item}", "boolean item: allowed values true/false (or 0/1)")


@dataclass(frozen=True, kw_only=True)
class SdiResult(InstrumentResult):
    """Result of ``slicc_acr_sdi``: the total (0-47), the per-domain scores after the domain
    maxima, and warnings (a total lower than the previous one)."""

    sdi_total: int = 0
    domain_scores: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _item(name: str, given: Mapping[str, bool | int], months: Mapping[str, float], esrd: bool) -> Item | None:
    """The scored item for ``name`` (None when absent), with the 6-month and ESRD rules applied."""
    points = _points(name, given.get(name, 0))
    if points == 0:
        return None
    if name not in EVER_ITEMS and name in months and months[name] < PERSISTENCE_MONTHS:
        return Item(name, 0, f"present {months[name]:g} months: needs >= 6 months")
    if name == "end_stage_renal_disease":
        return Item(name, ESRD_POINTS, "end-stage renal disease (replaces GFR<50% and proteinuria items)")
    if esrd and name in ESRD_REPLACES:
        return Item(name, 0, "replaced by end-stage renal disease")
    if name in COUNT_ITEMS:
        return Item(name, points, f"{given[name]} event(s)/site(s): {'2 (more than one)' if points == 2 else '1'}")
    return Item(name, points, "ever" if name in EVER_ITEMS else "present >= 6 months (or attested)")


def score_sdi(inp: SdiInput | Mapping[str, Any]) -> SdiResult:
    """Score the SLICC/ACR Damage Index (0-47) with domain maxima, ESRD rule and 6-month rule.

    References
    ----------
    Gladman D et al. Arthritis Rheum 1996;39(3):363-369.
    """
    data = validate_input(SdiInput, inp)
    given: dict[str, bool | int] = dict(data.items)  # type: ignore[arg-type]
    months: dict[str, float] = dict(data.months_present)  # type: ignore[arg-type]
    esrd = (
        bool(given.get("end_stage_renal_disease"))
        and months.get("end_stage_renal_disease", PERSISTENCE_MONTHS) >= PERSISTENCE_MONTHS
    )
    items: list[Item] = []
    domain_scores: dict[str, int] = {}
    for domain, (maximum, names) in DOMAINS.items():
        scored = [item for item in (_item(name, given, months, esrd) for name in names) if item is not None]
        raw = sum(int(item.points or 0) for item in scored)
        items += scored
        domain_scores[domain] = min(raw, maximum)
        if raw > maximum:
            items.append(Item(domain, maximum - raw, f"domain maximum {maximum} applied"))
    total = sum(domain_scores.values())
    warnings: list[str] = []
    if data.previous_sdi_total is not None and total < data.previous_sdi_total:
        warnings.append(
            f"SDI total {total} is lower than the previous {data.previous_sdi_total}: damage is cumulative; "
            "check for an unrecorded item"
        )
    return SdiResult(
        instrument="slicc_acr_sdi",
        version=VERSION,
        items=tuple(items),
        sdi_total=total,
        domain_scores=domain_scores,
        warnings=tuple(warnings),
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="slicc_acr_sdi",
        input_model=SdiInput,
        scorer=score_sdi,
        version=VERSION,
        source=SOURCE,
        summary="SLICC/ACR Damage Index (41 items, 12 domains, 0-47) with the 6-month rule",
        result_type=SdiResult,
    ),
)
