"""The schemas' rules give the same verdict per record (pydantic: repository, import) and per
column (:mod:`lupuscell.schemas.frames`: bulk loader), row for row.

A synthetic cohort is perturbed at random (dates swapped, donor types and grading systems
drawn from every code, grades out of range, lab units and values scrambled); every row is
then judged both ways: the same rows are refused, and every field pydantic names is named per
column too (pydantic does not run the cross-field rules of a record whose fields already
failed, so per column may name more fields of such a row).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pydantic
import pytest

from lupuscell import vocab
from lupuscell.registry.bulk_write import TABLE_SCHEMAS
from lupuscell.schemas.events import ae_frame_defaults
from lupuscell.schemas.frames import field_specs, frame_problems
from lupuscell.synth.cohort import generate_cohort_tables

PERTURBED = ("patients", "therapy_courses", "visits", "lab_results", "adverse_events", "clinical_events")


def _perturb(name: str, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frame = frame.copy()
    n = len(frame)

    def some() -> np.ndarray:
        return rng.random(n) < 0.2

    if name == "therapy_courses":
        frame["donor_type"] = (
            frame["donor_type"].astype(object).where(~some(), rng.choice(vocab.DONOR_TYPES, n))
        )
        frame["harvest_date"] = frame["harvest_date"].where(
            ~some(), frame["infusion_date"] + pd.Timedelta(days=3)
        )
        frame["viability_percent"] = frame["viability_percent"].where(~some(), 101.0)
    elif name == "adverse_events":
        frame["grading_system"] = frame["grading_system"].where(
            ~some(), rng.choice(vocab.AE_GRADING_SYSTEMS, n)
        )
        frame["grade"] = frame["grade"].where(~some(), rng.integers(0, 7, n))
        frame["resolution_date"] = frame["resolution_date"].where(
            ~some(), frame["onset_date"] - pd.Timedelta(days=2)
        )
    elif name == "lab_results":
        frame["unit"] = frame["unit"].where(~some(), rng.choice(["g/L", "mg/dL", "bananas", "/uL"], n))
        frame["analyte"] = frame["analyte"].where(~some(), "unobtainium")
    elif name == "visits":
        frame["pga"] = frame["pga"].where(~some(), rng.choice([0.25, 3.5, -1.0, 2.0], n))
    elif name == "patients":
        frame["nephritis_class"] = frame["nephritis_class"].astype(object).where(~some(), "IV")
        frame["sle_diagnosis_date"] = frame["sle_diagnosis_date"].where(~some(), pd.Timestamp("1901-06-01"))
    elif name == "clinical_events":
        frame["severity"] = frame["severity"].astype(object).where(~some(), "severe")
    return frame


def _record(row: dict[str, Any], schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in schema.model_fields:
        value = row.get(name)
        if isinstance(value, pd.Timestamp):
            value = value.date()
        elif (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
            value = None
        elif isinstance(value, np.generic):
            value = value.item()
        if value is not None or name not in ("course_id",):
            out[name] = value
    if isinstance(out.get("bilag"), str):
        out["bilag"] = json.loads(out["bilag"])  # as the import decodes it
    if "patient_code" in schema.model_fields:
        out.setdefault("patient_code", "KI-0001")
    if "course_id" in schema.model_fields:
        out["course_id"] = 1
    return {k: v for k, v in out.items() if v is not None}


def _row_verdicts(name: str, frame: pd.DataFrame) -> set[tuple[int, str]]:
    schema = TABLE_SCHEMAS[name]
    bad: set[tuple[int, str]] = set()
    for pos, row in enumerate(frame.to_dict(orient="records")):
        try:
            schema.model_validate(_record(row, schema))
        except pydantic.ValidationError as exc:
            for error in exc.errors(include_url=False):
                if error["type"] == "cross_field":
                    bad |= {(pos, field) for field, _ in error["ctx"]["problems"]}
                else:
                    bad.add((pos, str(error["loc"][0]) if error["loc"] else "(record)"))
    return bad


def _frame_verdicts(name: str, frame: pd.DataFrame) -> set[tuple[int, str]]:
    return {
        (int(pos), flag.field)
        for flag in frame_problems(TABLE_SCHEMAS[name], frame)
        for pos in np.flatnonzero(flag.mask)
    }


@pytest.mark.parametrize("name", PERTURBED)
def test_row_and_column_verdicts_agree(name: str) -> None:
    rng = np.random.default_rng(17)
    tables = generate_cohort_tables(150, seed=17)
    frame = _perturb(name, tables[name], rng)
    if name == "adverse_events":
        frame = ae_frame_defaults(frame)
    fields = {s.name for s in field_specs(TABLE_SCHEMAS[name])}
    frame = frame[[c for c in frame.columns if c in fields]].reset_index(drop=True)
    rows, columns = _row_verdicts(name, frame), _frame_verdicts(name, frame)
    assert rows, "the perturbation should break some rows"
    assert {pos for pos, _ in rows} == {pos for pos, _ in columns}
    assert rows <= columns, rows - columns


def test_the_bulk_loader_reads_the_course_rules_from_the_schema() -> None:
    """The donor rule lives in one table (schemas.therapy.DONOR_BY_THERAPY), used both ways."""
    from lupuscell.schemas.therapy import TherapyCourseIn

    course = {
        "patient_code": "KI-1",
        "therapy": "autologous_hsct",
        "infusion_date": dt.date(2020, 1, 1),
        "donor_type": "allogeneic_related",
    }
    with pytest.raises(pydantic.ValidationError):
        TherapyCourseIn.model_validate(course)
    flags = frame_problems(TherapyCourseIn, pd.DataFrame([course]))
    assert [f.field for f in flags] == ["donor_type"]
    assert "allowed values: autologous" in flags[0].message(course)
