"""Data tables of the synthetic cohort: sites and their lab units, baseline distributions,
SLEDAI-2K descriptor probabilities, drug protocols and the visit schedule.

Everything the generator draws that is not an outcome rate (those are in
:mod:`lupuscell.synth.calibration`) is here, as plain data, so a reviewer can read the
assumptions without reading the sampling code.

Sources
-------
* Protocols: HSCT mobilisation Cy 2 g/m2 + G-CSF, conditioning Cy 200 mg/kg + rabbit ATG
  5.5 mg/kg (+ rituximab 2 x 500 mg) as in Burt 2006 (JAMA) and Burt 2018 (Bone Marrow
  Transplant); MSC 1e6 cells/kg IV, a second infusion on day 7 (Wang 2014, Arthritis Res
  Ther); CD19 CAR-T 1e6 cells/kg after fludarabine 25 mg/m2 days -5..-3 and
  cyclophosphamide 1000 mg/m2 day -3 (Mackensen 2022, Nat Med; Müller 2024, NEJM).
* SLEDAI-2K descriptors and weights: Gladman 2002 (see ``lupuscell.instruments.sledai2k``).
* Lab units: the spellings accepted by ``lupuscell/data/units.yaml``; sites differ on
  purpose (creatinine in mg/dL or umol/L, complement in g/L or mg/dL, uPCR in g/g, mg/mg or
  mg/mmol, counts in 10^9/L or 10^3/uL) to exercise normalisation on read.
* Visit schedule: baseline, day 30, months 3, 6 and 12, then every 6 months to 5 years
  (issue 2).
"""

from __future__ import annotations

from dataclasses import dataclass

LAB_SOURCE = "assumption"
"""The visit lab distributions are assumptions; the cut-offs they respect (``LabLaw.note``) are
the SLEDAI-2K definitions (Gladman 2002) and usual reference ranges."""
COUNT_SOURCE = "assumption"
"""The count curves are assumptions shaped on the HSCT series (median neutrophil and platelet
recovery on days 8 and 9 in Huang 2019) and the CIBMTR engraftment thresholds (ANC >= 0.5,
platelets >= 20 x 10^9/L)."""


@dataclass(frozen=True)
class SiteProfile:
    """A treating centre: its code, the therapies it gives and the units its lab reports."""

    code: str
    name: str
    country: str
    therapies: tuple[str, ...]
    units: dict[str, str]


_SI = {"creatinine": "umol/L", "c3": "g/L", "c4": "g/L", "upcr": "mg/mmol"}
_US = {"creatinine": "mg/dL", "c3": "mg/dL", "c4": "mg/dL", "upcr": "mg/mg"}
_COMMON = {"anti_dsdna": "IU/mL", "anc": "10^9/L", "platelets": "10^9/L", "wbc": "10^9/L"}
_US_COUNTS = {"anti_dsdna": "IU/mL", "anc": "10^3/uL", "platelets": "10^3/uL", "wbc": "10^3/uL"}

SITES: tuple[SiteProfile, ...] = (
    SiteProfile("NJG", "Nanjing (synthetic)", "CN", ("msc", "autologous_hsct"), {**_SI, **_COMMON}),
    SiteProfile("BJP", "Beijing (synthetic)", "CN", ("autologous_hsct", "msc"), {**_SI, **_COMMON}),
    SiteProfile("CHI", "Chicago (synthetic)", "US", ("autologous_hsct", "car_t"), {**_US, **_US_COUNTS}),
    SiteProfile("ERL", "Erlangen (synthetic)", "DE", ("car_t",), {**_US, **_COMMON, "upcr": "g/g"}),
    SiteProfile("LDN", "London (synthetic)", "GB", ("autologous_hsct", "msc"), {**_SI, **_COMMON}),
    SiteProfile("PAR", "Paris (synthetic)", "FR", ("autologous_hsct", "car_t", "msc"), {**_SI, **_COMMON}),
)

# value_as_entered = canonical_value * factor (canonical units: creatinine mg/dL, C3/C4 g/L,
# uPCR g/g, counts 10^9/L); decimals = rounding of the entered value.
ENTRY_UNITS: dict[str, tuple[float, int]] = {
    "mg/dL|creatinine": (1.0, 2),
    "umol/L|creatinine": (88.4, 0),
    "g/L|c3": (1.0, 2),
    "mg/dL|c3": (100.0, 0),
    "g/L|c4": (1.0, 3),
    "mg/dL|c4": (100.0, 1),
    "g/g|upcr": (1.0, 2),
    "mg/mg|upcr": (1.0, 2),
    "mg/mmol|upcr": (113.12, 0),
    "IU/mL|anti_dsdna": (1.0, 0),
    "10^9/L|anc": (1.0, 2),
    "10^3/uL|anc": (1.0, 2),
    "10^9/L|platelets": (1.0, 0),
    "10^3/uL|platelets": (1.0, 0),
    "10^9/L|wbc": (1.0, 1),
    "10^3/uL|wbc": (1.0, 1),
}

