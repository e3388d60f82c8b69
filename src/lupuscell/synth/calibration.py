"""Outcome-rate assumptions of the synthetic cohort, as data, each with its source.

Every number the generator (:mod:`lupuscell.synth.cohort`) draws an outcome from lives here:
:data:`CALIBRATION` (rates by therapy), :data:`ADVERSE_EVENTS` (who gets which adverse event,
its grade, onset and duration), and the disease-course and engraftment constants below, each
with the study (``study_id`` of the packaged ``lupuscell/data/studies.csv``, see
``lupuscell evidence studies``) or review it was taken from, or marked as an assumption. The
same table is rendered in ``docs/synth.md`` and the plausibility tests compare generated rates
against it, so code, docs and tests cannot drift apart.

Time-to-event assumptions are given as cumulative-incidence anchors ``((years, p), ...)``;
:func:`piecewise_exponential_quantile` turns uniform draws into event times whose
cumulative distribution passes through every anchor (constant hazard between anchors, no
event after the last one). This is the simplest continuous model that reproduces published
landmark figures exactly; a parametric (Weibull) fit would need more than two or three
published points per therapy, which the literature does not give.

References
----------
Jayne D et al. Lupus 2004;13:168-76 (EBMT/EULAR registry survey, PMID 15119545).
Burt RK et al. JAMA 2006;295:527-35.  Burt RK et al. Bone Marrow Transplant 2018;53:692-700.
Alchi B et al. Lupus 2013;22:245-53.  Huang X et al. Clin J Am Soc Nephrol 2019;14:719-27.
Tyndall A. Hematology Am Soc Hematol Educ Program 2011 (EBMT 100-day TRM in SLE 11 %).
Wang D et al. (Nanjing) 2013; Wang D et al. Arthritis Res Ther 2014;16:R79;
Wang D et al. Stem Cell Reports 2018;10:933-41.
Mackensen A et al. Nat Med 2022;28:2124-32.  Müller F et al. N Engl J Med 2024;390:687-700.
CAR-T in SLE systematic review, Semin Arthritis Rheum 2025 (PMID 40749440).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from lupuscell.synth.profiles import INFECTION_TERMS, table_rows

Anchors = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Assumption:
    """One calibrated quantity: its value, where it comes from and how it was derived."""

    value: float | Anchors
    source: str
    note: str = ""

    @property
    def p(self) -> float:
        """The value as a number (a probability or a scalar); error for anchored values."""
        if isinstance(self.value, tuple):
            raise TypeError("this assumption is a set of cumulative-incidence anchors, not a number")
        return float(self.value)

    @property
    def anchors(self) -> Anchors:
        """The value as cumulative-incidence anchors; error for a scalar."""
        if not isinstance(self.value, tuple):
            raise TypeError("this assumption is a number, not a set of anchors")
        return self.value


@dataclass(frozen=True)
class TherapyCalibration:
    """Outcome assumptions of one therapy (all probabilities are per treated patient)."""

    share: Assumption
    response_complete: Assumption
    response_partial: Assumption
    response_days: tuple[int, int]
    relapse_after_remission: Assumption
    treatment_related_death: Assumption
    trm_within_100_days: float
    other_death: Assumption
    infection_first_year: Assumption
    extra: Mapping[str, Assumption] = field(default_factory=dict)


CALIBRATION: dict[str, TherapyCalibration] = {
    "autologous_hsct": TherapyCalibration(
        share=Assumption(0.40, "design choice", "demo mix, not an epidemiological share"),
        response_complete=Assumption(
            0.66,
            "jayne2004; leng2017_pumch; burt2018_bmt",
            "SLEDAI<3 by 6 months 33/50 (66 %) in the EBMT survey; 21/24 (PUMCH); 92 % at 6 "
            "months with Cy+rATG+rituximab. The older, larger registry figure is used.",
        ),
        response_partial=Assumption(
            0.20, "assumption", "the remainder of non-remitters improve partially (PUMCH: 2 PR)"
        ),
        response_days=(30, 150),
        relapse_after_remission=Assumption(
            ((1.0, 0.15), (5.0, 0.45)),
            "alchi2013; huang2019_cjasn; jayne2004; burt2018_bmt",
            "5-year relapse incidence 56 % (EBMT 2013), 27 % (Jinling 2019), remission 92 % -> "
            "62 % at 5 years (Burt 2018): mid value 45 % at 5 years among remitters.",
        ),
        treatment_related_death=Assumption(
            0.07,
            "jayne2004; huang2019_cjasn; burt2006; burt2018_bmt; Tyndall 2011",
            "TRM 12 % (EBMT 2004), 5 % (Jinling), 2 % (Burt 2006), 0 % (Burt 2018); EBMT 100-day "
            "TRM 11 %. 7 % overall, 85 % of it within 100 days (100-day TRM about 6 %).",
        ),
        trm_within_100_days=0.85,
        other_death=Assumption(
            ((1.0, 0.01), (5.0, 0.06)),
            "alchi2013; song2011; huang2019_cjasn",
            "5-year OS 81 % (EBMT), 91 % (Jinling), 7-year OS 82 % (Song): about 13 % 5-year "
            "mortality of which 7 % is TRM, leaving 6 % disease / other deaths.",
        ),
        infection_first_year=Assumption(
            0.45, "assumption", "febrile neutropenia / bacterial and viral infections after Cy+ATG"
        ),
        extra={
            "engraftment_syndrome": Assumption(0.10, "assumption", "non-infectious fever/rash at recovery"),
            "graft_failure": Assumption(0.01, "assumption", "rare after autologous PBSC"),
            "rituximab_in_conditioning": Assumption(
                0.5,
                "assumption",
                "half of the courses add rituximab (Burt 2018 regimen), half not (Burt 2006)",
            ),
            "anc_engraftment_day_median": Assumption(10.0, "assumption", "PBSC + G-CSF, Cy/ATG"),
            "platelet_engraftment_day_median": Assumption(12.0, "assumption", "PBSC, Cy/ATG"),
        },
    ),
    "msc": TherapyCalibration(
        share=Assumption(0.40, "design choice"),
        response_complete=Assumption(
            0.33,
            "wang2013_ct; wang2014_art; wang2018_scr",
            "complete clinical remission 23/83 at 1 year (28 %); MCR 13/40 at 12 months (33 %). "
            "Nanjing reports overlap and are not pooled: 33 % ever reach remission, about 28 % "
            "are in remission at the 12-month visit once early relapses are counted.",
        ),
        response_partial=Assumption(
            0.28, "wang2014_art", "partial clinical response 11/40 (28 %) at 12 months"
        ),
        response_days=(60, 300),
        relapse_after_remission=Assumption(
            ((1.0, 0.15), (5.0, 0.30)),
            "wang2013_ct; wang2014_art; wang2018_scr",
            "relapse by 1 year 10/83 and 7/24 responders; 5-year relapse 9/37 (24 %) among "
            "remitters (Wang 2018): 15 % at 1 year, 30 % at 5 years.",
        ),
        treatment_related_death=Assumption(
            0.0, "wang2013_ct; wang2014_art", "no transplantation-related deaths or adverse events"
        ),
        trm_within_100_days=1.0,
        other_death=Assumption(
            ((1.0, 0.065), (5.0, 0.16)),
            "wang2014_art; wang2018_scr; wang2013_ct",
            "12-month OS 92.5 % (Wang 2014); 5-year OS 84 % (Wang 2018); deaths not treatment "
            "related (refractory disease, infection).",
        ),
        infection_first_year=Assumption(
            0.15, "assumption", "background infections on continued immunosuppression"
        ),
        extra={
            "second_infusion": Assumption(0.35, "wang2014_art", "UC-MSC on days 0 and 7 in 2014"),
            "cell_source_bone_marrow": Assumption(0.40, "wang2013_ct; wang2018_scr"),
            "cell_source_umbilical_cord": Assumption(0.45, "wang2014_art; deng2017"),
            "cell_source_adipose": Assumption(0.15, "assumption", "adipose MSC: small series only"),
            "infusion_reaction": Assumption(0.05, "assumption", "transient fever/dizziness, grade 1"),
        },
    ),
    "car_t": TherapyCalibration(
        share=Assumption(0.20, "design choice"),
        response_complete=Assumption(
            0.75,
            "Semin Arthritis Rheum 2025 review; mackensen2022; muller2024",
            "DORIS remission 45/64 (70 %) pooled; 5/5 and 8/8 in the Erlangen series: 75 %.",
        ),
        response_partial=Assumption(0.15, "Semin Arthritis Rheum 2025 review", "LLDAS 50/56 without DORIS"),
        response_days=(30, 90),
        relapse_after_remission=Assumption(
            ((1.0, 0.05), (5.0, 0.30)),
            "assumption",
            "drug-free remission maintained at median 8-15 months (Mackensen, Müller); no "
            "published 5-year figure: 5 % at 1 year, 30 % at 5 years is an assumption.",
        ),
        treatment_related_death=Assumption(
            0.01, "assumption", "no treatment-related deaths in the published SLE series"
        ),
        trm_within_100_days=1.0,
        other_death=Assumption(((1.0, 0.005), (5.0, 0.03)), "assumption", "young, responding cohort"),
        infection_first_year=Assumption(
            0.076, "Semin Arthritis Rheum 2025 review", "serious infections 7.6 %"
        ),
        extra={
            "crs": Assumption(0.56, "Semin Arthritis Rheum 2025 review", "CRS 56 %, mostly grade 1-2"),
            "crs_grade_1": Assumption(
                0.75, "assumption", "share of CRS that is grade 1 (review: CRS mostly grade 1-2)"
            ),
            "crs_grade_2": Assumption(
                0.22, "assumption", "share of CRS that is grade 2; the remaining 3 % are grade 3"
            ),
            "icans": Assumption(4 / 145, "Semin Arthritis Rheum 2025 review", "ICANS 4/145"),
        },
    ),
}
"""Per-therapy outcome assumptions (see the module docstring and ``docs/synth.md``)."""

MSC_SOURCES = ("bone_marrow", "umbilical_cord", "adipose")

FEMALE_SHARE = Assumption(0.9, "SLE epidemiology", "about 9:1 female:male in adults")
NEPHRITIS_SHARE = {
    "autologous_hsct": Assumption(0.60, "jayne2004; huang2019_cjasn", "refractory LN dominates"),
    "msc": Assumption(0.70, "liang2010; wang2014_art", "most MSC series enrolled refractory LN"),
    "car_t": Assumption(0.80, "mackensen2022; muller2024", "4/5 and most Erlangen patients had LN"),
}
NEPHRITIS_CLASS_MIX = {"IV": 0.45, "III": 0.15, "IV+V": 0.15, "III+V": 0.10, "V": 0.15}
LOSS_TO_FOLLOW_UP_PER_YEAR = 0.03
DATA_CUT = "2025-12-31"

# -- disease course ------------------------------------------------------------------------
RELAPSE_MIN_DAYS_AFTER_RESPONSE = 90
"""A relapse is dated at least this long after the response it ends (assumption)."""
FLARE_RATE_PER_YEAR = Assumption(
    0.2, "assumption", "partial responders: exponential waiting time from the response to one flare"
)
FLARE_DAYS = 90
"""Length of a partial responder's flare episode (assumption)."""
SEVERE_SHARE = {
    "relapse": Assumption(0.4, "assumption", "share of relapses recorded as severe"),
    "flare": Assumption(0.2, "assumption", "share of flares recorded as severe"),
}
TRM_EARLY_DAYS = (5, 100)
"""Treatment-related deaths within 100 days fall on day lo + (hi - lo) u^p (p =
:data:`TRM_EARLY_POWER`): most in aplasia."""
TRM_EARLY_POWER = 2.0
TRM_LATE_DAYS = (100, 365)
"""The others are uniform over the rest of the first year."""
TRM_EVENT_ONSET_BEFORE_DEATH_DAYS = (3, 14)
"""The grade-5 adverse event of a treatment-related death starts this many days before it."""

