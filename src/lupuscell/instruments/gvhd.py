"""MAGIC acute GVHD organ staging and overall grade (Harris et al. 2016).

Source
------
Harris AC, Young R, Devine S, et al. International, multicenter standardization of acute
graft-versus-host disease clinical data collection: a report from the Mount Sinai Acute GVHD
International Consortium. Biol Blood Marrow Transplant 2016;22(1):4-10. Staging table as
adapted in NCI PDQ (with its footnotes); overall-grade rules as widely reproduced (verify
against Harris 2016 Table 2; docs/instruments/magic_agvhd.md).

Conventions (docs/instruments/magic_agvhd.md)
---------------------------------------------
* Bilirubin (mg/dL): stage 1 is 2.0 <= b <= 3.0, stage 2 3.0 < b <= 6.0 (so 3.05 is stage 2),
  stage 3 6.0 < b <= 15.0, stage 4 b > 15. ``total_bilirubin_umol_l`` is converted by ÷ 17.1.
* Skin: 0 % is stage 0, (0, 25) % stage 1, [25, 50] % stage 2, > 50 % stage 3; generalised
  erythroderma with bullae/desquamation > 5 % BSA is stage 4.
* Lower GI, adult (3-day averages): volume < 500 mL stage 0, [500, 1000) stage 1 (the printed
  gap 999-1000 is closed downward), [1000, 1500] stage 2 (1500 included), > 1500 stage 3;
  episodes < 3 stage 0, [3, 5) stage 1, [5, 7] stage 2, > 7 stage 3. Child scale
  (``lower_gi_scale="child"``, for patients <= 50 kg): mL/kg/day < 10, [10, 20), [20, 30], > 30;
  episodes < 4, [4, 7), [7, 10], > 10. Severe pain / ileus / grossly bloody stool is stage 4.
  Volume and episodes both given: the **higher** stage counts.
* Absent inputs mean 0 / false (these are checklist fields of a paper form).
* ``grading_system = "MAGIC_2016"``; do not mix with Glucksberg or IBMTR grading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import ValidationInfo, field_validator

from lupuscell.instruments._ranges import Range, TypedInput, dec
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input

VERSION = "magic_2016"
GRADING_SYSTEM = "MAGIC_2016"
SOURCE = "Harris AC et al. Biol Blood Marrow Transplant 2016;22(1):4-10 (MAGIC); NCI PDQ staging table"
BILIRUBIN_UMOL_PER_MG_DL = 17.1

#: Stage tables: ordered (upper bound, inclusive?, stage); the first row whose bound admits
#: the value gives the stage; values above every bound get ``top``.
Band = tuple[float, bool, int]
SKIN_BANDS: Sequence[Band] = ((0.0, True, 0), (25.0, False, 1), (50.0, True, 2))
LIVER_BANDS: Sequence[Band] = ((2.0, False, 0), (3.0, True, 1), (6.0, True, 2), (15.0, True, 3))
LowerGiScale = Literal["adult", "child"]
LOWER_GI_SCALES: tuple[LowerGiScale, ...] = get_args(LowerGiScale)
LOWER_GI_BANDS: dict[LowerGiScale, dict[str, Sequence[Band]]] = {
    "adult": {
        "volume": ((500.0, False, 0), (1000.0, False, 1), (1500.0, True, 2)),
        "episodes": ((3.0, False, 0), (5.0, False, 1), (7.0, True, 2)),
    },
    "child": {
        "volume": ((10.0, False, 0), (20.0, False, 1), (30.0, True, 2)),
        "episodes": ((4.0, False, 0), (7.0, False, 1), (10.0, True, 2)),
    },
}
GradeLabel = Literal["0", "I", "II", "III", "IV"]
GRADE_LABELS: tuple[GradeLabel, ...] = get_args(GradeLabel)


def band_stage(value: float, bands: Sequence[Band], top: int) -> int:
    """Stage of ``value`` in an ordered band table (see ``SKIN_BANDS``)."""
    for bound, inclusive, stage in bands:
        if value < bound or (inclusive and value == bound):
            return stage
    return top


class MagicInput(TypedInput):
    """Input of ``magic_agvhd``; absent means 0 / false (docs/instruments/magic_agvhd.md)."""

    skin_active_rash_bsa_percent: Annotated[float, Range(0, 100, "% BSA")] = 0.0
    """Body surface area with active erythematous GVHD rash."""
    skin_generalized_erythroderma_with_bullae_desquamation_gt_5pct: bool = False
    total_bilirubin_mg_dl: Annotated[float | None, Range(0, 100, "mg/dL")] = None
    total_bilirubin_umol_l: Annotated[float | None, Range(0, 1710, "umol/L")] = None
    upper_gi_persistent_nausea_vomiting_or_anorexia: bool = False
    lower_gi_scale: LowerGiScale = "adult"
    """Adult stool scale (patients > 50 kg) or child scale (mL/kg/day)."""
    stool_volume_ml_per_day: Annotated[float | None, Range(0, 20000, "mL/day")] = None
    stool_volume_ml_per_kg_per_day: Annotated[float | None, Range(0, 500, "mL/kg/day")] = None
    stool_episodes_per_day: Annotated[float | None, Range(0, 100, "episodes/day")] = None
    """3-day average; with a volume too, the higher stage counts."""
    lower_gi_severe_pain_ileus_or_grossly_bloody_stool: bool = False

    # cross-field checks are field validators so that the error names the offending field
    @field_validator("total_bilirubin_umol_l")
    @classmethod
    def _one_bilirubin_unit(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("total_bilirubin_mg_dl") is not None:
            raise ValueError("give total_bilirubin_mg_dl or total_bilirubin_umol_l, not both")
        return v

    @field_validator("stool_volume_ml_per_day")
    @classmethod
    def _adult_volume(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("lower_gi_scale") == "child":
            raise ValueError(
                "lower_gi_scale='child' stages stool volume in mL/kg/day; give stool_volume_ml_per_kg_per_day"
            )
        return v

    @field_validator("stool_volume_ml_per_kg_per_day")
    @classmethod
    def _child_volume(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("lower_gi_scale") == "adult":
            raise ValueError(
                "mL/kg/day is the child scale: set lower_gi_scale='child' (patients <= 50 kg) "
                "or give stool_volume_ml_per_day"
            )
        return v


def overall_grade(skin: int, liver: int, upper_gi: int, lower_gi: int) -> int:
    """MAGIC overall grade 0-4 from the four organ stages, evaluated top-down (IV to 0)."""
    if skin == 4 or liver == 4 or lower_gi == 4:
        return 4
    if liver in (2, 3) or lower_gi in (2, 3):
        return 3
    if skin == 3 or liver == 1 or upper_gi == 1 or lower_gi == 1:
        return 2
    if skin in (1, 2):
        return 1
    return 0


@dataclass(frozen=True, kw_only=True)
class MagicResult(InstrumentResult):
    """Result of ``magic_agvhd``: the four organ stages, how the lower GI stage was reached, the
    overall grade (0-4 and its label 0-IV) and the bilirubin used (mg/dL)."""

    skin_stage: int = 0
    liver_stage: int = 0
    upper_gi_stage: int = 0
    lower_gi_stage: int = 0
    lower_gi_stage_by_volume: int | None = None
    lower_gi_stage_by_episodes: int | None = None
    overall_grade: int = 0
    overall_grade_label: GradeLabel = "0"
    total_bilirubin_mg_dl: float = 0.0
    lower_gi_scale: LowerGiScale = "adult"
    grading_system: str = GRADING_SYSTEM


def _skin(inp: MagicInput) -> Item:
    if inp.skin_generalized_erythroderma_with_bullae_desquamation_gt_5pct:
        return Item("skin_stage", 4, "generalised erythroderma with bullae and desquamation > 5% BSA")
    bsa = inp.skin_active_rash_bsa_percent
    return Item("skin_stage", band_stage(bsa, SKIN_BANDS, 3), f"active erythematous rash {bsa:g}% BSA")


def _liver(inp: MagicInput) -> tuple[Item, float]:
    """Liver stage item and the bilirubin in mg/dL it was staged on."""
    if inp.total_bilirubin_umol_l is not None:
        # exact decimal division, so 51.3 umol/L is exactly 3.0 mg/dL (stage 1), not 3.0000000000000004
        bili = float(dec(inp.total_bilirubin_umol_l) / dec(BILIRUBIN_UMOL_PER_MG_DL))
        source = f"{inp.total_bilirubin_umol_l:g} umol/L = {bili:.4g} mg/dL (÷ 17.1)"
    else:
        bili = inp.total_bilirubin_mg_dl or 0.0
        source = f"{bili:g} mg/dL" + ("" if inp.total_bilirubin_mg_dl is not None else " (absent)")
    return Item("liver_stage", band_stage(bili, LIVER_BANDS, 4), f"total bilirubin {source}"), bili


def _lower_gi(inp: MagicInput) -> tuple[Item, int | None, int | None]:
    """Lower GI stage item and the stages by volume and by episodes (the higher counts)."""
    tables = LOWER_GI_BANDS[inp.lower_gi_scale]
    adult = inp.lower_gi_scale == "adult"
    volume = inp.stool_volume_ml_per_day if adult else inp.stool_volume_ml_per_kg_per_day
    by_volume = None if volume is None else band_stage(volume, tables["volume"], 3)
    episodes = inp.stool_episodes_per_day
    by_episodes = None if episodes is None else band_stage(episodes, tables["episodes"], 3)
    if inp.lower_gi_severe_pain_ileus_or_grossly_bloody_stool:
        stage, reason = 4, "severe abdominal pain with or without ileus, or grossly bloody stool"
    else:
        stage = max(s for s in (by_volume, by_episodes, 0) if s is not None)
        parts = []
        if volume is not None:
            parts.append(f"stool {volume:g} {'mL/day' if adult else 'mL/kg/day'} -> stage {by_volume}")
        if episodes is not None:
            parts.append(f"{episodes:g} episodes/day -> stage {by_episodes}")
        reason = (
            "; ".join(parts) + (" (higher stage counts)" if len(parts) == 2 else "")
            if parts
            else "no stool output given (absent means < 500 mL/day)"
        )
    item = Item("lower_gi_stage", stage, f"{inp.lower_gi_scale} scale: {reason}")
    return item, by_volume, by_episodes


def score(inputs: MagicInput | Mapping[str, Any]) -> MagicResult:
    """Stage skin, liver, upper GI and lower GI and derive the MAGIC overall grade (0-4).

    References
    ----------
    Harris AC et al. Biol Blood Marrow Transplant 2016;22(1):4-10.
    """
    inp = validate_input(MagicInput, inputs)
    skin = _skin(inp)
    liver, bili = _liver(inp)
    upper_stage = int(inp.upper_gi_persistent_nausea_vomiting_or_anorexia)
    upper = Item(
        "upper_gi_stage",
        upper_stage,
        "persistent nausea, vomiting or anorexia" if upper_stage else "none or intermittent symptoms",
    )
    lower, by_volume, by_episodes = _lower_gi(inp)
    stages = [int(item.points or 0) for item in (skin, liver, upper, lower)]
    grade = overall_grade(*stages)
    return MagicResult(
        instrument="magic_agvhd",
        version=VERSION,
        items=(skin, liver, upper, lower),
        skin_stage=stages[0],
        liver_stage=stages[1],
        upper_gi_stage=stages[2],
        lower_gi_stage=stages[3],
        lower_gi_stage_by_volume=by_volume,
        lower_gi_stage_by_episodes=by_episodes,
        overall_grade=grade,
        overall_grade_label=GRADE_LABELS[grade],
        total_bilirubin_mg_dl=bili,
        lower_gi_scale=inp.lower_gi_scale,
    )


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="magic_agvhd",
        input_model=MagicInput,
        scorer=score,
        version=VERSION,
        source=SOURCE,
        summary="MAGIC acute GVHD organ stages (skin, liver, upper/lower GI) and overall grade 0-IV",
        result_type=MagicResult,
    ),
)