VISIT_DAYS: tuple[int, ...] = (30, 91, 182, 365, 548, 730, 913, 1095, 1278, 1461, 1643, 1826)
"""Nominal study days of the post-treatment visits (day 0 = infusion); baseline is separate."""
FOLLOW_UP_AFTER_LAST_VISIT_DAYS = 30
"""Follow-up ends at the latest this many days after the last nominal visit (day 1856)."""
VISIT_JITTER_DAYS: tuple[int, ...] = (5, 14, 14, 21, 21, 21, 21, 21, 21, 21, 21, 21)
MISSED_VISIT_PROBABILITY = 0.05
FOLLOW_UP_YEARS = 5.0
VISIT_LABS: tuple[str, ...] = ("anti_dsdna", "c3", "c4", "creatinine", "upcr", "platelets", "wbc")
MISSING_LAB_PROBABILITY = 0.08
BILAG_VISIT_PROBABILITY = 0.25

AGE_AT_TREATMENT = {  # (mean, sd, min, max) years
    "autologous_hsct": (30.0, 9.0, 16, 60),
    "msc": (32.0, 10.0, 16, 65),
    "car_t": (26.0, 6.0, 18, 50),
}
TREATMENT_PERIOD = {  # first and last infusion dates
    "autologous_hsct": ("2006-01-01", "2024-12-31"),
    "msc": ("2008-01-01", "2024-12-31"),
    "car_t": ("2021-01-01", "2025-06-30"),
}
WEIGHT_KG = {"F": (60.0, 10.0), "M": (72.0, 12.0)}
WEIGHT_KG_RANGE = (40.0, 130.0)
"""Body weight (normal by sex, ``WEIGHT_KG``) is clipped to this range (assumption)."""
HEIGHT_CM = {"F": (162.0, 7.0), "M": (175.0, 7.0)}
DISEASE_DURATION_YEARS = (6.0, 0.6)  # lognormal median, sigma
MIN_DISEASE_DURATION_YEARS = 0.5
"""Disease duration at treatment is at least this long (assumption: refractory disease)."""
MIN_AGE_AT_DIAGNOSIS = 10
CLASSIFICATION_CRITERIA_FROM_YEAR: tuple[tuple[int, str], ...] = (
    (2020, "eular_acr_2019"),
    (2013, "slicc_2012"),
)
"""Criteria recorded by diagnosis year: EULAR/ACR 2019 (Aringer 2019) from 2020, SLICC 2012
(Petri 2012) from 2013, else :data:`CLASSIFICATION_CRITERIA_BEFORE` (assumption: a criteria
set is used from the year after its publication)."""
CLASSIFICATION_CRITERIA_BEFORE = "acr_1997"
"""ACR 1982 criteria as revised by Hochberg 1997."""

ORGAN_PROBABILITY = {
    "mucocutaneous": 0.70,
    "musculoskeletal": 0.60,
    "haematological": 0.45,
    "serosal": 0.25,
    "neuropsychiatric": 0.12,
    "cardiopulmonary": 0.10,
    "vasculitis": 0.10,
}
PRIOR_THERAPY_PROBABILITY = {
    "hydroxychloroquine": 0.90,
    "mycophenolate": 0.70,
    "cyclophosphamide": 0.60,
    "azathioprine": 0.45,
    "rituximab": 0.35,
    "tacrolimus": 0.20,
    "belimumab": 0.20,
    "methotrexate": 0.15,
}
PRIOR_IMMUNOSUPPRESSANTS = tuple(name for name in PRIOR_THERAPY_PROBABILITY if name != "hydroxychloroquine")
"""Prior therapies counted as immunosuppressants (baseline feature ``prior_immunosuppressants``):
all but the antimalarial."""

