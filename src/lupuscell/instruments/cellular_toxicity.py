"""ASTCT consensus grading of CRS, the ICE score and ICANS (Lee et al. 2019).

Source
------
Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758 (tables as reproduced in
PMC9327779 and PMC8021214; conventions in docs/instruments/astct_crs.md and astct_icans.md).

CRS conventions
---------------
* Fever is ``max_temperature_c >= 38.0``. Once antipyretic or anti-cytokine therapy was given
  after CRS onset (``received_antipyretic_or_anticytokine_after_crs_onset``), fever is no
  longer required and the grade follows hypotension and hypoxia. Without fever and without
  that treatment the ASTCT definition is not met: grade 0 ("investigate other causes").
* Grade = the more severe of hypotension and hypoxia (fever alone is grade 1).
* Hypotension: not needing vasopressors 2; one vasopressor (with or without vasopressin) 3;
  two or more vasopressors excluding vasopressin 4. Vasopressors imply hypotension.
  Vasopressin alone is one vasopressor (grade 3) unless
  ``vasopressin_alone_counts_as_vasopressor=false`` (then grade 2) - open convention.
* Hypoxia: blow-by or nasal cannula <= 6 L/min 2; nasal cannula > 6 L/min (high flow),
  facemask, non-rebreather or Venturi 3; CPAP, BiPAP or mechanical ventilation 4. Nasal
  cannula without a flow is unknown (grade 2 or 3) and reported as a range.
* Masked fever with neither hypotension nor hypoxia is an open convention
  (``masked_fever_rule``): ``grade_1_if_clinically_active`` (default; grade 1 when
  ``crs_clinically_active``, else 0 with ``crs_status="resolved"``) or ``grade_0``.
* A missing temperature or nasal-cannula flow is unknown: ``crs_grade`` is given only if the
  grade is the same whatever the missing value, otherwise null with ``crs_grade_min`` /
  ``crs_grade_max``; ``missing`` lists the measurements the grade depends on.
* Organ toxicities are graded by CTCAE and never change the CRS grade.
* ASTCT does not define hypotension numerically: ``systolic_bp_mmhg`` is recorded (echoed in
  the output) for the audit trail but never used to grade.

ICANS conventions
-----------------
* ICE 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3; unarousable and unable to perform ICE -> 4.
* ICANS grade = most severe of ICE, level of consciousness, seizure, motor and raised ICP.
* ``ice_components`` missing a component (or no ICE at all) is unknown: the grade is given only
  if it is determined by the other domains, with ``icans_grade_min``/``icans_grade_max``.
* Adults and children >= 12 years; CAPD for younger children is out of scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import ValidationInfo, field_validator

from lupuscell.instruments._ranges import Range, TypedInput
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input

VERSION = "astct_2019"
GRADING_SYSTEM = "ASTCT_2019"
SOURCE = "Lee DW et al. Biol Blood Marrow Transplant 2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758"
FEVER_C = 38.0
LOW_FLOW_MAX_L_MIN = 6.0

OxygenDelivery = Literal[
    "none",
    "blow_by",
    "nasal_cannula",
    "high_flow_nasal_cannula",
    "facemask",
    "non_rebreather_mask",
    "venturi_mask",
    "cpap",
    "bipap",
    "mechanical_ventilation",
]
#: Hypoxia grade by device; ``None`` = depends on flow (nasal cannulae).
OXYGEN_GRADE: dict[OxygenDelivery, int | None] = {
    "none": 0,
    "blow_by": 2,
    "nasal_cannula": None,
    "high_flow_nasal_cannula": None,
    "facemask": 3,
    "non_rebreather_mask": 3,
    "venturi_mask": 3,
    "cpap": 4,
    "bipap": 4,
    "mechanical_ventilation": 4,
}


MaskedFeverRule = Literal["grade_1_if_clinically_active", "grade_0"]
CrsStatus = Literal["active", "resolved", "criteria_not_met", "unknown"]
FeverRequirement = Literal["met", "waived_after_treatment", "not_met", "unknown"]


class CrsInput(TypedInput):
    """Input of ``astct_crs``: absent booleans false, counts 0, oxygen none."""

    max_temperature_c: Annotated[float | None, Range(25, 45, "°C")] = None
    """Maximum temperature; fever is >= 38.0 °C. Absent means unknown."""
    received_antipyretic_or_anticytokine_after_crs_onset: bool = False
    hypotension: bool = False
    vasopressors_excluding_vasopressin: Annotated[int, Range(0, 10, "vasopressors")] = 0
    vasopressin: bool = False
    oxygen_delivery: OxygenDelivery = "none"
    oxygen_flow_l_min: Annotated[float | None, Range(0, 80, "L/min")] = None
    """Oxygen flow; nasal cannula <= 6 L/min is low flow (grade 2), > 6 high flow (grade 3)."""
    systolic_bp_mmhg: Annotated[float | None, Range(30, 250, "mmHg")] = None
    """Recorded for the audit trail; ASTCT does not define hypotension numerically."""
    crs_clinically_active: bool = False
    """CRS still clinically active (masked-fever convention)."""
    masked_fever_rule: MaskedFeverRule = "grade_1_if_clinically_active"
    """Masked fever with neither hypotension nor hypoxia: grade 1 if active, else 0 (open convention)."""
    vasopressin_alone_counts_as_vasopressor: bool = True
    """Vasopressin alone counts as one vasopressor (grade 3); false grades it 2."""


def _hypotension_grade(inp: CrsInput) -> tuple[int, str]:
    n = inp.vasopressors_excluding_vasopressin
    if n >= 2:
        return 4, f"{n} vasopressors (excluding vasopressin)"
    if n == 1:
        return 3, "one vasopressor" + (" plus vasopressin" if inp.vasopressin else "")
    if inp.vasopressin:
        if inp.vasopressin_alone_counts_as_vasopressor:
            return 3, "vasopressin alone, counted as one vasopressor (convention)"
        return 2, "vasopressin alone, not counted as a vasopressor (vasopressin_alone_counts...=false)"
    if inp.hypotension:
        return 2, "hypotension not needing vasopressors"
    return 0, "no hypotension"


def _hypoxia_grades(inp: CrsInput) -> tuple[int, int, str]:
    """(min grade, max grade, reason); min < max only if a nasal-cannula flow is missing."""
    dev = inp.oxygen_delivery
    fixed = OXYGEN_GRADE[dev]
    if fixed is not None:
        return fixed, fixed, "no oxygen" if dev == "none" else dev.replace("_", " ")
    flow = inp.oxygen_flow_l_min
    if flow is None:
        if dev == "high_flow_nasal_cannula":
            return 3, 3, "high-flow nasal cannula (flow not given)"
        return 2, 3, "nasal cannula without oxygen_flow_l_min: low (<=6) or high (>6) flow unknown"
    if flow <= LOW_FLOW_MAX_L_MIN:
        return 2, 2, f"{dev.replace('_', ' ')} at {flow:g} L/min (low flow, <= 6 L/min)"
    return 3, 3, f"{dev.replace('_', ' ')} at {flow:g} L/min (high flow, > 6 L/min)"


def _crs_grade_given(fever: bool, waived: bool, organ: int, inp: CrsInput) -> tuple[int, str]:
    """CRS grade for a known fever status and organ (hypotension/hypoxia) grade."""
    if fever:
        return max(organ, 1), "fever >= 38.0 °C" + (f"; organ grade {organ}" if organ else " only")
    if not waived:
        return 0, "no fever and no prior antipyretic/anti-cytokine therapy: ASTCT CRS definition not met"
    if organ:
        return organ, "fever masked by antipyretic/anti-cytokine therapy; graded on hypotension/hypoxia"
    if inp.masked_fever_rule == "grade_1_if_clinically_active" and inp.crs_clinically_active:
        return 1, "masked fever, no hypotension/hypoxia, CRS still clinically active (convention)"
    return 0, "masked fever, no hypotension/hypoxia: CRS resolved (convention)"


@dataclass(frozen=True, kw_only=True)
class CrsResult(InstrumentResult):
    """Result of ``astct_crs``: the grade (null when it depends on a missing measurement, with
    the possible range), the status, the fever rule applied and the two organ grades."""

    crs_grade: int | None = None
    crs_grade_min: int = 0
    crs_grade_max: int = 0
    crs_status: CrsStatus = "unknown"
    fever_requirement: FeverRequirement = "unknown"
    hypotension_grade: int = 0
    hypoxia_grade: int | None = None
    systolic_bp_mmhg: float | None = None
    masked_fever_rule: MaskedFeverRule = "grade_1_if_clinically_active"
    vasopressin_alone_counts_as_vasopressor: bool = True
    grading_system: str = GRADING_SYSTEM


def _fever(inp: CrsInput) -> tuple[FeverRequirement, str]:
    """How the fever requirement stands, and why."""
    t = inp.max_temperature_c
    waived = inp.received_antipyretic_or_anticytokine_after_crs_onset
    requirement: FeverRequirement
    if t is not None:
        requirement = "met" if t >= FEVER_C else ("waived_after_treatment" if waived else "not_met")
        reason = f"max temperature {t:g} °C ({'>=' if t >= FEVER_C else '<'} 38.0)"
    else:
        requirement = "waived_after_treatment" if waived else "unknown"
        reason = "temperature not given" + (" (fever not required after treatment)" if waived else "")
    if waived and requirement != "met":
        reason += "; antipyretic/anti-cytokine therapy given after CRS onset"
    return requirement, reason


def _status(grade: int | None, fever: FeverRequirement) -> CrsStatus:
    if grade is None:
        return "unknown"
    if grade > 0:
        return "active"
    return "resolved" if fever == "waived_after_treatment" else "criteria_not_met"


def score_crs(inputs: CrsInput | Mapping[str, Any]) -> CrsResult:
    """ASTCT 2019 CRS grade 0-4 with the fever rule and the explicit open conventions.

    Every combination of the unknown measurements (temperature, nasal-cannula flow) is graded;
    the grade is given when they all agree.

    References
    ----------
    Lee DW et al. Biol Blood Marrow Transplant 2019;25(4):625-638.
    """
    inp = validate_input(CrsInput, inputs)
    hypo_t, hypo_t_reason = _hypotension_grade(inp)
    hyp_min, hyp_max, hyp_reason = _hypoxia_grades(inp)
    waived = inp.received_antipyretic_or_anticytokine_after_crs_onset
    t = inp.max_temperature_c
    fever_options = [True, False] if t is None else [t >= FEVER_C]
    hypoxia_options = sorted({hyp_min, hyp_max})
    table = {
        (f, h): _crs_grade_given(f, waived, max(hypo_t, h), inp) for f in fever_options for h in hypoxia_options
    }
    grades = [g for g, _ in table.values()]
    g_min, g_max = min(grades), max(grades)
    grade = g_min if g_min == g_max else None
    # a missing measurement is listed when the grade depends on it
    missing: list[str] = []
    if any(table[(True, h)][0] != table[(False, h)][0] for h in hypoxia_options if len(fever_options) == 2):
        missing.append("max_temperature_c")
    if len(hypoxia_options) == 2 and any(table[(f, hyp_min)][0] != table[(f, hyp_max)][0] for f in fever_options):
        missing.append("oxygen_flow_l_min")
    fever_req, fever_reason = _fever(inp)
    first = (fever_options[0], hypoxia_options[0])
    hypoxia = hyp_max if hyp_min == hyp_max else None
    items = (
        Item("fever", int(fever_req == "met"), fever_reason),
        Item("hypotension", hypo_t, hypo_t_reason),
        Item("hypoxia", hypoxia, hyp_reason),
        Item("crs_grade", grade, table[first][1] if grade is not None else "grade depends on missing data"),
    )
    return CrsResult(
        instrument="astct_crs",
        version=VERSION,
        items=items,
        complete=not missing,
        missing=tuple(missing),
        crs_grade=grade,
        crs_grade_min=g_min,
        crs_grade_max=g_max,
        crs_status=_status(grade, fever_req),
        fever_requirement=fever_req,
        hypotension_grade=hypo_t,
        hypoxia_grade=hypoxia,
        systolic_bp_mmhg=inp.systolic_bp_mmhg,
        masked_fever_rule=inp.masked_fever_rule,
        vasopressin_alone_counts_as_vasopressor=inp.vasopressin_alone_counts_as_vasopressor,
    )


# --------------------------------------------------------------------------------------- ICANS

#: ICE component maxima (Lee 2019 Table 5).
ICE_COMPONENT_MAX: dict[str, int] = {
    "orientation": 4,
    "naming": 3,
    "following_commands": 1,
    "writing": 1,
    "attention": 1,
}

LevelOfConsciousness = Literal[
    "normal",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_only_to_tactile_stimulus",
    "unarousable_or_vigorous_stimuli_stupor_coma",
]
Seizure = Literal[
    "none",
    "clinical_seizure_resolving_rapidly_or_eeg_seizure_resolving_with_intervention",
    "life_threatening_prolonged_or_repetitive_seizures",
]
RaisedIcp = Literal[
    "none",
    "focal_edema",
    "diffuse_edema_or_posturing_or_cn6_palsy_or_papilledema_or_cushing",
]
LOC_GRADE: dict[LevelOfConsciousness, int] = {
    "normal": 0,
    "awakens_spontaneously": 1,
    "awakens_to_voice": 2,
    "awakens_only_to_tactile_stimulus": 3,
    "unarousable_or_vigorous_stimuli_stupor_coma": 4,
}
SEIZURE_GRADE: dict[Seizure, int] = {
    "none": 0,
    "clinical_seizure_resolving_rapidly_or_eeg_seizure_resolving_with_intervention": 3,
    "life_threatening_prolonged_or_repetitive_seizures": 4,
}
ICP_GRADE: dict[RaisedIcp, int] = {
    "none": 0,
    "focal_edema": 3,
    "diffuse_edema_or_posturing_or_cn6_palsy_or_papilledema_or_cushing": 4,
}
#: ICE score -> ICANS grade (10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3).
ICE_GRADE: tuple[int, ...] = (3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 0)


class IceComponents(TypedInput):
    """ICE score items; a component left out is unknown (a test result, not a checklist)."""

    orientation: Annotated[int | None, Range(0, ICE_COMPONENT_MAX["orientation"], "points")] = None
    naming: Annotated[int | None, Range(0, ICE_COMPONENT_MAX["naming"], "points")] = None
    following_commands: Annotated[int | None, Range(0, ICE_COMPONENT_MAX["following_commands"], "points")] = None
    writing: Annotated[int | None, Range(0, ICE_COMPONENT_MAX["writing"], "points")] = None
    attention: Annotated[int | None, Range(0, ICE_COMPONENT_MAX["attention"], "points")] = None


class IcansInput(TypedInput):
    """Input of ``astct_icans``; absent booleans false, enums none/normal."""

    ice_score: Annotated[int | None, Range(0, 10, "points")] = None
    ice_components: IceComponents | None = None
    unarousable_unable_to_perform_ice: bool = False
    """ICE 0 because the patient cannot be woken (grade 4), as opposed to ICE 0 awake (grade 3)."""
    level_of_consciousness: LevelOfConsciousness = "normal"
    seizure: Seizure = "none"
    deep_focal_motor_weakness: bool = False
    raised_icp_cerebral_edema: RaisedIcp = "none"

    @field_validator("ice_components")
    @classmethod
    def _components_match_score(
        cls, comps: IceComponents | None, info: ValidationInfo
    ) -> IceComponents | None:
        score = info.data.get("ice_score")
        if score is not None and comps is not None:
            vals = comps.model_dump()
            if all(v is not None for v in vals.values()) and sum(vals.values()) != score:
                raise ValueError(f"sum {sum(vals.values())} disagrees with ice_score {score}")
        return comps

    @field_validator("unarousable_unable_to_perform_ice")
    @classmethod
    def _unarousable_scores_zero(cls, v: bool, info: ValidationInfo) -> bool:
        score = info.data.get("ice_score")
        if v and score not in (None, 0):
            raise ValueError(f"true but ice_score is {score}; an unarousable patient scores ICE 0")
        comps = info.data.get("ice_components")
        if v and comps is not None:
            scored = {k: p for k, p in comps.model_dump().items() if p}
            if scored:
                raise ValueError(
                    f"true but ice_components score {scored}; an unarousable patient scores ICE 0 "
                    "(every component 0 or left out)"
                )
        return v


def ice_range(inp: IcansInput) -> tuple[int, int, list[str]]:
    """(lowest, highest) possible ICE score and the missing components."""
    if inp.unarousable_unable_to_perform_ice:
        return 0, 0, []
    if inp.ice_score is not None:
        return inp.ice_score, inp.ice_score, []
    if inp.ice_components is None:
        return 0, 10, ["ice_score"]
    vals = inp.ice_components.model_dump()
    missing = [f"ice_components.{k}" for k, v in vals.items() if v is None]
    known = sum(v for v in vals.values() if v is not None)
    unknown_max = sum(ICE_COMPONENT_MAX[k] for k, v in vals.items() if v is None)
    return known, known + unknown_max, missing


@dataclass(frozen=True, kw_only=True)
class IcansResult(InstrumentResult):
    """Result of ``astct_icans``: the ICE score and ICANS grade (each null when it depends on a
    missing ICE component, with the possible range)."""

    ice_score: int | None = None
    ice_score_min: int = 0
    ice_score_max: int = 10
    icans_grade: int | None = None
    icans_grade_min: int = 0
    icans_grade_max: int = 0
    grading_system: str = GRADING_SYSTEM


def score_icans(inputs: IcansInput | Mapping[str, Any]) -> IcansResult:
    """ICE score and ASTCT 2019 ICANS grade 0-4 (adults and children >= 12 years).

    References
    ----------
    Lee DW et al. Biol Blood Marrow Transplant 2019;25(4):625-638.
    """
    inp = validate_input(IcansInput, inputs)
    ice_lo, ice_hi, missing = ice_range(inp)
    if inp.unarousable_unable_to_perform_ice:
        ice_g_lo = ice_g_hi = 4
        ice_reason = "unarousable, cannot perform ICE (ICE 0)"
    else:
        ice_g_lo, ice_g_hi = ICE_GRADE[ice_hi], ICE_GRADE[ice_lo]
        ice_reason = f"ICE {ice_lo}/10" if ice_lo == ice_hi else f"ICE unknown, between {ice_lo} and {ice_hi}"
    loc = LOC_GRADE[inp.level_of_consciousness]
    seiz = SEIZURE_GRADE[inp.seizure]
    motor = 4 if inp.deep_focal_motor_weakness else 0
    icp = ICP_GRADE[inp.raised_icp_cerebral_edema]
    others = max(loc, seiz, motor, icp)
    g_lo, g_hi = max(ice_g_lo, others), max(ice_g_hi, others)
    items = (
        Item("ice", ice_g_lo if ice_g_lo == ice_g_hi else None, ice_reason),
        Item("level_of_consciousness", loc, inp.level_of_consciousness.replace("_", " ")),
        Item("seizure", seiz, inp.seizure.replace("_", " ")),
        Item("motor_findings", motor, "deep focal motor weakness" if motor else "none"),
        Item("raised_icp_cerebral_edema", icp, inp.raised_icp_cerebral_edema.replace("_", " ")),
    )
    return IcansResult(
        instrument="astct_icans",
        version=VERSION,
        items=items,
        complete=not missing,
        missing=tuple(missing),
        ice_score=ice_lo if ice_lo == ice_hi else None,
        ice_score_min=ice_lo,
        ice_score_max=ice_hi,
        icans_grade=g_lo if g_lo == g_hi else None,
        icans_grade_min=g_lo,
        icans_grade_max=g_hi,
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="astct_crs",
        input_model=CrsInput,
        scorer=score_crs,
        version=VERSION,
        source=SOURCE,
        summary="ASTCT 2019 cytokine release syndrome grade (fever rule, hypotension, hypoxia)",
        result_type=CrsResult,
    ),
    InstrumentSpec(
        name="astct_icans",
        input_model=IcansInput,
        scorer=score_icans,
        version=VERSION,
        source=SOURCE,
        summary="ICE score (0-10) and ASTCT 2019 ICANS grade for adults and children >= 12 years",
        result_type=IcansResult,
    ),
)
