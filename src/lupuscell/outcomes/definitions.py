"""Endpoint definitions of the outcomes engine: every convention a named, documented option.

The engine (:mod:`lupuscell.outcomes.endpoints`) never hard-codes a definition: it reads them
from one frozen :class:`EndpointOptions`, which is recorded next to every derived dataset so
that a reader can tell exactly which definitions produced a number (docs/outcomes/endpoints.md).

Sources
-------
* Study day, baseline and visit windows: CDISC ADaM Implementation Guide v1.3 (study day
  ``ADY``, analysis visit windows ``AVISIT``/``AVISITN``); the month length 30.44 days is
  365.25 / 12. The +/-30 / +/-60 day windows are the programme's convention
  (docs/outcomes/endpoints.md). Day 0, study day and end of follow-up:
  :mod:`lupuscell.outcomes.timeline`.
* Per-visit disease activity: SLEDAI-2K and clinical SLEDAI (Gladman DD et al., J Rheumatol
  2002;29:288-291), LLDAS (Franklyn K et al., Ann Rheum Dis 2016;75:1615-1621), DORIS 2021
  remission (van Vollenhoven RF et al., Lupus Sci Med 2021;8:e000538), SRI-4 (Furie RA et al.,
  Arthritis Rheum 2009;61:1143-1151) - all scored by :mod:`lupuscell.instruments`
  (docs/instruments/).
* Flare: default a SLEDAI-2K rise >= 4 from the previous visit, the SLEDAI-based part of the
  SELENA flare index (Petri M et al., Lupus 1999;8:685-691; Buyon JP et al., Ann Intern Med
  2005;142:953-962); option ``selena_flare_index`` uses flares recorded as clinical events
  (the full SFI needs clinician judgement, so it is taken as an input, never derived).
* Sustained remission: remission at >= 2 consecutive visits (Zen M et al., Ann Rheum Dis
  2015;74:2117-2122 used consecutive-visit and duration definitions; DORIS 2021 states that
  duration is not part of the remission definition and is derived separately).
* Overall survival, relapse-free survival, non-relapse mortality with relapse as the competing
  event and its day-100 / 1-year landmarks: EBMT/CIBMTR outcome definitions for autologous
  HSCT in autoimmune disease (Snowden JA et al., Bone Marrow Transplant 2012;47:770-790) and
  the competing-risks framework of Fine JP, Gray RJ, JASA 1999;94:496-509.
* Engraftment: CIBMTR Forms Instruction Manual and ASTCT 2021 (Kharfan-Dabaja MA et al.,
  Transplant Cell Ther 2021): 3 consecutive days ANC >= 0.5 x10^9/L after the post-infusion
  nadir; platelets >= 20 x10^9/L unsupported by transfusion in the preceding 7 days
  (docs/instruments/engraftment.md).
* Adverse events: CTCAE v5.0 grades (NCI, 2017); CRS/ICANS ASTCT 2019 (Lee DW et al., Biol
  Blood Marrow Transplant 2019;25:625-638); acute GVHD MAGIC 2016 (Harris AC et al., Biol
  Blood Marrow Transplant 2016;22:4-10). Each reported category has one grading system, so a
  maximum never mixes two scales.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lupuscell.vocab import (
    AE_GRADING_BY_CATEGORY,
    AE_GRADING_SYSTEMS,
    default_grading_system,
)

FlareRule = Literal["sledai_rise_ge_4", "selena_flare_index"]
FlareOrigin = Literal["first_remission", "day0"]
TieRule = Literal["earlier", "later"]
SfiSeverity = Literal["any", "severe"]
DailyAggregate = Literal["min", "max", "last"]
DorisPredRule = Literal["le_5", "lt_5"]
DorisPgaRule = Literal["lt_0_5", "le_0_5"]
UnknownResponse = Literal["not_evaluable", "non_response"]

#: Allowed values of the string options (checked at construction).
_CHOICES: dict[str, tuple[str, ...]] = {
    "flare_rule": ("sledai_rise_ge_4", "selena_flare_index"),
    "flare_origin": ("first_remission", "day0"),
    "window_tie": ("earlier", "later"),
    "sfi_severity": ("any", "severe"),
    "lab_daily_aggregate": ("min", "max", "last"),
    "doris_prednisolone_rule": ("le_5", "lt_5"),
    "doris_pga_rule": ("lt_0_5", "le_0_5"),
    "unknown_response": ("not_evaluable", "non_response"),
}

#: Days per month used to place the month-m target day round(30.44 * m) (365.25 / 12).
DAYS_PER_MONTH = 30.44

#: Default scheduled follow-up months (month 1 is labelled "Day 30" in ADRS).
DEFAULT_VISIT_MONTHS: tuple[int, ...] = (1, 3, 6, 12, 18, 24, 36, 48, 60)

#: Adverse-event categories whose maximum CTCAE/ASTCT/MAGIC grade is reported per patient.
AE_CATEGORIES_REPORTED: tuple[str, ...] = ("infection", "gvhd", "crs", "icans")

#: Adverse-event grading systems, their grade ranges, the systems each category may be graded
#: on and the default of a record without one are the registry's vocabulary
#: (:data:`lupuscell.vocab.AE_GRADING_SYSTEMS`, :data:`~lupuscell.vocab.AE_GRADE_RANGE`,
#: :data:`~lupuscell.vocab.AE_GRADING_BY_CATEGORY`, :func:`~lupuscell.vocab.default_grading_system`,
#: each with its source there), so the registry's CHECK constraints, the import rules and the
#: endpoints read one list. CTCAE v5.0 for most categories, ASTCT 2019 for CRS and ICANS, MAGIC
#: 2016 as the alternative for acute GVHD.
CTCAE_V5, ASTCT_2019, MAGIC_2016 = AE_GRADING_SYSTEMS


#: The grading system each reported category's maximum grade is read on (option
#: ``ae_grading``): its default system. A programme grading acute GVHD by MAGIC says so with
#: ``ae_grading={"gvhd": "MAGIC_2016", ...}`` (``--ae-grading gvhd=MAGIC_2016``).
DEFAULT_AE_GRADING: dict[str, str] = {c: default_grading_system(c) for c in AE_CATEGORIES_REPORTED}

#: Analyte codes of data/units.yaml read for engraftment (their aliases are accepted too).
NEUTROPHIL_ANALYTE = "anc"
PLATELET_ANALYTE = "platelets"

#: Visit flags that are rarely recorded outside a trial: the value assumed when absent, so that
#: LLDAS and DORIS stay evaluable (a clinician attests the flag at the visit when it matters).
DEFAULT_MISSING_VISIT_FLAGS: dict[str, bool] = {
    "on_antimalarial": False,
    "immunosuppressives_and_biologics_stable": True,
    "haemolytic_anaemia": False,
    "gastrointestinal_activity": False,
    "new_activity_since_previous_assessment": False,
    "standard_maintenance_therapy_well_tolerated": True,
}


@dataclass(frozen=True)
class EndpointOptions:
    """All definitions used by the outcomes engine (defaults are the programme's primary ones).

    Attributes
    ----------
    baseline_window_days
        Baseline = the last visit with ``-baseline_window_days <= day <= 0``. A visit 61 days
        before day 0 is not a baseline with the default 60.
    visit_months
        Scheduled months m; the month-m visit is the visit after day 0 nearest to
        ``round(30.44 * m)``.
    window_days_to_month_12 / window_days_after_month_12
        Half-width of the month window: +/-30 days for m <= 12, +/-60 days for m > 12.
    window_tie
        When two visits are equally near the target: ``"earlier"`` (default; the assessment
        closest to the start of the interval, CDISC ADaM practice) or ``"later"``.
    remission_from_day
        Only visits with ``day >= remission_from_day`` (day 0) count for first DORIS remission,
        first LLDAS and sustained remission.
    sustained_min_visits
        Sustained remission = DORIS remission at >= this many consecutive visits (2). A visit
        with unknown DORIS status breaks the run.
    flare_rule
        ``"sledai_rise_ge_4"`` (default): SLEDAI-2K at a visit minus SLEDAI-2K at the previous
        visit with a known score is >= ``flare_sledai_rise`` (exactly +4 is a flare, +3 is not).
        ``"selena_flare_index"``: a flare recorded by the clinician (registry ``clinical_events``
        rows of type flare/relapse, or a visit's ``flare``/``severe_flare`` flag in the JSON
        input); ``sfi_severity`` picks any flare or severe flares only.
    flare_origin
        Flares count strictly after the first DORIS remission (``"first_remission"``, default:
        a relapse needs a remission first) or after day 0 (``"day0"``).
    landmark_days
        Landmarks for NRM/relapse/death indicators (day 100 and 1 year = 365 days); an event
        on the landmark day is inside it, and follow-up ending on the landmark day counts as
        followed to it.
    sri_threshold
        SRI-k threshold (4 = SRI-4), scored at ``sri_months`` against baseline with SLEDAI-2K
        (SRI(S2K)); not evaluable (null) unless BILAG grades were recorded at both visits.
    neutrophil_threshold / neutrophil_consecutive
        ANC >= 0.5 x10^9/L on 3 consecutive calendar days, searched from the nadir.
    engraftment_from_day
        Counts before this study day (0) never enter engraftment: not the ANC nadir, not the
        first platelet count below the threshold, not a run. CIBMTR/ASTCT count recovery from
        the *post-infusion* nadir; a count during conditioning is not it. Platelet
        transfusions on any day still start the platelet search and support counts.
    platelet_threshold / platelet_consecutive / platelet_transfusion_free_days
        Platelets >= 20 x10^9/L on 3 (or 7, the EBMT-style variant) consecutive days, each with
        no platelet transfusion on that day or the 6 days before (7-day window).
    engraftment_therapies
        Therapies for which engraftment is defined (HSCT); null for MSC and CAR-T, which have
        no marrow aplasia to recover from (docs/instruments/engraftment.md).
    lab_daily_aggregate
        Several values of one analyte on one day are reduced to one ("min", conservative).
    steroid_free_max_mg
        Steroid-free = prednisone-equivalent dose <= this at the month visit (0 mg/day).
    ae_categories / ae_grading
        Categories whose maximum grade is reported (``max_<category>_grade``) and the grading
        system each is read on (:data:`DEFAULT_AE_GRADING`); an adverse event of a reported
        category graded on another system is an input error, never mixed into the maximum.
    missing_visit_flags
        Values assumed for LLDAS/DORIS visit flags that were not recorded.
    doris_prednisolone_rule / doris_pga_rule
        DORIS 2021 cut-offs (docs/instruments/doris_2021.md): prednisolone <= 5 mg/day
        (``"le_5"``, abstract) or < 5
        (``"lt_5"``, Table 2); PGA < 0.5 (``"lt_0_5"``, 2021) or <= 0.5 (``"le_0_5"``, 2017).
    unknown_response
        How a visit whose LLDAS / DORIS status is not evaluable (a needed input unknown, not
        done or not recorded, and no criterion definitely failed) counts:
        ``"not_evaluable"`` (default; NA, left out of response counts, breaks a sustained
        run) or ``"non_response"`` (non-responder imputation: counted as not in LLDAS / not in
        remission). docs/data_management/missing_values.md.
    not_done_as_absent
        Score a SLEDAI-2K descriptor recorded as ``not_done`` as absent (default False: not
        done is not assessed, so SLEDAI-2K is null). ``unknown`` is never read as absent, and a
        visit flag with an explicit state never takes its ``missing_visit_flags`` value.
    """

    baseline_window_days: int = 60
    visit_months: tuple[int, ...] = DEFAULT_VISIT_MONTHS
    window_days_to_month_12: int = 30
    window_days_after_month_12: int = 60
    window_tie: TieRule = "earlier"
    remission_from_day: int = 0
    sustained_min_visits: int = 2
    flare_rule: FlareRule = "sledai_rise_ge_4"
    flare_sledai_rise: int = 4
    flare_origin: FlareOrigin = "first_remission"
    sfi_severity: SfiSeverity = "any"
    landmark_days: tuple[int, ...] = (100, 365)
    sri_threshold: int = 4
    sri_months: tuple[int, ...] = (6, 12)
    steroid_months: tuple[int, ...] = (6, 12)
    steroid_free_max_mg: float = 0.0
    neutrophil_threshold: float = 0.5
    neutrophil_consecutive: int = 3
    engraftment_from_day: int = 0
    platelet_threshold: float = 20.0
    platelet_consecutive: int = 3
    platelet_transfusion_free_days: int = 7
    engraftment_therapies: tuple[str, ...] = ("autologous_hsct", "allogeneic_hsct")
    lab_daily_aggregate: DailyAggregate = "min"
    ae_categories: tuple[str, ...] = AE_CATEGORIES_REPORTED
    ae_grading: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_AE_GRADING))
    missing_visit_flags: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_MISSING_VISIT_FLAGS))
    doris_prednisolone_rule: DorisPredRule = "le_5"
    doris_pga_rule: DorisPgaRule = "lt_0_5"
    unknown_response: UnknownResponse = "not_evaluable"
    not_done_as_absent: bool = False

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be one of {', '.join(allowed)} (got {getattr(self, name)!r})"
            for name, allowed in _CHOICES.items()
            if getattr(self, name) not in allowed
        ]
        unknown_flags = set(self.missing_visit_flags) - set(DEFAULT_MISSING_VISIT_FLAGS)
        if unknown_flags:
            problems.append(f"missing_visit_flags: unknown flag(s) {sorted(unknown_flags)}")
        problems.extend(self._grading_problems())
        if self.baseline_window_days < 0:
            problems.append("baseline_window_days must be >= 0")
        if self.sustained_min_visits < 1:
            problems.append("sustained_min_visits must be >= 1")
        if not 4 <= self.sri_threshold <= 8:
            problems.append("sri_threshold must be 4..8")
        if self.neutrophil_consecutive < 1 or self.platelet_consecutive < 1:
            problems.append("consecutive-day counts must be >= 1")
        if any(m <= 0 for m in self.visit_months):
            problems.append("visit_months must be positive")
        if not set(self.sri_months) <= set(self.visit_months) or not set(self.steroid_months) <= set(
            self.visit_months
        ):
            problems.append("sri_months and steroid_months must be among visit_months")
        if problems:
            from lupuscell.errors import ValidationError

            raise ValidationError.single("EndpointOptions", "options", "; ".join(problems))

    def _grading_problems(self) -> list[str]:
        missing = [c for c in self.ae_categories if c not in self.ae_grading]
        bad = {
            c: s
            for c, s in self.ae_grading.items()
            if s not in AE_GRADING_BY_CATEGORY.get(c, AE_GRADING_SYSTEMS)
        }
        out = [f"ae_grading: no grading system for {missing}"] if missing else []
        out += [
            f"ae_grading: {c} cannot be graded on {s!r} "
            f"(allowed: {', '.join(AE_GRADING_BY_CATEGORY.get(c, AE_GRADING_SYSTEMS))})"
            for c, s in bad.items()
        ]
        return out

    def grading_system(self, category: str) -> str:
        """The grading system ``max_<category>_grade`` is read on."""
        return self.ae_grading[category]

    def target_day(self, month: int) -> int:
        """Target study day of month ``month``: ``round(30.44 * month)`` (half to even)."""
        return round(DAYS_PER_MONTH * month)

    def window_half_width(self, month: int) -> int:
        """+/-30 days up to and including month 12, +/-60 days after."""
        return self.window_days_to_month_12 if month <= 12 else self.window_days_after_month_12

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of every option (stored with datasets and reports)."""
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def visit_label(month: int) -> str:
    """ADRS ``AVISIT`` label of a scheduled month (month 1 is "Day 30")."""
    return "Day 30" if month == 1 else f"Month {month}"


DEFAULT_OPTIONS = EndpointOptions()
"""The programme's default endpoint conventions (every option at its documented default)."""