# -- engraftment after autologous HSCT ----------------------------------------------------------
ANC_ENGRAFTMENT_SIGMA = 0.15
"""Log-normal spread of the neutrophil engraftment day around its median (``extra``)."""
ANC_ENGRAFTMENT_DAY_RANGE = (8, 16)
GRAFT_FAILURE_RECOVERY_DAYS = (33, 42)
"""Neutrophil recovery of a (primary) graft failure: late, after the day-28/30 definition."""
GRAFT_FAILURE_DECLARED_DAY = 30
PLATELET_AFTER_ANC_DAYS = (2.0, 2.0)
"""Platelet recovery follows neutrophil recovery by a normal (mean, sd) number of days (rounded),
not before the day before neutrophil recovery nor :data:`PLATELET_ENGRAFTMENT_MIN_DAY`."""
PLATELET_ENGRAFTMENT_MIN_DAY = 9


# -- baseline effects on the disease course (issue 14: who benefits) ------------------------------
Outcome = Literal["complete_response", "relapse"]
BASELINE_FEATURES: dict[str, str] = {
    "lupus_nephritis": "lupus nephritis at baseline (1 = yes)",
    "sledai_2k": "baseline SLEDAI-2K (points, Gladman 2002)",
    "prior_immunosuppressants": "number of prior immunosuppressants (prior therapies other than hydroxychloroquine)",
    "age": "age at treatment (years)",
    "anti_dsdna_negative": "anti-dsDNA negative at baseline (1 = no increased DNA binding)",
}
"""The baseline features an effect may depend on; each is recorded in the registry (patients,
baseline visit) so a prediction model can recover the effect."""