# Descriptor -> (organ whose involvement raises it, probability if involved, otherwise).
# "renal" is the lupus nephritis flag. Serology items do not depend on an organ.
DESCRIPTOR_PROBABILITY: dict[str, tuple[str | None, float, float]] = {
    "seizure": ("neuropsychiatric", 0.15, 0.0),
    "psychosis": ("neuropsychiatric", 0.10, 0.0),
    "organic_brain_syndrome": ("neuropsychiatric", 0.10, 0.0),
    "visual_disturbance": ("neuropsychiatric", 0.05, 0.005),
    "cranial_nerve_disorder": ("neuropsychiatric", 0.10, 0.0),
    "lupus_headache": ("neuropsychiatric", 0.15, 0.01),
    "cva": ("neuropsychiatric", 0.08, 0.0),
    "vasculitis": ("vasculitis", 0.60, 0.02),
    "arthritis": ("musculoskeletal", 0.55, 0.05),
    "myositis": ("musculoskeletal", 0.05, 0.01),
    "urinary_casts": ("renal", 0.35, 0.0),
    "hematuria": ("renal", 0.55, 0.0),
    "proteinuria": ("renal", 0.90, 0.0),
    "pyuria": ("renal", 0.30, 0.0),
    "rash": ("mucocutaneous", 0.50, 0.02),
    "alopecia": ("mucocutaneous", 0.30, 0.02),
    "mucosal_ulcers": ("mucocutaneous", 0.25, 0.01),
    "pleurisy": ("serosal", 0.45, 0.01),
    "pericarditis": ("serosal", 0.25, 0.0),
    "low_complement": (None, 0.75, 0.75),
    "increased_dna_binding": (None, 0.75, 0.75),
    "fever": (None, 0.10, 0.10),
    "thrombocytopenia": ("haematological", 0.30, 0.02),
    "leukopenia": ("haematological", 0.40, 0.02),
}

FLARE_DESCRIPTOR_FACTOR = 0.8
"""A relapse or flare draws a new descriptor set with this factor x the baseline probabilities
(assumption: a flare is usually less extensive than the presentation that led to treatment)."""
FALLBACK_DESCRIPTOR = {
    "baseline_nephritis": "proteinuria",
    "baseline_other": "arthritis",
    "flare_nephritis": "proteinuria",
    "flare_other": "rash",
}
"""The clinical descriptor set when a baseline or flare draw has none (everyone treated has
clinical activity)."""

PARTIAL_RESPONSE_DESCRIPTORS = frozenset(
    {"proteinuria", "hematuria", "low_complement", "increased_dna_binding", "arthritis", "rash", "alopecia"}
)
"""Descriptors that may persist at low activity in a partial responder."""

DESCRIPTOR_BILAG_DOMAIN = {
    "seizure": "neuropsychiatric",
    "psychosis": "neuropsychiatric",
    "organic_brain_syndrome": "neuropsychiatric",
    "visual_disturbance": "ophthalmic",
    "cranial_nerve_disorder": "neuropsychiatric",
    "lupus_headache": "neuropsychiatric",
    "cva": "neuropsychiatric",
    "vasculitis": "mucocutaneous",
    "arthritis": "musculoskeletal",
    "myositis": "musculoskeletal",
    "urinary_casts": "renal",
    "hematuria": "renal",
    "proteinuria": "renal",
    "pyuria": "renal",
    "rash": "mucocutaneous",
    "alopecia": "mucocutaneous",
    "mucosal_ulcers": "mucocutaneous",
    "pleurisy": "cardiorespiratory",
    "pericarditis": "cardiorespiratory",
    "fever": "constitutional",
    "thrombocytopenia": "haematological",
    "leukopenia": "haematological",
}
BILAG_A_DOMAINS = frozenset({"renal", "neuropsychiatric"})
"""Active domains graded A (severe); other active domains are graded B."""

BASELINE_PREDNISONE_MG = ((10.0, 15.0, 20.0, 30.0, 40.0, 60.0), (0.10, 0.15, 0.25, 0.25, 0.15, 0.10))

