"""The field's open questions, answered from the curated evidence (pure: data in, results out).

The reviews of cell therapy in SLE (Leone 2017; de Silva & Seneviratne 2019; Zhou 2020; the 2025
CAR-T review in Semin Arthritis Rheum) name the same open questions: which therapy and which
cell source, which dose, how safe in the long run. :func:`answer_questions` answers each from
the curated rows, with the same rules as every pooled analysis (one row per study, one study
per cohort group, every exclusion named):

``remission_by_therapy``, ``trm_by_therapy``
    Remission (each study's own definition) and treatment-related mortality, random-effects
    subgroup analysis by therapy (logit proportions, REML, a separate tau^2 per subgroup and
    the test for subgroup differences; metafor's common-tau^2 ``mods = ~ factor(therapy)`` as
    well).
``msc_cell_source``
    MSC studies by cell source (bone marrow, umbilical cord, adipose, mixed, not stated, read
    from ``cell_source``), the same subgroup analysis on each study's primary efficacy outcome.
``dose``
    Meta-regression of efficacy on the dose in 10^6 cells/kg (:mod:`lupuscell.evidence.doses`)
    per therapy, where at least three studies with two different doses report one.
``long_term_safety``
    Deaths, malignancies and serious infections per 100 patient-years, by therapy, where a
    study gives both a count and its follow-up (median follow-up, else the outcome's time
    window). Patient-years are approximated as patients x follow-up: an overestimate when
    patients died or left early, so the rates are, if anything, too low; pooled as log rates
    (``IRLN``, REML).

Each answer carries k, n, heterogeneity, the fits for a forest or bubble plot, the caveats and
a sentence on how much the evidence supports (:mod:`lupuscell.evidence.strength`).

References
----------
Leone A, et al. Autologous haematopoietic stem cell transplantation for systemic lupus
erythematosus: a systematic review. Rheumatology (Oxford) 2017;56:1187-1196.
Zhou T, et al. Efficacy and safety of mesenchymal stem cells in systemic lupus erythematosus:
a meta-analysis. Stem Cells Int 2020;2020:6518508. doi:10.1155/2020/6518508.
Borenstein M, Hedges LV, Higgins JPT, Rothstein HR. Introduction to Meta-Analysis. Wiley 2009,
chapter 19 (subgroup analyses) and chapter 20 (meta-regression).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.evidence.doses import dose_per_kg
from lupuscell.evidence.effects import EffectSizes, escalc
from lupuscell.evidence.meta import MetaResult, SubgroupResult, rma, subgroup_analysis
from lupuscell.evidence.strength import EvidenceFeatures, strength_sentence
from lupuscell.evidence.studies import (
    THERAPY_LABELS,
    Selection,
    outcome_codes,
    select_for_pooling,
    study_label,
)

#: Cell-source categories read from ``cell_source`` (keyword -> label), in the order checked.
CELL_SOURCE_KEYWORDS: dict[str, str] = {
    "bone marrow": "Bone marrow",
    "umbilical cord": "Umbilical cord",
    "adipose": "Adipose tissue",
}
MIXED_SOURCE = "Bone marrow or umbilical cord"
UNSTATED_SOURCE = "Source not stated"
#: REML stopping rule of the questions: the exact optimum (metafor's default stops at 1e-5).
THRESHOLD = 1e-10
#: Safety outcomes of the long-term question (outcome family -> label).
SAFETY_OUTCOMES: dict[str, str] = {
    "death": "Deaths (any cause)",
    "malignancy": "Malignancies",
    "infection": "Infections (reported as complications; seriousness not graded)",
}


def cell_source_category(text: str) -> str:
    """Bone marrow, umbilical cord, adipose, both (mixed) or not stated, from ``cell_source``."""
    found = [label for key, label in CELL_SOURCE_KEYWORDS.items() if key in str(text).lower()]
    if len(found) > 1:
        return MIXED_SOURCE
    return found[0] if found else UNSTATED_SOURCE


def features(rows: pd.DataFrame, i2: float | None = None) -> EvidenceFeatures:
    """Evidence features of pooled single-group rows (k, patients, levels, I^2).

    Every question here pools one group per study (a randomised trial's MSC arm used alone is a
    single-arm series), so no comparison is randomised.
    """
    return EvidenceFeatures(
        k=len(rows),
        n=int(rows["total"].sum()) if len(rows) else 0,
        randomised=0,
        levels=[str(v) for v in rows["evidence_level"]],
        i2=i2,
    )


@dataclass(frozen=True)
class SubgroupAnswer:
    """A proportion pooled by subgroup: the rows, the fits and the reading."""

    key: str
    title: str
    question: str
    selection: Selection
    groups: list[str]
    effects: EffectSizes
    overall: MetaResult
    subgroups: SubgroupResult | None
    common_tau2: MetaResult | None
    sentence: str
    caveats: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.effects.k

    @property
    def n(self) -> int:
        return int(self.selection.rows["total"].sum())


def _subgroup_answer(
    key: str, title: str, question: str, sel: Selection, groups: list[str], caveats: list[str]
) -> SubgroupAnswer:
    es = escalc("PLO", sel.records())
    overall = rma(es, "REML" if es.k > 1 else "EE", "z", threshold=THRESHOLD)
    sub = common = None
    if len(set(groups)) > 1:
        sub = subgroup_analysis(es, groups, "REML", "z", threshold=THRESHOLD)
        common = rma(es, "REML", "z", mods={"group": groups}, threshold=THRESHOLD)
    sentence = strength_sentence(features(sel.rows, i2=overall.i2))
    if sub is not None:
        sentence += (
            f" The subgroups do not differ beyond chance (Q = {sub.q_between:.2f}, df = {sub.df}, p = {sub.p:.2g})"
            if sub.p >= 0.05
            else f" The subgroups differ (Q = {sub.q_between:.2f}, df = {sub.df}, p = {sub.p:.2g})"
        )
        sentence += (
            ", but with so few studies per subgroup the test has little power, and the subgroups also "
            "differ in patients, era and definitions, so the comparison is observational."
        )
    return SubgroupAnswer(key, title, question, sel, groups, es, overall, sub, common, sentence, caveats)


def remission_by_therapy(df: pd.DataFrame) -> SubgroupAnswer:
    """Remission (each study's definition) by therapy."""
    sel = select_for_pooling(df, "remission")
    groups = [THERAPY_LABELS[str(t)] for t in sel.rows["therapy"]]
    caveats = [
        "Remission means different things: SLEDAI-2K < 3 (Jayne 2004), complete renal remission "
        "(Huang 2019, Deng 2017), DORIS remission or DORIS with LLDAS (CAR-T), medication-free "
        "remission (Wang 2024). The definition of every study is listed below the plot.",
        "Timepoints differ, from 3 months (CAR-T) to the end of follow-up (HSCT series).",
    ]
    return _subgroup_answer(
        "remission_by_therapy",
        "Remission after HSCT, MSC and CAR-T",
        "How often do patients reach remission after each cell therapy?",
        sel,
        groups,
        caveats,
    )


def trm_by_therapy(df: pd.DataFrame) -> SubgroupAnswer:
    """Treatment-related mortality by therapy."""
    sel = select_for_pooling(df, "treatment_related_mortality")
    groups = [THERAPY_LABELS[str(t)] for t in sel.rows["therapy"]]
    caveats = [
        "Treatment-related mortality counts deaths the authors attributed to the procedure over "
        "each study's own follow-up; it is not a fixed-time cumulative incidence.",
        "Huang 2019 reports 1/22, but its 10-year report mentions 2 deaths within 100 days: "
        "1/22 may be an undercount.",
        "The EBMT registry reported 11% 100-day transplant-related mortality for 85 SLE patients "
        "(Tyndall, ASH Education 2011); registry and trial populations differ.",
    ]
    return _subgroup_answer(
        "trm_by_therapy",
        "Treatment-related mortality by therapy",
        "How many patients die of the treatment itself?",
        sel,
        groups,
        caveats,
    )


def sources_left_out(df: pd.DataFrame, sel: Selection, groups: list[str]) -> list[str]:
    """A plain sentence for each cell source reported by some MSC study but absent from the
    pooled subgroups (every study of that source left out, e.g. as an overlapping report of a
    cohort group), naming those studies and why: that source cannot be compared here."""
    rows = df[(df["therapy"] == "msc") & df["outcome"].isin(outcome_codes("efficacy"))]
    sources = pd.Series([cell_source_category(t) for t in rows["cell_source"]], index=rows.index)
    why = {study: reason for study, _, reason in sel.excluded}
    sentences = []
    for source in sources.unique():
        if source in groups or source == UNSTATED_SOURCE:
            continue
        studies = rows[sources == source]
        named = sorted(
            {
                f"{study_label(r)}: {why.get(str(r['study_id']), 'not poolable')}"
                for _, r in studies.iterrows()
            }
        )
        sentences.append(
            f"No '{source.lower()}' subgroup could be pooled: every study of it was left out "
            f"({'; '.join(named)}), so {source.lower()} MSC cannot be compared with the other "
            "sources from these studies."
        )
    return sentences


def msc_by_cell_source(df: pd.DataFrame) -> SubgroupAnswer:
    """MSC efficacy by cell source (bone marrow, umbilical cord, adipose)."""
    sel = select_for_pooling(df, "efficacy", "msc")
    groups = [cell_source_category(t) for t in sel.rows["cell_source"]]
    caveats = [
        "Each study's primary efficacy outcome is used (complete remission, renal remission or "
        "SRI-4, in that order of preference): the outcome differs between studies.",
        "The Nanjing programme reports bone-marrow and umbilical-cord MSC together in eight "
        "overlapping reports; one is kept (the largest), so its sources are counted once.",
    ]
    caveats += sources_left_out(df, sel, groups)
    return _subgroup_answer(
        "msc_cell_source",
        "MSC: does the cell source matter?",
        "Do MSC from bone marrow, umbilical cord or adipose tissue work differently?",
        sel,
        groups,
        caveats,
    )


@dataclass(frozen=True)
class DoseAnswer:
    """Meta-regression of efficacy on the dose per kg, per therapy where estimable."""

    key: str
    title: str
    question: str
    fits: dict[str, MetaResult]
    selections: dict[str, Selection]
    doses: dict[str, list[float]]
    not_estimable: dict[str, str]
    dose_table: pd.DataFrame
    sentence: str
    caveats: list[str] = field(default_factory=list)


def _dose_rows(df: pd.DataFrame) -> pd.DataFrame:
    studies = df.groupby("study_id", sort=False).first().reset_index()
    parsed = [dose_per_kg(t) for t in studies["cell_source"]]
    return pd.DataFrame(
        {
            "study_id": studies["study_id"],
            "therapy": studies["therapy"],
            "dose_per_kg": [d.value for d in parsed],
            "dose_text": [d.text if d.value is not None else "" for d in parsed],
            "reason": [d.reason for d in parsed],
        }
    )


def dose_response(df: pd.DataFrame, min_studies: int = 3) -> DoseAnswer:
    """Efficacy on dose (10^6 cells/kg) per therapy; needs ``min_studies`` and two distinct doses."""
    table = _dose_rows(df)
    with_dose = set(table.loc[table["dose_per_kg"].notna(), "study_id"])
    fits: dict[str, MetaResult] = {}
    sels: dict[str, Selection] = {}
    doses: dict[str, list[float]] = {}
    missing: dict[str, str] = {}
    for therapy in ("msc", "car_t", "hsct"):
        sel = select_for_pooling(df[df["study_id"].isin(with_dose)], "efficacy", therapy)
        values = [
            float(table.loc[table["study_id"] == s, "dose_per_kg"].iloc[0]) for s in sel.rows["study_id"]
        ]
        if len(values) < min_studies or len(set(values)) < 2:
            missing[therapy] = (
                f"{len(values)} studies with a dose per kg and {len(set(values))} distinct doses"
            )
            continue
        es = escalc("PLO", sel.records())
        fits[therapy] = rma(es, "REML", "z", mods={"dose_per_kg": values}, threshold=THRESHOLD)
        sels[therapy], doses[therapy] = sel, values
    parts = []
    for therapy, fit in fits.items():
        slope = fit.coefficients[1]
        parts.append(
            f"{THERAPY_LABELS[therapy]}: k = {fit.k}, doses {min(doses[therapy]):g} to "
            f"{max(doses[therapy]):g} x10^6/kg, slope {slope.estimate:.2f} per 10^6/kg on the logit scale "
            f"(95% CI {slope.ci_low:.2f} to {slope.ci_high:.2f})"
        )
    clear = any(f.coefficients[1].p < 0.05 for f in fits.values())
    lead = (
        "A slope is seen, but it cannot be read as a dose effect"
        if clear
        else "No dose-response can be read from the published studies"
    )
    sentence = (
        f"{lead}: "
        + "; ".join(parts)
        + ". Dose varies between studies together with product, patients and outcome definition, and "
        "no study randomised patients to doses, so a slope here is not a dose effect."
    )
    caveats = [
        "Doses are read from the product description; flat doses (not per kg), dose-escalation "
        "studies without per-dose outcomes and unverified doses are left out (listed below).",
    ]
    return DoseAnswer(
        "dose",
        "Which dose?",
        "Do studies that gave more cells per kg report better results?",
        fits,
        sels,
        doses,
        missing,
        table,
        sentence,
        caveats,
    )


@dataclass(frozen=True)
class SafetyAnswer:
    """Long-term safety events per 100 patient-years by outcome and therapy."""

    key: str
    title: str
    question: str
    rows: pd.DataFrame  # one row per study x outcome used, with person_years
    excluded: list[tuple[str, str, str]]
    fits: dict[tuple[str, str], MetaResult]
    sentence: str
    caveats: list[str] = field(default_factory=list)


def _follow_up_months(r: pd.Series) -> float:
    fu = r["median_followup_months"]
    return float(fu) if np.isfinite(fu) else float(r["timepoint_months"])


def long_term_safety(df: pd.DataFrame) -> SafetyAnswer:
    """Deaths, malignancies and serious infections per 100 patient-years, where follow-up allows."""
    used: list[dict[str, Any]] = []
    excluded: list[tuple[str, str, str]] = []
    months = df.apply(_follow_up_months, axis=1)
    timed = df[np.isfinite(months) & (months > 0)]
    for family in SAFETY_OUTCOMES:
        untimed = select_for_pooling(df[~df.index.isin(timed.index)], family)
        excluded += [
            (r["study_id"], r["outcome"], "no follow-up time reported: no patient-years")
            for r in untimed.table()
        ]
        sel = select_for_pooling(timed, family)
        excluded += list(sel.excluded)
        for r in sel.table():
            fu = _follow_up_months(pd.Series(r))
            used.append(r | {"family": family, "follow_up_months": fu, "person_years": r["total"] * fu / 12})
    rows = pd.DataFrame(used)
    fits: dict[tuple[str, str], MetaResult] = {}
    for keys, part in rows.groupby(["family", "therapy"]) if len(rows) else []:
        family, therapy = (str(v) for v in keys)
        recs = [{"id": r["study_id"], "xi": r["events"], "ti": r["person_years"]} for _, r in part.iterrows()]
        es = escalc("IRLN", recs)
        fits[(family, therapy)] = rma(es, "REML" if es.k > 1 else "EE", "z", threshold=THRESHOLD)
    reported = {f for f in SAFETY_OUTCOMES if len(rows) and (rows["family"] == f).any()}
    absent = [SAFETY_OUTCOMES[f].lower() for f in SAFETY_OUTCOMES if f not in reported]
    sentence = strength_sentence(features(rows if len(rows) else df.iloc[:0]))
    if absent:
        missing = " or ".join(absent)
        sentence += (
            f" No study with follow-up reports {missing}; absence of reports is not absence of events."
        )
    caveats = [
        "Patient-years are patients x median follow-up (or the outcome's time window): an "
        "overestimate when patients died or were lost early, so the rates are, if anything, too low.",
        "Most series follow patients for 1 to 5 years; late effects (secondary cancers, "
        "autoimmunity after HSCT) need longer follow-up than most studies report.",
    ]
    return SafetyAnswer(
        "long_term_safety",
        "How safe in the long run?",
        "How often do deaths, cancers and serious infections occur in the years after treatment?",
        rows,
        excluded,
        fits,
        sentence,
        caveats,
    )


def answer_questions(df: pd.DataFrame) -> dict[str, Any]:
    """Every open question, keyed by its id (see the module docstring)."""
    return {
        "remission_by_therapy": remission_by_therapy(df),
        "trm_by_therapy": trm_by_therapy(df),
        "msc_cell_source": msc_by_cell_source(df),
        "dose": dose_response(df),
        "long_term_safety": long_term_safety(df),
    }