@dataclass(frozen=True)
class BaselineEffect:
    """One effect of a baseline feature on the disease course.

    ``value`` is the log odds ratio of complete response (``outcome="complete_response"``) or
    the log hazard ratio of relapse among complete responders (``outcome="relapse"``) per
    ``per`` units of ``feature`` (a key of :data:`BASELINE_FEATURES`), for the patients of
    ``therapies``. The effects of one outcome add up on the log scale; each therapy's intercept
    (and relapse baseline hazard) is solved so the therapy's marginal rate stays the one of
    :data:`CALIBRATION` (:mod:`lupuscell.synth.effects`).
    """

    outcome: Outcome
    feature: str
    per: float
    value: float
    source: str
    note: str = ""
    therapies: tuple[str, ...] = ("autologous_hsct", "msc", "car_t")

    @property
    def ratio(self) -> float:
        """The odds or hazard ratio per ``per`` units."""
        return float(np.exp(self.value))


_WEN_2019 = "Wen 2019 (Stem Cells Int 2019:7061408, 69 Nanjing MSC patients)"
BASELINE_EFFECTS: tuple[BaselineEffect, ...] = (
    BaselineEffect(
        "complete_response",
        "lupus_nephritis",
        1.0,
        -0.7,
        f"{_WEN_2019}; size assumed",
        "renal disorder in 14/16 patients reaching clinical remission vs 50/53 not (crude OR 0.42, "
        "p = 0.33). OR 0.5 assumed, for all therapies.",
    ),
    BaselineEffect(
        "complete_response",
        "sledai_2k",
        1.0,
        -0.05,
        "assumption",
        "higher baseline activity, lower odds of remission: OR 0.61 per 10 points. No cell-therapy "
        "series reports a size (Wen 2019: median baseline SLEDAI 13).",
    ),
    BaselineEffect(
        "complete_response",
        "prior_immunosuppressants",
        1.0,
        -0.25,
        f"{_WEN_2019}; size assumed",
        "prior cyclophosphamide in 6/16 with vs 41/53 without remission (crude OR 0.18, p = 0.003), "
        "prior hydroxychloroquine also less frequent: more refractory disease, less response. OR 0.78 "
        "per prior immunosuppressant assumed.",
    ),
    BaselineEffect(
        "complete_response",
        "age",
        10.0,
        0.25,
        f"{_WEN_2019}; size assumed",
        "older age associated with remission (median 38 vs 30 years, p = 0.03): OR 1.28 per 10 years "
        "assumed.",
    ),
    BaselineEffect(
        "relapse",
        "lupus_nephritis",
        1.0,
        0.4,
        "assumption",
        "patients with nephritis relapse earlier (renal flares): HR 1.5 assumed; no cell-therapy series "
        "reports a size.",
    ),
    BaselineEffect(
        "relapse",
        "sledai_2k",
        1.0,
        0.03,
        "assumption",
        "more active disease at baseline, earlier relapse: HR 1.35 per 10 points assumed.",
    ),
    BaselineEffect(
        "relapse",
        "anti_dsdna_negative",
        1.0,
        0.7,
        "jayne2004; size assumed",
        "relapse after autologous HSCT was associated with negative anti-dsDNA before transplant "
        "(p = 0.007, EBMT survey); no size reported: HR 2 assumed, HSCT only.",
        therapies=("autologous_hsct",),
    ),
)
"""Baseline effects of the synthetic cohort (``docs/synth.md``, switched off by
``baseline_signal=False`` / ``lupuscell synth --no-signal``)."""


