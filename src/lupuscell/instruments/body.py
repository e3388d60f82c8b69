"""Body size and kidney function: BSA (Mosteller, DuBois, Haycock), IBW, adjusted weight, eGFR.

Sources
-------
* Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098.
* DuBois D, DuBois EF. A formula to estimate the approximate surface area if height and weight
  be known. Arch Intern Med 1916;17:863-871.
* Haycock GB, Schwartz GJ, Wisotsky DH. Geometric method for measuring body surface area.
  J Pediatr 1978;93:62-66.
* Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-655 (ideal body weight).
* Inker LA, Eneanya ND, Coresh J, et al. New creatinine- and cystatin C-based equations to
  estimate GFR without race. N Engl J Med 2021;385:1737-1749 (CKD-EPI 2021, creatinine).
* Formulas cross-checked against GlobalRPh, kidney.org and NIDDK (docs/instruments/body_size.md,
  docs/instruments/egfr_ckd_epi_2021.md).

Conventions
-----------
* Everything is computed in full precision; round only for display.
* Devine IBW is applied **without clamping** below 60 in (152.4 cm); the result is flagged
  (``ibw_below_60_in``) because some calculators clamp to 45.5 / 50 kg.
* Adjusted body weight is the bare formula IBW + f x (TBW - IBW) with f a parameter (default
  0.4; many protocols use 0.25), reported even when TBW < IBW. Choosing a *dosing weight* is a
  separate rule (:func:`dosing_weight`): TBW if TBW < IBW, AdjBW if TBW > 120 % of IBW, else
  IBW (or TBW with ``dosing_weight_between="tbw"``).
* CKD-EPI 2021 has no race coefficient; creatinine in mg/dL (IDMS-traceable), µmol/L ÷ 88.4;
  adults >= 18 years only. De-indexing for drug dosing: eGFR x BSA / 1.73.

Why hand-written: these are one-line closed-form formulas; no maintained library in the
project's dependency set provides them with these conventions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from lupuscell.instruments._ranges import Range, TypedInput
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input

BODY_VERSION = "mosteller_1987+dubois_1916+haycock_1978+devine_1974"
BODY_SOURCE = (
    "Mosteller NEJM 1987;317:1098; DuBois Arch Intern Med 1916;17:863; Haycock J Pediatr "
    "1978;93:62; Devine Drug Intell Clin Pharm 1974;8:650"
)
EGFR_VERSION = "ckd_epi_2021_cr"
EGFR_SOURCE = "Inker LA et al. N Engl J Med 2021;385:1737-1749 (CKD-EPI 2021 creatinine, no race)"

Sex = Literal["female", "male"]

CM_PER_IN = 2.54
DEVINE_BASE_KG: dict[Sex, float] = {"male": 50.0, "female": 45.5}
DEVINE_KG_PER_IN = 2.3
DEVINE_MIN_HEIGHT_IN = 60.0
CREATININE_UMOL_PER_MG_DL = 88.4
STANDARD_BSA_M2 = 1.73

#: CKD-EPI 2021 creatinine constants by sex: (kappa, alpha, sex factor).
CKD_EPI_2021: dict[Sex, tuple[float, float, float]] = {
    "female": (0.7, -0.241, 1.012),
    "male": (0.9, -0.302, 1.0),
}
CKD_EPI_2021_BASE = 142.0
CKD_EPI_2021_BETA = -1.200
CKD_EPI_2021_AGE = 0.9938

DosingWeightBetween = Literal["ibw", "tbw"]
DosingWeightBasis = Literal["tbw", "ibw", "adjusted"]


# ----------------------------------------------------------------------------- plain formulas


def bsa_mosteller(height_cm: float, weight_kg: float) -> float:
    """BSA (m²) = √(height_cm × weight_kg / 3600) (Mosteller 1987)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def bsa_dubois(height_cm: float, weight_kg: float) -> float:
    """BSA (m²) = 0.007184 × weight^0.425 × height^0.725 (DuBois & DuBois 1916)."""
    return 0.007184 * weight_kg**0.425 * height_cm**0.725


def bsa_haycock(height_cm: float, weight_kg: float) -> float:
    """BSA (m²) = 0.024265 × weight^0.5378 × height^0.3964 (Haycock 1978)."""
    return 0.024265 * weight_kg**0.5378 * height_cm**0.3964


def ibw_devine(height_cm: float, sex: Sex) -> float:
    """Devine IBW (kg): 50 (male) or 45.5 (female) + 2.3 × (height_in − 60); never clamped."""
    return DEVINE_BASE_KG[sex] + DEVINE_KG_PER_IN * (height_cm / CM_PER_IN - DEVINE_MIN_HEIGHT_IN)


def adjusted_body_weight(weight_kg: float, ibw_kg: float, factor: float = 0.4) -> float:
    """AdjBW (kg) = IBW + f × (TBW − IBW), the bare formula (also when TBW < IBW)."""
    return ibw_kg + factor * (weight_kg - ibw_kg)


