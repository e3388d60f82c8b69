"""Adverse-event grading systems; one death per patient; codes unique regardless of case.

1. ``adverse_events.ctcae_grade`` becomes ``grade`` with a new ``grading_system`` column
   (``CTCAE_v5.0``, ``ASTCT_2019``, ``MAGIC_2016``; :data:`lupuscell.vocab.AE_GRADING_SYSTEMS`).
   Data migration: CRS and ICANS rows were graded with the ASTCT consensus (Lee DW et al.,
   Biol Blood Marrow Transplant 2019;25:625-638) although stored as ``ctcae_grade``, so they
   get ``ASTCT_2019``; every other row gets ``CTCAE_v5.0``. CHECK constraints tie the grade to
   the range of its system and the system to the category.
2. A partial unique index ``uq_clinical_events_one_death`` allows one death per patient, so
   two writers racing past the checks cannot both record one.
3. Unique indexes on ``lower(code)`` of patients and sites: codes differing only in case are
   refused as near-duplicates on SQLite and PostgreSQL alike.

A database that already breaks rule 2 or 3 is not changed: the upgrade stops with the list of
offending records (correct them with ``lupuscell record delete`` / ``record update``).
Code lists and CHECK texts are frozen here as they are at this revision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lupuscell.errors import Problem, ValidationError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEMS = ("CTCAE_v5.0", "ASTCT_2019", "MAGIC_2016")
GRADE_RANGE = (
    "(grading_system = 'CTCAE_v5.0' AND grade BETWEEN 1 AND 5) OR "
    "(grading_system = 'ASTCT_2019' AND grade BETWEEN 1 AND 5) OR "
    "(grading_system = 'MAGIC_2016' AND grade BETWEEN 1 AND 4)"
)
SYSTEM_BY_CATEGORY = (
    "(category = 'infection' AND grading_system IN ('CTCAE_v5.0')) OR "
    "(category = 'gvhd' AND grading_system IN ('CTCAE_v5.0', 'MAGIC_2016')) OR "
    "(category = 'crs' AND grading_system IN ('ASTCT_2019')) OR "
    "(category = 'icans' AND grading_system IN ('ASTCT_2019')) OR "
    "(category = 'graft_failure' AND grading_system IN ('CTCAE_v5.0')) OR "
    "(category = 'other' AND grading_system IN ('CTCAE_v5.0'))"
)
DEATH_WHERE = "event_type = 'death'"


def _refuse_existing_conflicts() -> None:
    """Stop (nothing changed) when the data already break the new unique rules."""
    conn = op.get_bind()
    problems: list[Problem] = []
    deaths = conn.exec_driver_sql(
        "SELECT p.code, COUNT(*) FROM clinical_events e JOIN patients p ON p.id = e.patient_id "
        f"WHERE e.{DEATH_WHERE} GROUP BY p.code HAVING COUNT(*) > 1 ORDER BY p.code"
    ).all()
    problems += [
        Problem(f"patient {code}", "clinical_events", f"{n} deaths recorded; keep one before upgrading")
        for code, n in deaths
    ]
    for table in ("sites", "patients"):
        clashes = conn.exec_driver_sql(
            f"SELECT lower(code), COUNT(*) FROM {table} GROUP BY lower(code) HAVING COUNT(*) > 1 "
            "ORDER BY lower(code)"
        ).all()
        problems += [
            Problem(f"{table} code {code!r}", "code", f"{n} codes differ only in case; merge or rename them")
            for code, n in clashes
        ]
    if problems:
        raise ValidationError(problems)


def upgrade() -> None:
    _refuse_existing_conflicts()
    with op.batch_alter_table("adverse_events") as batch:
        batch.add_column(sa.Column("grading_system", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE adverse_events SET grading_system = CASE WHEN category IN ('crs', 'icans') "
        "THEN 'ASTCT_2019' ELSE 'CTCAE_v5.0' END"
    )
    with op.batch_alter_table("adverse_events") as batch:
        batch.drop_constraint(op.f("ck_adverse_events_grade_range"), type_="check")
        batch.alter_column("ctcae_grade", new_column_name="grade", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("grading_system", existing_type=sa.String(length=32), nullable=False)
        batch.create_check_constraint(
            op.f("ck_adverse_events_ae_grading_system"),
            "grading_system IN ('CTCAE_v5.0', 'ASTCT_2019', 'MAGIC_2016')",
        )
        batch.create_check_constraint(op.f("ck_adverse_events_grade_range"), GRADE_RANGE)
        batch.create_check_constraint(op.f("ck_adverse_events_grading_system_category"), SYSTEM_BY_CATEGORY)
    op.create_index(
        "uq_clinical_events_one_death",
        "clinical_events",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text(DEATH_WHERE),
        postgresql_where=sa.text(DEATH_WHERE),
    )
    op.create_index("uq_sites_code_ci", "sites", [sa.text("lower(code)")], unique=True)
    op.create_index("uq_patients_code_ci", "patients", [sa.text("lower(code)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_patients_code_ci", table_name="patients")
    op.drop_index("uq_sites_code_ci", table_name="sites")
    op.drop_index("uq_clinical_events_one_death", table_name="clinical_events")
    with op.batch_alter_table("adverse_events") as batch:
        batch.drop_constraint(op.f("ck_adverse_events_grading_system_category"), type_="check")
        batch.drop_constraint(op.f("ck_adverse_events_grade_range"), type_="check")
        batch.drop_constraint(op.f("ck_adverse_events_ae_grading_system"), type_="check")
        batch.alter_column("grade", new_column_name="ctcae_grade", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("grading_system")
        batch.create_check_constraint(op.f("ck_adverse_events_grade_range"), "ctcae_grade BETWEEN 1 AND 5")