# -- visits by disease state (assumptions; the states are described in lupuscell.synth.cohort) --
SLEDAI_WINDOW_DAYS = 10
"""Look-back window recorded with every SLEDAI-2K (the instrument's 10-day version, Gladman 2002)."""
DESCRIPTOR_PERSISTENCE = {"improving": 0.6, "partial": 0.35, "active": 0.75, "relapse": 0.85}
"""Probability that each baseline descriptor (relapse: each descriptor of the flare set) is
present at a visit in that state."""
PGA_REMISSION = {"intercept": 0.15, "noise": 0.12, "low": 0.0, "high": 0.4}
PGA_ACTIVE = {"intercept": 0.3, "per_point": 0.08, "noise": 0.3, "low": 0.5, "high": 3.0}
"""PGA (0-3) = intercept + per_point x SLEDAI-2K + noise x N(0, 1), clipped to [low, high]."""
RELAPSE_PREDNISONE_MG = ((20.0, 30.0, 40.0), (0.4, 0.4, 0.2))
TAPER_DAYS = {
    "remission": 60.0,
    "car_t_remission": 30.0,
    "improving": 120.0,
    "partial": 120.0,
    "active": 240.0,
}
"""Exponential taper time constants of prednisone by state (dose = baseline x exp(-day / tau))."""
TAPER_FLOOR_MG = {"improving": 10.0, "partial": 7.5, "active": 10.0}
REMISSION_PREDNISONE_FLOOR_MG = {"autologous_hsct": (0.0, 5.0), "msc": (5.0, 7.5), "car_t": (0.0, 0.0)}
"""Lowest prednisone dose in remission: one of the two values, half of the patients each
(:data:`REMISSION_PREDNISONE_FLOOR_SPLIT`); drug-free after CAR-T (Mackensen 2022)."""
REMISSION_PREDNISONE_FLOOR_SPLIT = 0.5
PREDNISONE_STEP_MG = 2.5
ANTIMALARIAL_USER_PROBABILITY = 0.8
BIOLOGIC_PROBABILITY = {"base": 0.15, "relapse": 0.30, "other": 0.03}
VISIT_STATES = ("base", "improving", "remission", "partial", "active", "relapse")
"""Disease states of a visit (see :mod:`lupuscell.synth.cohort`)."""
IMMUNOSUPPRESSANT_PROBABILITY = {
    "autologous_hsct": dict(zip(VISIT_STATES, (0.90, 0.30, 0.15, 0.70, 0.85, 0.80), strict=True)),
    "msc": dict(zip(VISIT_STATES, (0.90, 0.85, 0.80, 0.85, 0.90, 0.90), strict=True)),
    "car_t": dict(zip(VISIT_STATES, (0.90, 0.00, 0.00, 0.60, 0.85, 0.80), strict=True)),
}
"""Probability of being on an immunosuppressant by therapy and visit state: stopped after HSCT,
background immunosuppression continued with MSC (Nanjing protocols), drug-free after CAR-T."""

