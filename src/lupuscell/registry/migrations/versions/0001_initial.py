"""Initial registry schema: sites, patients, therapy courses, drugs, visits, labs, AEs,
clinical events, import batches and the audit log.

Generated with Alembic autogenerate from ``lupuscell.registry.models`` and reviewed; code
lists are frozen here as they were at revision time (a later vocabulary change needs its
own migration). Constraint names follow ``models.NAMING_CONVENTION``.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "create",
                "update",
                "delete",
                "import",
                "export",
                name="audit_action",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_changed_at"), "audit_log", ["changed_at"], unique=False)
    op.create_index("ix_audit_log_entity_entity_id", "audit_log", ["entity", "entity_id"], unique=False)

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("row_counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("F", "M", name="sex", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("sle_diagnosis_date", sa.Date(), nullable=True),
        sa.Column(
            "classification_criteria",
            sa.Enum(
                "eular_acr_2019",
                "slicc_2012",
                "acr_1997",
                name="classification_criteria",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("organ_involvement", sa.JSON(), nullable=False),
        sa.Column(
            "nephritis_class",
            sa.Enum(
                "I",
                "II",
                "III",
                "IV",
                "V",
                "VI",
                "III+V",
                "IV+V",
                name="nephritis_class",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("prior_therapies", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name=op.f("ck_patients_birth_year_range")),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_patients_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_patients_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("code", name=op.f("uq_patients_code")),
    )
    op.create_index(op.f("ix_patients_import_batch_id"), "patients", ["import_batch_id"], unique=False)
    op.create_index(op.f("ix_patients_site_id"), "patients", ["site_id"], unique=False)

    op.create_table(
        "clinical_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "event_type",
            sa.Enum(
                "death",
                "flare",
                "relapse",
                "last_contact",
                name="clinical_event_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("treatment_related", sa.Boolean(), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "mild_moderate",
                "severe",
                name="flare_severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_clinical_events_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_clinical_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_events")),
    )
    op.create_index(
        op.f("ix_clinical_events_import_batch_id"), "clinical_events", ["import_batch_id"], unique=False
    )
    op.create_index(op.f("ix_clinical_events_patient_id"), "clinical_events", ["patient_id"], unique=False)

    op.create_table(
        "lab_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("result_date", sa.Date(), nullable=False),
        sa.Column("analyte", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_lab_results_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
    )
    op.create_index(op.f("ix_lab_results_import_batch_id"), "lab_results", ["import_batch_id"], unique=False)
    op.create_index(
        "ix_lab_results_patient_analyte_date",
        "lab_results",
        ["patient_id", "analyte", "result_date"],
        unique=False,
    )

    op.create_table(
        "therapy_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "therapy",
            sa.Enum(
                "autologous_hsct",
                "allogeneic_hsct",
                "msc",
                "car_t",
                "other",
                name="therapy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "cell_source",
            sa.Enum(
                "peripheral_blood",
                "bone_marrow",
                "adipose",
                "umbilical_cord",
                "cord_blood",
                "autologous_t_cells",
                "other",
                name="cell_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "donor_type",
            sa.Enum(
                "autologous",
                "allogeneic_related",
                "allogeneic_unrelated",
                "allogeneic_third_party",
                name="donor_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("protocol_id", sa.String(length=64), nullable=True),
        sa.Column("mobilisation_date", sa.Date(), nullable=True),
        sa.Column("harvest_date", sa.Date(), nullable=True),
        sa.Column("conditioning_start_date", sa.Date(), nullable=True),
        sa.Column("infusion_date", sa.Date(), nullable=False),
        sa.Column("discharge_date", sa.Date(), nullable=True),
        sa.Column("total_cell_dose", sa.Float(), nullable=True),
        sa.Column("cell_dose_per_kg", sa.Float(), nullable=True),
        sa.Column("cd34_per_kg", sa.Float(), nullable=True),
        sa.Column("viability_percent", sa.Float(), nullable=True),
        sa.Column(
            "route",
            sa.Enum(
                "intravenous",
                "intra_arterial",
                "intrathecal",
                "local_injection",
                "other",
                name="route",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("number_of_infusions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "cd34_per_kg IS NULL OR cd34_per_kg > 0", name=op.f("ck_therapy_courses_cd34_pos")
        ),
        sa.CheckConstraint(
            "cell_dose_per_kg IS NULL OR cell_dose_per_kg > 0",
            name=op.f("ck_therapy_courses_dose_per_kg_pos"),
        ),
        sa.CheckConstraint("number_of_infusions >= 1", name=op.f("ck_therapy_courses_infusions_pos")),
        sa.CheckConstraint(
            "total_cell_dose IS NULL OR total_cell_dose > 0", name=op.f("ck_therapy_courses_total_dose_pos")
        ),
        sa.CheckConstraint(
            "viability_percent IS NULL OR (viability_percent >= 0 AND viability_percent <= 100)",
            name=op.f("ck_therapy_courses_viability_range"),
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_therapy_courses_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_therapy_courses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapy_courses")),
    )
    op.create_index(
        op.f("ix_therapy_courses_import_batch_id"), "therapy_courses", ["import_batch_id"], unique=False
    )
    op.create_index(op.f("ix_therapy_courses_patient_id"), "therapy_courses", ["patient_id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("sledai_window_days", sa.Integer(), nullable=False),
        sa.Column("seizure", sa.Boolean(), nullable=True),
        sa.Column("psychosis", sa.Boolean(), nullable=True),
        sa.Column("organic_brain_syndrome", sa.Boolean(), nullable=True),
        sa.Column("visual_disturbance", sa.Boolean(), nullable=True),
        sa.Column("cranial_nerve_disorder", sa.Boolean(), nullable=True),
        sa.Column("lupus_headache", sa.Boolean(), nullable=True),
        sa.Column("cva", sa.Boolean(), nullable=True),
        sa.Column("vasculitis", sa.Boolean(), nullable=True),
        sa.Column("arthritis", sa.Boolean(), nullable=True),
        sa.Column("myositis", sa.Boolean(), nullable=True),
        sa.Column("urinary_casts", sa.Boolean(), nullable=True),
        sa.Column("hematuria", sa.Boolean(), nullable=True),
        sa.Column("proteinuria", sa.Boolean(), nullable=True),
        sa.Column("pyuria", sa.Boolean(), nullable=True),
        sa.Column("rash", sa.Boolean(), nullable=True),
        sa.Column("alopecia", sa.Boolean(), nullable=True),
        sa.Column("mucosal_ulcers", sa.Boolean(), nullable=True),
        sa.Column("pleurisy", sa.Boolean(), nullable=True),
        sa.Column("pericarditis", sa.Boolean(), nullable=True),
        sa.Column("low_complement", sa.Boolean(), nullable=True),
        sa.Column("increased_dna_binding", sa.Boolean(), nullable=True),
        sa.Column("fever", sa.Boolean(), nullable=True),
        sa.Column("thrombocytopenia", sa.Boolean(), nullable=True),
        sa.Column("leukopenia", sa.Boolean(), nullable=True),
        sa.Column("pga", sa.Numeric(precision=2, scale=1, asdecimal=False), nullable=True),
        sa.Column("prednisone_mg_per_day", sa.Float(), nullable=True),
        sa.Column("on_antimalarial", sa.Boolean(), nullable=True),
        sa.Column("on_immunosuppressant", sa.Boolean(), nullable=True),
        sa.Column("on_biologic", sa.Boolean(), nullable=True),
        sa.Column("immunosuppressives_stable", sa.Boolean(), nullable=True),
        sa.Column("haemolytic_anaemia", sa.Boolean(), nullable=True),
        sa.Column("gastrointestinal_activity", sa.Boolean(), nullable=True),
        sa.Column("new_activity", sa.Boolean(), nullable=True),
        sa.Column("bilag", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("pga IS NULL OR (pga >= 0 AND pga <= 3)", name=op.f("ck_visits_pga_range")),
        sa.CheckConstraint(
            "prednisone_mg_per_day IS NULL OR prednisone_mg_per_day >= 0", name=op.f("ck_visits_pred_nonneg")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"], ["import_batches.id"], name=op.f("fk_visits_import_batch_id_import_batches")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_visits_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("patient_id", "visit_date", name="uq_visits_patient_date"),
    )
    op.create_index(op.f("ix_visits_import_batch_id"), "visits", ["import_batch_id"], unique=False)
    op.create_index(op.f("ix_visits_patient_id"), "visits", ["patient_id"], unique=False)

    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "infection",
                "gvhd",
                "crs",
                "icans",
                "graft_failure",
                "other",
                name="ae_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ctcae_grade", sa.Integer(), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=False),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column(
            "relatedness",
            sa.Enum(
                "unrelated",
                "unlikely",
                "possible",
                "probable",
                "definite",
                name="relatedness",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ctcae_grade BETWEEN 1 AND 5", name=op.f("ck_adverse_events_grade_range")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["therapy_courses.id"], name=op.f("fk_adverse_events_course_id_therapy_courses")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_adverse_events_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    op.create_index(
        op.f("ix_adverse_events_import_batch_id"), "adverse_events", ["import_batch_id"], unique=False
    )
    op.create_index(op.f("ix_adverse_events_patient_id"), "adverse_events", ["patient_id"], unique=False)

    op.create_table(
        "drug_administrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("drug", sa.String(length=100), nullable=False),
        sa.Column("dose", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("admin_date", sa.Date(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "mobilisation",
                "conditioning",
                "lymphodepletion",
                "maintenance",
                "glucocorticoid",
                "prophylaxis",
                "transfusion",
                name="drug_purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("dose >= 0", name=op.f("ck_drug_administrations_dose_nonneg")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["therapy_courses.id"],
            name=op.f("fk_drug_administrations_course_id_therapy_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_drug_administrations_import_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_administrations")),
    )
    op.create_index(
        op.f("ix_drug_administrations_course_id"), "drug_administrations", ["course_id"], unique=False
    )
    op.create_index(
        op.f("ix_drug_administrations_import_batch_id"),
        "drug_administrations",
        ["import_batch_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_drug_administrations_import_batch_id"), table_name="drug_administrations")
    op.drop_index(op.f("ix_drug_administrations_course_id"), table_name="drug_administrations")

    op.drop_table("drug_administrations")
    op.drop_index(op.f("ix_adverse_events_patient_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_import_batch_id"), table_name="adverse_events")

    op.drop_table("adverse_events")
    op.drop_index(op.f("ix_visits_patient_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_import_batch_id"), table_name="visits")

    op.drop_table("visits")
    op.drop_index(op.f("ix_therapy_courses_patient_id"), table_name="therapy_courses")
    op.drop_index(op.f("ix_therapy_courses_import_batch_id"), table_name="therapy_courses")

    op.drop_table("therapy_courses")
    op.drop_index("ix_lab_results_patient_analyte_date", table_name="lab_results")
    op.drop_index(op.f("ix_lab_results_import_batch_id"), table_name="lab_results")

    op.drop_table("lab_results")
    op.drop_index(op.f("ix_clinical_events_patient_id"), table_name="clinical_events")
    op.drop_index(op.f("ix_clinical_events_import_batch_id"), table_name="clinical_events")

    op.drop_table("clinical_events")
    op.drop_index(op.f("ix_patients_site_id"), table_name="patients")
    op.drop_index(op.f("ix_patients_import_batch_id"), table_name="patients")

    op.drop_table("patients")
    op.drop_table("sites")
    op.drop_table("import_batches")
    op.drop_index("ix_audit_log_entity_entity_id", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_changed_at"), table_name="audit_log")

    op.drop_table("audit_log")
