"""Boundary schemas of clinical visits and laboratory results.

A visit carries the 24 SLEDAI-2K descriptors as clinician-adjudicated booleans (Gladman DD
et al., J Rheumatol 2002;29:288-291); ``None`` means *not assessed*, never *absent*. The
physician global assessment (PGA) is on the 0-3 visual analogue scale recorded at 0.1
precision (Petri M et al., NEJM 2005;353:2550; SELENA trial PGA). Prednisone-equivalent dose
is in mg/day and non-negative. BILAG-2004 domain grades (Isenberg DA et al., Rheumatology
2005;44:902-906) are an optional mapping domain -> A..E.

Lab results are stored as entered; the analyte must be known and the unit accepted for it
(``data/units.yaml``, :mod:`lupuscell.units`) - an unknown unit is rejected, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field

from lupuscell import units, vocab
from lupuscell.errors import ValidationError as LupuscellValidationError
from lupuscell.schemas.base import BoolArray, Code, ColumnCheck, FiniteFloat, RecordIn
from lupuscell.schemas.missing import MissingStates, value_or_state_rules
from lupuscell.schemas.rules import Rule, pair_codes

PGA_STEP = 0.1


@dataclass(frozen=True)
class OnGrid(ColumnCheck):
    """A number on a grid of ``step`` (the PGA is recorded at 0.1 precision); rounds to it."""

    step: float = PGA_STEP

    def ok(self, value: Any) -> bool:
        try:
            steps = float(value) / self.step
        except (TypeError, ValueError):
            return True  # not a number: the type check reports it
        return not math.isfinite(steps) or abs(steps - round(steps)) <= 1e-9

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        return "pga_precision", "PGA {value} is not on the 0.1 grid of the 0-3 scale", {"value": value}

    def __call__(self, value: Any) -> Any:
        return None if value is None else round(super().__call__(value), 1)

    def bad(self, series: pd.Series) -> BoolArray:
        steps = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float) / self.step
        with np.errstate(invalid="ignore"):
            return np.asarray(np.abs(steps - np.round(steps)) > 1e-9, dtype=bool)


@dataclass(frozen=True)
class BilagGrades(ColumnCheck):
    """A mapping BILAG-2004 domain -> grade A..E (JSON text accepted in a data frame)."""

    def _first_wrong(self, value: Any) -> tuple[str, Any] | None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return ("mapping", value)
        if not isinstance(value, dict):
            return ("mapping", value)
        for domain, grade in value.items():
            if domain not in vocab.BILAG_DOMAINS:
                return ("domain", domain)
            if grade not in vocab.BILAG_GRADES:
                return ("grade", grade)
        return None

    def ok(self, value: Any) -> bool:
        return self._first_wrong(value) is None

    def describe(self, value: Any) -> tuple[str, str, dict[str, Any]]:
        kind, wrong = self._first_wrong(value) or ("mapping", value)
        allowed = {"domain": vocab.BILAG_DOMAINS, "grade": vocab.BILAG_GRADES}.get(kind)
        if allowed is None:
            return (
                "bilag",
                "BILAG grades must be a mapping domain -> grade, got {value}",
                {"value": repr(wrong)},
            )
        return (
            "code_list",
            "unknown {what} {value}; allowed values: {allowed}",
            {"what": f"BILAG {kind}", "value": repr(wrong), "allowed": ", ".join(allowed)},
        )


@lru_cache(maxsize=4096)
def _unit_problems(analyte: str, unit: str) -> dict[str, str]:
    """Field -> message when ``unit`` is not accepted for ``analyte`` (or the analyte is
    unknown); empty when the pair is accepted. Cached: a file repeats a few pairs."""
    try:
        units.unit_rule(analyte, unit)
    except LupuscellValidationError as exc:
        return {p.field: p.message for p in exc.problems}
    return {}


@dataclass(frozen=True)
class KnownLabUnit(Rule):
    """The analyte is in ``data/units.yaml`` (``field="analyte"``) or, for a known analyte,
    the unit is accepted for it (``field="unit"``)."""

    def _problem(self, analyte: Any, unit: Any) -> str | None:
        if not isinstance(analyte, str) or not isinstance(unit, str):
            return None
        return _unit_problems(analyte, unit).get(self.field)

    def _pair(self, record: Any) -> tuple[Any, Any]:
        get = record.get if isinstance(record, dict) else lambda name: getattr(record, name, None)
        return get("analyte"), get("unit")

    def violated(self, record: Any) -> bool:
        return self._problem(*self._pair(record)) is not None

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        if "analyte" not in frame.columns or "unit" not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        codes, pairs = pair_codes(frame["analyte"], frame["unit"])
        wrong = np.array([self._problem(a, u) is not None for a, u in pairs], dtype=bool)
        return wrong[codes] if len(pairs) else np.zeros(len(frame), dtype=bool)

    def message(self, record: Any) -> str:
        return self._problem(*self._pair(record)) or ""


LAB_RULES: tuple[Rule, ...] = (KnownLabUnit("analyte"), KnownLabUnit("unit"))


class VisitIn(RecordIn):
    """A clinical assessment of one patient on one date."""

    patient_code: Code
    visit_date: dt.date
    sledai_window_days: Annotated[int, Field(ge=1, le=365)] = 10
    seizure: bool | None = None
    psychosis: bool | None = None
    organic_brain_syndrome: bool | None = None
    visual_disturbance: bool | None = None
    cranial_nerve_disorder: bool | None = None
    lupus_headache: bool | None = None
    cva: bool | None = None
    vasculitis: bool | None = None
    arthritis: bool | None = None
    myositis: bool | None = None
    urinary_casts: bool | None = None
    hematuria: bool | None = None
    proteinuria: bool | None = None
    pyuria: bool | None = None
    rash: bool | None = None
    alopecia: bool | None = None
    mucosal_ulcers: bool | None = None
    pleurisy: bool | None = None
    pericarditis: bool | None = None
    low_complement: bool | None = None
    increased_dna_binding: bool | None = None
    fever: bool | None = None
    thrombocytopenia: bool | None = None
    leukopenia: bool | None = None
    pga: Annotated[FiniteFloat | None, Field(ge=0, le=3), AfterValidator(OnGrid(PGA_STEP))] = None
    prednisone_mg_per_day: Annotated[FiniteFloat | None, Field(ge=0)] = None
    on_antimalarial: bool | None = None
    on_immunosuppressant: bool | None = None
    on_biologic: bool | None = None
    immunosuppressives_stable: bool | None = None
    haemolytic_anaemia: bool | None = None
    gastrointestinal_activity: bool | None = None
    new_activity: bool | None = None
    bilag: Annotated[dict[str, str] | None, AfterValidator(BilagGrades())] = None
    missing: Annotated[dict[str, str] | None, AfterValidator(MissingStates("visit"))] = None
    """Explicit states (``not_done``/``unknown``) of minimum-data fields without a value
    (:mod:`lupuscell.schemas.missing`)."""

    RULES: ClassVar[tuple[Rule, ...]] = value_or_state_rules("visit")

    def descriptors(self) -> dict[str, bool | None]:
        """The SLEDAI-2K descriptors of this visit (None = not assessed)."""
        return {name: getattr(self, name) for name in vocab.SLEDAI_2K_DESCRIPTORS}


_missing = set(vocab.SLEDAI_2K_DESCRIPTORS) - set(VisitIn.model_fields)
assert not _missing, f"VisitIn lacks SLEDAI-2K descriptors {_missing}"


class LabResultIn(RecordIn):
    """A laboratory value as entered; the unit must be accepted for the analyte."""

    patient_code: Code
    result_date: dt.date
    analyte: Annotated[str, Field(min_length=1, max_length=32)]
    value: FiniteFloat
    unit: Annotated[str, Field(min_length=1, max_length=32)]

    RULES: ClassVar[tuple[Rule, ...]] = LAB_RULES


def lab_canonical(analyte: str, value: float, unit: str, **kwargs: Any) -> tuple[float, str]:
    """Canonical (value, unit) of a stored lab result (see :func:`lupuscell.units.normalise`)."""
    return units.normalise(analyte, value, unit, **kwargs)
