"""CTCAE v5.0 laboratory grades and post-HSCT neutrophil / platelet engraftment.

Sources
-------
* NCI Common Terminology Criteria for Adverse Events (CTCAE) v5.0, 27 Nov 2017 (terms:
  neutrophil count decreased, platelet count decreased, lymphocyte count decreased, white
  blood cell decreased, anemia, creatinine increased). CTCAE v6.0 exists; this module pins
  v5.0 and stamps every grade ``ctcae_v5.0``.
* CIBMTR Forms Instruction Manual, neutrophil and platelet recovery (with the platelet worked
  example: a day-0 transfusion makes day 7 the first eligible count); Kharfan-Dabaja MA et al.,
  ASTCT consensus on engraftment and graft failure, Transplant Cell Ther 2021 (primary graft
  failure: no ANC >= 0.5 by day +30 for marrow/PBSC, +42 for cord blood).
* Conventions: docs/instruments/ctcae_v5.md and docs/instruments/engraftment.md.

CTCAE conventions
-----------------
* "<X - Y" means Y <= value < X: ANC exactly 1.0 is grade 2, exactly 0.5 grade 3; a value
  exactly at the LLN is grade 0; Hb exactly 10.0 g/dL is grade 1; creatinine exactly
  1.5 x ULN is grade 1.
* Grade 1 requires the value beyond the LLN/ULN; grades 2-4 are the absolute cut-offs of the
  term (as in pharmaverse/admiral's v5 metadata), so a laboratory with an unusually low LLN
  cannot hide a grade 2 value.
* Anaemia grade 4 ("life-threatening; urgent intervention indicated") cannot be derived from
  Hb: it needs the clinician flag ``anemia_life_threatening_urgent_intervention``.
* Creatinine: ``creatinine_increased_grade_uln_based`` always; with a baseline also
  ``creatinine_increased_grade_baseline_based`` (>1.5-3.0 x baseline 2, >3.0 x baseline 3) and
  ``creatinine_increased_grade`` = max of both (null while the ULN-based grade is unknown,
  i.e. a creatinine without its ULN: a missing ULN is never read as grade 0). Multiples of ULN/baseline are compared in
  exact decimal arithmetic (1.8 mg/dL with ULN 1.2 is exactly 1.5 x ULN: grade 1).

Engraftment conventions
-----------------------
* Day 0 is the infusion day; ``days`` are strictly increasing integers (gaps allowed, a gap
  breaks a run of consecutive days). ``NaN``/``null`` values are "not measured".
* Neutrophils: search from the nadir (day of minimum ANC, earliest on a tie); the engraftment
  day is the first of ``consecutive`` (default 3) values >= 0.5 on consecutive calendar days.
  If the ANC never falls below 0.5 the status is ``never_below`` and the day is null.
* Platelets: search from the earlier of the first count below the threshold and the first
  platelet transfusion; a count on day d is unsupported if no platelet transfusion fell on days
  d-6 .. d (``transfusion_free_days`` = 7). Reported for 3 (primary) and 7 (variant; not
  confirmed from an EBMT source) consecutive days. Never below and never transfused:
  ``never_below``.
* Primary graft failure flag: no neutrophil engraftment day <= day +30 (bone marrow or PBSC) or
  +42 (cord blood); null while the series is too short to tell. Pancytopenia must be confirmed
  by the clinician.

Why hand-written: the engraftment searches are single passes over ~100-point series called for
100,000 patients by the outcomes engine; a plain loop over Python sequences is cheaper than
building numpy arrays per patient, and no library implements the CIBMTR rules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lupuscell.instruments._ranges import Range, TypedInput, dec
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, printed, validate_input

CTCAE_VERSION = "ctcae_v5.0"
CTCAE_SOURCE = "NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017)"
ENGRAFTMENT_VERSION = "cibmtr_astct_2021"
ENGRAFTMENT_SOURCE = (
    "CIBMTR Forms Instruction Manual (neutrophil and platelet recovery); "
    "Kharfan-Dabaja MA et al., ASTCT consensus, Transplant Cell Ther 2021"
)

# ---------------------------------------------------------------------------------- CTCAE v5.0

#: "Decreased" terms: absolute lower bounds of grades 2, 3 and 4 (value < bound -> that grade),
#: or None where the grade cannot be derived from the value (anaemia grade 4).
DECREASED_CUTOFFS: dict[str, tuple[float, float, float | None]] = {
    "neutrophil_count_decreased": (1.5, 1.0, 0.5),
    "platelet_count_decreased": (75.0, 50.0, 25.0),
    "lymphocyte_count_decreased": (0.8, 0.5, 0.2),
    "white_blood_cell_decreased": (3.0, 2.0, 1.0),
    "anemia": (10.0, 8.0, None),
}
#: Creatinine increased, ULN-based: value > multiple x ULN -> grade (checked top-down).
CREATININE_ULN_MULTIPLES: tuple[tuple[Decimal, int], ...] = (
    (Decimal("6.0"), 4),
    (Decimal("3.0"), 3),
    (Decimal("1.5"), 2),
    (Decimal("1"), 1),
)
#: Creatinine increased, baseline-based (v5 gives grades 2 and 3 only).
CREATININE_BASELINE_MULTIPLES: tuple[tuple[Decimal, int], ...] = ((Decimal("3.0"), 3), (Decimal("1.5"), 2))
CTCAE_TERMS: tuple[str, ...] = (*DECREASED_CUTOFFS, "creatinine_increased", "creatinine_increased_baseline")


def _decreased_grade(cutoffs: tuple[float, float, float | None], value: float, lln: float) -> int:
    g2, g3, g4 = cutoffs
    if g4 is not None and value < g4:
        return 4
    if value < g3:
        return 3
    if value < g2:
        return 2
    return 1 if value < lln else 0


def _increased_grade(table: tuple[tuple[Decimal, int], ...], value: float, reference: float) -> int:
    v, ref = dec(value), dec(reference)
    for multiple, grade in table:
        if v > multiple * ref:
            return grade
    return 0


def ctcae_grade(term: str, value: float, lln_or_uln: float) -> int:
    """CTCAE v5.0 grade of one laboratory value.

    Parameters
    ----------
    term
        One of ``CTCAE_TERMS`` (the printed CTCAE spelling, e.g. "Platelet count decreased",
        is accepted too): the "decreased" terms and ``anemia`` take the LLN;
        ``creatinine_increased`` takes the ULN; ``creatinine_increased_baseline`` takes the
        patient's baseline creatinine.
    value
        The measurement in the term's unit (counts x10^9/L, Hb g/dL, creatinine mg/dL).
    lln_or_uln
        The laboratory's LLN (decreased terms) or ULN / baseline (creatinine).

    Returns
    -------
    int
        Grade 0-4. Anaemia never returns 4 (needs a clinician flag, see ``score_ctcae``).
    """
    cutoffs = DECREASED_CUTOFFS.get(term)
    if cutoffs is not None:
        return _decreased_grade(cutoffs, value, lln_or_uln)
    if term not in CTCAE_TERMS:
        # accept the printed CTCAE spelling too: "Neutrophil count decreased", "Anemia"
        normalised = "_".join(term.lower().replace("-", " ").split())
        if normalised in CTCAE_TERMS:
            return ctcae_grade(normalised, value, lln_or_uln)
    if term == "creatinine_increased":
        return _increased_grade(CREATININE_ULN_MULTIPLES, value, lln_or_uln)
    if term == "creatinine_increased_baseline":
        return _increased_grade(CREATININE_BASELINE_MULTIPLES, value, lln_or_uln)
    raise ValueError(f"unknown CTCAE term {term!r}; known: {', '.join(CTCAE_TERMS)}")


Count = Annotated[float | None, Range(0, 2000, "x10^9/L")]
SmallCount = Annotated[float | None, Range(0, 1000, "x10^9/L")]


class CtcaeInput(TypedInput):
    """Input of ``ctcae_v5``; each value needs its LLN/ULN (docs/instruments/ctcae_v5.md)."""

    anc_10e9_l: SmallCount = None
    anc_lln_10e9_l: Annotated[float | None, Range(0, 20, "x10^9/L", lo_open=True)] = None
    platelets_10e9_l: Count = None
    platelets_lln_10e9_l: Annotated[float | None, Range(0, 1000, "x10^9/L", lo_open=True)] = None
    lymphocytes_10e9_l: SmallCount = None
    lymphocytes_lln_10e9_l: Annotated[float | None, Range(0, 20, "x10^9/L", lo_open=True)] = None
    wbc_10e9_l: SmallCount = None
    wbc_lln_10e9_l: Annotated[float | None, Range(0, 30, "x10^9/L", lo_open=True)] = None
    hemoglobin_g_dl: Annotated[float | None, Range(0, 30, "g/dL")] = None
    hemoglobin_lln_g_dl: Annotated[float | None, Range(0, 30, "g/dL", lo_open=True)] = None
    anemia_life_threatening_urgent_intervention: bool = False
    """Clinician flag for anaemia grade 4 (cannot be derived from Hb)."""
    creatinine_mg_dl: Annotated[float | None, Range(0, 40, "mg/dL")] = None
    creatinine_uln_mg_dl: Annotated[float | None, Range(0, 10, "mg/dL", lo_open=True)] = None
    creatinine_baseline_mg_dl: Annotated[float | None, Range(0, 40, "mg/dL", lo_open=True)] = None
    """Patient's baseline creatinine, for the baseline-based grade."""

    @model_validator(mode="after")
    def _something_given(self) -> CtcaeInput:
        values = (
            self.anc_10e9_l,
            self.platelets_10e9_l,
            self.lymphocytes_10e9_l,
            self.wbc_10e9_l,
            self.hemoglobin_g_dl,
            self.creatinine_mg_dl,
        )
        if all(v is None for v in values) and not self.anemia_life_threatening_urgent_intervention:
            raise ValueError(
                "give at least one of anc_10e9_l, platelets_10e9_l, lymphocytes_10e9_l, "
                "wbc_10e9_l, hemoglobin_g_dl, creatinine_mg_dl"
            )
        return self


