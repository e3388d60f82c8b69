"""Bulk loading of the synthetic cohort into the registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lupuscell import vocab
from lupuscell.errors import ValidationError
from lupuscell.registry import models
from lupuscell.registry.bulk import CHILD_TABLES, load_tables, validate_chunk
from lupuscell.synth.cohort import generate_cohort_tables, iter_cohort_tables

LOADED = ("patients", "therapy_courses", *CHILD_TABLES)
KW: dict[str, Any] = {"actor": "tester", "source": "pytest", "reason": "bulk-load test"}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(
                sa.select(sa.func.count()).select_from(models.Base.metadata.tables[t])
            ).scalar_one()
            for t in (*LOADED, "audit_log", "import_batches", "sites")
        }


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_cohort_tables(40, seed=8)


def test_load_writes_every_row_with_provenance_and_audit(
    engine: Engine, small: dict[str, pd.DataFrame]
) -> None:
    result = load_tables(engine, iter_cohort_tables(40, seed=8, chunk_size=15), **KW)
    counts = _counts(engine)
    for table in LOADED:
        assert counts[table] == len(small[table]) == result.row_counts[table], table
    assert counts["sites"] == len(small["sites"])
    with engine.connect() as conn:
        for table in LOADED:
            t = models.Base.metadata.tables[table]
            batch_ids = {r[0] for r in conn.execute(sa.select(t.c.import_batch_id).distinct())}
            assert batch_ids == {result.batch_id}, table
        audit = conn.execute(sa.select(models.AuditLog.__table__)).mappings().all()
        batch = conn.execute(sa.select(models.ImportBatch.__table__)).mappings().one()
    imports = [a for a in audit if a["action"] == "import"]
    assert {a["entity"] for a in imports} == {"sites", *LOADED}  # sites too (issue 10, point 6)
    assert result.row_counts["sites"] == len(small["sites"]) == batch["row_counts"]["sites"]
    for a in imports:
        assert a["field"] is None and a["reason"] == KW["reason"]
        assert a["actor"] == "tester"
        assert json.loads(a["new_value"]) == {
            "import_batch_id": result.batch_id,
            "rows": counts[a["entity"]],
            "records_audited": True,
        }
    creates = [a for a in audit if a["action"] == "create"]  # one per record, sites included
    assert len(creates) == len(audit) - len(imports)
    for table in (*LOADED, "sites"):
        assert sum(a["entity"] == table for a in creates) == counts[table], table
    assert all(a["actor"] == "tester" and a["reason"] == KW["reason"] for a in creates)

    assert batch["row_counts"] == result.row_counts
    assert batch["reason"] == KW["reason"] and batch["source"] == "pytest"


def test_values_round_trip(engine: Engine, small: dict[str, pd.DataFrame]) -> None:
    load_tables(engine, [small], **KW)
    with engine.connect() as conn:
        p = models.Patient.__table__
        v = models.Visit.__table__
        lab = models.LabResult.__table__
        c = models.TherapyCourse.__table__
        patient = (
            conn.execute(sa.select(p).where(p.c.code == small["patients"]["code"].iloc[0])).mappings().one()
        )
        visits = pd.DataFrame(
            conn.execute(sa.select(v).where(v.c.patient_id == patient["id"]).order_by(v.c.visit_date))
            .mappings()
            .all()
        )
        labs = pd.DataFrame(conn.execute(sa.select(lab.c.analyte, lab.c.value, lab.c.unit)).mappings().all())
        course = conn.execute(sa.select(c).where(c.c.patient_id == patient["id"])).mappings().one()
    src = small["patients"].iloc[0]
    assert patient["organ_involvement"] == list(src["organ_involvement"])
    assert patient["sle_diagnosis_date"] == src["sle_diagnosis_date"].date()
    expected = small["visits"][small["visits"]["patient_code"] == src["code"]].reset_index(drop=True)
    for name in (*vocab.SLEDAI_2K_DESCRIPTORS, "on_antimalarial"):
        assert visits[name].astype(bool).tolist() == expected[name].tolist(), name
    assert visits["pga"].astype(float).tolist() == pytest.approx(expected["pga"].tolist())
    assert [d for d in visits["visit_date"]] == [d.date() for d in expected["visit_date"]]
    assert sorted(labs["unit"].unique()) == sorted(small["lab_results"]["unit"].unique())
    assert labs["value"].sum() == pytest.approx(small["lab_results"]["value"].sum())
    src_course = small["therapy_courses"].iloc[0]
    assert course["therapy"] == src_course["therapy"]
    assert course["infusion_date"] == src_course["infusion_date"].date()


def _bad_second_chunk(good: dict[str, pd.DataFrame]) -> Iterator[dict[str, pd.DataFrame]]:
    chunks = list(iter_cohort_tables(40, seed=8, chunk_size=20))
    yield chunks[0]
    labs = chunks[1]["lab_results"].copy()
    labs.loc[labs.index[3], "unit"] = "furlongs"
    yield {**chunks[1], "lab_results": labs}


def test_failing_chunk_rolls_back_the_whole_load(engine: Engine, small: dict[str, pd.DataFrame]) -> None:
    before = _counts(engine)
    with pytest.raises(ValidationError) as info:
        load_tables(engine, _bad_second_chunk(small), **KW)
    assert info.value.problems[0].field == "unit"
    assert "furlongs" in str(info.value)
    assert _counts(engine) == before  # first chunk, batch and audit rows all rolled back


def test_duplicate_patient_code_is_rejected_and_nothing_written(
    engine: Engine, small: dict[str, pd.DataFrame]
) -> None:
    load_tables(engine, [small], **KW)
    before = _counts(engine)
    with pytest.raises(ValidationError) as info:
        load_tables(engine, [small], **KW)
    assert info.value.problems[0].field == "code"
    assert "already in the registry" in str(info.value)
    assert _counts(engine) == before


def test_database_error_mid_load_rolls_back(engine: Engine, small: dict[str, pd.DataFrame]) -> None:
    """Without validation, a CHECK violation from the database still undoes everything, and is
    reported as a problem naming the field and the constraint (no IntegrityError traceback)."""
    before = _counts(engine)
    visits = small["visits"].copy()
    visits.loc[visits.index[-1], "pga"] = 7.0
    with pytest.raises(ValidationError) as info:
        load_tables(engine, [{**small, "visits": visits}], validate=False, **KW)
    assert info.value.problems[0].field == "pga"
    assert "ck_visits_pga_range" in info.value.problems[0].message
    assert _counts(engine) == before


def test_reason_is_required(engine: Engine, small: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(ValidationError) as info:
        load_tables(engine, [small], actor="x", source="y", reason=" ")
    assert info.value.problems[0].field == "reason"
    assert _counts(engine)["import_batches"] == 0


# -- validation (pure, no database) --------------------------------------------------------


def _break(
    tables: dict[str, pd.DataFrame], table: str, column: str, value: Any, row: int = 0
) -> dict[str, pd.DataFrame]:
    frame = tables[table].copy()
    if column not in frame.columns:
        frame[column] = None
    frame[column] = frame[column].astype(object)
    frame.iloc[row, frame.columns.get_loc(column)] = value
    return {**tables, table: frame}


@pytest.mark.parametrize(
    ("table", "column", "value", "field", "words"),
    [
        ("therapy_courses", "therapy", "gene_therapy", "therapy", "allowed values"),
        ("therapy_courses", "cell_dose_per_kg", -1.0, "cell_dose_per_kg", "must be > 0"),
        ("therapy_courses", "total_cell_dose", 0.0, "total_cell_dose", "must be > 0"),
        ("therapy_courses", "viability_percent", 100.5, "viability_percent", "<= 100"),
        ("patients", "sex", "X", "sex", "allowed values"),
        ("lab_results", "unit", "mmHg", "unit", "not accepted"),
        ("lab_results", "value", float("nan"), "value", "is required"),
        ("visits", "pga", 3.1, "pga", "<= 3"),
        ("adverse_events", "grade", 6, "grade", "<= 5"),
        ("adverse_events", "grading_system", "WHO", "grading_system", "allowed values"),
        ("clinical_events", "event_type", "birthday", "event_type", "allowed values"),
        ("lab_results", "patient_code", "ZZZ-999999", "patient_code", "not a patient of this load"),
    ],
)
def test_validation_names_the_field(
    small: dict[str, pd.DataFrame], table: str, column: str, value: Any, field: str, words: str
) -> None:
    problems = validate_chunk(_break(small, table, column, value))
    assert problems, "expected a problem"
    assert problems[0].field == field
    assert words in problems[0].message
    assert table in problems[0].record


def test_validation_of_dates(small: dict[str, pd.DataFrame]) -> None:
    hsct = small["therapy_courses"].index[small["therapy_courses"]["therapy"] == "autologous_hsct"][0]
    courses = small["therapy_courses"].copy()
    courses.loc[hsct, "harvest_date"] = courses.loc[hsct, "infusion_date"] + pd.Timedelta(days=1)
    problems = validate_chunk({**small, "therapy_courses": courses})
    root = [(p.field, "before harvest_date" in p.message) for p in problems if p.field != "(dependent rows)"]
    assert root == [("infusion_date", True)]
    # the course's drugs are reported once as dependent rows, not one by one
    assert [p.record for p in problems if p.field == "(dependent rows)"] == ["drug_administrations"]

    visits = small["visits"].copy()
    visits.loc[0, "visit_date"] = pd.Timestamp("1901-01-01")
    problems = validate_chunk({**small, "visits": visits})
    assert problems[0].field == "visit_date" and "birth year" in problems[0].message

    ae = small["adverse_events"].copy()
    ae.loc[0, "resolution_date"] = ae.loc[0, "onset_date"] - pd.Timedelta(days=1)
    problems = validate_chunk({**small, "adverse_events": ae})
    assert problems[0].field == "resolution_date"


def test_validation_of_structure(small: dict[str, pd.DataFrame]) -> None:
    problems = validate_chunk({**small, "visits": small["visits"].drop(columns="visit_date")})
    assert problems[0].field == "visit_date" and "missing" in problems[0].message
    dup = pd.concat([small["patients"], small["patients"].iloc[:1]], ignore_index=True)
    problems = validate_chunk({**small, "patients": dup})
    assert problems[0].field == "code" and "duplicate" in problems[0].message
    assert validate_chunk(small) == []


def test_problem_list_is_capped(small: dict[str, pd.DataFrame]) -> None:
    labs = small["lab_results"].assign(unit="bananas")
    problems = validate_chunk({**small, "lab_results": labs})
    assert 1 <= len(problems) <= 20


@pytest.mark.parametrize("strategy", ["revalidate", "per_row"])
def test_schema_unchanged_after_load(engine: Engine, small: dict[str, pd.DataFrame], strategy: str) -> None:
    """Foreign keys dropped for a PostgreSQL load are re-created: the schema still matches the models."""
    from lupuscell.registry.migrate import schema_differences

    result = load_tables(engine, [small], postgres_foreign_keys=strategy, **KW)
    assert result.row_counts["lab_results"] == len(small["lab_results"])
    assert schema_differences(engine) == []
    inspector = sa.inspect(engine)
    for table in CHILD_TABLES:
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert {"patients", "import_batches"} <= referred or "therapy_courses" in referred, table


def test_unknown_foreign_key_strategy(engine: Engine, small: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(ValueError, match="postgres_foreign_keys"):
        load_tables(engine, [small], postgres_foreign_keys="off", **KW)
