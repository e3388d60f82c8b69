"""SQLAlchemy 2 ORM models of the registry of an SLE cellular-therapy programme.

The schema follows the programme's loop (docs/registry/data_model.md): a Site enrols
pseudonymous Patients; each Patient has TherapyCourses (HSCT, MSC, CAR-T) whose infusion
date is day 0; DrugAdministrations (mobilisation, conditioning, lymphodepletion,
glucocorticoids...), Visits (SLEDAI-2K descriptors, PGA, steroid dose, co-medication),
LabResults (stored as entered: value + unit, normalised on read with data/units.yaml),
AdverseEvents (a grade with the system it was graded by: CTCAE v5.0, ASTCT 2019 for CRS
and ICANS, MAGIC for acute GVHD) and ClinicalEvents (death, flare, relapse, last contact).
Every change to clinical data is written to AuditLog; bulk loads are recorded as an
ImportBatch that every row it created points to.

Code lists come from :mod:`lupuscell.vocab` and are enforced in the database by CHECK
constraints (``native_enum=False``) so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from lupuscell import vocab

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: sa.JSON, list[str]: sa.JSON}


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=_utcnow, onupdate=_utcnow
    )


class ImportBatchMixin:
    import_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id"), index=True, default=None
    )


class VersionMixin:
    """Optimistic locking: ``version`` starts at 1 and SQLAlchemy increments it on every update,
    adding ``AND version = <read value>`` to the UPDATE, so a write based on a stale read fails
    instead of silently overwriting (SQLAlchemy ``version_id_col``). Added by migration 0003."""

    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class Site(VersionMixin, Base):
    """A treating centre; codes are unique regardless of case (index ``uq_sites_code_ci``)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str | None] = mapped_column(sa.String(2), default=None)

    patients: Mapped[list[Patient]] = relationship(back_populates="site")