# Drug protocols: (drug, dose, unit, purpose, day relative to the anchor, anchor).
# Anchors: "d0" infusion day, "mob" mobilisation day. Per-kg / per-m2 doses are recorded as
# prescribed (dose + unit as entered).
HSCT_FIXED_DRUGS: tuple[tuple[str, float, str, str, int, str], ...] = (
    ("cyclophosphamide", 2000.0, "mg/m2", "mobilisation", 0, "mob"),
    ("cyclophosphamide", 50.0, "mg/kg", "conditioning", -5, "d0"),
    ("cyclophosphamide", 50.0, "mg/kg", "conditioning", -4, "d0"),
    ("cyclophosphamide", 50.0, "mg/kg", "conditioning", -3, "d0"),
    ("cyclophosphamide", 50.0, "mg/kg", "conditioning", -2, "d0"),
    ("rabbit ATG", 0.5, "mg/kg", "conditioning", -5, "d0"),
    ("rabbit ATG", 1.0, "mg/kg", "conditioning", -4, "d0"),
    ("rabbit ATG", 1.5, "mg/kg", "conditioning", -3, "d0"),
    ("rabbit ATG", 1.5, "mg/kg", "conditioning", -2, "d0"),
    ("rabbit ATG", 1.0, "mg/kg", "conditioning", -1, "d0"),
    ("methylprednisolone", 1000.0, "mg", "prophylaxis", -5, "d0"),
    ("methylprednisolone", 1000.0, "mg", "prophylaxis", -4, "d0"),
    ("methylprednisolone", 1000.0, "mg", "prophylaxis", -3, "d0"),
    ("methylprednisolone", 1000.0, "mg", "prophylaxis", -2, "d0"),
    ("methylprednisolone", 1000.0, "mg", "prophylaxis", -1, "d0"),
    ("aciclovir", 800.0, "mg/day", "prophylaxis", 0, "d0"),
    ("co-trimoxazole", 960.0, "mg/day", "prophylaxis", 0, "d0"),
    ("fluconazole", 200.0, "mg/day", "prophylaxis", 0, "d0"),
)
HSCT_RITUXIMAB_DRUGS: tuple[tuple[str, float, str, str, int, str], ...] = (
    ("rituximab", 500.0, "mg", "conditioning", -6, "d0"),
    ("rituximab", 500.0, "mg", "conditioning", 1, "d0"),
)
HSCT_GCSF = ("filgrastim", 10.0, "ug/kg", "mobilisation")
"""Given daily from mobilisation day + :data:`HSCT_GCSF_FIRST_DAY` to the last apheresis day."""
HSCT_GCSF_FIRST_DAY = 3
PLATELET_TRANSFUSION = ("platelets (apheresis unit)", 1.0, "unit", "transfusion")
CAR_T_FIXED_DRUGS: tuple[tuple[str, float, str, str, int, str], ...] = (
    ("fludarabine", 25.0, "mg/m2", "lymphodepletion", -5, "d0"),
    ("fludarabine", 25.0, "mg/m2", "lymphodepletion", -4, "d0"),
    ("fludarabine", 25.0, "mg/m2", "lymphodepletion", -3, "d0"),
    ("cyclophosphamide", 1000.0, "mg/m2", "lymphodepletion", -3, "d0"),
    ("aciclovir", 800.0, "mg/day", "prophylaxis", 0, "d0"),
    ("co-trimoxazole", 960.0, "mg/day", "prophylaxis", 0, "d0"),
)
MSC_FIXED_DRUGS: tuple[tuple[str, float, str, str, int, str], ...] = (
    ("promethazine", 25.0, "mg", "prophylaxis", 0, "d0"),
)
# Course timeline (days relative to infusion = day 0) and product; see the Sources above.
MOBILISATION_DAYS_BEFORE_INFUSION = (35, 70)
APHERESIS_DAYS_AFTER_MOBILISATION = (10, 13)
CAR_T_APHERESIS_DAYS_BEFORE_INFUSION = (21, 42)
CONDITIONING_START_DAY = {"autologous_hsct": -5, "autologous_hsct_rituximab": -6, "car_t": -5}
BASELINE_DAYS_BEFORE_FIRST_STEP = (3, 14)
"""Baseline visit before conditioning (HSCT), apheresis (CAR-T) or infusion (MSC)."""
MSC_EXTRA_BASELINE_DAYS = (0, 7)
MSC_SECOND_INFUSION_DAY = 7
DISCHARGE_DAYS = {"autologous_hsct": (2, 6), "car_t": (9, 15), "msc": (1, 4)}
"""HSCT: days after neutrophil engraftment; CAR-T: day after infusion; MSC: days after the last
infusion."""
CELL_DOSE_PER_KG = {"autologous_hsct": (6e8, 0.3), "msc": (1e6, 0.08), "car_t": (1e6, 0.1)}
"""Log-normal (median, sigma) cells/kg per infusion: HSCT total nucleated cells, MSC and CAR-T
1e6/kg (Wang 2014; Mackensen 2022)."""
CD34_PER_KG = (5e6, 0.35, 2e6)
"""CD34+ cells/kg of an HSCT graft: log-normal median, sigma, and the collection minimum."""
VIABILITY_PERCENT = {"autologous_hsct": (92.0, 99.5), "msc": (88.0, 98.0), "car_t": (85.0, 98.0)}

GLUCOCORTICOID = ("prednisone", "mg/day", "glucocorticoid")
"""One administration record per visit: the daily prednisone-equivalent dose prescribed."""

PROTOCOL_IDS = {
    "autologous_hsct": ("HSCT-CY-RATG", "HSCT-CY-RATG-RTX"),
    "msc": ("MSC-1E6", "MSC-1E6-X2"),
    "car_t": ("CART19-FLU-CY",),
}

INFECTION_TERMS = (
    "febrile neutropenia",
    "bacteraemia",
    "pneumonia",
    "CMV reactivation",
    "herpes zoster",
    "urinary tract infection",
)
TRM_CAUSES = {
    "autologous_hsct": (
        "sepsis during aplasia",
        "invasive fungal infection",
        "cyclophosphamide cardiotoxicity",
        "macrophage activation syndrome",
        "CMV disease",
    ),
    "msc": ("infusion-related event",),
    "car_t": ("infection after lymphodepletion",),
}
TRM_CAUSE_CATEGORY = {
    "sepsis during aplasia": "infection",
    "invasive fungal infection": "infection",
    "CMV disease": "infection",
    "infection after lymphodepletion": "infection",
}
OTHER_DEATH_CAUSES_ACTIVE = (("active SLE", 0.5), ("infection", 0.3), ("cardiovascular", 0.1), ("other", 0.1))
OTHER_DEATH_CAUSES_QUIET = (
    ("infection", 0.35),
    ("cardiovascular", 0.30),
    ("malignancy", 0.15),
    ("other", 0.20),
)


