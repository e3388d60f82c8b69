"""Pool one outcome of the curated evidence: the selection, the model and the JSON document.

What ``lupuscell evidence pool`` (and the questions report) does, as a library call:
:func:`pool_curated` filters the curated rows (:class:`~lupuscell.evidence.studies.StudyFilter`),
picks one row per independent study (:func:`~lupuscell.evidence.studies.select_for_pooling`
for proportions; :mod:`lupuscell.evidence.contrasts` for trial arms and before/after
summaries), computes the effect sizes, fits the model and, on request, the sensitivity
analyses. :meth:`PooledAnalysis.document` is the JSON the CLI prints; every key that existed
before version 2 of the evidence keeps its name.

The measure decides the kind of comparison: ``PR``/``PLO``/``PAS``/``PFT`` pool proportions of
one group; ``MD``/``SMD`` (continuous) and ``RR``/``OR``/``RD`` (binary) compare a trial's MSC
arm with its placebo arm; ``MC``/``SMCR`` summarise before/after changes of single-arm studies
under a stated correlation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from lupuscell.analysis.conventions import json_safe
from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence import contrasts as _contrasts
from lupuscell.evidence.doses import dose_per_kg
from lupuscell.evidence.effects import (
    CHANGE_MEASURES,
    MEAN_MEASURES,
    PROPORTION_MEASURES,
    TWO_GROUP_BINARY,
    EffectSizes,
    escalc,
)
from lupuscell.evidence.meta import MetaResult, Test, rma
from lupuscell.evidence.sensitivity import sensitivity_report
from lupuscell.evidence.studies import LEVEL_SHORT, Selection, StudyFilter, check_therapy, select_for_pooling

#: Study-level moderators a meta-regression may use (``dose_per_kg`` is read from cell_source).
MODERATORS = ("year", "median_followup_months", "timepoint_months", "n", "dose_per_kg")
POOL_MEASURES = (*PROPORTION_MEASURES, *MEAN_MEASURES, *TWO_GROUP_BINARY, *CHANGE_MEASURES)


@dataclass(frozen=True)
class PoolOptions:
    """Everything that defines one pooled analysis of the curated evidence."""

    outcome: str
    therapy: str | None = None
    measure: str = "PLO"
    method: str = "REML"
    test: str = "z"
    timepoint: float | None = None
    exact: bool = False
    cohort_rule: str = "largest"
    moderator: str | None = None
    correlation: float = _contrasts.DEFAULT_CORRELATION
    filter: StudyFilter = field(default_factory=StudyFilter)

    @property
    def kind(self) -> Literal["proportion", "arms", "change"]:
        if self.measure in CHANGE_MEASURES:
            return "change"
        if self.measure in (*MEAN_MEASURES, *TWO_GROUP_BINARY):
            return "arms"
        return "proportion"


@dataclass(frozen=True)
class PooledAnalysis:
    """A pooled analysis: the rows used, the rows left out, the effect sizes and the fit."""

    options: PoolOptions
    selection: Selection | _contrasts.Contrasts
    effects: EffectSizes
    fit: MetaResult
    forest_fit: MetaResult
    sensitivity: dict[str, Any] | None = None

    def labels(self) -> list[str]:
        return self.selection.labels()

    def columns(self) -> dict[str, list[str]]:
        """Text columns of the forest plot (counts, or the compared summaries)."""
        if isinstance(self.selection, Selection):
            return {"Events/N": self.selection.counts()}
        header = "MSC vs placebo" if self.selection.kind == "arms" else "Baseline, follow-up"
        return {header: self.selection.summaries()}

    def selection_levels(self) -> list[str]:
        """``evidence_level`` per pooled study (shown in forest plots)."""
        return [
            LEVEL_SHORT.get(str(r["evidence_level"]), str(r["evidence_level"]))
            for r in self.selection.table()
        ]

    def text_lines(self) -> list[str]:
        """The plain-text account printed under the table: studies, exclusions, caveats."""
        lines = []
        for r, summary in zip(self.selection.table(), self._summaries(), strict=True):
            lines.append(f"  {r['study_id']}: {summary} - {r['outcome']}: {r['definition']}")
        lines += [f"  excluded {s} ({o}): {why}" for s, o, why in self.selection.excluded]
        lines += [
            f"  {c.name}: {c.estimate:.4f} (SE {c.se:.4f}, p = {c.p:.3g})" for c in self.fit.coefficients
        ]
        if self.sensitivity is not None:
            for row in self.sensitivity["estimators"]:
                lines.append(
                    f"  {row['method']}: {row['estimate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
                )
            if "glmm" in self.sensitivity:
                g = self.sensitivity["glmm"]
                lines.append(
                    f"  binomial-normal GLMM: {g['estimate']:.3f} [{g['ci_low']:.3f}, {g['ci_high']:.3f}]"
                )
            lines += [f"  note: {note}" for note in self.sensitivity["notes"]]
        if isinstance(self.selection, _contrasts.Contrasts) and self.selection.assumption:
            lines.append(f"assumption: {self.selection.assumption}")
        if self.options.filter.describe():
            lines.append(f"filter: {self.options.filter.describe()}")
        lines.append("caution: definitions differ between studies (see the list above); read before citing.")
        return lines

    def _summaries(self) -> list[str]:
        if isinstance(self.selection, Selection):
            return self.selection.counts()
        return self.selection.summaries()

    def excluded(self) -> list[dict[str, str]]:
        return [{"study_id": s, "outcome": o, "reason": why} for s, o, why in self.selection.excluded]

    def document(self) -> dict[str, Any]:
        """The JSON of ``lupuscell evidence pool --json`` (strict: NaN -> null)."""
        out = self.fit.summary()
        out["studies"] = [_study_entry(r, self.options.kind) for r in self.selection.table()]
        out["excluded"] = self.excluded()
        out["filters"] = self.options.filter.to_dict()
        if isinstance(self.selection, _contrasts.Contrasts) and self.selection.assumption:
            out["assumption"] = self.selection.assumption
        if self.sensitivity is not None:
            out["sensitivity"] = self.sensitivity
        return cast(dict[str, Any], json_safe(out))


def _num(v: Any) -> Any:
    return None if isinstance(v, float) and not np.isfinite(v) else v


def _study_entry(r: dict[str, Any], kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"study_id": r["study_id"], "outcome": r["outcome"]}
    if kind == "proportion":
        entry |= {"events": int(r["events"]), "total": int(r["total"])}
    else:
        entry |= {
            f: _num(r[f])
            for f in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ai", "bi", "ci", "di", "ni", "ri")
            if f in r
        }
        entry["summary"] = r["summary"]
    entry |= {
        "definition": r["definition"],
        "timepoint_months": _num(r["timepoint_months"]),
        "evidence_level": r["evidence_level"],
        "local": bool(r["local"]),
    }
    return entry


def _check_options(o: PoolOptions) -> None:
    problems: list[Problem] = []
    if o.measure not in POOL_MEASURES:
        problems.append(
            Problem("", "measure", f"unknown measure {o.measure!r}; one of {', '.join(POOL_MEASURES)}")
        )
    if o.cohort_rule not in ("largest", "latest"):
        problems.append(Problem("", "cohort_rule", f"unknown rule {o.cohort_rule!r}; largest or latest"))
    if o.moderator is not None and o.moderator not in MODERATORS:
        problems.append(
            Problem("", "moderator", f"unknown moderator {o.moderator!r}; one of {', '.join(MODERATORS)}")
        )
    if problems:
        raise ValidationError(problems)
    check_therapy(o.therapy)


def select(df: pd.DataFrame, o: PoolOptions) -> Selection | _contrasts.Contrasts:
    """The studies ``o`` pools (filter, therapy, then the rules of its kind)."""
    _check_options(o)
    rows = o.filter.apply(df)
    rule = cast(Literal["largest", "latest"], o.cohort_rule)
    if o.kind == "proportion":
        sel = select_for_pooling(
            rows, o.outcome, o.therapy, timepoint=o.timepoint, exact=o.exact, cohort_rule=rule
        )
        if sel.rows.empty:
            raise ValidationError.single(
                "",
                "outcome",
                f"no studies with counts for outcome {o.outcome!r}"
                f"{'' if o.therapy is None else f' and therapy {o.therapy!r}'}",
            )
        return sel
    if o.therapy is not None:
        rows = rows[rows["therapy"] == o.therapy]
    if o.kind == "arms":
        return _contrasts.arm_contrasts(rows, o.outcome)
    return _contrasts.change_contrasts(
        rows, o.outcome, correlation=o.correlation, timepoint=o.timepoint, cohort_rule=rule
    )


def moderator_values(sel: Selection | _contrasts.Contrasts, name: str) -> list[float]:
    """One moderator value per selected study; a missing value is an error naming the study."""
    rows = sel.table()
    if name == "dose_per_kg":
        doses = [dose_per_kg(r["cell_source"]) for r in rows]
        missing = [
            Problem(f"study {r['study_id']}", name, f"{d.reason}: cannot be used as moderator")
            for r, d in zip(rows, doses, strict=True)
            if d.value is None
        ]
        values = [d.value for d in doses]
    else:
        missing = [
            Problem(f"study {r['study_id']}", name, "missing, cannot be used as moderator")
            for r in rows
            if r[name] != r[name]
        ]
        values = [float(r[name]) for r in rows]
    if missing:
        raise ValidationError(missing)
    return [float(v) for v in values if v is not None]


def _fit(es: EffectSizes, o: PoolOptions, mods: dict[str, list[float]] | None = None) -> MetaResult:
    single = es.k == 1
    return rma(es, "EE" if single else o.method, cast(Test, "z" if single else o.test), mods=mods)


def pool_curated(df: pd.DataFrame, options: PoolOptions, *, sensitivity: bool = False) -> PooledAnalysis:
    """Select, compute effect sizes and fit (see the module docstring).

    Raises
    ------
    ValidationError
        Unknown options, no studies for the outcome, a study missing the moderator.
    """
    sel = select(df, options)
    es = escalc(options.measure, sel.records())
    plain = _fit(es, options)
    fit = plain
    if options.moderator is not None:
        fit = _fit(es, options, {options.moderator: moderator_values(sel, options.moderator)})
    report = sensitivity_report(es, options.method, options.test) if sensitivity else None
    return PooledAnalysis(options, sel, es, fit, plain, report)
