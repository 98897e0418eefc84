"""Recipient directory and delivery records: certificates of professionals, and what was sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docgen.adapters.orm import Base, Professional


class RecipientCertificate(Base):
    """An X.509 certificate a professional receives encrypted documents with."""

    __tablename__ = "recipient_certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id", ondelete="CASCADE"), index=True)
    pem: Mapped[str] = mapped_column(Text)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    not_before: Mapped[datetime] = mapped_column(DateTime)
    not_after: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    professional: Mapped[Professional] = relationship()


class DeliveryRecord(Base):
    """One document handed to a transport for one recipient."""

    __tablename__ = "delivery_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    conference_reference: Mapped[str] = mapped_column(String(64), index=True)
    document_kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(80))
    recipient_key: Mapped[str] = mapped_column(String(64))
    recipient_address: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(20))  # smime or protected_pdf
    transport: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(250))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    plaintext_sha256: Mapped[str] = mapped_column(String(64))
    ciphertext_sha256: Mapped[str] = mapped_column(String(64))
    archive_path: Mapped[str] = mapped_column(String(500))
    passphrase_verifier: Mapped[str | None] = mapped_column(String(200))