#: output field -> (term, value field, reference field, unit)
_CTCAE_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "neutrophil_count_decreased_grade",
        "neutrophil_count_decreased",
        "anc_10e9_l",
        "anc_lln_10e9_l",
        "x10^9/L",
    ),
    (
        "platelet_count_decreased_grade",
        "platelet_count_decreased",
        "platelets_10e9_l",
        "platelets_lln_10e9_l",
        "x10^9/L",
    ),
    (
        "lymphocyte_count_decreased_grade",
        "lymphocyte_count_decreased",
        "lymphocytes_10e9_l",
        "lymphocytes_lln_10e9_l",
        "x10^9/L",
    ),
    (
        "white_blood_cell_decreased_grade",
        "white_blood_cell_decreased",
        "wbc_10e9_l",
        "wbc_lln_10e9_l",
        "x10^9/L",
    ),
    ("anemia_grade", "anemia", "hemoglobin_g_dl", "hemoglobin_lln_g_dl", "g/dL"),
    (
        "creatinine_increased_grade_uln_based",
        "creatinine_increased",
        "creatinine_mg_dl",
        "creatinine_uln_mg_dl",
        "mg/dL",
    ),
)


@dataclass(frozen=True, kw_only=True)
class CtcaeResult(InstrumentResult):
    """Result of ``ctcae_v5``: one grade per term (null = not measured or not assessable)."""

    neutrophil_count_decreased_grade: int | None = None
    platelet_count_decreased_grade: int | None = None
    lymphocyte_count_decreased_grade: int | None = None
    white_blood_cell_decreased_grade: int | None = None
    anemia_grade: int | None = None
    creatinine_increased_grade_uln_based: int | None = None
    creatinine_increased_grade_baseline_based: int | None = None
    creatinine_increased_grade: int | None = None
    grading_system: str = "CTCAE_v5.0"