# -- laboratory values (canonical units: creatinine mg/dL, C3/C4 g/L, uPCR g/g, counts 10^9/L) --
@dataclass(frozen=True)
class LogNormal:
    """``median x exp(sigma Z)``, Z standard normal, then raised to ``floor`` / cut to ``ceiling``."""

    median: float
    sigma: float
    floor: float | None = None
    ceiling: float | None = None

    def describe(self) -> str:
        """E.g. ``log-normal(median 150, sigma 0.7), at least 35``."""
        text = f"log-normal(median {self.median:g}, sigma {self.sigma:g})"
        if self.floor is not None:
            text += f", at least {self.floor:g}"
        if self.ceiling is not None:
            text += f", at most {self.ceiling:g}"
        return text


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high)``."""

    low: float
    high: float

    def describe(self) -> str:
        """E.g. ``uniform 30-95``."""
        return f"uniform {self.low:g}-{self.high:g}"


@dataclass(frozen=True)
class LabLaw:
    """Visit value of one analyte: ``abnormal`` when the SLEDAI-2K ``descriptor`` is scored,
    else ``normal`` (``normal_nephritis`` instead for patients with lupus nephritis, if given).
    The floors and ceilings keep every value on the side of the descriptor's cut-off."""

    descriptor: str
    abnormal: LogNormal | Uniform
    normal: LogNormal | Uniform
    normal_nephritis: LogNormal | None = None
    note: str = ""


VISIT_LAB_LAWS: dict[str, LabLaw] = {
    "anti_dsdna": LabLaw(
        "increased_dna_binding",
        LogNormal(150.0, 0.7, floor=35.0),
        LogNormal(10.0, 0.6, ceiling=28.0),
        note="IU/mL; positive above 30 (usual ELISA cut-off)",
    ),
    "c3": LabLaw(
        "low_complement",
        LogNormal(0.6, 0.2, ceiling=0.85),
        LogNormal(1.15, 0.15, floor=0.92),
        note="g/L; reference range 0.9-1.8",
    ),
    "c4": LabLaw(
        "low_complement",
        LogNormal(0.07, 0.3, ceiling=0.09),
        LogNormal(0.22, 0.25, floor=0.11),
        note="g/L; reference range 0.1-0.4",
    ),
    "upcr": LabLaw(
        "proteinuria",
        LogNormal(2.0, 0.6, floor=0.6),
        LogNormal(0.08, 0.4, ceiling=0.3),
        normal_nephritis=LogNormal(0.2, 0.5, ceiling=0.45),
        note="g/g; SLEDAI-2K proteinuria above 0.5 g/24 h (Gladman 2002)",
    ),
    "platelets": LabLaw(
        "thrombocytopenia",
        Uniform(30.0, 95.0),
        LogNormal(240.0, 0.25, floor=105.0),
        note="10^9/L; SLEDAI-2K thrombocytopenia below 100 (Gladman 2002)",
    ),
    "wbc": LabLaw(
        "leukopenia",
        Uniform(1.8, 2.9),
        LogNormal(6.0, 0.3, floor=3.1),
        note="10^9/L; SLEDAI-2K leukopenia below 3 (Gladman 2002)",
    ),
}
"""Visit laboratory values by analyte (creatinine is :data:`CREATININE`); :data:`LAB_SOURCE`."""


@dataclass(frozen=True)
class CreatinineModel:
    """Serum creatinine (mg/dL) at a visit: the patient's own level x a factor for proteinuria
    at that visit x visit-to-visit noise ``exp(visit_sigma Z)``."""

    patient_nephritis: LogNormal
    patient_other: LogNormal
    with_proteinuria: float
    without_proteinuria: float
    visit_sigma: float


CREATININE = CreatinineModel(LogNormal(1.0, 0.3), LogNormal(0.75, 0.15), 1.15, 0.95, 0.08)
"""Creatinine model (:data:`LAB_SOURCE`)."""


@dataclass(frozen=True)
class CountCurve:
    """A daily blood count after conditioning, on a log scale: from ``start`` it falls linearly
    (in log) to the patient's ``nadir`` over ``decline_days`` from the first day of the grid,
    with day-to-day noise ``exp(noise Z)``; before recovery it stays at most ``cap`` from day 0
    (and at most ``deep_cap`` from ``deep_from_day``); from the recovery day it grows from
    ``recovery_start`` by ``recovery_growth`` a day up to ``recovery_max`` (noise
    ``exp(recovery_noise Z)``), never below ``engrafted_floor``."""

    start: float
    decline_days: float
    nadir: LogNormal | Uniform
    noise: float
    cap: float
    deep_cap: float
    deep_from_day: int
    recovery_start: float
    recovery_growth: float
    recovery_max: float
    recovery_noise: float
    engrafted_floor: float


