"""Alembic migrations create the schema, agree with the ORM models, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry import migrate
from lupuscell.registry.models import Base
from lupuscell.registry.session import make_engine


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(migrated_db_url: str) -> None:
    assert migrate.current_revision(migrated_db_url) == migrate.head_revision()
    assert migrate.schema_differences(migrated_db_url) == []


def test_comparison_detects_a_drifted_schema(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_visits_patient_id")
        differences = migrate.schema_differences(engine)
    finally:
        engine.dispose()
    assert any(diff[0] == "add_index" and diff[1].name == "ix_visits_patient_id" for diff in differences)


def test_db_upgrade_on_an_empty_database_creates_the_schema(fresh_db_url: str) -> None:
    assert _tables(fresh_db_url) == set()
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", fresh_db_url])
    assert result.exit_code == 0, result.output
    assert set(Base.metadata.tables) | {"alembic_version"} == _tables(fresh_db_url)
    assert migrate.current_revision(fresh_db_url) == migrate.head_revision()
    again = CliRunner().invoke(app, ["db", "upgrade", "--db", fresh_db_url])
    assert again.exit_code == 0 and f'"revision_before": "{migrate.head_revision()}"' in again.output


def test_downgrade_to_base_and_upgrade_again(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url)
    migrate.downgrade(fresh_db_url, "base")
    assert migrate.current_revision(fresh_db_url) is None
    assert _tables(fresh_db_url) <= {"alembic_version"}
    assert migrate.upgrade(fresh_db_url) == migrate.head_revision()
    assert migrate.schema_differences(fresh_db_url) == []


def _seed_at_0001(url: str, *, extra_death: bool = False) -> None:
    """A site, a patient and one AE per category written with the 0001 schema."""
    migrate.upgrade(url, "0001")
    engine = make_engine(url)
    stamp = "2024-01-01 00:00:00"
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO sites (id, code, name) VALUES (1, 'KI', 'Karolinska')")
            conn.exec_driver_sql(
                "INSERT INTO patients (id, code, site_id, sex, birth_year, organ_involvement, "
                f"prior_therapies, created_at, updated_at) VALUES (1, 'KI-1', 1, 'F', 1980, '[]', '[]', "
                f"'{stamp}', '{stamp}')"
            )
            for n, (category, grade) in enumerate([("crs", 2), ("icans", 1), ("infection", 3), ("gvhd", 4)]):
                conn.exec_driver_sql(
                    "INSERT INTO adverse_events (id, patient_id, term, category, ctcae_grade, onset_date, "
                    f"serious, created_at, updated_at) VALUES ({n + 1}, 1, 'x', '{category}', {grade}, "
                    f"'2021-01-0{n + 1}', false, '{stamp}', '{stamp}')"
                )
            for n in range(2 if extra_death else 1):
                conn.exec_driver_sql(
                    "INSERT INTO clinical_events (patient_id, event_type, event_date, created_at, updated_at) "
                    f"VALUES (1, 'death', '2022-0{n + 1}-01', '{stamp}', '{stamp}')"
                )
    finally:
        engine.dispose()


def _grades(engine: sa.Engine) -> list[tuple[str, int, str]]:
    """(category, grade, grading system) of every adverse event, in id order."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT category, grade, grading_system FROM adverse_events ORDER BY id")
        return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


def test_0002_moves_crs_and_icans_grades_to_astct(fresh_db_url: str) -> None:
    _seed_at_0001(fresh_db_url)
    assert migrate.upgrade(fresh_db_url, "0002") == "0002"
    engine = make_engine(fresh_db_url)
    try:
        rows = _grades(engine)
    finally:
        engine.dispose()
    assert rows == [
        ("crs", 2, "ASTCT_2019"),
        ("icans", 1, "ASTCT_2019"),
        ("infection", 3, "CTCAE_v5.0"),
        ("gvhd", 4, "CTCAE_v5.0"),
    ]
    migrate.upgrade(fresh_db_url)  # on through 0003 (accounts, version columns) to the models
    assert migrate.schema_differences(fresh_db_url) == []
    migrate.downgrade(fresh_db_url, "0001")
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            grades = (
                conn.exec_driver_sql("SELECT ctcae_grade FROM adverse_events ORDER BY id").scalars().all()
            )
    finally:
        engine.dispose()
    assert grades == [2, 1, 3, 4]