def _term_grade(
    term: str, v: float | None, ref: float | None, names: tuple[str, str], unit: str
) -> tuple[int | None, str, str | None]:
    """(grade, reason, missing field) of one term from its value and LLN/ULN."""
    vfield, rfield = names
    if v is None and ref is None:
        return None, "not measured", None
    if v is None:
        return None, f"{rfield} given without {vfield}", vfield
    if ref is None:
        cut = DECREASED_CUTOFFS.get(term)
        if cut is not None and v < cut[0]:
            # grades 2-4 use absolute cut-offs: the LLN is not needed
            reason = f"{v:g} {unit} (< {cut[0]:g}: grade >= 2 needs no LLN)"
            return _decreased_grade(cut, v, math.inf), reason, None
        return None, f"{vfield} {v:g} {unit} given without {rfield}: grade unknown", rfield
    kind = "ULN" if term.startswith("creatinine") else "LLN"
    return ctcae_grade(term, v, ref), f"{v:g} {unit} ({kind} {ref:g})", None


def score_ctcae(inputs: CtcaeInput | Mapping[str, Any]) -> CtcaeResult:
    """CTCAE v5.0 grades of the laboratory values given (null grade = not assessable).

    References
    ----------
    NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017).
    """
    inp = validate_input(CtcaeInput, inputs)
    data = inp.model_dump()
    grades: dict[str, int | None] = {}
    items: list[Item] = []
    missing: list[str] = []
    for out, term, vfield, rfield, unit in _CTCAE_FIELDS:
        grade, reason, absent = _term_grade(term, data[vfield], data[rfield], (vfield, rfield), unit)
        grades[out] = grade
        missing += [absent] if absent else []
        if data[vfield] is not None or data[rfield] is not None:
            items.append(Item(out.replace("_grade", ""), grade, reason))
    if inp.anemia_life_threatening_urgent_intervention:
        grades["anemia_grade"] = 4
        items = [i for i in items if i.name != "anemia"]
        items.append(Item("anemia", 4, "life-threatening; urgent intervention indicated (clinician flag)"))
        if "hemoglobin_lln_g_dl" in missing:
            missing.remove("hemoglobin_lln_g_dl")
    base, cr = inp.creatinine_baseline_mg_dl, inp.creatinine_mg_dl
    baseline_grade = None
    if base is not None and cr is not None:
        baseline_grade = ctcae_grade("creatinine_increased_baseline", cr, base)
        reason = f"{cr:g} mg/dL vs baseline {base:g}"
        items.append(Item("creatinine_increased_baseline_based", baseline_grade, reason))
    uln_grade = grades["creatinine_increased_grade_uln_based"]
    known = [g for g in (uln_grade, baseline_grade) if g is not None]
    return CtcaeResult(
        instrument="ctcae_v5",
        version=CTCAE_VERSION,
        items=tuple(items),
        complete=not missing,
        missing=tuple(missing),
        neutrophil_count_decreased_grade=grades["neutrophil_count_decreased_grade"],
        platelet_count_decreased_grade=grades["platelet_count_decreased_grade"],
        lymphocyte_count_decreased_grade=grades["lymphocyte_count_decreased_grade"],
        white_blood_cell_decreased_grade=grades["white_blood_cell_decreased_grade"],
        anemia_grade=grades["anemia_grade"],
        creatinine_increased_grade_uln_based=uln_grade,
        creatinine_increased_grade_baseline_based=baseline_grade,
        # max of both; an unknown ULN-based grade (ULN missing) could be anything up to 4, so the
        # combined grade is unknown too rather than the baseline-based grade alone
        creatinine_increased_grade=max(known) if known and (uln_grade is not None or cr is None) else None,
    )


