"""Evidence synthesis for cell therapy in SLE (pure: rows and numbers in, results out).

Public API
----------
load_studies, dataset_version, select_for_pooling, StudyFilter, Selection
    The curated evidence (version 2: 33 studies, 149 rows), validated on load, filtered by
    evidence level and cohort group, one row per independent study.
escalc, EffectSizes, back_transform
    Effect sizes in metafor's vocabulary (proportions, 2x2, means, change scores, rates).
rma, rma_mh, MetaResult, subgroup_analysis, SubgroupResult, leave_one_out, egger_test
    Random/mixed-effects and Mantel-Haenszel models, subgroups, influence, small-study tests.
estimate_tau2, binomial_normal_glmm, sensitivity_report
    tau^2 estimators, the binomial-normal GLMM and the sensitivity report.
pool_curated, PoolOptions, PooledAnalysis, arm_contrasts, change_contrasts, dose_per_kg
    One pooled analysis of the curated rows (proportions, trial arms, before/after) and its JSON.
answer_questions, strength_sentence, patient_facts
    The field's open questions, the evidence-strength sentence and the patient page's numbers.
forest_plot, funnel_plot, bubble_plot, comparison_plot, plot_reconstruction
    Figures (returned, never written).
compare, CentreResult
    A centre's own rate beside the pooled literature.
reconstruct_ipd, reconstruct_from_csv, Reconstruction, fit_check
    Patient data rebuilt from published Kaplan-Meier curves (Guyot et al. 2012).
local_evidence_path, fit_request
    The user-level evidence file's location; the JSON request of ``lupuscell evidence meta``.

Names are imported on first use (PEP 562), so ``import lupuscell.evidence`` stays cheap for the
command line. See docs/evidence/ for the conventions and runnable examples.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, visible to type checkers and the API reference
    from lupuscell.evidence.benchmark import CentreResult, compare, comparison_plot
    from lupuscell.evidence.contrasts import arm_contrasts, change_contrasts
    from lupuscell.evidence.doses import dose_per_kg
    from lupuscell.evidence.effects import EffectSizes, back_transform, escalc
    from lupuscell.evidence.glmm import binomial_normal_glmm
    from lupuscell.evidence.ipd import Reconstruction, fit_check, reconstruct_from_csv, reconstruct_ipd
    from lupuscell.evidence.ipd_plot import plot_reconstruction
    from lupuscell.evidence.local import local_evidence_path
    from lupuscell.evidence.meta import (
        MetaResult,
        SubgroupResult,
        egger_test,
        leave_one_out,
        rma,
        rma_mh,
        subgroup_analysis,
    )
    from lupuscell.evidence.patient_info import patient_facts
    from lupuscell.evidence.plots import bubble_plot, forest_plot, funnel_plot
    from lupuscell.evidence.pooling import PooledAnalysis, PoolOptions, pool_curated
    from lupuscell.evidence.questions import answer_questions
    from lupuscell.evidence.request import fit_request
    from lupuscell.evidence.sensitivity import sensitivity_report
    from lupuscell.evidence.strength import strength_sentence
    from lupuscell.evidence.studies import (
        Selection,
        StudyFilter,
        dataset_version,
        load_studies,
        select_for_pooling,
    )
    from lupuscell.evidence.tau2 import estimate_tau2

_WHERE: dict[str, str] = {
    "load_studies": "studies",
    "dataset_version": "studies",
    "select_for_pooling": "studies",
    "StudyFilter": "studies",
    "Selection": "studies",
    "escalc": "effects",
    "EffectSizes": "effects",
    "back_transform": "effects",
    "rma": "meta",
    "rma_mh": "meta",
    "MetaResult": "meta",
    "subgroup_analysis": "meta",
    "SubgroupResult": "meta",
    "leave_one_out": "meta",
    "egger_test": "meta",
    "estimate_tau2": "tau2",
    "binomial_normal_glmm": "glmm",
    "sensitivity_report": "sensitivity",
    "pool_curated": "pooling",
    "PoolOptions": "pooling",
    "PooledAnalysis": "pooling",
    "arm_contrasts": "contrasts",
    "change_contrasts": "contrasts",
    "dose_per_kg": "doses",
    "answer_questions": "questions",
    "strength_sentence": "strength",
    "patient_facts": "patient_info",
    "forest_plot": "plots",
    "funnel_plot": "plots",
    "bubble_plot": "plots",
    "comparison_plot": "benchmark",
    "plot_reconstruction": "ipd_plot",
    "compare": "benchmark",
    "CentreResult": "benchmark",
    "reconstruct_ipd": "ipd",
    "reconstruct_from_csv": "ipd",
    "Reconstruction": "ipd",
    "fit_check": "ipd",
    "local_evidence_path": "local",
    "fit_request": "request",
}

__all__ = [
    "CentreResult",
    "EffectSizes",
    "MetaResult",
    "PoolOptions",
    "PooledAnalysis",
    "Reconstruction",
    "Selection",
    "StudyFilter",
    "SubgroupResult",
    "answer_questions",
    "arm_contrasts",
    "back_transform",
    "binomial_normal_glmm",
    "bubble_plot",
    "change_contrasts",
    "compare",
    "comparison_plot",
    "dataset_version",
    "dose_per_kg",
    "egger_test",
    "escalc",
    "estimate_tau2",
    "fit_check",
    "fit_request",
    "forest_plot",
    "funnel_plot",
    "leave_one_out",
    "load_studies",
    "local_evidence_path",
    "patient_facts",
    "plot_reconstruction",
    "pool_curated",
    "reconstruct_from_csv",
    "reconstruct_ipd",
    "rma",
    "rma_mh",
    "select_for_pooling",
    "sensitivity_report",
    "strength_sentence",
    "subgroup_analysis",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'lupuscell.evidence' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lupuscell.evidence.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
