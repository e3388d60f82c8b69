"""ORM models of data management: queries (discrepancy notes), source-data verification and
electronic signatures / locks (Alembic migration 0005).

They live beside the clinical tables, never inside them: a query, a verification status or a
signature is *about* a record, addressed by ``(record_type, record_id)`` where ``record_type``
is an entity name of :data:`lupuscell.registry.repository.ENTITIES` (``visit``,
``therapy_course``, ``adverse_event``, ``patient`` ...). The clinical tables (and therefore the
audit replay of :mod:`lupuscell.registry.audit_replay`) are unchanged; every row here is written
with an audit row through :mod:`lupuscell.registry.audit` (entities ``queries``,
``query_messages``, ``sdv_status``, ``signatures``), which the replay counts as ignored.

``patient_id`` and ``site_id`` are stored with each row so that "the open queries of a site"
and "a user sees only their sites" are one indexed filter; rows go with their patient
(``ON DELETE CASCADE``), which can only be deleted when nothing of it is locked.

Sources: CDISC/CDASH and the OpenClinica / REDCap data-management vocabulary (discrepancy note,
query thread, SDV); FDA 21 CFR Part 11 §11.50 (signature manifestations: printed name, date and
time, meaning) and §11.70 (signature/record linking); ICH E6(R3) 3.16 (data handling).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lupuscell.registry.models import Base, _enum, _utcnow

QUERY_STATUSES: tuple[str, ...] = ("open", "answered", "closed")
"""Life cycle of a query: open -> answered -> closed; answered or closed -> open (re-opened)."""
MESSAGE_KINDS: tuple[str, ...] = ("raise", "answer", "close", "reopen")
"""What a message of a query's thread did to its status."""
SDV_STATUSES: tuple[str, ...] = ("not_verified", "verified", "verified_with_findings")
"""Source-data verification status of a form (no row = ``not_verified``)."""
SDV_FORMS: tuple[str, ...] = ("visit", "therapy_course", "adverse_event")
"""Forms (entities) that a monitor verifies against the source documents."""
SIGNABLE: tuple[str, ...] = ("patient", "visit")
"""Records an investigator signs (a signed patient locks every record of the patient)."""


class Query(Base):
    """A discrepancy note on one field of one record, with its thread of messages."""

    __tablename__ = "queries"
    __table_args__ = (
        sa.Index("ix_queries_record", "record_type", "record_id"),
        sa.Index("ix_queries_site_status", "site_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(32))
    record_id: Mapped[int] = mapped_column(sa.Integer)
    field: Mapped[str] = mapped_column(sa.String(64))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(_enum(QUERY_STATUSES, "query_status"), default="open")
    text: Mapped[str] = mapped_column(sa.Text)
    rule_id: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    raised_by: Mapped[str] = mapped_column(sa.String(100))
    raised_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    messages: Mapped[list[QueryMessage]] = relationship(
        back_populates="query", cascade="all, delete-orphan", order_by="QueryMessage.id"
    )


class QueryMessage(Base):
    """One step of a query's thread: who, when, what they wrote and the status it left."""

    __tablename__ = "query_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(sa.ForeignKey("queries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(_enum(MESSAGE_KINDS, "query_message_kind"))
    text: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(100))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    status_after: Mapped[str] = mapped_column(_enum(QUERY_STATUSES, "query_status"))

    query: Mapped[Query] = relationship(back_populates="messages")


class SdvStatus(Base):
    """The source-data verification status of one form (absent = not verified)."""

    __tablename__ = "sdv_status"
    __table_args__ = (sa.UniqueConstraint("record_type", "record_id", name="uq_sdv_status_record"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(32))
    record_id: Mapped[int] = mapped_column(sa.Integer)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    status: Mapped[str] = mapped_column(_enum(SDV_STATUSES, "sdv_status"), default="not_verified")
    findings: Mapped[str | None] = mapped_column(sa.Text, default=None)
    set_by: Mapped[str] = mapped_column(sa.String(100))
    set_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)


class Signature(Base):
    """An electronic signature of a patient's record or a visit; while active it locks the record.

    An admin's unlock ends the signature's lock (``unlocked_*``) and keeps it as history.
    """

    __tablename__ = "signatures"
    __table_args__ = (sa.Index("ix_signatures_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(_enum(SIGNABLE, "signature_record_type"))
    record_id: Mapped[int] = mapped_column(sa.Integer)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    signer: Mapped[str] = mapped_column(sa.String(64))
    printed_name: Mapped[str] = mapped_column(sa.String(200))
    meaning: Mapped[str] = mapped_column(sa.Text)
    signed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    unlocked_by: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    unlocked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), default=None)
    unlock_reason: Mapped[str | None] = mapped_column(sa.Text, default=None)
