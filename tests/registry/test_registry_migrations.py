"""Alembic migrations create the schema, agree with the ORM models, and go down and up again."""

from __future__ import annotations

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