def effects_table_markdown() -> str:
    """The baseline effects as a Markdown table (embedded verbatim in docs/synth.md)."""
    lines = [
        "| outcome | feature | per | log ratio | ratio | therapies | source | derivation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    kinds = {"complete_response": "complete response (odds)", "relapse": "relapse among remitters (hazard)"}
    for e in BASELINE_EFFECTS:
        therapies = "all" if len(e.therapies) == len(CALIBRATION) else ", ".join(e.therapies)
        lines.append(
            f"| {kinds[e.outcome]} | {BASELINE_FEATURES[e.feature]} | {e.per:g} | {e.value:+g} | {e.ratio:.2f} | "
            f"{therapies} | {e.source} | {e.note} |"
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AdverseEventModel:
    """How one kind of adverse event is drawn for the patients of one therapy.

    A patient of ``therapy`` has the event with ``probability``; the grade is drawn from
    ``grades`` ((grade, probability), ...), the term from ``terms`` (equally likely), the onset
    uniformly on ``onset_days`` after ``onset_anchor`` (``onset_skew`` s: day
    ``floor(hi u^s)``, early-weighted), the duration uniformly on ``duration_days``. Grades at
    or above ``serious_from_grade`` are serious. Grades are CTCAE v5.0, except CRS and ICANS
    (ASTCT 2019, Lee et al. Biol Blood Marrow Transplant 2019;25:625-38).
    """

    therapy: str
    category: str
    terms: tuple[str, ...]
    probability: Assumption
    grades: tuple[tuple[int, float], ...]
    onset_days: tuple[int, int]
    duration_days: tuple[int, int]
    serious_from_grade: int
    relatedness: str
    onset_anchor: Literal["day_0", "neutrophil_engraftment"] = "day_0"
    onset_skew: float | None = None


_HSCT, _MSC, _CART = CALIBRATION["autologous_hsct"], CALIBRATION["msc"], CALIBRATION["car_t"]
_CRS_G1, _CRS_G2 = _CART.extra["crs_grade_1"].p, _CART.extra["crs_grade_2"].p

ADVERSE_EVENTS: dict[str, tuple[AdverseEventModel, ...]] = {
    "autologous_hsct": (
        AdverseEventModel(
            "autologous_hsct",
            "infection",
            INFECTION_TERMS,
            _HSCT.infection_first_year,
            ((2, 0.30), (3, 0.55), (4, 0.15)),
            (0, 100),
            (5, 21),
            3,
            "probable",
            onset_skew=1.5,
        ),
        AdverseEventModel(
            "autologous_hsct",
            "infection",
            INFECTION_TERMS[2:],
            Assumption(0.20, "assumption", "infections from day 100 to 1 year, on immune reconstitution"),
            ((2, 0.6), (3, 0.4)),
            (100, 365),
            (7, 28),
            3,
            "possible",
        ),
        AdverseEventModel(
            "autologous_hsct",
            "other",
            ("engraftment syndrome",),
            _HSCT.extra["engraftment_syndrome"],
            ((2, 1.0),),
            (-1, 1),
            (3, 7),
            3,
            "probable",
            onset_anchor="neutrophil_engraftment",
        ),
    ),
    "msc": (
        AdverseEventModel(
            "msc",
            "other",
            ("infusion-related reaction",),
            _MSC.extra["infusion_reaction"],
            ((1, 1.0),),
            (0, 0),
            (1, 1),
            3,
            "probable",
        ),
        AdverseEventModel(
            "msc",
            "infection",
            INFECTION_TERMS[2:],
            _MSC.infection_first_year,
            ((2, 0.7), (3, 0.3)),
            (0, 365),
            (7, 21),
            3,
            "unlikely",
        ),
    ),
    "car_t": (
        AdverseEventModel(
            "car_t",
            "crs",
            ("cytokine release syndrome",),
            _CART.extra["crs"],
            ((1, _CRS_G1), (2, _CRS_G2), (3, 1 - _CRS_G1 - _CRS_G2)),
            (1, 3),
            (1, 5),
            2,
            "definite",
        ),
        AdverseEventModel(
            "car_t",
            "icans",
            ("immune effector cell-associated neurotoxicity syndrome",),
            _CART.extra["icans"],
            ((1, 0.7), (2, 0.3)),
            (4, 8),
            (1, 4),
            2,
            "definite",
        ),
        AdverseEventModel(
            "car_t",
            "infection",
            INFECTION_TERMS[1:],
            _CART.infection_first_year,
            ((3, 1.0),),
            (7, 180),
            (7, 21),
            3,
            "possible",
        ),
    ),
}
"""Adverse events by therapy, drawn in this order (the order is part of a seed's cohort).
Primary graft failure (``graft_failure`` above, grade 4 on :data:`GRAFT_FAILURE_DECLARED_DAY`,
lasting until the late recovery) and the grade-5 event of each treatment-related death are
drawn from the outcome model, not from this table."""


def piecewise_exponential_quantile(u: npt.NDArray[np.float64], anchors: Anchors) -> npt.NDArray[np.float64]:
    """Event times (years) for uniform draws ``u`` under piecewise-constant hazards.

    Parameters
    ----------
    u : array of float in [0, 1)
        Uniform draws, one per patient.
    anchors : tuple of (years, cumulative incidence)
        Increasing times and cumulative incidences; the hazard is constant between anchors
        (and from 0 to the first anchor). No event happens after the last anchor.

    Returns
    -------
    numpy.ndarray
        Event time in years, ``inf`` when the draw falls beyond the last anchor's incidence.
    """
    times = np.array([0.0] + [t for t, _ in anchors])
    cum_hazard = -np.log1p(-np.array([0.0] + [p for _, p in anchors]))
    target = -np.log1p(-np.asarray(u, dtype=float))
    out = np.full(target.shape, np.inf)
    inside = target < cum_hazard[-1]
    out[inside] = np.interp(target[inside], cum_hazard, times)
    return out


def cumulative_incidence(anchors: Anchors, years: float) -> float:
    """Cumulative incidence at ``years`` implied by ``anchors`` (for tests and docs)."""
    times = np.array([0.0] + [t for t, _ in anchors])
    cum_hazard = -np.log1p(-np.array([0.0] + [p for _, p in anchors]))
    if years >= times[-1]:
        return float(anchors[-1][1])
    return float(-np.expm1(-np.interp(years, times, cum_hazard)))


def _format(value: float | Anchors) -> str:
    if isinstance(value, tuple):
        return "; ".join(f"{p:.1%} by {t:g} y" for t, p in value)
    return f"{value:.1%}" if value < 1 else f"{value:g}"


def calibration_table_markdown() -> str:
    """The calibration assumptions as a Markdown table (embedded verbatim in docs/synth.md)."""
    lines = ["| therapy | quantity | value | source | derivation |", "|---|---|---|---|---|"]
    labels = {
        "share": "share of the demo cohort",
        "response_complete": "complete response (remission)",
        "response_partial": "partial response",
        "relapse_after_remission": "relapse among complete responders (cumulative)",
        "treatment_related_death": "treatment-related death",
        "other_death": "death from other causes (cumulative)",
        "infection_first_year": "infection in the first year",
    }
    for therapy, c in CALIBRATION.items():
        for attr, label in labels.items():
            a: Assumption = getattr(c, attr)
            lines.append(f"| {therapy} | {label} | {_format(a.value)} | {a.source} | {a.note} |")
        lines.append(
            f"| {therapy} | response reached between days | {c.response_days[0]}-{c.response_days[1]} | "
            "assumption | |"
        )
        for name, a in c.extra.items():
            lines.append(
                f"| {therapy} | {name.replace('_', ' ')} | {_format(a.value)} | {a.source} | {a.note} |"
            )
    for therapy, a in NEPHRITIS_SHARE.items():
        lines.append(
            f"| {therapy} | lupus nephritis at baseline | {_format(a.value)} | {a.source} | {a.note} |"
        )
    lines.append(
        f"| all | female | {_format(FEMALE_SHARE.value)} | {FEMALE_SHARE.source} | {FEMALE_SHARE.note} |"
    )
    lines.append(f"| all | loss to follow-up per year | {LOSS_TO_FOLLOW_UP_PER_YEAR:.0%} | assumption | |")
    lines += _course_rows()
    lines += table_rows()
    lines += [_adverse_event_row(model) for models in ADVERSE_EVENTS.values() for model in models]
    return "\n".join(lines) + "\n"


def _row(therapy: str, label: str, a: Assumption) -> str:
    return f"| {therapy} | {label} | {_format(a.value)} | {a.source} | {a.note} |"


def _course_rows() -> list[str]:
    lo, hi = TRM_EARLY_DAYS
    return [
        f"| all | relapse dated at least | {RELAPSE_MIN_DAYS_AFTER_RESPONSE} days after the response | "
        "assumption | |",
        _row("all", "flare rate per year (partial responders)", FLARE_RATE_PER_YEAR),
        f"| all | flare episode length | {FLARE_DAYS} days | assumption | |",
        *[_row("all", f"severe {kind}", a) for kind, a in SEVERE_SHARE.items()],
        f"| all | treatment-related death within 100 days, day | {lo} + {hi - lo} u^{TRM_EARLY_POWER:g} | "
        "assumption | "
        "most in aplasia |",
        f"| all | treatment-related death after 100 days, day | uniform {TRM_LATE_DAYS[0]}-{TRM_LATE_DAYS[1]} | "
        "assumption | |",
        f"| autologous_hsct | neutrophil engraftment day | log-normal, median "
        f"{_format(_HSCT.extra['anc_engraftment_day_median'].value)}, sigma {ANC_ENGRAFTMENT_SIGMA:g}, "
        f"{ANC_ENGRAFTMENT_DAY_RANGE[0]}-{ANC_ENGRAFTMENT_DAY_RANGE[1]} | assumption | |",
        f"| autologous_hsct | platelet engraftment day | neutrophil day + normal({PLATELET_AFTER_ANC_DAYS[0]:g}, "
        f"{PLATELET_AFTER_ANC_DAYS[1]:g}), at least day {PLATELET_ENGRAFTMENT_MIN_DAY} and the day before "
        "neutrophil engraftment | assumption | |",
        f"| autologous_hsct | neutrophil recovery after graft failure | day {GRAFT_FAILURE_RECOVERY_DAYS[0]}-"
        f"{GRAFT_FAILURE_RECOVERY_DAYS[1]} | assumption | |",
    ]


def _days(span: tuple[int, int]) -> str:
    return (
        f"{span[0]} day" + ("" if span[0] == 1 else "s")
        if span[0] == span[1]
        else f"{span[0]}-{span[1]} days"
    )


def _adverse_event_row(model: AdverseEventModel) -> str:
    grades = ", ".join(f"{g}: {p:.0%}" for g, p in model.grades)
    anchor = "" if model.onset_anchor == "day_0" else " after neutrophil engraftment"
    lo, hi = model.onset_days
    onset = (f"day {lo}" if lo == hi else f"days {lo} to {hi}") + anchor
    if model.onset_skew is not None:
        onset += f" (early-weighted, u^{model.onset_skew:g})"
    what = model.terms[0] if len(model.terms) == 1 else f"{model.category} ({', '.join(model.terms)})"
    value = (
        f"{_format(model.probability.value)}; grade {grades}; onset {onset}; "
        f"lasting {_days(model.duration_days)}"
    )
    a = model.probability
    return f"| {model.therapy} | adverse event: {what} | {value} | {a.source} | {a.note} |"
