"""Hand-made OMOP persons for boundary tests: the same facts as Parquet tables (for the SQL
screen) and as a :class:`PatientRecord` (for the per-person evaluator)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lupuscell.protocols import measures
from lupuscell.protocols.record import ConditionFact, DrugFact, MeasurementFact, PatientRecord, VisitFact
from lupuscell.synth.omop import vocabulary_tables

INDEX = dt.date(2025, 6, 30)


@dataclass
class Person:
    person_id: int
    birth_year: int = 1980
    gender: int = 8532
    obs: tuple[dt.date, dt.date] = (dt.date(2015, 1, 1), INDEX)
    conditions: list[tuple[int, dt.date]] = field(default_factory=list)
    drugs: list[tuple[int, dt.date]] = field(default_factory=list)
    measurements: list[tuple[int, dt.date, float | None, int | None]] = field(default_factory=list)
    visits: list[tuple[int, dt.date]] = field(default_factory=list)

    def record(self) -> PatientRecord:
        units = measures.omop_units()
        return PatientRecord(
            person=str(self.person_id),
            index_date=INDEX,
            birth_year=self.birth_year,
            sex={8532: "F", 8507: "M"}.get(self.gender),
            observation_periods=(self.obs,),
            conditions=tuple(ConditionFact(c, d, "c") for c, d in self.conditions),
            drugs=tuple(DrugFact(c, None, d, "d") for c, d in self.drugs),
            measurements=tuple(
                MeasurementFact(c, None, d, v, units.get(0 if u is None else u, f"concept {u}"), "m")
                for c, d, v, u in self.measurements
            ),
            visits=tuple(VisitFact(c, d) for c, d in self.visits),
            complete=frozenset({"condition", "drug", "measurement", "visit"}),
            source="omop",
        )


def _d(values: list[dt.date]) -> pa.Array:
    return pa.array(values, type=pa.date32())


def write_persons(folder: Path, persons: list[Person]) -> Path:
    """Write the persons as an OMOP Parquet folder (one file per table) with the vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [p.person_id for p in persons]
    n = len(persons)
    tables = {
        "person": pa.table(
            {
                "person_id": pa.array(ids, pa.int64()),
                "gender_concept_id": pa.array([p.gender for p in persons], pa.int64()),
                "year_of_birth": pa.array([p.birth_year for p in persons], pa.int32()),
                "race_concept_id": pa.array([0] * n, pa.int64()),
                "ethnicity_concept_id": pa.array([0] * n, pa.int64()),
            }
        ),
        "observation_period": pa.table(
            {
                "observation_period_id": pa.array(ids, pa.int64()),
                "person_id": pa.array(ids, pa.int64()),
                "observation_period_start_date": _d([p.obs[0] for p in persons]),
                "observation_period_end_date": _d([p.obs[1] for p in persons]),
                "period_type_concept_id": pa.array([32817] * n, pa.int64()),
            }
        ),
    }
    rows = {
        "condition_occurrence": [(p.person_id, c, d) for p in persons for c, d in p.conditions],
        "drug_exposure": [(p.person_id, c, d) for p in persons for c, d in p.drugs],
        "visit_occurrence": [(p.person_id, c, d) for p in persons for c, d in p.visits],
    }
    prefix = {"condition_occurrence": "condition", "drug_exposure": "drug", "visit_occurrence": "visit"}
    for name, items in rows.items():
        p_ = prefix[name]
        start = f"{p_}_start_date" if p_ != "drug" else "drug_exposure_start_date"
        columns = {
            f"{name}_id" if name != "drug_exposure" else "drug_exposure_id": pa.array(
                range(1, len(items) + 1), pa.int64()
            ),
            "person_id": pa.array([i[0] for i in items], pa.int64()),
            f"{p_}_concept_id": pa.array([i[1] for i in items], pa.int64()),
            start: _d([i[2] for i in items]),
            f"{p_}_type_concept_id": pa.array([32817] * len(items), pa.int64()),
        }
        if name == "drug_exposure":
            columns["drug_exposure_end_date"] = _d([i[2] for i in items])
        if name == "visit_occurrence":
            columns["visit_end_date"] = _d([i[2] for i in items])
        tables[name] = pa.table(columns)
    m = [(p.person_id, *x) for p in persons for x in p.measurements]
    tables["measurement"] = pa.table(
        {
            "measurement_id": pa.array(range(1, len(m) + 1), pa.int64()),
            "person_id": pa.array([x[0] for x in m], pa.int64()),
            "measurement_concept_id": pa.array([x[1] for x in m], pa.int64()),
            "measurement_date": _d([x[2] for x in m]),
            "measurement_type_concept_id": pa.array([32817] * len(m), pa.int64()),
            "value_as_number": pa.array([x[3] for x in m], pa.float64()),
            "unit_concept_id": pa.array([x[4] for x in m], pa.int64()),
        }
    )
    tables.update(vocabulary_tables())
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder
