"""Response and state definitions: SRI-4 (and SRI-5..8), LLDAS, DORIS 2021 remission.

Sources
-------
* SRI: Furie RA, Petri MA, Wallace DJ, et al. Novel evidence-based systemic lupus
  erythematosus responder index. Arthritis Rheum 2009;61(9):1143-1151.
* LLDAS: Franklyn K, Lau CS, Navarra SV, et al. Definition and initial validation of a Lupus
  Low Disease Activity State (LLDAS). Ann Rheum Dis 2016;75(9):1615-1621,
  doi:10.1136/annrheumdis-2015-207726.
* DORIS: van Vollenhoven RF, Bertsias G, Doria A, et al. 2021 DORIS definition of remission
  in SLE. Lupus Sci Med 2021;8(1):e000538, doi:10.1136/lupus-2021-000538.

Conventions
-----------
* Threshold arithmetic (option ``threshold_arithmetic``, echoed in the result; both avoid the
  IEEE trap ``1.4 - 1.1 = 0.2999999999999998``). ``round_to_precision`` (default): PGA (0-3)
  is rounded half-up to 0.1 and prednisolone to 0.01 mg and compared in integer steps
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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

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
    printed,
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
BilagGrade = vocab.BilagGrade
BilagDomain = vocab.BilagDomain
BILAG_DOMAINS: tuple[BilagDomain, ...] = get_args(BilagDomain)  # the 9 BILAG-2004 domains

#: SLEDAI-2K descriptors that are "major organ activity" for LLDAS criterion 1 (Franklyn 2016,
#: Table 1: renal, CNS, cardiopulmonary, vasculitis, fever).
LLDAS_MAJOR_ORGAN: tuple[Descriptor, ...] = (
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
#: DORIS conventions: PGA "< 0.5" (2021) or "<= 0.5" (2017 framework); prednisolone "<= 5"
#: (abstract, main text) or "< 5" (Table 2) mg/day; each rule -> (operator, cut-off in steps).
PgaRule = Literal["lt_0_5", "le_0_5"]
PrednisoloneRule = Literal["le_5", "lt_5"]
DORIS_PGA_RULES: Mapping[str, tuple[str, int]] = {"lt_0_5": ("<", 5), "le_0_5": ("<=", 5)}
DORIS_PRED_RULES: Mapping[str, tuple[str, int]] = {"le_5": ("<=", 500), "lt_5": ("<", 500)}
SRI_PGA_WORSENING_TENTHS = 3  # worsening >= 0.3 fails
#: Round to the instrument's precision (default) or compare the exact decimals as written.
ThresholdArithmeticRule = Literal["round_to_precision", "exact_decimal"]
THRESHOLD_ARITHMETIC: tuple[ThresholdArithmeticRule, ...] = get_args(ThresholdArithmeticRule)
ThresholdArithmetic = Annotated[
    ThresholdArithmeticRule,
    Field(
        description="round_to_precision: PGA to 0.1 and doses to 0.01 mg (half-up) before comparing "
        "(default); exact_decimal: compare the decimals as written."
    ),
]

LLDAS_SOURCE = "Franklyn K et al. Ann Rheum Dis 2016;75(9):1615-1621, doi:10.1136/annrheumdis-2015-207726"
DORIS_SOURCE = "van Vollenhoven RF et al. Lupus Sci Med 2021;8(1):e000538, doi:10.1136/lupus-2021-000538"
SRI_SOURCE = "Furie RA et al. Arthritis Rheum 2009;61(9):1143-1151"

#: Failure codes of the criteria, in the order they are checked (``failed_criteria`` is sorted).
LldasFailure = Literal[
    "sledai_2k_gt_4",
    "major_organ_activity",
    "new_activity",
    "pga_gt_1",
    "prednisolone_gt_7_5",
    "maintenance_therapy_not_standard_or_not_tolerated",
]
LLDAS_FAILURES: tuple[LldasFailure, ...] = get_args(LldasFailure)
DorisFailure = Literal[
    "clinical_sledai_not_0",
    "pga_ge_0_5",
    "prednisolone_gt_5",
    "immunosuppressives_or_biologics_not_stable",
]
DORIS_FAILURES: tuple[DorisFailure, ...] = get_args(DorisFailure)


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
    """Input of ``lldas`` (docs/instruments/lldas.md)."""

    haemolytic_anaemia: Flag | None = None
    gastrointestinal_activity: Flag | None = None
    new_activity_since_previous_assessment: Flag | None = None
    standard_maintenance_therapy_well_tolerated: Flag | None = None


@dataclass(frozen=True, kw_only=True)
class LldasResult(InstrumentResult):
    """Result of ``lldas``: SLEDAI-2K (null if unknown), the state (true/false/null) and the
    definite failures, sorted."""

    sledai_2k: int | None = None
    lldas: bool | None = None
    failed_criteria: tuple[LldasFailure, ...] = ()
    threshold_arithmetic: ThresholdArithmeticRule = "round_to_precision"


def _lldas_criteria(data: LldasInput, rng: _SledaiRange) -> dict[LldasFailure, tuple[bool | None, str]]:
    """Each LLDAS criterion (by failure code): met / failed / unknown, with its reason."""
    pga = _steps(data.pga, PGA_STEPS, data.threshold_arithmetic)
    pred = _steps(data.prednisolone_mg_per_day, DOSE_STEPS, data.threshold_arithmetic)
    sledai_ok: bool | None = (
        False if rng.low > LLDAS_SLEDAI_MAX else True if rng.high <= LLDAS_SLEDAI_MAX else None
    )
    major_flags = [not rng.major_known and (None if rng.major_unknown else True)]
    major_flags += [_not3(v) for v in (data.haemolytic_anaemia, data.gastrointestinal_activity)]
    return {
        "sledai_2k_gt_4": (sledai_ok, f"SLEDAI-2K {_fmt_range(rng.low, rng.high)} (must be <= 4)"),
        "major_organ_activity": (
            _and3(major_flags),
            "no renal, CNS, cardiopulmonary, vasculitis or fever descriptor; no haemolysis or GI activity",
        ),
        "new_activity": (
            _not3(data.new_activity_since_previous_assessment),
            "no new lupus activity since the previous assessment",
        ),
        "pga_gt_1": (None if pga is None else pga <= LLDAS_PGA_MAX_TENTHS, f"PGA {_fmt(data.pga)} (must be <= 1.0)"),
        "prednisolone_gt_7_5": (
            None if pred is None else pred <= LLDAS_PRED_MAX_HUNDREDTHS,
            f"prednisolone {_fmt(data.prednisolone_mg_per_day)} mg/day (<= 7.5)",
        ),
        "maintenance_therapy_not_standard_or_not_tolerated": (
            data.standard_maintenance_therapy_well_tolerated,
            "well-tolerated standard maintenance immunosuppressants/approved biologics",
        ),
    }


def score_lldas(inp: LldasInput | Mapping[str, Any]) -> LldasResult:
    """Lupus Low Disease Activity State at one visit (all five criteria of Franklyn 2016).

    Returns ``sledai_2k`` (null if unknown), ``lldas`` (true/false/null) and ``failed_criteria``
    (sorted, drawn from ``sledai_2k_gt_4``, ``major_organ_activity``, ``new_activity``,
    ``pga_gt_1``, ``prednisolone_gt_7_5``, ``maintenance_therapy_not_standard_or_not_tolerated``).

    References
    ----------
    Franklyn K et al. Ann Rheum Dis 2016;75(9):1615-1621, doi:10.1136/annrheumdis-2015-207726.
    """
    data = validate_input(LldasInput, inp)
    rng = _sledai_range(data.sledai_2k_active_descriptors, data.unassessed_descriptors)
    criteria = _lldas_criteria(data, rng)
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
    return LldasResult(
        instrument="lldas",
        version="lldas_2016",
        items=_criterion_items(criteria),
        complete=not missing,
        missing=tuple(missing),
        sledai_2k=rng.low if rng.known and data.sledai_2k_active_descriptors is not None else None,
        lldas=_and3([ok for ok, _ in criteria.values()]),
        failed_criteria=_failed(criteria),
        threshold_arithmetic=data.threshold_arithmetic,
    )


# ---------------------------------------------------------------------------------------- DORIS


class DorisInput(_ActivityInput):
    """Input of ``doris_2021`` (docs/instruments/doris_2021.md)."""

    on_antimalarial: Flag | None = Field(
        default=None, description="Recorded only: antimalarials are allowed, not required."
    )
    immunosuppressives_and_biologics_stable: Flag | None = None
    prednisolone_rule: PrednisoloneRule = Field(
        default="le_5", description="Steroid cut-off: <=5 mg/day (abstract, default) or <5 (Table 2)."
    )
    pga_rule: PgaRule = Field(
        default="lt_0_5", description="PGA cut-off: <0.5 (2021, default) or <=0.5 (2017 framework)."
    )


@dataclass(frozen=True, kw_only=True)
class DorisResult(InstrumentResult):
    """Result of ``doris_2021``: clinical SLEDAI (null if unknown), remission (true/false/null),
    the definite failures (sorted), the serology recorded and the conventions applied."""

    clinical_sledai: int | None = None
    doris_remission: bool | None = None
    failed_criteria: tuple[DorisFailure, ...] = ()
    serology_active: tuple[Descriptor, ...] = ()
    on_antimalarial: bool | None = None
    prednisolone_rule: PrednisoloneRule = "le_5"
    pga_rule: PgaRule = "lt_0_5"
    threshold_arithmetic: ThresholdArithmeticRule = "round_to_precision"


def _doris_criteria(data: DorisInput, rng: _SledaiRange) -> dict[DorisFailure, tuple[bool | None, str]]:
    """Each DORIS criterion (by failure code): met / failed / unknown, with its reason."""
    pga_op, pga_cut = DORIS_PGA_RULES[data.pga_rule]
    pred_op, pred_cut = DORIS_PRED_RULES[data.prednisolone_rule]
    pga = _steps(data.pga, PGA_STEPS, data.threshold_arithmetic)
    pred = _steps(data.prednisolone_mg_per_day, DOSE_STEPS, data.threshold_arithmetic)
    clinical_ok: bool | None = False if rng.clinical_low > 0 else True if rng.clinical_high == 0 else None
    return {
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


def score_doris_2021(inp: DorisInput | Mapping[str, Any]) -> DorisResult:
    """DORIS 2021 remission at one visit: clinical SLEDAI 0, PGA < 0.5, prednisolone <= 5, stable IS.

    Returns ``clinical_sledai`` (null if unknown), ``doris_remission`` (true/false/null) and
    ``failed_criteria`` (``clinical_sledai_not_0``, ``pga_ge_0_5``, ``prednisolone_gt_5``,
    ``immunosuppressives_or_biologics_not_stable``). Serology is recorded, never required.

    References
    ----------
    van Vollenhoven RF et al. Lupus Sci Med 2021;8(1):e000538, doi:10.1136/lupus-2021-000538.
    """
    data = validate_input(DorisInput, inp)
    rng = _sledai_range(data.sledai_2k_active_descriptors, data.unassessed_descriptors)
    criteria = _doris_criteria(data, rng)
    missing = _missing(
        data,
        (
            "sledai_2k_active_descriptors",
            "pga",
            "prednisolone_mg_per_day",
            "immunosuppressives_and_biologics_stable",
        ),
    ) + [f"descriptors.{d}" for d in data.unassessed_descriptors if d not in SEROLOGY]
    known = rng.clinical_low == rng.clinical_high and data.sledai_2k_active_descriptors is not None
    return DorisResult(
        instrument="doris_2021",
        version="doris_2021",
        items=_criterion_items(criteria),
        complete=not missing,
        missing=tuple(missing),
        clinical_sledai=rng.clinical_low if known else None,
        doris_remission=_and3([ok for ok, _ in criteria.values()]),
        failed_criteria=_failed(criteria),
        serology_active=tuple(sorted(set(data.sledai_2k_active_descriptors or ()) & set(SEROLOGY))),
        on_antimalarial=data.on_antimalarial,
        prednisolone_rule=data.prednisolone_rule,
        pga_rule=data.pga_rule,
        threshold_arithmetic=data.threshold_arithmetic,
    )


# ------------------------------------------------------------------------------------------ SRI


SriSledaiVersion = Literal["selena_sledai", "sledai_2k"]


class SriInput(StrictInput):
    """Input of ``sri_4`` (docs/instruments/sri_4.md); ``threshold`` 5-8 gives SRI-5..SRI-8."""

    sledai_baseline: Annotated[StrictInt, Field(ge=0, le=105), BeforeValidator(plain_scalar)]
    sledai_followup: Annotated[StrictInt, Field(ge=0, le=105), BeforeValidator(plain_scalar)]
    bilag_baseline: dict[BilagDomain, BilagGrade] | None = None
    bilag_followup: dict[BilagDomain, BilagGrade] | None = None
    pga_baseline: Pga | None = None
    pga_followup: Pga | None = None
    threshold: Annotated[StrictInt, Field(ge=4, le=8)] = 4
    sledai_version: SriSledaiVersion = "selena_sledai"
    use_bilag: StrictBool = Field(default=True, description="False = modified SRI without BILAG.")
    rescue_therapy: StrictBool | None = Field(
        default=None, description="Optional trial rule: rescue/prohibited medication means non-responder."
    )
    threshold_arithmetic: ThresholdArithmetic = "round_to_precision"


@dataclass(frozen=True, kw_only=True)
class SriResult(InstrumentResult):
    """Result of ``sri_4`` (or SRI-5..8): each component and the responder status.

    Two JSON keys carry the threshold: ``sledai_reduction_ge_{threshold}`` and
    ``sri{threshold}_responder`` (printed beside the plain ``responder``).
    """

    sledai_reduction: int = 0
    sledai_reduction_ge_threshold: bool = field(
        default=False, metadata=printed(keys=("sledai_reduction_ge_{self.threshold}",))
    )
    new_bilag_a_count: int | None = None
    new_bilag_b_count: int | None = None
    bilag_criterion_met: bool | None = None
    pga_change: float | None = None
    pga_criterion_met: bool | None = None
    responder: bool | None = field(
        default=None, metadata=printed(keys=("sri{self.threshold}_responder", "responder"))
    )
    threshold: int = 4
    sledai_version: SriSledaiVersion = "selena_sledai"
    use_bilag: bool = True
    threshold_arithmetic: ThresholdArithmeticRule = "round_to_precision"


def _sri_bilag(data: SriInput) -> tuple[int | None, int | None, bool | None, list[str]]:
    """(new A count, new B count, criterion met, missing domains): no new A, <= 1 new B."""
    if not data.use_bilag:
        return None, None, True, []
    base, follow = data.bilag_baseline or {}, data.bilag_followup or {}
    missing = [f"bilag_baseline.{d}" for d in BILAG_DOMAINS if d not in base]
    missing += [f"bilag_followup.{d}" for d in BILAG_DOMAINS if d not in follow]
    known = [d for d in BILAG_DOMAINS if d in base and d in follow]
    new_a = sum(1 for d in known if follow[d] == "A" and base[d] != "A")
    new_b = sum(1 for d in known if follow[d] == "B" and base[d] in ("C", "D", "E"))
    ok: bool | None = True
    if new_a > 0 or new_b > 1:
        ok = False
    elif len(known) < len(BILAG_DOMAINS):
        ok = None  # an unknown domain could still add a new A or a second new B
    return new_a, new_b, ok, missing


def _sri_pga(data: SriInput) -> tuple[float | None, bool | None, list[str]]:
    """(PGA change, criterion met, missing): a worsening of 0.3 or more fails."""
    if data.pga_baseline is None or data.pga_followup is None:
        return None, None, [n for n in ("pga_baseline", "pga_followup") if getattr(data, n) is None]
    change_tenths = _exact_or_rounded(
        data.pga_followup, PGA_STEPS, data.threshold_arithmetic
    ) - _exact_or_rounded(data.pga_baseline, PGA_STEPS, data.threshold_arithmetic)
    return float(change_tenths / PGA_STEPS), change_tenths < SRI_PGA_WORSENING_TENTHS, []


def score_sri(inp: SriInput | Mapping[str, Any], threshold: int | None = None) -> SriResult:
    """SLE Responder Index (SRI-4; SRI-5..8 with ``threshold``), follow-up versus baseline.

    Responder = SLEDAI reduction >= threshold AND no new BILAG A and <= 1 new BILAG B AND PGA
    worsening < 0.3 (exactly +0.3 fails) [AND no rescue therapy, when given].

    References
    ----------
    Furie RA et al. Arthritis Rheum 2009;61(9):1143-1151.
    """
    data = validate_input(SriInput, inp)
    if threshold is not None:
        data = validate_input(SriInput, {**data.model_dump(), "threshold": threshold})
    n = data.threshold
    reduction = data.sledai_baseline - data.sledai_followup
    sledai_ok = reduction >= n
    new_a, new_b, bilag_ok, missing = _sri_bilag(data)
    pga_change, pga_ok, pga_missing = _sri_pga(data)
    rescue_ok = _not3(data.rescue_therapy)
    criteria: dict[str, tuple[bool | None, str]] = {
        f"sledai_reduction_ge_{n}": (sledai_ok, f"{data.sledai_version} reduction {reduction} (must be >= {n})"),
        "bilag_criterion": (
            bilag_ok,
            "no new BILAG A and <= 1 new BILAG B" if data.use_bilag else "not applied (modified SRI)",
        ),
        "pga_criterion": (pga_ok, f"PGA change {_fmt(pga_change)} (worsening must be < 0.3)"),
    }
    if data.rescue_therapy is not None:
        criteria["no_rescue_therapy"] = (rescue_ok, "no rescue or protocol-prohibited medication")
    return SriResult(
        instrument="sri_4" if n == 4 else f"sri_{n}",
        version=f"sri_{n}_{data.sledai_version}" + ("" if data.use_bilag else "_modified_no_bilag"),
        items=_criterion_items(criteria),
        complete=not (missing + pga_missing),
        missing=tuple(missing + pga_missing),
        sledai_reduction=reduction,
        sledai_reduction_ge_threshold=sledai_ok,
        new_bilag_a_count=new_a,
        new_bilag_b_count=new_b,
        bilag_criterion_met=bilag_ok,
        pga_change=pga_change,
        pga_criterion_met=pga_ok,
        responder=_and3([ok for ok, _ in criteria.values()]),
        threshold=n,
        sledai_version=data.sledai_version,
        use_bilag=data.use_bilag,
        threshold_arithmetic=data.threshold_arithmetic,
    )


# ---------------------------------------------------------------------------------------- helpers


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def _fmt_range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high} (unknown descriptors)"


def _not3(value: bool | None) -> bool | None:
    """Kleene NOT: None stays unknown."""
    return None if value is None else not value


def _failed(criteria: Mapping[Any, tuple[bool | None, str]]) -> tuple[Any, ...]:
    """The definite failures among ``criteria``, sorted by failure code."""
    return tuple(sorted(name for name, (ok, _) in criteria.items() if ok is False))


def _criterion_items(criteria: Mapping[Any, tuple[bool | None, str]]) -> tuple[Item, ...]:
    """One item per criterion, named by its failure code; the reason starts met/FAILED/unknown."""
    label = {True: "met", False: "FAILED", None: "unknown"}
    return tuple(Item(name, None, f"{label[ok]}: {reason}") for name, (ok, reason) in criteria.items())


def _score_sri4(inp: Any) -> SriResult:
    return score_sri(inp)


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="sri_4",
        input_model=SriInput,
        scorer=_score_sri4,
        version="sri_4",
        source=SRI_SOURCE,
        summary="SLE Responder Index (SRI-4; SRI-5..8 via threshold): SLEDAI, BILAG and PGA criteria",
        result_type=SriResult,
    ),
    InstrumentSpec(
        name="lldas",
        input_model=LldasInput,
        scorer=score_lldas,
        version="lldas_2016",
        source=LLDAS_SOURCE,
        summary="Lupus Low Disease Activity State (5 criteria) at one visit",
        result_type=LldasResult,
    ),
    InstrumentSpec(
        name="doris_2021",
        input_model=DorisInput,
        scorer=score_doris_2021,
        version="doris_2021",
        source=DORIS_SOURCE,
        summary="DORIS 2021 remission: clinical SLEDAI 0, PGA < 0.5, prednisolone <= 5 mg/day, stable IS",
        result_type=DorisResult,
    ),
)