# --------------------------------------------------------------------------------- engraftment

EngraftmentStatus = Literal["engrafted", "not_reached", "never_below", "not_assessed"]


def _check_series(days: Sequence[int], counts: Sequence[float], name: str) -> None:
    if len(days) != len(counts):
        raise ValueError(f"{name} has {len(counts)} values but days has {len(days)}")


def _first_run(
    days: Sequence[int],
    ok: Sequence[bool | None],
    start: int,
    consecutive: int,
    require_consecutive_days: bool,
) -> int | None:
    """First day of ``consecutive`` qualifying values at index >= start.

    ``ok[i]`` is True (qualifies), False (measured, does not qualify: breaks the run) or None
    (not measured: skipped; with ``require_consecutive_days`` the calendar gap breaks the run).
    """
    run = 0
    first = 0
    prev_day = 0
    for i in range(start, len(days)):
        q = ok[i]
        if q is None:
            continue
        if not q:
            run = 0
            continue
        d = days[i]
        if run and (not require_consecutive_days or d == prev_day + 1):
            run += 1
        else:
            run, first = 1, d
        prev_day = d
        if run >= consecutive:
            return first
    return None


def neutrophil_engraftment(
    days: Sequence[int],
    anc: Sequence[float],
    *,
    threshold: float = 0.5,
    consecutive: int = 3,
    require_consecutive_days: bool = True,
) -> tuple[int | None, EngraftmentStatus, int | None]:
    """Neutrophil engraftment as ``(day, status, nadir_day)``; see module docstring."""
    _check_series(days, anc, "anc")
    nadir_i = -1
    lowest = math.inf
    for i, v in enumerate(anc):
        if v is not None and v == v and v < lowest:  # NaN/None = not measured
            lowest, nadir_i = v, i
    if nadir_i < 0:
        return None, "not_assessed", None
    if lowest >= threshold:
        return None, "never_below", days[nadir_i]
    ok = [None if v is None or v != v else v >= threshold for v in anc]
    day = _first_run(days, ok, nadir_i, consecutive, require_consecutive_days)
    return day, ("engrafted" if day is not None else "not_reached"), days[nadir_i]