HSCT_COUNT_DAYS = (-6, 60)
"""Grid of daily counts after HSCT (first and last study day); the counts stop earlier, see
:data:`HSCT_COUNT_FOLLOW`."""
HSCT_ANC = CountCurve(
    start=4.5,
    decline_days=8.0,
    nadir=LogNormal(0.05, 0.5, ceiling=0.2),
    noise=0.25,
    cap=0.45,
    deep_cap=0.3,
    deep_from_day=0,
    recovery_start=0.6,
    recovery_growth=1.5,
    recovery_max=6.0,
    recovery_noise=0.1,
    engrafted_floor=0.5,
)
"""Neutrophils (10^9/L) after HSCT; the deep cap holds until the day before recovery, which is
:data:`HSCT_ANC_DAY_BEFORE_RECOVERY` (:data:`COUNT_SOURCE`)."""
HSCT_ANC_DAY_BEFORE_RECOVERY = Uniform(0.2, 0.45)
HSCT_PLATELETS = CountCurve(
    start=220.0,
    decline_days=12.0,
    nadir=Uniform(5.0, 15.0),
    noise=0.2,
    cap=60.0,
    deep_cap=19.0,
    deep_from_day=6,
    recovery_start=22.0,
    recovery_growth=1.25,
    recovery_max=250.0,
    recovery_noise=0.1,
    engrafted_floor=20.0,
)
"""Platelets (10^9/L) after HSCT, rounded to whole numbers (:data:`COUNT_SOURCE`)."""
HSCT_COUNT_FOLLOW = {"at_least_to_day": 28, "after_neutrophil_recovery": 5, "after_platelet_recovery": 10}
"""Daily counts run to neutrophil recovery + 5 days and platelet recovery + 10 days (so that a
transfusion-free week can be seen), at least to day 28, and stop at death or censoring."""
PLATELET_TRANSFUSION_BELOW = 10.0
"""A platelet unit is given on every day before platelet recovery with platelets below this..."""
PLATELET_TRANSFUSION_SOMETIMES_BELOW = (20.0, 0.25)
"""...and on a quarter of the days below 20 (prophylactic thresholds 10 or 20 x 10^9/L:
Schiffer et al. J Clin Oncol 2018;36:283-99)."""

CAR_T_COUNT_DAYS: tuple[int, ...] = (-5, 0, 3, 7, 10, 14, 21, 28)
"""Study days of ANC and platelet counts after CAR-T (lymphodepletion to day 28)."""
CAR_T_ANC = ((3.5, 1.2, 0.6, 0.8, 1.3, 2.0, 2.8, 3.2), 0.3)
"""Median ANC (10^9/L) on each count day and the log-normal sigma around it (assumption:
transient neutropenia after Flu/Cy, Mackensen 2022)."""
CAR_T_PLATELETS = ((220.0, 180.0, 140.0, 130.0, 150.0, 180.0, 200.0, 210.0), 0.2)
"""Median platelets (10^9/L) on each count day and the log-normal sigma (assumption)."""


# -- rendering (the rows of the calibration table in docs/synth.md) ------------------------------
def _count_curve_text(curve: CountCurve, deep_until: str) -> str:
    return (
        f"from {curve.start:g} on day {HSCT_COUNT_DAYS[0]} down to a nadir {curve.nadir.describe()} over "
        f"{curve.decline_days:g} days (day-to-day sigma {curve.noise:g}); at most {curve.cap:g} from day 0 "
        f"until recovery and {curve.deep_cap:g} from day {curve.deep_from_day} until {deep_until}; from "
        f"recovery {curve.recovery_start:g} x {curve.recovery_growth:g}^(days since recovery) up to "
        f"{curve.recovery_max:g} (sigma {curve.recovery_noise:g}), at least {curve.engrafted_floor:g}"
    )


COUNT_NOTE = "median recovery days 8 (ANC) and 9 (platelets) in Huang 2019; CIBMTR thresholds"


def _lab_rows() -> list[str]:
    rows = []
    for analyte, law in VISIT_LAB_LAWS.items():
        normal = f"otherwise {law.normal.describe()}"
        if law.normal_nephritis is not None:
            renal = law.normal_nephritis.describe()
            normal = f"otherwise {renal} with lupus nephritis, {law.normal.describe()} without"
        value = f"with {law.descriptor.replace('_', ' ')}: {law.abnormal.describe()}; {normal}"
        rows.append(f"| all | visit lab: {analyte} | {value} | {LAB_SOURCE} | {law.note} |")
    c = CREATININE
    rows.append(
        f"| all | visit lab: creatinine (mg/dL) | patient level {c.patient_nephritis.describe()} with lupus "
        f"nephritis, {c.patient_other.describe()} without; x {c.with_proteinuria:g} at visits with proteinuria, "
        f"x {c.without_proteinuria:g} otherwise; visit noise sigma {c.visit_sigma:g} | {LAB_SOURCE} | "
        "higher with lupus nephritis |"
    )
    return rows


