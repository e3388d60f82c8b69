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
HEIGHT_CM = {"F": (162.0, 7.0), "M": (175.0, 7.0)}
DISEASE_DURATION_YEARS = (6.0, 0.6)  # lognormal median, sigma
MIN_AGE_AT_DIAGNOSIS = 10

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
"""Lowest prednisone dose in remission: one of the two values, half of the patients each;
drug-free after CAR-T (Mackensen 2022)."""
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
"""Given daily from mobilisation day +3 to the last apheresis day."""
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
