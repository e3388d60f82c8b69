"""Controlled vocabularies shared by the schemas, the registry and the synthetic cohort.

One place for every code list, so the database CHECK constraints, the pydantic validators
and the docs cannot drift apart. Sources: therapy and cell-source categories follow the
EBMT/CIBMTR cellular-therapy registry forms; adverse-event grading is CTCAE v5.0;
nephritis classes are ISN/RPS 2003.
"""

from __future__ import annotations

from typing import Literal, get_args

THERAPIES = ("autologous_hsct", "allogeneic_hsct", "msc", "car_t", "other")
CELL_SOURCES = (
    "peripheral_blood",
    "bone_marrow",
    "adipose",
    "umbilical_cord",
    "cord_blood",
    "autologous_t_cells",
    "other",
)
DONOR_TYPES = ("autologous", "allogeneic_related", "allogeneic_unrelated", "allogeneic_third_party")
ROUTES = ("intravenous", "intra_arterial", "intrathecal", "local_injection", "other")
SEXES = ("F", "M")
CLASSIFICATION_CRITERIA = ("eular_acr_2019", "slicc_2012", "acr_1997")
NEPHRITIS_CLASSES = ("I", "II", "III", "IV", "V", "VI", "III+V", "IV+V")
DRUG_PURPOSES = (
    "mobilisation",
    "conditioning",
    "lymphodepletion",
    "maintenance",
    "glucocorticoid",
    "prophylaxis",
    "transfusion",
)
AE_CATEGORIES = ("infection", "gvhd", "crs", "icans", "graft_failure", "other")
RELATEDNESS = ("unrelated", "unlikely", "possible", "probable", "definite")
CLINICAL_EVENT_TYPES = ("death", "flare", "relapse", "last_contact")
FLARE_SEVERITIES = ("mild_moderate", "severe")
#: The 9 BILAG-2004 domains and the grades A-E; the Literal types are the one source, the
#: tuples are derived from them (instruments validate against the types).
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
BILAG_DOMAINS: tuple[str, ...] = get_args(BilagDomain)
BilagGrade = Literal["A", "B", "C", "D", "E"]
BILAG_GRADES: tuple[str, ...] = get_args(BilagGrade)

# SLEDAI-2K descriptors in the order of the index (Gladman DD, Ibanez D, Urowitz MB.
# J Rheumatol 2002;29:288-91, Table 1); the weights live in lupuscell.instruments.sledai2k.
SledaiDescriptor = Literal[
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "vasculitis",
    "arthritis",
    "myositis",
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    "rash",
    "alopecia",
    "mucosal_ulcers",
    "pleurisy",
    "pericarditis",
    "low_complement",
    "increased_dna_binding",
    "fever",
    "thrombocytopenia",
    "leukopenia",
]
SLEDAI_2K_DESCRIPTORS: tuple[str, ...] = get_args(SledaiDescriptor)

ORGAN_INVOLVEMENT = (
    "renal",
    "neuropsychiatric",
    "haematological",
    "mucocutaneous",
    "musculoskeletal",
    "serosal",
    "cardiopulmonary",
    "vasculitis",
)