def _count_rows() -> list[str]:
    follow = HSCT_COUNT_FOLLOW
    soft, share = PLATELET_TRANSFUSION_SOMETIMES_BELOW
    car_t = ", ".join(str(d) for d in CAR_T_COUNT_DAYS)
    return [
        f"| autologous_hsct | daily ANC (10^9/L) | {_count_curve_text(HSCT_ANC, 'the day before recovery')}; "
        f"the day before recovery {HSCT_ANC_DAY_BEFORE_RECOVERY.describe()} | {COUNT_SOURCE} | {COUNT_NOTE} |",
        f"| autologous_hsct | daily platelets (10^9/L) | {_count_curve_text(HSCT_PLATELETS, 'recovery')}, "
        f"rounded | {COUNT_SOURCE} | {COUNT_NOTE} |",
        f"| autologous_hsct | daily counts until | neutrophil recovery + {follow['after_neutrophil_recovery']} "
        f"days, platelet recovery + {follow['after_platelet_recovery']} days, at least day "
        f"{follow['at_least_to_day']} | assumption | a transfusion-free week after recovery is visible |",
        f"| autologous_hsct | platelet transfusion before platelet recovery | every day below "
        f"{PLATELET_TRANSFUSION_BELOW:g}, {share:.0%} of the days below {soft:g} | Schiffer 2018 (ASCO: "
        "prophylactic threshold 10 x 10^9/L) | the share below 20 is an assumption |",
        f"| car_t | ANC on days {car_t} | median {', '.join(f'{x:g}' for x in CAR_T_ANC[0])}; sigma "
        f"{CAR_T_ANC[1]:g} | assumption | transient neutropenia after Flu/Cy (Mackensen 2022) |",
        f"| car_t | platelets on days {car_t} | median {', '.join(f'{x:g}' for x in CAR_T_PLATELETS[0])}; sigma "
        f"{CAR_T_PLATELETS[1]:g} | assumption | |",
    ]


def _baseline_rows() -> list[str]:
    med, sigma = DISEASE_DURATION_YEARS
    criteria = "; ".join(f"{name} from {year}" for year, name in CLASSIFICATION_CRITERIA_FROM_YEAR)
    lo, hi = WEIGHT_KG_RANGE
    return [
        "| all | body weight (kg) | normal, "
        + ", ".join(f"{sex} {mu:g} ± {sd:g}" for sex, (mu, sd) in WEIGHT_KG.items())
        + f", clipped to {lo:g}-{hi:g} | assumption | |",
        f"| all | disease duration at treatment (years) | log-normal(median {med:g}, sigma {sigma:g}), at least "
        f"{MIN_DISEASE_DURATION_YEARS:g}, diagnosis at age {MIN_AGE_AT_DIAGNOSIS} or later | assumption | |",
        f"| all | classification criteria by diagnosis year | {criteria}; {CLASSIFICATION_CRITERIA_BEFORE} before "
        "| Aringer 2019; Petri 2012; Hochberg 1997 | assumption: a set is used from the year after its "
        "publication |",
        f"| all | relapse or flare descriptor set | each descriptor with {FLARE_DESCRIPTOR_FACTOR:g} x its "
        "baseline probability | assumption | a flare is usually less extensive than the presentation |",
        f"| all | end of follow-up at the latest | last nominal visit (day {VISIT_DAYS[-1]}) + "
        f"{FOLLOW_UP_AFTER_LAST_VISIT_DAYS} days | design choice | |",
        "| all | lowest prednisone dose in remission (mg/day) | "
        + "; ".join(f"{t} {a:g} or {b:g}" for t, (a, b) in REMISSION_PREDNISONE_FLOOR_MG.items())
        + f", {REMISSION_PREDNISONE_FLOOR_SPLIT:.0%} each | assumption | drug-free after CAR-T (Mackensen 2022) |",
    ]


def table_rows() -> list[str]:
    """Rows for the calibration table of ``docs/synth.md``: the baseline, laboratory and count
    assumptions of this module, each with its source or marked as an assumption."""
    return [*_baseline_rows(), *_lab_rows(), *_count_rows()]
