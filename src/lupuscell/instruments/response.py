"""Response and state definitions: SRI-4 (and SRI-5..8), LLDAS, DORIS 2021 remission.

Sources
-------
* SRI: Furie RA, Petri MA, Wallace DJ, et al. Novel evidence-based systemic lupus
  erythematosus responder index. Arthritis Rheum 2009;61(9):1143-1151 (spec section 4).
* LLDAS: Franklyn K, Lau CS, Navarra SV, et al. Definition and initial validation of a Lupus
  Low Disease Activity State (LLDAS). Ann Rheum Dis 2016;75(9):1615-1621,
  doi:10.1136/annrheumdis-2015-207726 (spec section 5).
* DORIS: van Vollenhoven RF, Bertsias G, Doria A, et al. 2021 DORIS definition of remission
  in SLE. Lupus Sci Med 2021;8(1):e000538, doi:10.1136/lupus-2021-000538 (spec section 6).

Conventions
-----------
* Threshold arithmetic (spec section 0 allows either; option ``threshold_arithmetic``, echoed
  in the result). ``round_to_precision`` (default): PGA (0-3) is rounded half-up to 0.1 and
  prednisolone to 0.01 mg and compared in integer steps
  (:func:`lupuscell.instruments.base.to_units`), so PGA 1.1 -> 1.4 is a worsening of exactly
  0.3, but 1.14 -> 1.43 (+0.29) also counts as +0.3 and a DORIS PGA of 0.45 as 0.5.
  ``exact_decimal``: every value is taken as the decimal written (``Decimal(repr(x))``) and
  compared unrounded, so 1.1 -> 1.4 is still exactly +0.3 (fails) while 1.14 -> 1.43 is +0.29
  (passes) and PGA 0.45 passes DORIS "< 0.5". Use it when PGA is recorded finer than 0.1.
* Missing inputs are unknown, combined with three-valued (Kleene) logic: a definite failure of
  any criterion gives ``false`` even when other inputs are missing; otherwise a missing input
  gives ``null`` with ``complete: false``. ``failed_criteria`` lists only definite failures.
* Descriptors not assessed at the visit may be listed in ``unassessed_descriptors``; they make
  SLEDAI unknown (a range), and the criteria decide from the range where they can.
* Options (recorded in the result): SRI ``threshold`` 4-8, ``sledai_version``, ``use_bilag``
  (modified SRI without BILAG) and ``rescue_therapy``; DORIS ``prednisolone_rule`` (``le_5``
  abstract/main text, default; ``lt_5`` Table 2) and ``pga_rule`` (``lt_0_5`` 2021, default;
  ``le_0_5`` 2017 framework).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from lupuscell import vocab
from lupuscell.instruments.base import (
    InstrumentResult,
    InstrumentSpec,
    Item,
    StrictInput,
    plain_scalar,
    to_units,
    validate_input,
)
from lupuscell.instruments.sledai2k import SEROLOGY, WEIGHTS, Descriptor

Pga = Annotated[
    StrictFloat,
    Field(ge=0.0, le=3.0, allow_inf_nan=False, description="Physician global assessment, 0-3"),
    BeforeValidator(plain_scalar),
]
DoseMg = Annotated[
    StrictFloat,
    Field(ge=0.0, le=2000.0, allow_inf_nan=False, description="mg/day prednisolone equivalent"),
    BeforeValidator(plain_scalar),
]
Flag = Annotated[StrictBool, BeforeValidator(plain_scalar)]
BilagGrade = Literal["A", "B", "C", "D", "E"]

BilagDomain = Literal[
    "constitutional",
    "mucocutaneous",
    "neuropsychiatric",
    "musculoskeletal",
    "cardiorespiratory",
    "gastrointestinal",
    "ophthalmic",
    "renal",
    "haematological",
]
BILAG_DOMAINS: tuple[str, ...] = vocab.BILAG_DOMAINS  # the 9 BILAG-2004 domains (== BilagDomain)

#: SLEDAI-2K descriptors that are "major organ activity" for LLDAS criterion 1 (spec section 5).
LLDAS_MAJOR_ORGAN: tuple[str, ...] = (
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "pleurisy",
    "pericarditis",
    "vasculitis",
    "fever",
)

#: Thresholds as data, in integer steps (PGA tenths, dose hundredths of a mg).
PGA_STEPS = 10
DOSE_STEPS = 100
LLDAS_SLEDAI_MAX = 4
LLDAS_PGA_MAX_TENTHS = 10  # PGA <= 1.0
LLDAS_PRED_MAX_HUNDREDTHS = 750  # <= 7.5 mg/day
DORIS_PGA_RULES: Mapping[str, tuple[str, int]] = {"lt_0_5": ("<", 5), "le_0_5": ("<=", 5)}
DORIS_PRED_RULES: Mapping[str, tuple[str, int]] = {"le_5": ("<=", 500), "lt_5": ("<", 500)}
SRI_PGA_WORSENING_TENTHS = 3  # worsening >= 0.3 fails
#: Spec section 0: round to the instrument's precision (default) or compare exact decimals.
THRESHOLD_ARITHMETIC: tuple[str, ...] = ("round_to_precision", "exact_decimal")
ThresholdArithmetic = Annotated[
    Literal["round_to_precision", "exact_decimal"],
    Field(
        description="round_to_precision: PGA to 0.1 and doses to 0.01 mg (half-up) before comparing "
        "(default); exact_decimal: compare the decimals as written."
    ),
]

LLDAS_SOURCE = "Franklyn K et al. Ann Rheum Dis 2016;75(9):1615-1621, doi:10.1136/annrheumdis-2015-207726"
DORIS_SOURCE = "van Vollenhoven RF et al. Lupus Sci Med 2021;8(1):e000538, doi:10.1136/lupus-2021-000538"
SRI_SOURCE = "Furie RA et al. Arthritis Rheum 2009;61(9):1143-1151"


def _and3(values: Sequence[bool | None]) -> bool | None:
    """Kleene AND: False if any False, None if any unknown, else True."""
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _compare(op: str, left: int | Decimal, right: int) -> bool:
    return {"<": left < right, "<=": left <= right}[op]


def _exact_or_rounded(value: float, per_unit: int, arithmetic: str) -> int | Decimal:
    """``value`` in steps of 1/per_unit: rounded (int) or exact (Decimal of the written decimal)."""
    if arithmetic == "exact_decimal":
        return Decimal(repr(float(value))) * per_unit
    return to_units(value, per_unit)


def _steps(value: float | None, per_unit: int, arithmetic: str) -> int | Decimal | None:
    return None if value is None else _exact_or_rounded(value, per_unit, arithmetic)


@dataclass(frozen=True)
class _SledaiRange:
    low: int
    high: int
    clinical_low: int
    clinical_high: int
    major_known: bool  # a major-organ descriptor is definitely active
    major_unknown: bool  # a major-organ descriptor was not assessed

    @property
    def known(self) -> bool:
        return self.low == self.high and not self.major_unknown


def _sledai_range(active: Sequence[str] | None, unassessed: Sequence[str]) -> _SledaiRange:
    if active is None:
        unknown = set(WEIGHTS)
        act: set[str] = set()
    else:
        act = set(active)
        unknown = set(unassessed) - act
    low = sum(WEIGHTS[k] for k in act)
    clinical_low = sum(WEIGHTS[k] for k in act if k not in SEROLOGY)
    return _SledaiRange(
        low=low,
        high=low + sum(WEIGHTS[k] for k in unknown),
        clinical_low=clinical_low,
        clinical_high=clinical_low + sum(WEIGHTS[k] for k in unknown if k not in SEROLOGY),
        major_known=any(k in act for k in LLDAS_MAJOR_ORGAN),
        major_unknown=any(k in unknown for k in LLDAS_MAJOR_ORGAN),
    )


class _ActivityInput(StrictInput):
    sledai_2k_active_descriptors: list[Descriptor] | None = Field(
        default=None, description="SLEDAI-2K descriptors active at the visit (all others absent)."
    )
    unassessed_descriptors: list[Descriptor] = Field(
        default_factory=list, description="Descriptors not assessed at the visit (unknown)."
    )
    pga: Pga | None = None
    prednisolone_mg_per_day: DoseMg | None = None
    threshold_arithmetic: ThresholdArithmetic = "round_to_precision"

    @field_validator("unassessed_descriptors")
    @classmethod
    def _disjoint(cls, unassessed: list[str], info: ValidationInfo) -> list[str]:
        both = set(info.data.get("sledai_2k_active_descriptors") or ()) & set(unassessed)
        if both:
            raise ValueError(
                f"descriptors both active and unassessed: {sorted(both)} (also listed in "
                "sledai_2k_active_descriptors; a descriptor is either active or unassessed)"
            )
        return unassessed


def _missing(data: StrictInput, names: Sequence[str]) -> list[str]:
    return [n for n in names if getattr(data, n) is None]


# ---------------------------------------------------------------------------------------- LLDAS


class LldasInput(_ActivityInput):
    """Input of ``lldas`` (spec section 16)."""

    haemolytic_anaemia: Flag | None = None
    gastrointestinal_activity: Flag | None = None
    new_activity_since_previous_assessment: Flag | None = None
    standard_maintenance_therapy_well_tolerated: Flag | None = None


def score_lldas(inp: LldasInput | Mapping[str, Any]) -> InstrumentResult:
    """Lupus Low Disease Activity State at one visit (all five criteria of Franklyn 2016).

    Returns ``sledai_2k`` (null if unknown), ``lldas`` (true/false/null) and ``failed_criteria``
    (sorted, drawn from ``sledai_2k_gt_4``, ``major_organ_activity``, ``new_activity``,
    ``pga_gt_1``, ``prednisolone_gt_7_5``, ``maintenance_therapy_not_standard_or_not_tolerated``).
    """
    data = validate_input(LldasInput, inp)
    rng = _sledai_range(data.sledai_2k_active_descriptors, data.unassessed_descriptors)
    pga = _steps(data.pga, PGA_STEPS, data.threshold_arithmetic)
    pred = _steps(data.prednisolone_mg_per_day, DOSE_STEPS, data.threshold_arithmetic)

    sledai_ok: bool | None = (
        False if rng.low > LLDAS_SLEDAI_MAX else True if rng.high <= LLDAS_SLEDAI_MAX else None
    )
    major_flags = [not rng.major_known and (None if rng.major_unknown else True)]
    major_flags += [
        None if v is None else not v for v in (data.haemolytic_anaemia, data.gastrointestinal_activity)
    ]
    major_ok = _and3(major_flags)
    new_ok = (
        None
        if data.new_activity_since_previous_assessment is None
        else not data.new_activity_since_previous_assessment
    )
    pga_ok = None if pga is None else pga <= LLDAS_PGA_MAX_TENTHS
    pred_ok = None if pred is None else pred <= LLDAS_PRED_MAX_HUNDREDTHS
    therapy_ok = data.standard_maintenance_therapy_well_tolerated

    criteria: dict[str, tuple[bool | None, str]] = {
        "sledai_2k_gt_4": (sledai_ok, f"SLEDAI-2K {_fmt_range(rng.low, rng.high)} (must be <= 4)"),
        "major_organ_activity": (
            major_ok,
            "no renal, CNS, cardiopulmonary, vasculitis or fever descriptor; no haemolysis or GI activity",
        ),
        "new_activity": (new_ok, "no new lupus activity since the previous assessment"),
        "pga_gt_1": (pga_ok, f"PGA {_fmt(data.pga)} (must be <= 1.0)"),
        "prednisolone_gt_7_5": (
            pred_ok,
            f"prednisolone {_fmt(data.prednisolone_mg_per_day)} mg/day (<= 7.5)",
        ),
        "maintenance_therapy_not_standard_or_not_tolerated": (
            therapy_ok,
            "well-tolerated standard maintenance immunosuppressants/approved biologics",
        ),
    }
    result = _and3([ok for ok, _ in criteria.values()])
    missing = _missing(
        data,
        (
            "sledai_2k_active_descriptors",
            "haemolytic_anaemia",
            "gastrointestinal_activity",
            "new_activity_since_previous_assessment",
            "pga",
            "prednisolone_mg_per_day",
            "standard_maintenance_therapy_well_tolerated",
        ),
    ) + [f"descriptors.{d}" for d in data.unassessed_descriptors]
    values: dict[str, Any] = {
        "sledai_2k": rng.low if rng.known and data.sledai_2k_active_descriptors is not None else None,
        "lldas": result,
        "failed_criteria": sorted(name for name, (ok, _) in criteria.items() if ok is False),
        "threshold_arithmetic": data.threshold_arithmetic,
    }
    return InstrumentResult(
        instrument="lldas",
        version="lldas_2016",
        items=_criterion_items(criteria),
        complete=not missing,
        missing=tuple(missing),
        values=values,
    )


# ---------------------------------------------------------------------------------------- DORIS


class DorisInput(_ActivityInput):
    """Input of ``doris_2021`` (spec section 16)."""

    on_antimalarial: Flag | None = Field(
        default=None, description="Recorded only: antimalarials are allowed, not required."
    )
    immunosuppressives_and_biologics_stable: Flag | None = None
    prednisolone_rule: Literal["le_5", "lt_5"] = Field(
        default="le_5", description="Steroid cut-off: <=5 mg/day (abstract, default) or <5 (Table 2)."
    )
    pga_rule: Literal["lt_0_5", "le_0_5"] = Field(
        default="lt_0_5", description="PGA cut-off: <0.5 (2021, default) or <=0.5 (2017 framework)."
    )


def score_doris_2021(inp: DorisInput | Mapping[str, Any]) -> InstrumentResult:
    """DORIS 2021 remission at one visit: clinical SLEDAI 0, PGA < 0.5, prednisolone <= 5, stable IS.

    Returns ``clinical_sledai`` (null if unknown), ``doris_remission`` (true/false/null) and
    ``failed_criteria`` (``clinical_sledai_not_0``, ``pga_ge_0_5``, ``prednisolone_gt_5``,
    ``immunosuppressives_or_biologics_not_stable``). Serology is recorded, never required.
    """
    data = validate_input(DorisInput, inp)
    rng = _sledai_range(data.sledai_2k_active_descriptors, data.unassessed_descriptors)
    pga_op, pga_cut = DORIS_PGA_RULES[data.pga_rule]
    pred_op, pred_cut = DORIS_PRED_RULES[data.prednisolone_rule]
    pga = _steps(data.pga, PGA_STEPS, data.threshold_arithmetic)
    pred = _steps(data.prednisolone_mg_per_day, DOSE_STEPS, data.threshold_arithmetic)
    clinical_ok: bool | None = False if rng.clinical_low > 0 else True if rng.clinical_high == 0 else None
    criteria: dict[str, tuple[bool | None, str]] = {
        "clinical_sledai_not_0": (
            clinical_ok,
            f"clinical SLEDAI {_fmt_range(rng.clinical_low, rng.clinical_high)} (must be 0)",
        ),
        "pga_ge_0_5": (
            None if pga is None else _compare(pga_op, pga, pga_cut),
            f"PGA {_fmt(data.pga)} (must be {pga_op} 0.5)",
        ),
        "prednisolone_gt_5": (
            None if pred is None else _compare(pred_op, pred, pred_cut),
            f"prednisolone {_fmt(data.prednisolone_mg_per_day)} mg/day (must be {pred_op} 5)",
        ),
        "immunosuppressives_or_biologics_not_stable": (
            data.immunosuppressives_and_biologics_stable,
            "immunosuppressives and biologics stable (no escalation for activity)",
        ),
    }
    serology_active = sorted(set(data.sledai_2k_active_descriptors or ()) & set(SEROLOGY))
    missing = _missing(
        data,
        (
            "sledai_2k_active_descriptors",
            "pga",
            "prednisolone_mg_per_day",
            "immunosuppressives_and_biologics_stable",
        ),
    ) + [f"descriptors.{d}" for d in data.unassessed_descriptors if d not in SEROLOGY]
    values: dict[str, Any] = {
        "clinical_sledai": rng.clinical_low
        if rng.clinical_low == rng.clinical_high and data.sledai_2k_active_descriptors is not None
        else None,
        "doris_remission": _and3([ok for ok, _ in criteria.values()]),
        "failed_criteria": sorted(name for name, (ok, _) in criteria.items() if ok is False),
        "serology_active": serology_active,
        "on_antimalarial": data.on_antimalarial,
        "prednisolone_rule": data.prednisolone_rule,
        "pga_rule": data.pga_rule,
        "threshold_arithmetic": data.threshold_arithmetic,
    }
    return InstrumentResult(
        instrument="doris_2021",
        version="doris_2021",
        items=_criterion_items(criteria),
        complete=not missing,
        missing=tuple(missing),
        values=values,
    )


# ------------------------------------------------------------------------------------------ SRI


class SriInput(StrictInput):
    """Input of ``sri_4`` (spec section 16); ``threshold`` 5-8 gives SRI-5..SRI-8."""

    sledai_baseline: Annotated[StrictInt, Field(ge=0, le=105), BeforeValidator(plain_scalar)]
    sledai_followup: Annotated[StrictInt, Field(ge=0, le=105), BeforeValidator(plain_scalar)]
    bilag_baseline: dict[BilagDomain, BilagGrade] | None = None
    bilag_followup: dict[BilagDomain, BilagGrade] | None = None
    pga_baseline: Pga | None = None
    pga_followup: Pga | None = None
    threshold: Annotated[StrictInt, Field(ge=4, le=8)] = 4
    sledai_version: Literal["selena_sledai", "sledai_2k"] = "selena_sledai"
    use_bilag: StrictBool = Field(default=True, description="False = modified SRI without BILAG.")
    rescue_therapy: StrictBool | None = Field(
        default=None, description="Optional trial rule: rescue/prohibited medication means non-responder."
    )
    threshold_arithmetic: ThresholdArithmetic = "round_to_precision"


def score_sri(inp: SriInput | Mapping[str, Any], threshold: int | None = None) -> InstrumentResult:
    """SLE Responder Index (SRI-4; SRI-5..8 with ``threshold``), follow-up versus baseline.

    Responder = SLEDAI reduction >= threshold AND no new BILAG A and <= 1 new BILAG B AND PGA
    worsening < 0.3 (exactly +0.3 fails) [AND no rescue therapy, when given].
    """
    data = validate_input(SriInput, inp)
    if threshold is not None:
        data = validate_input(SriInput, {**data.model_dump(), "threshold": threshold})
    n = data.threshold
    reduction = data.sledai_baseline - data.sledai_followup
    sledai_ok = reduction >= n

    missing: list[str] = []
    new_a: int | None = None
    new_b: int | None = None
    bilag_ok: bool | None = True
    if data.use_bilag:
        base, follow = data.bilag_baseline or {}, data.bilag_followup or {}
        missing += [f"bilag_baseline.{d}" for d in BILAG_DOMAINS if d not in base]
        missing += [f"bilag_followup.{d}" for d in BILAG_DOMAINS if d not in follow]
        known = [d for d in BILAG_DOMAINS if d in base and d in follow]
        new_a = sum(1 for d in known if follow[d] == "A" and base[d] != "A")  # type: ignore[index]
        new_b = sum(1 for d in known if follow[d] == "B" and base[d] in ("C", "D", "E"))  # type: ignore[index]
        if new_a > 0 or new_b > 1:
            bilag_ok = False
        elif len(known) < len(BILAG_DOMAINS):
            bilag_ok = None  # an unknown domain could still add a new A or a second new B
    pga_change: float | None = None
    pga_ok: bool | None = None
    if data.pga_baseline is None or data.pga_followup is None:
        missing += [n_ for n_ in ("pga_baseline", "pga_followup") if getattr(data, n_) is None]
    else:
        change_tenths = _exact_or_rounded(
            data.pga_followup, PGA_STEPS, data.threshold_arithmetic
        ) - _exact_or_rounded(data.pga_baseline, PGA_STEPS, data.threshold_arithmetic)
        pga_change = float(change_tenths / PGA_STEPS)
        pga_ok = change_tenths < SRI_PGA_WORSENING_TENTHS
    rescue_ok = None if data.rescue_therapy is None else not data.rescue_therapy
    responder = _and3(
        [sledai_ok, bilag_ok, pga_ok] + ([rescue_ok] if data.rescue_therapy is not None else [])
    )

    criteria: dict[str, tuple[bool | None, str]] = {
        f"sledai_reduction_ge_{n}": (
            sledai_ok,
            f"{data.sledai_version} reduction {reduction} (must be >= {n})",
        ),
        "bilag_criterion": (
            bilag_ok,
            "no new BILAG A and <= 1 new BILAG B" if data.use_bilag else "not applied (modified SRI)",
        ),
        "pga_criterion": (pga_ok, f"PGA change {_fmt(pga_change)} (worsening must be < 0.3)"),
    }
    if data.rescue_therapy is not None:
        criteria["no_rescue_therapy"] = (rescue_ok, "no rescue or protocol-prohibited medication")
    values: dict[str, Any] = {
        "sledai_reduction": reduction,
        f"sledai_reduction_ge_{n}": sledai_ok,
        "new_bilag_a_count": new_a,
        "new_bilag_b_count": new_b,
        "bilag_criterion_met": bilag_ok,
        "pga_change": pga_change,
        "pga_criterion_met": pga_ok,
        f"sri{n}_responder": responder,
        "responder": responder,
        "threshold": n,
        "sledai_version": data.sledai_version,
        "use_bilag": data.use_bilag,
        "threshold_arithmetic": data.threshold_arithmetic,
    }
    return InstrumentResult(
        instrument="sri_4" if n == 4 else f"sri_{n}",
        version=f"sri_{n}_{data.sledai_version}" + ("" if data.use_bilag else "_modified_no_bilag"),
        items=_criterion_items(criteria),
        complete=not missing,
        missing=tuple(missing),
        values=values,
    )


# ---------------------------------------------------------------------------------------- helpers


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def _fmt_range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high} (unknown descriptors)"


def _criterion_items(criteria: Mapping[str, tuple[bool | None, str]]) -> tuple[Item, ...]:
    """One item per criterion, named by its failure code; the reason starts met/FAILED/unknown."""
    label = {True: "met", False: "FAILED", None: "unknown"}
    return tuple(Item(name, None, f"{label[ok]}: {reason}") for name, (ok, reason) in criteria.items())


def _score_sri4(inp: Any) -> InstrumentResult:
    return score_sri(inp)


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="sri_4",
        input_model=SriInput,
        scorer=_score_sri4,
        version="sri_4",
        source=SRI_SOURCE,
        summary="SLE Responder Index (SRI-4; SRI-5..8 via threshold): SLEDAI, BILAG and PGA criteria",
    ),
    InstrumentSpec(
        name="lldas",
        input_model=LldasInput,
        scorer=score_lldas,
        version="lldas_2016",
        source=LLDAS_SOURCE,
        summary="Lupus Low Disease Activity State (5 criteria) at one visit",
    ),
    InstrumentSpec(
        name="doris_2021",
        input_model=DorisInput,
        scorer=score_doris_2021,
        version="doris_2021",
        source=DORIS_SOURCE,
        summary="DORIS 2021 remission: clinical SLEDAI 0, PGA < 0.5, prednisolone <= 5 mg/day, stable IS",
    ),
)
