"""HCT-CI: Hematopoietic Cell Transplantation-specific Comorbidity Index (Sorror et al. 2005).

Source
------
Sorror ML, Maris MB, Storb R, et al. Hematopoietic cell transplantation (HCT)-specific
comorbidity index: a new tool for risk assessment before allogeneic HCT. Blood
2005;106(8):2912-2919, doi:10.1182/blood-2005-05-2004. Weights as reproduced in NCI PDQ
Table 4, the ASH "How I assess" table (Blood 2013;121:2854) and the CIBMTR forms manual.
HCT-CI/age composite: Sorror ML et al., J Clin Oncol 2014;32:3249 (+1 point if age >= 40).

Conventions (docs/instruments/hct_ci.md)
----------------------------------------
* SLE is itself the ``rheumatologic`` comorbidity (2 points). With ``indication_is_sle``
  (default true) it scores even if not ticked; ``hct_ci_excluding_indication`` drops it
  again unless ``rheumatologic_besides_indication`` says another rheumatologic disease is
  present. Both scores are always reported.
* Mutually exclusive pairs (hepatic mild / moderate-severe, pulmonary moderate / severe):
  only the higher scores; the lower is reported as superseded with 0 points.
* ``cardiac`` and ``heart_valve_disease`` are independent (1 + 3).
* Lab-derived flags at the exact boundaries of Sorror 2005 are OR-ed with the clinician booleans:
  BMI > 35; creatinine > 2.0 mg/dL; LVEF <= 50 %; worse of DLCO/FEV1 <= 65 % severe,
  65 < x <= 80 % moderate; bilirubin 1.0 < x <= 1.5 x ULN mild, > 1.5 moderate/severe;
  AST/ALT 1.0 < x <= 2.5 x ULN mild, > 2.5 moderate/severe.
* ``hct_ci_age`` (Sorror 2014) is a separate output, never mixed into ``hct_ci_score``.
* ``diabetes_rule``: ``sorror_2005`` (default; insulin or oral hypoglycaemics) or
  ``cibmtr_crf_incl_steroid_hyperglycaemia`` (a CIBMTR protocol CRF's "diabetes or
  steroid-induced hyperglycaemia"), which lets ``steroid_induced_hyperglycaemia`` score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from lupuscell.instruments._ranges import Range, TypedInput
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input

VERSION = "sorror_2005"
SOURCE = (
    "Sorror ML et al. Blood 2005;106(8):2912-2919, doi:10.1182/blood-2005-05-2004; "
    "HCT-CI/age: Sorror ML et al. J Clin Oncol 2014;32:3249"
)

#: Machine-readable weight table (key -> (weight, definition)), Sorror 2005 / NCI PDQ Table 4.
WEIGHTS: dict[str, tuple[int, str]] = {
    "arrhythmia": (1, "atrial fibrillation/flutter, sick sinus syndrome or ventricular arrhythmia"),
    "cardiac": (1, "coronary artery disease, congestive heart failure, MI or EF <= 50%"),
    "inflammatory_bowel_disease": (1, "Crohn's disease or ulcerative colitis"),
    "diabetes": (1, "diabetes treated with insulin or oral hypoglycaemics"),
    "cerebrovascular_disease": (1, "cerebrovascular disease: TIA or CVA"),
    "psychiatric_disturbance": (1, "depression or anxiety needing psychiatric consultation/treatment"),
    "hepatic_mild": (1, "chronic hepatitis, bilirubin >ULN-1.5xULN or AST/ALT >ULN-2.5xULN"),
    "obesity": (1, "obesity: BMI > 35 kg/m2"),
    "infection": (1, "infection needing antimicrobial treatment continued after day 0"),
    "rheumatologic": (2, "SLE, RA, polymyositis, mixed CTD or polymyalgia rheumatica"),
    "peptic_ulcer": (2, "peptic ulcer needing treatment"),
    "renal_moderate_severe": (2, "creatinine > 2 mg/dL, dialysis or prior renal transplant"),
    "pulmonary_moderate": (2, "DLCO and/or FEV1 66-80% or dyspnoea on slight activity"),
    "prior_solid_tumor": (3, "prior solid tumour treated at any time, excluding non-melanoma skin cancer"),
    "heart_valve_disease": (3, "heart valve disease except mitral valve prolapse"),
    "pulmonary_severe": (3, "DLCO and/or FEV1 <= 65%, dyspnoea at rest or needing oxygen"),
    "hepatic_moderate_severe": (3, "cirrhosis, bilirubin > 1.5xULN or AST/ALT > 2.5xULN"),
}

#: (lower item, higher item): never add both.
EXCLUSIVE_PAIRS: tuple[tuple[str, str], ...] = (
    ("hepatic_mild", "hepatic_moderate_severe"),
    ("pulmonary_moderate", "pulmonary_severe"),
)

#: Risk groups: (lowest score, label), checked top-down.
RiskGroup = Literal["low", "intermediate", "high"]
RISK_GROUPS: tuple[tuple[int, RiskGroup], ...] = ((3, "high"), (1, "intermediate"), (0, "low"))
DiabetesRule = Literal["sorror_2005", "cibmtr_crf_incl_steroid_hyperglycaemia"]

AGE_POINT_THRESHOLD_YEARS = 40

# Lab-derived flags, exact boundaries of Sorror 2005 (">" / "<=" as written in each comparison).
OBESITY_BMI_ABOVE = 35.0  # BMI > 35 (35.0 scores nothing)
RENAL_CREATININE_ABOVE_MG_DL = 2.0  # creatinine > 2.0 (2.0 scores nothing)
CARDIAC_LVEF_AT_MOST = 50.0  # EF <= 50 (50 scores)
PULMONARY_SEVERE_AT_MOST = 65.0  # worse of DLCO/FEV1 <= 65 severe
PULMONARY_MODERATE_AT_MOST = 80.0  # 65 < x <= 80 moderate (65.x closes the printed 65-66 gap)
HEPATIC_ABOVE_ULN = 1.0  # > 1.0 x ULN starts "mild"
BILIRUBIN_MILD_AT_MOST = 1.5  # bilirubin (1.0, 1.5] x ULN mild, > 1.5 moderate/severe
TRANSAMINASE_MILD_AT_MOST = 2.5  # AST/ALT (1.0, 2.5] x ULN mild, > 2.5 moderate/severe


class HctCiComorbidities(TypedInput):
    """Clinician-ticked comorbidities (absent means false)."""

    arrhythmia: bool = False
    cardiac: bool = False
    inflammatory_bowel_disease: bool = False
    diabetes: bool = False
    cerebrovascular_disease: bool = False
    psychiatric_disturbance: bool = False
    hepatic_mild: bool = False
    obesity: bool = False
    infection: bool = False
    rheumatologic: bool = False
    peptic_ulcer: bool = False
    renal_moderate_severe: bool = False
    pulmonary_moderate: bool = False
    prior_solid_tumor: bool = False
    heart_valve_disease: bool = False
    pulmonary_severe: bool = False
    hepatic_moderate_severe: bool = False


class HctCiLabs(TypedInput):
    """Optional measurements; each derived flag is OR-ed with the clinician boolean."""

    bmi_kg_m2: Annotated[float | None, Range(5, 150, "kg/m2")] = None
    serum_creatinine_mg_dl: Annotated[float | None, Range(0, 40, "mg/dL", lo_open=True)] = None
    lvef_percent: Annotated[float | None, Range(0, 100, "%")] = None
    total_bilirubin_x_uln: Annotated[float | None, Range(0, 100, "x ULN")] = None
    ast_x_uln: Annotated[float | None, Range(0, 1000, "x ULN")] = None
    alt_x_uln: Annotated[float | None, Range(0, 1000, "x ULN")] = None
    dlco_percent_predicted: Annotated[float | None, Range(0, 200, "% predicted")] = None
    fev1_percent_predicted: Annotated[float | None, Range(0, 200, "% predicted")] = None


class HctCiInput(TypedInput):
    """Input of ``hct_ci`` plus its explicit options (docs/instruments/hct_ci.md)."""

    comorbidities: HctCiComorbidities = HctCiComorbidities()
    """Clinician-ticked comorbidities; a key left out means not present."""
    labs: HctCiLabs | None = None
    """Optional measurements; lab-derived flags are OR-ed with the ticks."""
    age_years: Annotated[float | None, Range(0, 120, "years")] = None
    """Age at HCT; used only for the separate hct_ci_age (+1 if >= 40)."""
    indication_is_sle: bool = True
    """SLE, the transplant indication, is itself the rheumatologic comorbidity (2 points)."""
    rheumatologic_besides_indication: bool = False
    """Another rheumatologic disease is present, so it counts in hct_ci_excluding_indication."""
    steroid_induced_hyperglycaemia: bool = False
    """Steroid-induced hyperglycaemia; scores diabetes only with the CIBMTR CRF diabetes_rule."""
    diabetes_rule: DiabetesRule = "sorror_2005"
    """Which diabetes definition applies."""


def _lab_flags(labs: HctCiLabs | None) -> dict[str, str]:
    """Comorbidities implied by measurements at the exact boundaries of Sorror 2005, with reasons."""
    if labs is None:
        return {}
    flags: dict[str, str] = {}
    if labs.bmi_kg_m2 is not None and labs.bmi_kg_m2 > OBESITY_BMI_ABOVE:
        flags["obesity"] = f"BMI {labs.bmi_kg_m2:g} > 35 kg/m2"
    if labs.serum_creatinine_mg_dl is not None and labs.serum_creatinine_mg_dl > RENAL_CREATININE_ABOVE_MG_DL:
        flags["renal_moderate_severe"] = f"creatinine {labs.serum_creatinine_mg_dl:g} > 2 mg/dL"
    if labs.lvef_percent is not None and labs.lvef_percent <= CARDIAC_LVEF_AT_MOST:
        flags["cardiac"] = f"LVEF {labs.lvef_percent:g}% <= 50%"
    pulm = [v for v in (labs.dlco_percent_predicted, labs.fev1_percent_predicted) if v is not None]
    if pulm:
        worst = min(pulm)
        if worst <= PULMONARY_SEVERE_AT_MOST:
            flags["pulmonary_severe"] = f"worse of DLCO/FEV1 {worst:g}% <= 65%"
        elif worst <= PULMONARY_MODERATE_AT_MOST:
            flags["pulmonary_moderate"] = f"worse of DLCO/FEV1 {worst:g}% in (65, 80]%"
    bili = labs.total_bilirubin_x_uln
    if bili is not None:
        if bili > BILIRUBIN_MILD_AT_MOST:
            flags["hepatic_moderate_severe"] = f"bilirubin {bili:g} x ULN > 1.5"
        elif bili > HEPATIC_ABOVE_ULN:
            flags["hepatic_mild"] = f"bilirubin {bili:g} x ULN in (1.0, 1.5]"
    trans = [v for v in (labs.ast_x_uln, labs.alt_x_uln) if v is not None]
    if trans:
        worst_t = max(trans)
        if worst_t > TRANSAMINASE_MILD_AT_MOST:
            flags.setdefault("hepatic_moderate_severe", f"AST/ALT {worst_t:g} x ULN > 2.5")
        elif worst_t > HEPATIC_ABOVE_ULN:
            flags.setdefault("hepatic_mild", f"AST/ALT {worst_t:g} x ULN in (1.0, 2.5]")
    return flags


def _risk_group(score: int) -> RiskGroup:
    return next(label for lowest, label in RISK_GROUPS if score >= lowest)


def _present(inp: HctCiInput, lab: dict[str, str]) -> dict[str, str]:
    """Every comorbidity present (before pair exclusion) with the reason it is present."""
    ticked = inp.comorbidities.model_dump()
    present: dict[str, str] = {}
    for key in WEIGHTS:
        reasons = []
        if ticked[key]:
            reasons.append("clinician-ticked")
        if key in lab:
            reasons.append(lab[key])
        if reasons:
            present[key] = "; ".join(reasons)
    if inp.indication_is_sle:
        extra = "SLE (the transplant indication) is itself a rheumatologic comorbidity"
        present["rheumatologic"] = (
            f"{present['rheumatologic']}; {extra}" if "rheumatologic" in present else extra
        )
    if (
        "diabetes" not in present
        and inp.steroid_induced_hyperglycaemia
        and inp.diabetes_rule == "cibmtr_crf_incl_steroid_hyperglycaemia"
    ):
        present["diabetes"] = "steroid-induced hyperglycaemia counted (diabetes_rule=cibmtr_crf...)"
    return present


def _total(present: Mapping[str, str]) -> tuple[int, list[str], set[str]]:
    superseded = {lo for lo, hi in EXCLUSIVE_PAIRS if lo in present and hi in present}
    scored = sorted(k for k in present if k not in superseded)
    return sum(WEIGHTS[k][0] for k in scored), scored, superseded


@dataclass(frozen=True, kw_only=True)
class HctCiResult(InstrumentResult):
    """Result of ``hct_ci``: the score and risk group with and without the SLE indication, the
    separate HCT-CI/age composite and which comorbidities scored (and which came from labs)."""

    hct_ci_score: int = 0
    risk_group: RiskGroup = "low"
    scored_comorbidities: tuple[str, ...] = ()
    hct_ci_excluding_indication: int = 0
    risk_group_excluding_indication: RiskGroup = "low"
    hct_ci_age: int | None = None
    lab_derived_comorbidities: tuple[str, ...] = ()
    indication_is_sle: bool = True
    diabetes_rule: DiabetesRule = "sorror_2005"


def _items(present: Mapping[str, str], superseded: set[str], age_years: float | None) -> list[Item]:
    """One item per comorbidity present (superseded ones with 0 points) and the age point."""
    items: list[Item] = []
    for key in sorted(present):
        weight, definition = WEIGHTS[key]
        if key in superseded:
            higher = next(hi for lo, hi in EXCLUSIVE_PAIRS if lo == key)
            items.append(Item(key, 0, f"present ({present[key]}) but superseded by {higher}"))
        else:
            items.append(Item(key, weight, f"{definition} - {present[key]}"))
    if age_years is not None:
        point = int(age_years >= AGE_POINT_THRESHOLD_YEARS)
        items.append(
            Item(
                "age_ge_40",
                point,
                f"age {age_years:g} y {'>=' if point else '<'} 40 (counts in hct_ci_age only, Sorror 2014)",
            )
        )
    return items


def score(inputs: HctCiInput | Mapping[str, Any]) -> HctCiResult:
    """Score the HCT-CI with and without the indication, plus the separate HCT-CI/age composite.

    Returns ``hct_ci_score``, ``risk_group``, ``scored_comorbidities`` (sorted),
    ``hct_ci_excluding_indication``, ``risk_group_excluding_indication``, ``hct_ci_age``
    (null without ``age_years``) and ``lab_derived_comorbidities``.

    References
    ----------
    Sorror ML et al. Blood 2005;106(8):2912-2919. Sorror ML et al. J Clin Oncol 2014;32:3249.
    """
    inp = validate_input(HctCiInput, inputs)
    lab = _lab_flags(inp.labs)
    present = _present(inp, lab)
    total, scored, superseded = _total(present)
    excl_present = dict(present)
    if inp.indication_is_sle and not inp.rheumatologic_besides_indication:
        excl_present.pop("rheumatologic", None)
    total_excl, _, _ = _total(excl_present)
    age = inp.age_years
    return HctCiResult(
        instrument="hct_ci",
        version=VERSION,
        items=tuple(_items(present, superseded, age)),
        hct_ci_score=total,
        risk_group=_risk_group(total),
        scored_comorbidities=tuple(scored),
        hct_ci_excluding_indication=total_excl,
        risk_group_excluding_indication=_risk_group(total_excl),
        hct_ci_age=None if age is None else total + int(age >= AGE_POINT_THRESHOLD_YEARS),
        lab_derived_comorbidities=tuple(sorted(lab)),
        indication_is_sle=inp.indication_is_sle,
        diabetes_rule=inp.diabetes_rule,
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="hct_ci",
        input_model=HctCiInput,
        scorer=score,
        version=VERSION,
        source=SOURCE,
        summary="HCT-specific comorbidity index with and without the SLE indication; HCT-CI/age separate",
        result_type=HctCiResult,
    ),
)