def neutrophil_engraftment_day(
    days: Sequence[int],
    anc: Sequence[float],
    *,
    threshold: float = 0.5,
    consecutive: int = 3,
    require_consecutive_days: bool = True,
) -> int | None:
    """First day of ``consecutive`` ANC values >= ``threshold`` after the nadir, else None.

    None also when the ANC never fell below the threshold (use ``neutrophil_engraftment``
    for the status). CIBMTR / ASTCT 2021 definition; ``consecutive=1`` is the single-day
    variant (BMT 2002;30:749).
    """
    return neutrophil_engraftment(
        days,
        anc,
        threshold=threshold,
        consecutive=consecutive,
        require_consecutive_days=require_consecutive_days,
    )[0]


def platelet_engraftment(
    days: Sequence[int],
    platelets: Sequence[float],
    transfusion_days: Sequence[int] = (),
    *,
    threshold: float = 20.0,
    consecutive: int = 3,
    transfusion_free_days: int = 7,
    require_consecutive_days: bool = True,
) -> tuple[int | None, EngraftmentStatus]:
    """Platelet engraftment as ``(day, status)``; see module docstring."""
    _check_series(days, platelets, "platelets")
    measured = [i for i, v in enumerate(platelets) if v is not None and v == v]
    if not measured:
        return None, "not_assessed"
    first_low = next((days[i] for i in measured if platelets[i] < threshold), None)
    first_tx = min(transfusion_days) if transfusion_days else None
    starts = [d for d in (first_low, first_tx) if d is not None]
    if not starts:
        return None, "never_below"
    start_day = min(starts)
    tx = sorted(transfusion_days)
    ok: list[bool | None] = []
    j = 0  # pointer into tx: transfusions on or before day d
    for d, v in zip(days, platelets, strict=True):
        while j < len(tx) and tx[j] <= d:
            j += 1
        supported = j > 0 and tx[j - 1] > d - transfusion_free_days
        ok.append(None if v is None or v != v else (v >= threshold and not supported))
    start_i = next((i for i, d in enumerate(days) if d >= start_day), len(days))
    day = _first_run(days, ok, start_i, consecutive, require_consecutive_days)
    return day, ("engrafted" if day is not None else "not_reached")


def platelet_engraftment_day(
    days: Sequence[int],
    platelets: Sequence[float],
    transfusion_days: Sequence[int] = (),
    *,
    threshold: float = 20.0,
    consecutive: int = 3,
    transfusion_free_days: int = 7,
    require_consecutive_days: bool = True,
) -> int | None:
    """First day of ``consecutive`` unsupported platelet counts >= ``threshold``, else None.

    A count on day d is unsupported if no platelet transfusion fell on days
    d - (transfusion_free_days - 1) .. d. None also when counts never fell below the threshold
    and no transfusion was given (use ``platelet_engraftment`` for the status).
    """
    return platelet_engraftment(
        days,
        platelets,
        transfusion_days,
        threshold=threshold,
        consecutive=consecutive,
        transfusion_free_days=transfusion_free_days,
        require_consecutive_days=require_consecutive_days,
    )[0]


GraftSource = Literal["peripheral_blood", "bone_marrow", "cord_blood"]
GRAFT_FAILURE_DAY: dict[GraftSource, int] = {"bone_marrow": 30, "peripheral_blood": 30, "cord_blood": 42}


def primary_graft_failure(
    days: Sequence[int],
    engraftment_day: int | None,
    status: EngraftmentStatus,
    cutoff: int,
    consecutive: int = 3,
) -> bool | None:
    """True if no neutrophil engraftment day <= ``cutoff``; None while the series cannot tell.

    Only the ANC criterion: pancytopenia (ASTCT 2021) must be confirmed by the clinician.
    """
    if status == "not_assessed":
        return None
    if status == "never_below":
        return False
    if engraftment_day is not None and engraftment_day <= cutoff:
        return False
    # a run starting on or before the cutoff would have been complete by cutoff + consecutive - 1
    if days and days[-1] >= cutoff + consecutive - 1:
        return True
    return None