def dosing_weight(
    weight_kg: float,
    ibw_kg: float,
    adjusted_kg: float,
    *,
    obese_ratio: float = 1.2,
    between: DosingWeightBetween = "ibw",
) -> tuple[float, DosingWeightBasis]:
    """Dosing weight and its basis: TBW if TBW < IBW; AdjBW if TBW > ``obese_ratio`` × IBW; else IBW/TBW."""
    if weight_kg < ibw_kg:
        return weight_kg, "tbw"
    if weight_kg > obese_ratio * ibw_kg:
        return adjusted_kg, "adjusted"
    return (ibw_kg, "ibw") if between == "ibw" else (weight_kg, "tbw")


def egfr_ckd_epi_2021(creatinine_mg_dl: float, age_years: float, sex: Sex) -> float:
    """CKD-EPI 2021 creatinine eGFR in mL/min/1.73 m² (Inker 2021); adults >= 18 years."""
    kappa, alpha, sex_factor = CKD_EPI_2021[sex]
    ratio = creatinine_mg_dl / kappa
    return (
        CKD_EPI_2021_BASE
        * min(ratio, 1.0) ** alpha
        * max(ratio, 1.0) ** CKD_EPI_2021_BETA
        * CKD_EPI_2021_AGE**age_years
        * sex_factor
    )


def deindex_egfr(egfr_ml_min_1_73m2: float, bsa_m2: float) -> float:
    """Absolute GFR (mL/min) for drug dosing = eGFR × BSA / 1.73."""
    return egfr_ml_min_1_73m2 * bsa_m2 / STANDARD_BSA_M2


# ---------------------------------------------------------------------------------- body_size


class BodySizeInput(TypedInput):
    """Input of ``body_size`` plus the adjusted-weight and dosing options (docs/instruments/body_size.md)."""

    height_cm: Annotated[float, Range(20, 275, "cm")]
    weight_kg: Annotated[float, Range(0, 700, "kg", lo_open=True)]
    sex: Sex
    adjusted_weight_factor: Annotated[float, Range(0, 1, "")] = Field(
        0.4, description="f in IBW + f x (TBW - IBW); many protocols use 0.25."
    )
    dosing_weight_obese_ratio: Annotated[float, Range(1, 2, "x IBW")] = 1.2
    """TBW/IBW above which the dosing weight is the adjusted weight."""
    dosing_weight_between: DosingWeightBetween = "ibw"
    """Dosing weight when IBW <= TBW <= ratio x IBW."""


@dataclass(frozen=True, kw_only=True)
class BodySizeResult(InstrumentResult):
    """Result of ``body_size``, in full precision (round only for display)."""

    bsa_mosteller_m2: float = 0.0
    bsa_dubois_m2: float = 0.0
    bsa_haycock_m2: float = 0.0
    ibw_devine_kg: float = 0.0
    ibw_below_60_in: bool = False
    adjusted_body_weight_kg: float = 0.0
    adjusted_weight_factor: float = 0.4
    bmi_kg_m2: float = 0.0
    dosing_weight_kg: float = 0.0
    dosing_weight_basis: DosingWeightBasis = "tbw"


def score_body_size(inputs: BodySizeInput | Mapping[str, Any]) -> BodySizeResult:
    """BSA by three formulas, Devine IBW, adjusted weight, BMI and the separate dosing weight.

    References
    ----------
    Mosteller RD. N Engl J Med 1987;317:1098. DuBois D, DuBois EF. Arch Intern Med
    1916;17:863-871. Haycock GB et al. J Pediatr 1978;93:62-66. Devine BJ. Drug Intell Clin
    Pharm 1974;8:650-655.
    """
    inp = validate_input(BodySizeInput, inputs)
    h, w = inp.height_cm, inp.weight_kg
    ibw = ibw_devine(h, inp.sex)
    f = inp.adjusted_weight_factor
    adj = adjusted_body_weight(w, ibw, f)
    dose_w, basis = dosing_weight(
        w, ibw, adj, obese_ratio=inp.dosing_weight_obese_ratio, between=inp.dosing_weight_between
    )
    short = h < DEVINE_MIN_HEIGHT_IN * CM_PER_IN
    items = (
        Item(
            "ibw_devine_kg",
            None,
            f"{inp.sex} Devine at {h / CM_PER_IN:.2f} in"
            + (" (below 60 in: not clamped, interpret with care)" if short else ""),
        ),
        Item("adjusted_body_weight_kg", None, f"IBW + {f:g} x (TBW - IBW)"),
        Item(
            "dosing_weight_kg",
            None,
            f"{basis}: TBW < IBW -> TBW; TBW > {inp.dosing_weight_obese_ratio:g} x IBW -> AdjBW; "
            f"otherwise {inp.dosing_weight_between.upper()}",
        ),
    )
    return BodySizeResult(
        instrument="body_size",
        version=BODY_VERSION,
        items=items,
        bsa_mosteller_m2=bsa_mosteller(h, w),
        bsa_dubois_m2=bsa_dubois(h, w),
        bsa_haycock_m2=bsa_haycock(h, w),
        ibw_devine_kg=ibw,
        ibw_below_60_in=short,
        adjusted_body_weight_kg=adj,
        adjusted_weight_factor=f,
        bmi_kg_m2=w / (h / 100.0) ** 2,
        dosing_weight_kg=dose_w,
        dosing_weight_basis=basis,
    )


