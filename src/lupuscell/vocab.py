"""Controlled vocabularies shared by the schemas, the registry and the synthetic cohort.

One place for every code list, so the database CHECK constraints, the pydantic validators
and the docs cannot drift apart. Sources: therapy and cell-source categories follow the
EBMT/CIBMTR cellular-therapy registry forms; adverse-event grading is CTCAE v5.0;
nephritis classes are ISN/RPS 2003.
"""

from __future__ import annotations

from typing import Literal, get_args

THERAPIES = ("autologous_hsct", "allogeneic_hsct", "msc", "car_t", "other")
THERAPY_LABELS: dict[str, str] = {
    "autologous_hsct": "Autologous HSCT",
    "allogeneic_hsct": "Allogeneic HSCT",
    "msc": "MSC",
    "car_t": "CD19 CAR-T",
    "other": "Other",
}
"""How the report, the web app and the CLI name each therapy."""
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

# Adverse-event grading systems, spelled as the instruments report them
# (lupuscell.instruments.labs, .cellular_toxicity, .gvhd):
#   CTCAE_v5.0 - NCI Common Terminology Criteria for Adverse Events v5.0 (2017), grades 1-5;
#   ASTCT_2019 - ASTCT consensus grading of CRS and ICANS (Lee DW et al., Biol Blood Marrow
#                Transplant 2019;25:625-638), grades 1-4, and 5 for a death due to CRS/ICANS
#                (EBMT registry reporting guidance on CAR-T, part 4);
#   MAGIC_2016 - MAGIC acute GVHD overall grade I-IV (Harris AC et al., Biol Blood Marrow
#                Transplant 2016;22:4-10), stored as 1-4.
AE_GRADING_SYSTEMS = ("CTCAE_v5.0", "ASTCT_2019", "MAGIC_2016")
AE_GRADE_RANGE: dict[str, tuple[int, int]] = {
    "CTCAE_v5.0": (1, 5),
    "ASTCT_2019": (1, 5),
    "MAGIC_2016": (1, 4),
}
AE_GRADING_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "infection": ("CTCAE_v5.0",),
    "gvhd": ("CTCAE_v5.0", "MAGIC_2016"),
    "crs": ("ASTCT_2019",),
    "icans": ("ASTCT_2019",),
    "graft_failure": ("CTCAE_v5.0",),
    "other": ("CTCAE_v5.0",),
}
"""Grading systems allowed per AE category; the first is the default when none is given (and
the one migration 0002 assigned to the grades stored before it, in the old ``ctcae_grade``)."""


def default_grading_system(category: str) -> str:
    """The grading system assumed for ``category`` when none is given (first allowed one)."""
    return AE_GRADING_BY_CATEGORY.get(category, ("CTCAE_v5.0",))[0]


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

# Drugs a de-identified export may name (code -> accepted spellings, compared case-insensitively
# after trimming). Free-text drug names and prior therapies are exported as one of these codes
# or as "other", never verbatim (docs/registry/import_export.md, "Free text"). International
# non-proprietary names (WHO INN) as used in SLE cellular-therapy protocols.
DRUGS: dict[str, tuple[str, ...]] = {
    "cyclophosphamide": ("cyclophosphamide", "cytoxan", "endoxan"),
    "anti_thymocyte_globulin": (
        "atg",
        "rabbit atg",
        "r-atg",
        "ratg",
        "horse atg",
        "thymoglobulin",
        "anti-thymocyte globulin",
        "antithymocyte globulin",
    ),
    "rituximab": ("rituximab",),
    "fludarabine": ("fludarabine",),
    "busulfan": ("busulfan", "busulphan"),
    "melphalan": ("melphalan",),
    "thiotepa": ("thiotepa",),
    "alemtuzumab": ("alemtuzumab",),
    "filgrastim": ("filgrastim", "g-csf", "gcsf", "lenograstim"),
    "plerixafor": ("plerixafor",),
    "methylprednisolone": ("methylprednisolone",),
    "prednisone": ("prednisone", "prednisolone"),
    "dexamethasone": ("dexamethasone",),
    "tocilizumab": ("tocilizumab",),
    "anakinra": ("anakinra",),
    "aciclovir": ("aciclovir", "acyclovir", "valaciclovir", "valacyclovir"),
    "co_trimoxazole": ("co-trimoxazole", "cotrimoxazole", "trimethoprim-sulfamethoxazole", "tmp-smx"),
    "fluconazole": ("fluconazole",),
    "posaconazole": ("posaconazole",),
    "letermovir": ("letermovir",),
    "promethazine": ("promethazine",),
    "paracetamol": ("paracetamol", "acetaminophen"),
    "immunoglobulin": ("ivig", "intravenous immunoglobulin", "immunoglobulin"),
    "platelet_transfusion": ("platelets", "platelets (apheresis unit)", "platelet transfusion"),
    "red_cell_transfusion": ("red cells", "packed red cells", "red cell transfusion"),
    "hydroxychloroquine": ("hydroxychloroquine",),
    "mycophenolate": ("mycophenolate", "mycophenolate mofetil", "mycophenolic acid"),
    "azathioprine": ("azathioprine",),
    "tacrolimus": ("tacrolimus",),
    "ciclosporin": ("ciclosporin", "cyclosporine", "cyclosporin"),
    "belimumab": ("belimumab",),
    "anifrolumab": ("anifrolumab",),
    "voclosporin": ("voclosporin",),
    "methotrexate": ("methotrexate",),
    "leflunomide": ("leflunomide",),
    "obinutuzumab": ("obinutuzumab",),
}
DOSE_UNITS = (
    "mg",
    "g",
    "ug",
    "mg/kg",
    "mg/m2",
    "ug/kg",
    "g/kg",
    "mg/day",
    "g/day",
    "mg/kg/day",
    "iu",
    "iu/kg",
    "unit",
    "units",
    "ml",
    "ml/kg",
    "cells/kg",
    "cells",
)
"""Dose units a de-identified export may keep (lower case); any other text becomes "other"."""


def code_free_text(value: str | None, codes: dict[str, tuple[str, ...]]) -> str | None:
    """The code whose spellings include ``value`` (case-insensitive), else ``"other"``."""
    if value is None:
        return None
    key = " ".join(str(value).strip().lower().split())
    for code, spellings in codes.items():
        if key == code or key in spellings:
            return code
    return "other"
