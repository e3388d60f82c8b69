"""ORM model of patient-reported outcome (PRO) assessments (Alembic migration 0007).

One row is one completed questionnaire of one patient on one date: the instrument (today only
``rand36``, the RAND 36-Item Health Survey 1.0, which is public domain), the answers as entered
(``responses``: item -> answer number, unanswered items left out), the patient global assessment
with the scale it was recorded on, and who filled the form in (the patient, a proxy, or staff
reading the items aloud). The eight scale scores are *not* stored: they are derived on read by
:func:`lupuscell.instruments.rand36.score_rand36`, the one scoring of the programme, so a
correction of the scoring rules can never leave stale scores behind.

An assessment may be attached to a visit of the same patient (``visit_id``); a visit with
assessments attached is not deleted (:mod:`lupuscell.registry.pro_checks`), and the
assessments go with their patient.

Sources: Hays RD, Sherbourne CD, Mazel RM. The RAND 36-Item Health Survey 1.0. Health Econ
1993;2(3):217-227; FDA Guidance for Industry, Patient-Reported Outcome Measures (2009) on who
completed the form (self versus proxy report).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lupuscell.registry.models import Base, Patient, TimestampMixin, VersionMixin, Visit, _enum

PRO_INSTRUMENTS: tuple[str, ...] = ("rand36",)
"""Instruments stored (only public-domain ones; docs/data_management/patient_reported_outcomes.md)."""
PGA_SCALES: tuple[str, ...] = ("nrs_0_10", "vas_0_100_mm")
"""Scales of the patient global assessment (:data:`lupuscell.instruments.rand36.PGA_MAXIMUM`)."""
COMPLETED_BY: tuple[str, ...] = ("patient", "proxy", "staff")
"""Who filled the questionnaire in: the patient (self-report), a proxy, or staff (interview)."""


class ProAssessment(VersionMixin, TimestampMixin, Base):
    """One patient-reported questionnaire: answers as entered, PGA with its scale, who completed it."""

    __tablename__ = "pro_assessments"
    __table_args__ = (
        sa.CheckConstraint(
            "patient_global_assessment IS NULL OR "
            "(patient_global_assessment >= 0 AND patient_global_assessment <= 100)",
            name="pga_range",
        ),
        sa.Index("ix_pro_assessments_patient_date", "patient_id", "assessment_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), index=True, default=None)
    assessment_date: Mapped[dt.date] = mapped_column(sa.Date)
    instrument: Mapped[str] = mapped_column(_enum(PRO_INSTRUMENTS, "pro_instrument"), default="rand36")
    responses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    patient_global_assessment: Mapped[float | None] = mapped_column(sa.Float, default=None)
    patient_global_assessment_scale: Mapped[str] = mapped_column(
        _enum(PGA_SCALES, "pro_pga_scale"), default="nrs_0_10"
    )
    completed_by: Mapped[str] = mapped_column(_enum(COMPLETED_BY, "pro_completed_by"), default="patient")

    patient: Mapped[Patient] = relationship()
    visit: Mapped[Visit | None] = relationship()