class ImportBatch(Base):
    """Provenance of a bulk load (synthetic cohort, CSV/Parquet import)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    actor: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(500))
    reason: Mapped[str] = mapped_column(sa.Text)
    row_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Patient(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """A pseudonymous patient: ``code`` is site code + sequence; no direct identifiers.

    Codes are unique regardless of case (``KI-0001`` and ``ki-0001`` are refused as
    near-duplicates), enforced by the index ``uq_patients_code_ci`` (migration 0002).
    """

    __tablename__ = "patients"
    __table_args__ = (sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    sex: Mapped[str] = mapped_column(_enum(vocab.SEXES, "sex"))
    birth_year: Mapped[int] = mapped_column(sa.Integer)
    sle_diagnosis_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    classification_criteria: Mapped[str | None] = mapped_column(
        _enum(vocab.CLASSIFICATION_CRITERIA, "classification_criteria"), default=None
    )
    organ_involvement: Mapped[list[str]] = mapped_column(default=list)
    nephritis_class: Mapped[str | None] = mapped_column(
        _enum(vocab.NEPHRITIS_CLASSES, "nephritis_class"), default=None
    )
    prior_therapies: Mapped[list[str]] = mapped_column(default=list)

    site: Mapped[Site] = relationship(back_populates="patients")
    courses: Mapped[list[TherapyCourse]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="TherapyCourse.infusion_date"
    )
    visits: Mapped[list[Visit]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Visit.visit_date"
    )
    labs: Mapped[list[LabResult]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="LabResult.result_date"
    )
    adverse_events: Mapped[list[AdverseEvent]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="AdverseEvent.onset_date"
    )
    clinical_events: Mapped[list[ClinicalEvent]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="ClinicalEvent.event_date"
    )


class TherapyCourse(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """One cellular-therapy course; ``infusion_date`` is day 0 (first infusion for MSC)."""

    __tablename__ = "therapy_courses"
    __table_args__ = (
        sa.CheckConstraint("total_cell_dose IS NULL OR total_cell_dose > 0", name="total_dose_pos"),
        sa.CheckConstraint("cell_dose_per_kg IS NULL OR cell_dose_per_kg > 0", name="dose_per_kg_pos"),
        sa.CheckConstraint("cd34_per_kg IS NULL OR cd34_per_kg > 0", name="cd34_pos"),
        sa.CheckConstraint(
            "viability_percent IS NULL OR (viability_percent >= 0 AND viability_percent <= 100)",
            name="viability_range",
        ),
        sa.CheckConstraint("number_of_infusions >= 1", name="infusions_pos"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    therapy: Mapped[str] = mapped_column(_enum(vocab.THERAPIES, "therapy"))
    cell_source: Mapped[str | None] = mapped_column(_enum(vocab.CELL_SOURCES, "cell_source"), default=None)
    donor_type: Mapped[str | None] = mapped_column(_enum(vocab.DONOR_TYPES, "donor_type"), default=None)
    protocol_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    mobilisation_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    harvest_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    conditioning_start_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    infusion_date: Mapped[dt.date] = mapped_column(sa.Date)
    discharge_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    total_cell_dose: Mapped[float | None] = mapped_column(sa.Float, default=None)
    cell_dose_per_kg: Mapped[float | None] = mapped_column(sa.Float, default=None)
    cd34_per_kg: Mapped[float | None] = mapped_column(sa.Float, default=None)
    viability_percent: Mapped[float | None] = mapped_column(sa.Float, default=None)
    route: Mapped[str | None] = mapped_column(_enum(vocab.ROUTES, "route"), default=None)
    number_of_infusions: Mapped[int] = mapped_column(sa.Integer, default=1)

    patient: Mapped[Patient] = relationship(back_populates="courses")
    drugs: Mapped[list[DrugAdministration]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="DrugAdministration.admin_date"
    )


class DrugAdministration(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    __tablename__ = "drug_administrations"
    __table_args__ = (sa.CheckConstraint("dose >= 0", name="dose_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("therapy_courses.id"), index=True)
    drug: Mapped[str] = mapped_column(sa.String(100))
    dose: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(32))
    admin_date: Mapped[dt.date] = mapped_column(sa.Date)
    purpose: Mapped[str] = mapped_column(_enum(vocab.DRUG_PURPOSES, "drug_purpose"))

    course: Mapped[TherapyCourse] = relationship(back_populates="drugs")


def _descriptor_columns() -> dict[str, Any]:
    return {
        name: mapped_column(sa.Boolean, nullable=True, default=None) for name in vocab.SLEDAI_2K_DESCRIPTORS
    }


class Visit(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """A clinical assessment. SLEDAI-2K descriptors are clinician-adjudicated booleans;
    NULL means not assessed (unknown), never absent."""

    __tablename__ = "visits"
    __table_args__ = (
        sa.CheckConstraint("pga IS NULL OR (pga >= 0 AND pga <= 3)", name="pga_range"),
        sa.CheckConstraint("prednisone_mg_per_day IS NULL OR prednisone_mg_per_day >= 0", name="pred_nonneg"),
        sa.UniqueConstraint("patient_id", "visit_date", name="uq_visits_patient_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    visit_date: Mapped[dt.date] = mapped_column(sa.Date)
    sledai_window_days: Mapped[int] = mapped_column(sa.Integer, default=10)
    locals().update(_descriptor_columns())
    pga: Mapped[float | None] = mapped_column(sa.Numeric(2, 1, asdecimal=False), default=None)
    prednisone_mg_per_day: Mapped[float | None] = mapped_column(sa.Float, default=None)
    on_antimalarial: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    on_immunosuppressant: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    on_biologic: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    immunosuppressives_stable: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    haemolytic_anaemia: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    gastrointestinal_activity: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    new_activity: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    bilag: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    patient: Mapped[Patient] = relationship(back_populates="visits")


class LabResult(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """A laboratory value stored as entered (value, unit); canonical units are applied on
    read from data/units.yaml, and an unknown unit is an error."""

    __tablename__ = "lab_results"
    __table_args__ = (
        sa.Index("ix_lab_results_patient_analyte_date", "patient_id", "analyte", "result_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"))
    result_date: Mapped[dt.date] = mapped_column(sa.Date)
    analyte: Mapped[str] = mapped_column(sa.String(32))
    value: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(32))

    patient: Mapped[Patient] = relationship(back_populates="labs")


def grading_checks() -> tuple[sa.CheckConstraint, ...]:
    """CHECK constraints tying an AE's grade to its grading system and its category.

    Written from the code lists of :mod:`lupuscell.vocab` (grade range per system, systems
    allowed per category), so the database enforces the same rule as the schemas.
    """
    ranges = " OR ".join(
        f"(grading_system = '{system}' AND grade BETWEEN {low} AND {high})"
        for system, (low, high) in vocab.AE_GRADE_RANGE.items()
    )
    allowed = " OR ".join(
        f"(category = '{category}' AND grading_system IN ({', '.join(repr(s) for s in systems)}))"
        for category, systems in vocab.AE_GRADING_BY_CATEGORY.items()
    )
    return (
        sa.CheckConstraint(ranges, name="grade_range"),
        sa.CheckConstraint(allowed, name="grading_system_category"),
    )


def _default_grading_system(context: Any) -> str:
    """Column default: the category's standard system (:func:`lupuscell.vocab.default_grading_system`)."""
    return vocab.default_grading_system(context.get_current_parameters()["category"])