# -------------------------------------------------------------------------- egfr_ckd_epi_2021

#: creatinine range (mg/dL) accepted after unit conversion
CREATININE_RANGE_MG_DL = Range(0, 40, "mg/dL", lo_open=True)


class EgfrInput(TypedInput):
    """Input of ``egfr_ckd_epi_2021``; optional BSA for de-indexing."""

    creatinine_unit: Literal["mg_dl", "umol_l"]
    serum_creatinine: Annotated[float, Range(0, 3536, "mg/dL or umol/L", lo_open=True)]
    age_years: Annotated[float, Range(18, 120, "years (CKD-EPI 2021 is for adults >= 18)")]
    sex: Sex
    bsa_m2: Annotated[float | None, Range(0.1, 5, "m2")] = None
    """Optional BSA: adds the de-indexed GFR egfr_ml_min = eGFR x BSA / 1.73."""

    @field_validator("serum_creatinine")
    @classmethod
    def _creatinine_in_range(cls, v: float, info: ValidationInfo) -> float:
        if info.data.get("creatinine_unit") == "mg_dl" and v > CREATININE_RANGE_MG_DL.hi:
            raise ValueError(
                f"{v:g} mg/dL is outside the allowed range {CREATININE_RANGE_MG_DL.text} "
                f"(= (0, {CREATININE_RANGE_MG_DL.hi * CREATININE_UMOL_PER_MG_DL:g}] umol/L)"
            )
        return v

    def creatinine_mg_dl(self) -> float:
        if self.creatinine_unit == "mg_dl":
            return self.serum_creatinine
        return self.serum_creatinine / CREATININE_UMOL_PER_MG_DL


@dataclass(frozen=True, kw_only=True)
class EgfrResult(InstrumentResult):
    """Result of ``egfr_ckd_epi_2021``: eGFR in full precision and rounded for display, the
    creatinine in mg/dL it was computed from and, with a BSA, the de-indexed GFR."""

    egfr_ml_min_1_73m2: float = 0.0
    egfr_display: int = 0
    creatinine_mg_dl: float = 0.0
    egfr_ml_min: float | None = None


def score_egfr(inputs: EgfrInput | Mapping[str, Any]) -> EgfrResult:
    """CKD-EPI 2021 creatinine eGFR (full precision) and, with ``bsa_m2``, the de-indexed GFR.

    References
    ----------
    Inker LA et al. N Engl J Med 2021;385:1737-1749.
    """
    inp = validate_input(EgfrInput, inputs)
    scr = inp.creatinine_mg_dl()
    egfr = egfr_ckd_epi_2021(scr, inp.age_years, inp.sex)
    kappa, alpha, _ = CKD_EPI_2021[inp.sex]
    unit_note = "" if inp.creatinine_unit == "mg_dl" else f" ({inp.serum_creatinine:g} umol/L ÷ 88.4)"
    items = (
        Item(
            "egfr_ml_min_1_73m2",
            None,
            f"142 x min(Scr/{kappa:g},1)^{alpha:g} x max(Scr/{kappa:g},1)^-1.2 x 0.9938^age"
            + (" x 1.012" if inp.sex == "female" else "")
            + f"; Scr {scr:.4g} mg/dL{unit_note}",
        ),
    )
    return EgfrResult(
        instrument="egfr_ckd_epi_2021",
        version=EGFR_VERSION,
        items=items,
        egfr_ml_min_1_73m2=egfr,
        egfr_display=round(egfr),
        creatinine_mg_dl=scr,
        egfr_ml_min=None if inp.bsa_m2 is None else deindex_egfr(egfr, inp.bsa_m2),
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="body_size",
        input_model=BodySizeInput,
        scorer=score_body_size,
        version=BODY_VERSION,
        source=BODY_SOURCE,
        summary="BSA (Mosteller, DuBois, Haycock), Devine IBW, adjusted weight (f) and dosing weight",
        result_type=BodySizeResult,
    ),
    InstrumentSpec(
        name="egfr_ckd_epi_2021",
        input_model=EgfrInput,
        scorer=score_egfr,
        version=EGFR_VERSION,
        source=EGFR_SOURCE,
        summary="CKD-EPI 2021 creatinine eGFR (no race coefficient), adults >= 18; optional de-indexing",
        result_type=EgfrResult,
    ),
)
