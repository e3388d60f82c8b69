"""OMOP CDM export read back by the screening engine (DuckDB over the Parquet folder): same
patients, courses, visits, labs and events, compared field by field; SQLite and PostgreSQL
registries."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
from interop_helpers import ACTOR, fill, tables  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.interop import terminology as term
from lupuscell.interop.omop_export import TABLES, export_omop
from lupuscell.screening.omop import open_source


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    source = open_source(str(folder), "duckdb")
    try:
        source.check(
            [
                "person",
                "observation_period",
                "condition_occurrence",
                "drug_exposure",
                "measurement",
                "visit_occurrence",
                "concept",
                "concept_ancestor",
            ]
        )
        out = {}
        for name in (*TABLES, "concept"):  # tables the screen does not bind are read by the same backend
            table = source._tables.get(name)
            if table is None:
                table = source.backend.read_parquet(str(folder / f"{name}.parquet"))
            out[name] = source.backend.execute(table)
        return out
    finally:
        source.close()


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def test_screening_reads_back_the_registry(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=25, seed=21)
    result = export_omop(engine, tmp_path / "omop", identified=True, actor=ACTOR, reason="network study")
    assert result.left_out == []
    reg = tables(engine)
    omop = _read(tmp_path / "omop")
    person = omop["person"].set_index("person_source_value")
    assert sorted(person.index) == sorted(p["code"] for p in reg["patients"])
    for p in reg["patients"]:
        row = person.loc[p["code"]]
        assert (
            row["gender_concept_id"] == {"F": 8532, "M": 8507}[p["sex"]]
            and row["year_of_birth"] == p["birth_year"]
        )
    pid = person["person_id"].to_dict()
    code_of = {v: k for k, v in pid.items()}
    infusions = omop["procedure_occurrence"]
    infusions = infusions[infusions["procedure_source_value"].str.endswith(":infusion")]
    got = sorted(
        (code_of[r.person_id], r.procedure_source_value.split(":")[0], _date(r.procedure_date))
        for r in infusions.itertuples()
    )
    assert got == sorted(
        (c["patient_code"], c["therapy"], c["infusion_date"]) for c in reg["therapy_courses"]
    )
    visits = sorted(
        (code_of[r.person_id], _date(r.visit_start_date)) for r in omop["visit_occurrence"].itertuples()
    )
    assert visits == sorted((v["patient_code"], v["visit_date"]) for v in reg["visits"])
    labs = omop["measurement"][omop["measurement"]["measurement_concept_id"] != 2000000001]
    got_labs = sorted(
        (
            code_of[r.person_id],
            _date(r.measurement_date),
            r.measurement_source_value,
            r.value_as_number,
            r.unit_source_value,
        )
        for r in labs.itertuples()
    )
    assert got_labs == sorted(
        (lab["patient_code"], lab["result_date"], lab["analyte"], float(lab["value"]), lab["unit"])
        for lab in reg["lab_results"]
    )
    for r in labs.itertuples():
        assert r.measurement_concept_id == (
            term.analyte_code(r.measurement_source_value).omop_concept_id or 0
        )
    deaths = sorted((code_of[r.person_id], _date(r.death_date)) for r in omop["death"].itertuples())
    assert deaths == sorted(
        (e["patient_code"], e["event_date"]) for e in reg["clinical_events"] if e["event_type"] == "death"
    )
    other = omop["observation"][omop["observation"]["observation_source_value"] != "prior_therapy"]
    events = sorted(
        (code_of[r.person_id], r.observation_source_value, _date(r.observation_date))
        for r in other.itertuples()
    )
    assert events == sorted(
        (e["patient_code"], e["event_type"], e["event_date"])
        for e in reg["clinical_events"]
        if e["event_type"] != "death"
    )
    conditions = omop["condition_occurrence"]
    aes = conditions[conditions["condition_source_value"].str.startswith("adverse event ")]
    got_aes = sorted(
        (
            code_of[r.person_id],
            r.condition_source_value,
            _date(r.condition_start_date),
            None
            if r.condition_end_date is None or r.condition_end_date != r.condition_end_date
            else _date(r.condition_end_date),
        )
        for r in aes.itertuples()
    )
    assert got_aes and got_aes == sorted(
        (
            a["patient_code"],
            (f"adverse event {a['category']}" + (f": {a['term']}" if a.get("term") else ""))[:50],
            a["onset_date"],
            a.get("resolution_date"),
        )
        for a in reg["adverse_events"]
    )
    drugs = Counter(code_of[r.person_id] for r in omop["drug_exposure"].itertuples())
    assert drugs == Counter(d["patient_code"] for d in reg["drug_administrations"])
    used = {
        c
        for name in TABLES
        for col in omop[name].columns
        if col.endswith("concept_id")
        for c in omop[name][col]
    }
    assert used - {0} <= set(omop["concept"]["concept_id"])  # every concept used is in the vocabulary subset


def test_screen_command_runs_on_the_export(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=12, seed=4)
    export_omop(engine, tmp_path / "omop", actor=ACTOR)  # de-identified: study days as dates from 2000-01-01
    result = CliRunner().invoke(
        app,
        [
            "screen",
            "--protocol",
            "hsct_refractory_sle",
            "--omop",
            str(tmp_path / "omop"),
            "--out",
            str(tmp_path / "screen"),
        ],
    )
    assert result.exit_code == 0, result.output
    attrition = pd.read_csv(tmp_path / "screen" / "attrition.csv")
    remaining = attrition.set_index("criterion_id")["remaining"]
    assert remaining["sle"] == remaining["observed"] > 0  # every observed patient has SLE on two or more days