Day = Annotated[int, Range(-30, 3650, "days from infusion")]
SeriesValue = Annotated[float | None, Range(0, 2000, "x10^9/L")]


class EngraftmentInput(TypedInput):
    """Input of ``engraftment`` (docs/instruments/engraftment.md)."""

    days: list[Day] = Field(min_length=1, description="Days from infusion (day 0), strictly increasing.")
    anc_10e9_l: list[SeriesValue] | None = None
    platelets_10e9_l: list[SeriesValue] | None = None
    platelet_transfusion_days: list[Day] = Field(default_factory=list)
    """Days with a platelet transfusion (absent: none given)."""
    graft_source: GraftSource = "peripheral_blood"
    """Primary graft failure cut-off: day +30 (marrow, PBSC) or +42 (cord blood)."""
    neutrophil_consecutive_values: Annotated[int, Range(1, 7, "values")] = 3
    """3 (CIBMTR/ASTCT); 1 for the single-day variant."""
    require_consecutive_days: bool = True
    """Runs need consecutive calendar days; false: consecutive values on different days."""

    @field_validator("days")
    @classmethod
    def _increasing(cls, days: list[int]) -> list[int]:
        if any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError("must be strictly increasing integers (day 0 = infusion)")
        return days

    @field_validator("anc_10e9_l", "platelets_10e9_l")
    @classmethod
    def _same_length(
        cls, series: list[float | None] | None, info: ValidationInfo
    ) -> list[float | None] | None:
        days = info.data.get("days")
        if series is not None and days is not None and len(series) != len(days):
            raise ValueError(f"has {len(series)} values but days has {len(days)}")
        return series

    @model_validator(mode="after")
    def _some_series(self) -> EngraftmentInput:
        if self.anc_10e9_l is None and self.platelets_10e9_l is None:
            raise ValueError("give anc_10e9_l and/or platelets_10e9_l")
        return self