def test_0002_refuses_a_database_with_two_deaths_for_one_patient(fresh_db_url: str) -> None:
    from lupuscell.errors import ValidationError

    _seed_at_0001(fresh_db_url, extra_death=True)
    try:
        migrate.upgrade(fresh_db_url)
    except ValidationError as exc:
        assert [p.record for p in exc.problems] == ["patient KI-1"]
        assert "2 deaths" in exc.problems[0].message
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("upgrade should have refused two deaths")
    assert migrate.current_revision(fresh_db_url) == "0001"


def test_expression_indexes_are_checked_by_name(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX uq_patients_code_ci")
        assert ("missing_index", "uq_patients_code_ci") in migrate.schema_differences(engine)
    finally:
        engine.dispose()


def _audit_rows_for(conn: sa.Connection, stamp: str) -> None:
    """One ``create`` audit row per record, its snapshot read back from the database as the
    repository writes it (every column but the bookkeeping ones, JSON, dates ISO)."""
    from lupuscell.registry.audit import INTERNAL_COLUMNS, encode

    meta = sa.MetaData()
    meta.reflect(conn, only=["sites", "patients", "adverse_events"])
    for name in ("sites", "patients", "adverse_events"):
        table = meta.tables[name]
        for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings():
            snapshot = {k: v for k, v in row.items() if k not in INTERNAL_COLUMNS}
            _audit(conn, stamp, "create", name, row["id"], None, None, encode(snapshot))


def _audit(
    conn: sa.Connection, stamp: str, action: str, entity: str, key: int, field: str | None,
    old: str | None, new: str | None,
) -> None:  # fmt: skip
    conn.execute(
        sa.text(
            "INSERT INTO audit_log (changed_at, actor, action, entity, entity_id, field, old_value, new_value, "
            "reason) VALUES (:t, 'old', :a, :e, :k, :f, :o, :n, 'before the chain')"
        ),
        {"t": stamp, "a": action, "e": entity, "k": str(key), "f": field, "o": old, "n": new},
    )


def test_a_registry_with_data_at_0003_goes_to_0004_and_back(fresh_db_url: str, tmp_path: Path) -> None:
    """Rows audited before 0002 (``ctcae_grade``) and before 0004 (no hashes) are chained by 0004,
    and the registry rebuilt from the log equals the live one (grade renamed, grading system as
    0002 set it, the account ignored); 0004 goes down to 0003 and up again."""
    from lupuscell.registry import audit_chain, audit_replay
    from lupuscell.registry.repository import Registry

    _seed_at_0001(fresh_db_url)
    engine = make_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM clinical_events")
            conn.exec_driver_sql("DELETE FROM adverse_events WHERE id > 3")
            _audit_rows_for(conn, "2024-01-01 10:00:00.000000")
            conn.exec_driver_sql("UPDATE adverse_events SET ctcae_grade = 4 WHERE id = 3")
            _audit(conn, "2024-02-01 10:00:00.000000", "update", "adverse_events", 3, "ctcae_grade", "3", "4")
        migrate.upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE adverse_events SET grade = 5 WHERE id = 3")
            _audit(conn, "2025-01-01 10:00:00.000000", "update", "adverse_events", 3, "grade", "4", "5")
            conn.exec_driver_sql(
                "INSERT INTO users (username, full_name, role, password_hash, active, session_epoch, created_at) "
                "VALUES ('ann', 'Ann', 'monitor', 'x', true, 0, '2025-01-02 10:00:00')"
            )
            _audit(
                conn, "2025-01-02 10:00:00.000000", "create", "users", 1, None, None, '{"username": "ann"}'
            )
        migrate.upgrade(engine)
        report = audit_chain.verify(engine)
        assert report.ok and report.rows == 8 and report.head_id == 8, report.problems
        target, result = audit_replay.rebuild_into_temporary(engine, None, tmp_path)
        try:
            assert result.not_rebuilt == [] and result.ignored == {"users": 1}
            assert audit_replay.differences(engine, target) == []
            rebuilt = _grades(target)
        finally:
            target.dispose()
        assert rebuilt == [
            ("crs", 2, "ASTCT_2019"),
            ("icans", 1, "ASTCT_2019"),
            ("infection", 5, "CTCAE_v5.0"),
        ]
        Registry(engine).update("patient", "KI-1", {"birth_year": 1981}, actor="t", reason="after 0004")
        assert audit_chain.verify(engine).ok
        migrate.downgrade(engine, "0003")
        assert "audit_chain_head" not in set(sa.inspect(engine).get_table_names())
        migrate.upgrade(engine)
        report = audit_chain.verify(engine)
        assert report.ok and report.rows == 9
        assert migrate.schema_differences(engine) == []
    finally:
        engine.dispose()
