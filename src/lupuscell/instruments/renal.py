"""Renal response in lupus nephritis: KDIGO 2024 and EULAR/ERA-EDTA 2019.

Sources
-------
* KDIGO 2024 Clinical Practice Guideline for the management of lupus nephritis. Kidney Int
  2024;105(1S):S1-S69 (response definitions as summarised in docs/instruments/
  renal_response_kdigo_2024.md; the +/-10-15% eGFR band is KDIGO's wording).
* Fanouriakis A, et al. 2019 update of the joint EULAR/ERA-EDTA recommendations for the
  management of lupus nephritis. Ann Rheum Dis 2020;79(6):713-723,
  doi:10.1136/annrheumdis-2020-216924; 2012 wording (near-normal = within 10% of normal GFR)
  from Bertsias G et al. Ann Rheum Dis 2012;71(11):1771-1782.

Conventions (parameters, reported with the result)
--------------------------------------------------
* KDIGO: complete = UPCR < 0.5 g/g AND eGFR stable or improved; partial = reduction >= 50%
  AND UPCR < 3 g/g AND eGFR stable or improved; otherwise none. "Stable" is the band
  ``follow-up >= baseline x (1 - egfr_stability_tolerance)`` (default 0.15, i.e. the wide end
  of KDIGO's +/-10-15%). Complete response may take > 12 months, so the timing is reported
  (``timing``) but does not change the category.
* EULAR/ERA-EDTA 2019: complete = proteinuria < ``proteinuria_cutoff_g_24h`` (0.5 default or
  0.7, the two ends of "<0.5-0.7 g/24 h") with (near-)normal GFR; partial = >= 50% reduction
  to sub-nephrotic (< 3.5 g/24 h) with (near-)normal GFR. (Near-)normal GFR is either attested
  (``gfr_normal_or_near_normal``) or computed as ``followup_egfr >= normal_egfr x 0.9``.
  Early milestones: >= 25% reduction at 3 months, >= 50% at 6 months.
* Arithmetic is exact: values are converted with ``Decimal(str(x))`` so that, for example, a
  reduction from 1.0 to 0.5 is exactly 50%.
* UPCR in mg/mmol: divide by 100 (the guideline rounding, 0.5 g/g = 50 mg/mmol) before input;
  the exact factor 113.12 would move the cut-offs by 12%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, field_validator

from lupuscell.instruments.base import (
    InstrumentResult,
    InstrumentSpec,
    Item,
    StrictInput,
    plain_scalar,
    validate_input,
)

KDIGO_SOURCE = "KDIGO 2024 lupus nephritis guideline. Kidney Int 2024;105(1S):S1-S69"
EULAR_SOURCE = "Fanouriakis A et al. Ann Rheum Dis 2020;79(6):713-723, doi:10.1136/annrheumdis-2020-216924"

KDIGO_COMPLETE_UPCR = Decimal("0.5")
KDIGO_PARTIAL_UPCR = Decimal("3")
PARTIAL_REDUCTION = Decimal("0.5")
EULAR_SUBNEPHROTIC = Decimal("3.5")
EULAR_CUTOFFS: tuple[float, ...] = (0.5, 0.7)
EULAR_NEAR_NORMAL_FRACTION = Decimal("0.9")
EULAR_MILESTONES: tuple[tuple[int, Decimal], ...] = ((6, Decimal("0.5")), (3, Decimal("0.25")))

Upcr = Annotated[
    StrictFloat,
    Field(allow_inf_nan=False, ge=0.0, le=50.0, description="g/g (mg/mmol / 100)"),
    BeforeValidator(plain_scalar),
]
Protein24h = Annotated[
    StrictFloat,
    Field(allow_inf_nan=False, ge=0.0, le=50.0, description="g/24 h"),
    BeforeValidator(plain_scalar),
]
Egfr = Annotated[
    StrictFloat,
    Field(allow_inf_nan=False, gt=0.0, le=200.0, description="mL/min/1.73 m2"),
    BeforeValidator(plain_scalar),
]
Months = Annotated[StrictFloat, Field(allow_inf_nan=False, ge=0.0, le=240.0), BeforeValidator(plain_scalar)]


def _d(x: float) -> Decimal:
    return Decimal(str(x))


def _reduction(baseline: Decimal, followup: Decimal) -> Decimal | None:
    return None if baseline == 0 else (baseline - followup) / baseline


ResponseCategory = Literal["complete", "partial", "none"]
Timing = Literal["before_6_months", "6_to_12_months", "after_12_months"]


def _timing(months: float) -> Timing:
    return "before_6_months" if months < 6 else "6_to_12_months" if months <= 12 else "after_12_months"


class KdigoInput(StrictInput):
    """Input of ``renal_response_kdigo_2024``; a missing value is unknown."""

    baseline_upcr_g_g: Upcr | None = None
    followup_upcr_g_g: Upcr | None = None
    baseline_egfr: Egfr | None = None
    followup_egfr: Egfr | None = None
    months_since_treatment_start: Months | None = None
    egfr_stability_tolerance: Annotated[StrictFloat, Field(ge=0.0, le=0.5)] = 0.15
    rescue_therapy: StrictBool | None = Field(
        default=None, description="Recorded; trials count it as failure."
    )


def _and3(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _category(complete: bool | None, partial: bool | None) -> ResponseCategory | None:
    """complete > partial > none; null when the missing values could change the category."""
    if complete is True:
        return "complete"
    if complete is None:
        return None
    if partial is None:
        return None
    return "partial" if partial else "none"


@dataclass(frozen=True, kw_only=True)
class KdigoRenalResult(InstrumentResult):
    """Result of ``renal_response_kdigo_2024``: the category (null when the missing values could
    change it), the UPCR reduction, eGFR stability and the timing of the assessment."""

    response: ResponseCategory | None = None
    upcr_reduction_fraction: float | None = None
    egfr_stable_or_improved: bool | None = None
    egfr_stability_tolerance: float = 0.15
    timing: Timing | None = None
    rescue_therapy: bool | None = None


def score_kdigo_2024(inp: KdigoInput | Mapping[str, Any]) -> KdigoRenalResult:
    """KDIGO 2024 lupus nephritis response: complete / partial / none (null if undetermined).

    References
    ----------
    KDIGO 2024 Clinical Practice Guideline for the management of lupus nephritis. Kidney Int
    2024;105(1S):S1-S69.
    """
    data = validate_input(KdigoInput, inp)
    base = None if data.baseline_upcr_g_g is None else _d(data.baseline_upcr_g_g)
    follow = None if data.followup_upcr_g_g is None else _d(data.followup_upcr_g_g)
    tol = _d(data.egfr_stability_tolerance)
    egfr_floor = None if data.baseline_egfr is None else _d(data.baseline_egfr) * (1 - tol)
    stable = (
        None if egfr_floor is None or data.followup_egfr is None else _d(data.followup_egfr) >= egfr_floor
    )
    reduction = None if base is None or follow is None else _reduction(base, follow)
    below_complete = None if follow is None else follow < KDIGO_COMPLETE_UPCR
    below_partial = None if follow is None else follow < KDIGO_PARTIAL_UPCR
    halved = None if reduction is None else reduction >= PARTIAL_REDUCTION
    if base == 0:
        halved = False  # no proteinuria to reduce
    complete = _and3(below_complete, stable)
    partial = _and3(halved, below_partial, stable)
    missing = tuple(
        name
        for name in ("baseline_upcr_g_g", "followup_upcr_g_g", "baseline_egfr", "followup_egfr")
        if getattr(data, name) is None
    )
    label = {True: "met", False: "FAILED", None: "unknown"}
    items = (
        Item(
            "followup_upcr_lt_0_5",
            None,
            f"{label[below_complete]}: UPCR {_g(data.followup_upcr_g_g)} g/g < 0.5",
        ),
        Item(
            "upcr_reduction_ge_50_and_lt_3",
            None,
            f"{label[_and3(halved, below_partial)]}: reduction "
            f"{'unknown' if reduction is None else f'{float(reduction):.1%}'} >= 50% and UPCR < 3 g/g",
        ),
        Item(
            "egfr_stable_or_improved",
            None,
            f"{label[stable]}: eGFR {_g(data.followup_egfr)} vs floor "
            f"{'unknown' if egfr_floor is None else f'{float(egfr_floor):g}'} (baseline x (1 - {tol}))",
        ),
    )
    months = data.months_since_treatment_start
    return KdigoRenalResult(
        instrument="renal_response_kdigo_2024",
        version="kdigo_2024",
        items=items,
        complete=not missing,
        missing=missing,
        response=_category(complete, partial),
        upcr_reduction_fraction=None if reduction is None else float(reduction),
        egfr_stable_or_improved=stable,
        egfr_stability_tolerance=data.egfr_stability_tolerance,
        timing=None if months is None else _timing(months),
        rescue_therapy=data.rescue_therapy,
    )


def _g(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


class EularRenalInput(StrictInput):
    """Input of ``renal_response_eular_2019``."""

    baseline_proteinuria_g_24h: Protein24h
    followup_proteinuria_g_24h: Protein24h
    months_since_treatment_start: Months
    followup_egfr: Egfr | None = None
    gfr_normal_or_near_normal: StrictBool | None = Field(
        default=None, description="Clinician attestation; overrides the computed GFR rule."
    )
    proteinuria_cutoff_g_24h: StrictFloat = Field(
        default=0.5,
        description="Complete-response cut-off: <0.5 (default) or <0.7 g/24 h.",
        json_schema_extra={"enum": list(EULAR_CUTOFFS)},
    )
    normal_egfr: Egfr = Field(default=90.0, description="Lower limit of normal GFR used for 'near-normal'.")

    @field_validator("proteinuria_cutoff_g_24h")
    @classmethod
    def _cutoff(cls, value: float) -> float:
        if value not in EULAR_CUTOFFS:
            raise ValueError(f"allowed values: {', '.join(map(str, EULAR_CUTOFFS))}")
        return value


@dataclass(frozen=True, kw_only=True)
class EularRenalResult(InstrumentResult):
    """Result of ``renal_response_eular_2019``: the category (null when GFR is unknown and the
    proteinuria alone would allow a response), the reduction, the GFR rule and the milestone."""

    response: ResponseCategory | None = None
    proteinuria_reduction_fraction: float | None = None
    gfr_normal_or_near_normal: bool | None = None
    proteinuria_cutoff_g_24h: float = 0.5
    milestone_target_reduction: float | None = None
    milestone_met: bool | None = None
    timing: Timing | None = None


def score_eular_2019(inp: EularRenalInput | Mapping[str, Any]) -> EularRenalResult:
    """EULAR/ERA-EDTA 2019 lupus nephritis response with the 3- and 6-month milestones.

    References
    ----------
    Fanouriakis A et al. Ann Rheum Dis 2020;79(6):713-723, doi:10.1136/annrheumdis-2020-216924.
    """
    data = validate_input(EularRenalInput, inp)
    base, follow = _d(data.baseline_proteinuria_g_24h), _d(data.followup_proteinuria_g_24h)
    if data.gfr_normal_or_near_normal is not None:
        gfr_ok: bool | None = data.gfr_normal_or_near_normal
        gfr_reason = "attested"
    elif data.followup_egfr is not None:
        floor = _d(data.normal_egfr) * EULAR_NEAR_NORMAL_FRACTION
        gfr_ok = _d(data.followup_egfr) >= floor
        gfr_reason = f"eGFR {data.followup_egfr:g} vs near-normal floor {float(floor):g}"
    else:
        gfr_ok, gfr_reason = None, "unknown: give followup_egfr or gfr_normal_or_near_normal"
    reduction = _reduction(base, follow)
    protein_complete = follow < _d(data.proteinuria_cutoff_g_24h)
    protein_partial = reduction is not None and reduction >= PARTIAL_REDUCTION and follow < EULAR_SUBNEPHROTIC
    response: ResponseCategory | None
    if gfr_ok is None:
        response = None if (protein_complete or protein_partial) else "none"
    else:
        response = (
            "complete" if protein_complete and gfr_ok else "partial" if protein_partial and gfr_ok else "none"
        )
    milestone_target = next((t for m, t in EULAR_MILESTONES if data.months_since_treatment_start >= m), None)
    milestone_met = None if milestone_target is None or reduction is None else reduction >= milestone_target
    items = (
        Item(
            "proteinuria_below_cutoff",
            None,
            f"{data.followup_proteinuria_g_24h:g} g/24 h vs < {data.proteinuria_cutoff_g_24h} (complete)",
        ),
        Item("reduction_ge_50_to_subnephrotic", None, f"partial: {'met' if protein_partial else 'not met'}"),
        Item("gfr_normal_or_near_normal", None, gfr_reason),
    )
    return EularRenalResult(
        instrument="renal_response_eular_2019",
        version="eular_era_edta_2019",
        items=items,
        complete=gfr_ok is not None,
        missing=() if gfr_ok is not None else ("followup_egfr",),
        response=response,
        proteinuria_reduction_fraction=None if reduction is None else float(reduction),
        gfr_normal_or_near_normal=gfr_ok,
        proteinuria_cutoff_g_24h=data.proteinuria_cutoff_g_24h,
        milestone_target_reduction=None if milestone_target is None else float(milestone_target),
        milestone_met=milestone_met,
        timing=_timing(data.months_since_treatment_start),
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="renal_response_kdigo_2024",
        input_model=KdigoInput,
        scorer=score_kdigo_2024,
        version="kdigo_2024",
        source=KDIGO_SOURCE,
        summary="Lupus nephritis response (complete/partial/none): UPCR and eGFR stability band",
        result_type=KdigoRenalResult,
    ),
    InstrumentSpec(
        name="renal_response_eular_2019",
        input_model=EularRenalInput,
        scorer=score_eular_2019,
        version="eular_era_edta_2019",
        source=EULAR_SOURCE,
        summary="Lupus nephritis response per EULAR/ERA-EDTA 2019 with 3/6-month milestones",
        result_type=EularRenalResult,
    ),
)