class AdverseEvent(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """An adverse event with its ``grade`` and the ``grading_system`` that produced it.

    CTCAE v5.0 for most events, ASTCT 2019 for CRS and ICANS, MAGIC for acute GVHD (code lists
    :data:`lupuscell.vocab.AE_GRADING_SYSTEMS`, :data:`lupuscell.vocab.AE_GRADING_BY_CATEGORY`).
    Until migration 0002 the grade was stored as ``ctcae_grade`` whatever the system.
    """

    __tablename__ = "adverse_events"
    __table_args__ = grading_checks()

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("therapy_courses.id"), default=None)
    term: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(_enum(vocab.AE_CATEGORIES, "ae_category"))
    grade: Mapped[int] = mapped_column(sa.Integer)
    grading_system: Mapped[str] = mapped_column(
        _enum(vocab.AE_GRADING_SYSTEMS, "ae_grading_system"), default=_default_grading_system
    )
    onset_date: Mapped[dt.date] = mapped_column(sa.Date)
    resolution_date: Mapped[dt.date | None] = mapped_column(sa.Date, default=None)
    serious: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    relatedness: Mapped[str | None] = mapped_column(_enum(vocab.RELATEDNESS, "relatedness"), default=None)

    patient: Mapped[Patient] = relationship(back_populates="adverse_events")


DEATH_INDEX = "uq_clinical_events_one_death"
"""Partial unique index: at most one death per patient (migration 0002), the guard that holds
when two writers race past the checks."""


class ClinicalEvent(VersionMixin, TimestampMixin, ImportBatchMixin, Base):
    """Death (with cause), flare/relapse (with severity) and last contact."""

    __tablename__ = "clinical_events"
    __table_args__ = (
        sa.Index(
            DEATH_INDEX,
            "patient_id",
            unique=True,
            sqlite_where=sa.text("event_type = 'death'"),
            postgresql_where=sa.text("event_type = 'death'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    event_type: Mapped[str] = mapped_column(_enum(vocab.CLINICAL_EVENT_TYPES, "clinical_event_type"))
    event_date: Mapped[dt.date] = mapped_column(sa.Date)
    cause: Mapped[str | None] = mapped_column(sa.Text, default=None)
    treatment_related: Mapped[bool | None] = mapped_column(sa.Boolean, default=None)
    severity: Mapped[str | None] = mapped_column(
        _enum(vocab.FLARE_SEVERITIES, "flare_severity"), default=None
    )

    patient: Mapped[Patient] = relationship(back_populates="clinical_events")


# Codes differing only in case are one code (unique on lower(code), both engines; 0002).
sa.Index("uq_sites_code_ci", sa.func.lower(Site.code), unique=True)
sa.Index("uq_patients_code_ci", sa.func.lower(Patient.code), unique=True)


class AuditLog(Base):
    """Who changed what, when, from which value to which, and why.

    One row per changed field for updates; one row per record for create and delete
    (``new_value`` / ``old_value`` hold the record as JSON), bulk loads included; one row per
    table for a bulk import (``field`` is NULL, ``new_value`` holds the batch id and row count);
    one row per export (``entity_id`` the mode, ``new_value`` the target and the rows written).
    Rows are hash-chained (``prev_hash``, ``row_hash``) and append-only
    (:mod:`lupuscell.registry.audit_chain`).
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(
        _enum(("create", "update", "delete", "import", "export"), "audit_action")
    )
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    field: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    old_value: Mapped[str | None] = mapped_column(sa.Text, default=None)
    new_value: Mapped[str | None] = mapped_column(sa.Text, default=None)
    reason: Mapped[str] = mapped_column(sa.Text)
    # Hash chain (migration 0004, lupuscell.registry.audit_chain): set in the writing transaction.
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64))


class AuditChainHead(Base):
    """The head of the audit log's hash chain: one row (id 1) holding the last audit row's id
    and hash, locked by every writer that appends to the log (:mod:`lupuscell.registry.audit_chain`)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(sa.Integer)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


CLINICAL_MODELS: tuple[type[Base], ...] = (
    Patient,
    TherapyCourse,
    DrugAdministration,
    Visit,
    LabResult,
    AdverseEvent,
    ClinicalEvent,
)


# Accounts (users, site memberships, API tokens, login attempts) live in their own module on the
# same metadata; importing it here keeps Base.metadata complete for Alembic and the tests.
from lupuscell.registry import account_models as _account_models  # noqa: E402,F401

# Data management (queries, source-data verification, signatures; migration 0005), likewise.
from lupuscell.registry import dm_models as _dm_models  # noqa: E402,F401

# Patient-reported outcome assessments (RAND-36; migration 0007), likewise.
from lupuscell.registry import pro_models as _pro_models  # noqa: E402,F401