def _nan(series: list[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in series]


def _neutrophils_absent(result: EngraftmentResult) -> bool:
    return result.neutrophil_engraftment_status is None


def _platelets_absent(result: EngraftmentResult) -> bool:
    return result.platelet_engraftment_status_3_consecutive is None


_IF_ANC = printed(omit_if=_neutrophils_absent)
_IF_PLATELETS = printed(omit_if=_platelets_absent)


@dataclass(frozen=True, kw_only=True)
class EngraftmentResult(InstrumentResult):
    """Result of ``engraftment``: the neutrophil fields (printed when ANC was given) and the
    platelet fields (printed when counts were given); a null day means not reached."""

    neutrophil_engraftment_day: int | None = field(default=None, metadata=_IF_ANC)
    neutrophil_engraftment_status: EngraftmentStatus | None = field(default=None, metadata=_IF_ANC)
    neutrophil_nadir_day: int | None = field(default=None, metadata=_IF_ANC)
    neutrophil_consecutive_values: int | None = field(default=None, metadata=_IF_ANC)
    primary_graft_failure: bool | None = field(default=None, metadata=_IF_ANC)
    primary_graft_failure_cutoff_day: int | None = field(default=None, metadata=_IF_ANC)
    platelet_engraftment_day_3_consecutive: int | None = field(default=None, metadata=_IF_PLATELETS)
    platelet_engraftment_status_3_consecutive: EngraftmentStatus | None = field(default=None, metadata=_IF_PLATELETS)
    platelet_engraftment_day_7_consecutive: int | None = field(default=None, metadata=_IF_PLATELETS)
    platelet_engraftment_status_7_consecutive: EngraftmentStatus | None = field(default=None, metadata=_IF_PLATELETS)
    platelet_recovery_50_day_3_consecutive: int | None = field(default=None, metadata=_IF_PLATELETS)
    platelet_recovery_50_status: EngraftmentStatus | None = field(default=None, metadata=_IF_PLATELETS)
    definition: str = "CIBMTR/ASTCT_2021"


_NEUTROPHIL_REASONS: dict[EngraftmentStatus, str] = {
    "engrafted": "first of {n} consecutive ANC >= 0.5 x10^9/L after the nadir (day {nadir})",
    "not_reached": "no run of {n} consecutive ANC >= 0.5 after the nadir (day {nadir})",
    "never_below": "ANC never fell below 0.5 x10^9/L: not applicable",
    "not_assessed": "no ANC measured",
}
_PLATELET_REASONS: dict[EngraftmentStatus, str] = {
    "engrafted": "first of {n} consecutive counts >= 20 x10^9/L, no transfusion in 7 days",
    "not_reached": "no run of {n} consecutive unsupported counts >= 20 x10^9/L",
    "never_below": "platelets never below 20 x10^9/L and never transfused: not applicable",
    "not_assessed": "no platelet count measured",
}


def _neutrophil_fields(inp: EngraftmentInput, anc: list[float]) -> tuple[dict[str, Any], Item]:
    n_cons = inp.neutrophil_consecutive_values
    day, status, nadir = neutrophil_engraftment(
        inp.days, anc, consecutive=n_cons, require_consecutive_days=inp.require_consecutive_days
    )
    cutoff = GRAFT_FAILURE_DAY[inp.graft_source]
    fields = {
        "neutrophil_engraftment_day": day,
        "neutrophil_engraftment_status": status,
        "neutrophil_nadir_day": nadir,
        "neutrophil_consecutive_values": n_cons,
        "primary_graft_failure": primary_graft_failure(inp.days, day, status, cutoff, n_cons),
        "primary_graft_failure_cutoff_day": cutoff,
    }
    reason = _NEUTROPHIL_REASONS[status].format(n=n_cons, nadir=nadir)
    return fields, Item("neutrophil_engraftment", day, reason)


def _platelet_fields(inp: EngraftmentInput, plt: list[float]) -> tuple[dict[str, Any], list[Item]]:
    fields: dict[str, Any] = {}
    items: list[Item] = []
    tx, consecutive_days = inp.platelet_transfusion_days, inp.require_consecutive_days
    for n_cons, key in ((3, "3_consecutive"), (7, "7_consecutive")):
        day, status = platelet_engraftment(
            inp.days, plt, tx, consecutive=n_cons, require_consecutive_days=consecutive_days
        )
        fields[f"platelet_engraftment_day_{key}"] = day
        fields[f"platelet_engraftment_status_{key}"] = status
        items.append(Item(f"platelet_engraftment_{key}", day, _PLATELET_REASONS[status].format(n=n_cons)))
    day50, status50 = platelet_engraftment(
        inp.days, plt, tx, threshold=50.0, require_consecutive_days=consecutive_days
    )
    fields["platelet_recovery_50_day_3_consecutive"] = day50
    fields["platelet_recovery_50_status"] = status50
    return fields, items


def score_engraftment(inputs: EngraftmentInput | Mapping[str, Any]) -> EngraftmentResult:
    """Neutrophil and platelet engraftment days (CIBMTR / ASTCT 2021) and the graft-failure flag.

    References
    ----------
    CIBMTR Forms Instruction Manual (neutrophil and platelet recovery); Kharfan-Dabaja MA et
    al. Transplant Cell Ther 2021 (ASTCT consensus on engraftment and graft failure).
    """
    inp = validate_input(EngraftmentInput, inputs)
    fields: dict[str, Any] = {}
    items: list[Item] = []
    if inp.anc_10e9_l is not None:
        neutrophil, item = _neutrophil_fields(inp, _nan(inp.anc_10e9_l))
        fields.update(neutrophil)
        items.append(item)
    if inp.platelets_10e9_l is not None:
        platelet, platelet_items = _platelet_fields(inp, _nan(inp.platelets_10e9_l))
        fields.update(platelet)
        items += platelet_items
    return EngraftmentResult(
        instrument="engraftment", version=ENGRAFTMENT_VERSION, items=tuple(items), **fields
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="ctcae_v5",
        input_model=CtcaeInput,
        scorer=score_ctcae,
        version=CTCAE_VERSION,
        source=CTCAE_SOURCE,
        summary="CTCAE v5.0 grades: neutrophils, platelets, lymphocytes, WBC, anaemia, creatinine",
        result_type=CtcaeResult,
    ),
    InstrumentSpec(
        name="engraftment",
        input_model=EngraftmentInput,
        scorer=score_engraftment,
        version=ENGRAFTMENT_VERSION,
        source=ENGRAFTMENT_SOURCE,
        summary="Neutrophil and platelet engraftment day (3- and 7-consecutive) and primary graft failure",
        result_type=EngraftmentResult,
    ),
)
