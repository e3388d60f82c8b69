"""Clinical instruments of an SLE cellular-therapy programme (pure: validated values in, scores out).

Every scorer takes a validated input model or a plain dict (a rejection raises
:class:`lupuscell.errors.ValidationError` naming the field) and returns an immutable, typed
result: the headline fields (e.g. ``SledaiResult.sledai_2k``), the items that counted with a
reason each, ``complete``/``missing`` and the version; ``to_dict()`` is the JSON printed by
``lupuscell score NAME --json``.

Public API
----------
CATALOG, get
    Every instrument by name (``lupuscell score --list``): input model, scorer, result class,
    version and source.
score_sledai_2k
    SLEDAI-2K, clinical SLEDAI, SELENA-SLEDAI (Gladman 2002; Touma 2010; Petri 2005).
score_eular_acr_2019
    2019 EULAR/ACR classification criteria for SLE (Aringer 2019).
score_sdi
    SLICC/ACR Damage Index (Gladman 1996).
score_sri, score_lldas, score_doris_2021
    SLE Responder Index (Furie 2009), LLDAS (Franklyn 2016), DORIS 2021 remission.
score_kdigo_2024, score_eular_2019
    Lupus nephritis response (KDIGO 2024; EULAR/ERA-EDTA 2019).
score_hct_ci, score_magic_agvhd, score_crs, score_icans
    HCT-CI (Sorror 2005), MAGIC acute GVHD (Harris 2016), ASTCT CRS and ICANS (Lee 2019).
score_ctcae, ctcae_grade, score_engraftment, neutrophil_engraftment_day, platelet_engraftment_day
    CTCAE v5.0 laboratory grades; neutrophil and platelet engraftment (CIBMTR, ASTCT 2021).
score_body_size, score_egfr, egfr_ckd_epi_2021
    BSA, IBW, adjusted and dosing weight; CKD-EPI 2021 eGFR (Inker 2021).
score_rand36
    RAND 36-Item Health Survey 1.0 and a patient global assessment (Hays 1993).
score_visit_table
    SLEDAI-2K, clinical SLEDAI, LLDAS and DORIS for a whole visit table, vectorised.
InstrumentResult, Item, InstrumentSpec, validate_input
    The result envelope, one explained item, a catalog entry, input validation.
SledaiResult, EularAcrResult, SdiResult, SriResult, LldasResult, DorisResult, KdigoRenalResult,
EularRenalResult, HctCiResult, MagicResult, CrsResult, IcansResult, CtcaeResult,
EngraftmentResult, BodySizeResult, EgfrResult, Rand36Result
    The typed result of each scorer.
SledaiInput, EularAcrInput, SdiInput, SriInput, LldasInput, DorisInput, KdigoInput,
EularRenalInput, HctCiInput, MagicInput, CrsInput, IcansInput, CtcaeInput, EngraftmentInput,
BodySizeInput, EgfrInput, Rand36Input
    The validated input model of each scorer (``lupuscell score NAME --schema``).

Names are imported on first use, so importing one module (or starting the CLI) does not load
every instrument. See docs/instruments/ for each instrument's conventions and worked examples.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "CATALOG": "catalog",
    "get": "catalog",
    "InstrumentResult": "base",
    "InstrumentSpec": "base",
    "Item": "base",
    "validate_input": "base",
    "SledaiInput": "sledai2k",
    "SledaiResult": "sledai2k",
    "score_sledai_2k": "sledai2k",
    "EularAcrInput": "eular_acr_2019",
    "EularAcrResult": "eular_acr_2019",
    "score_eular_acr_2019": "eular_acr_2019",
    "SdiInput": "sdi",
    "SdiResult": "sdi",
    "score_sdi": "sdi",
    "SriInput": "response",
    "SriResult": "response",
    "score_sri": "response",
    "LldasInput": "response",
    "LldasResult": "response",
    "score_lldas": "response",
    "DorisInput": "response",
    "DorisResult": "response",
    "score_doris_2021": "response",
    "KdigoInput": "renal",
    "KdigoRenalResult": "renal",
    "score_kdigo_2024": "renal",
    "EularRenalInput": "renal",
    "EularRenalResult": "renal",
    "score_eular_2019": "renal",
    "HctCiInput": "hct_ci",
    "HctCiResult": "hct_ci",
    "score_hct_ci": "transplant",
    "MagicInput": "gvhd",
    "MagicResult": "gvhd",
    "score_magic_agvhd": "transplant",
    "CrsInput": "cellular_toxicity",
    "CrsResult": "cellular_toxicity",
    "score_crs": "cellular_toxicity",
    "IcansInput": "cellular_toxicity",
    "IcansResult": "cellular_toxicity",
    "score_icans": "cellular_toxicity",
    "CtcaeInput": "labs",
    "CtcaeResult": "labs",
    "score_ctcae": "labs",
    "ctcae_grade": "labs",
    "EngraftmentInput": "labs",
    "EngraftmentResult": "labs",
    "score_engraftment": "labs",
    "neutrophil_engraftment_day": "labs",
    "platelet_engraftment_day": "labs",
    "BodySizeInput": "body",
    "BodySizeResult": "body",
    "score_body_size": "body",
    "EgfrInput": "body",
    "EgfrResult": "body",
    "score_egfr": "body",
    "egfr_ckd_epi_2021": "body",
    "Rand36Input": "rand36",
    "Rand36Result": "rand36",
    "score_rand36": "rand36",
    "score_visit_table": "bulk",
}

__all__ = [
    "CATALOG",
    "BodySizeInput",
    "BodySizeResult",
    "CrsInput",
    "CrsResult",
    "CtcaeInput",
    "CtcaeResult",
    "DorisInput",
    "DorisResult",
    "EgfrInput",
    "EgfrResult",
    "EngraftmentInput",
    "EngraftmentResult",
    "EularAcrInput",
    "EularAcrResult",
    "EularRenalInput",
    "EularRenalResult",
    "HctCiInput",
    "HctCiResult",
    "IcansInput",
    "IcansResult",
    "InstrumentResult",
    "InstrumentSpec",
    "Item",
    "KdigoInput",
    "KdigoRenalResult",
    "LldasInput",
    "LldasResult",
    "MagicInput",
    "MagicResult",
    "Rand36Input",
    "Rand36Result",
    "SdiInput",
    "SdiResult",
    "SledaiInput",
    "SledaiResult",
    "SriInput",
    "SriResult",
    "ctcae_grade",
    "egfr_ckd_epi_2021",
    "get",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
    "score_body_size",
    "score_crs",
    "score_ctcae",
    "score_doris_2021",
    "score_egfr",
    "score_engraftment",
    "score_eular_2019",
    "score_eular_acr_2019",
    "score_hct_ci",
    "score_icans",
    "score_kdigo_2024",
    "score_lldas",
    "score_magic_agvhd",
    "score_rand36",
    "score_sdi",
    "score_sledai_2k",
    "score_sri",
    "score_visit_table",
    "validate_input",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # the same names for type checkers and documentation tools
    from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input
    from lupuscell.instruments.body import (
        BodySizeInput,
        BodySizeResult,
        EgfrInput,
        EgfrResult,
        egfr_ckd_epi_2021,
        score_body_size,
        score_egfr,
    )
    from lupuscell.instruments.bulk import score_visit_table
    from lupuscell.instruments.catalog import CATALOG, get
    from lupuscell.instruments.cellular_toxicity import (
        CrsInput,
        CrsResult,
        IcansInput,
        IcansResult,
        score_crs,
        score_icans,
    )
    from lupuscell.instruments.eular_acr_2019 import EularAcrInput, EularAcrResult, score_eular_acr_2019
    from lupuscell.instruments.gvhd import MagicInput, MagicResult
    from lupuscell.instruments.hct_ci import HctCiInput, HctCiResult
    from lupuscell.instruments.labs import (
        CtcaeInput,
        CtcaeResult,
        EngraftmentInput,
        EngraftmentResult,
        ctcae_grade,
        neutrophil_engraftment_day,
        platelet_engraftment_day,
        score_ctcae,
        score_engraftment,
    )
    from lupuscell.instruments.rand36 import Rand36Input, Rand36Result, score_rand36
    from lupuscell.instruments.renal import (
        EularRenalInput,
        EularRenalResult,
        KdigoInput,
        KdigoRenalResult,
        score_eular_2019,
        score_kdigo_2024,
    )
    from lupuscell.instruments.response import (
        DorisInput,
        DorisResult,
        LldasInput,
        LldasResult,
        SriInput,
        SriResult,
        score_doris_2021,
        score_lldas,
        score_sri,
    )
    from lupuscell.instruments.sdi import SdiInput, SdiResult, score_sdi
    from lupuscell.instruments.sledai2k import SledaiInput, SledaiResult, score_sledai_2k
    from lupuscell.instruments.transplant import score_hct_ci, score_magic_agvhd
