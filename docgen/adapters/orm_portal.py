"""Tables of the recipient portal: one link per person per conference, the documents published on it
(encrypted), its one-time codes, its signed-in sessions and what happened on it (views, downloads,
codes sent and refused, locks, recalls).

Links name their conference by reference, with no foreign key into the case tables, as the outbox
does: importing a conference again replaces its rows, and the portal must outlive that.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docgen.adapters.orm import Base
from docgen.adapters.orm_outbox import UtcDateTime

CHANNELS = ("sms", "email")
EVENT_KINDS = ("viewed", "downloaded", "code_sent", "code_refused", "locked", "recalled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "', '".join(values) + "')"


class PortalLink(Base):
    """The link one person is given for one conference. Its address holds a token made from
    ``token_seed`` with the portal's key (so the same address can be given again after a crash);
    ``token_sha256`` finds the link from the address. ``live_for`` is set only while the link is the
    person's live one, and is unique: the database itself keeps one live link per person per conference."""

    __tablename__ = "portal_links"
    __table_args__ = (
        CheckConstraint(_one_of("code_channel", CHANNELS), name="code_channel"),
        CheckConstraint(_one_of("announced_by", CHANNELS), name="announced_by"),
        Index("ix_portal_links_person", "conference_reference", "recipient_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_reference: Mapped[str] = mapped_column(String(64))
    recipient_key: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(200))  # for business support's page only
    token_seed: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    live_for: Mapped[str | None] = mapped_column(String(140), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recalled_by: Mapped[str | None] = mapped_column(String(64))
    recall_reason: Mapped[str | None] = mapped_column(Text)
    code_channel: Mapped[str] = mapped_column(String(8))
    code_address: Mapped[str] = mapped_column(String(254))  # the phone number or email the code goes to; may be empty
    announced_by: Mapped[str] = mapped_column(String(8))
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PortalDocument(Base):
    """One copy published on a link: encrypted (AES-256-GCM, bound to ``message_token``), with the
    SHA-256 of its plaintext. Not shown until ``published_at`` is set, in the transaction that marks
    its outbox item sent."""

    __tablename__ = "portal_documents"
    __table_args__ = (Index("ix_portal_documents_outbox_item", "outbox_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id"), index=True)
    message_token: Mapped[str] = mapped_column(String(64), unique=True)
    outbox_item_id: Mapped[int | None] = mapped_column(Integer)
    document_kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(100))
    corrections_by: Mapped[date | None] = mapped_column(Date)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    plaintext_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recalled_by: Mapped[str | None] = mapped_column(String(64))
    recall_reason: Mapped[str | None] = mapped_column(Text)


class PortalCode(Base):
    """A one-time code sent for a link: only its keyed hash is kept, with its salt."""

    __tablename__ = "portal_codes"
    __table_args__ = (Index("ix_portal_codes_link_created", "link_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id"))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PortalSession(Base):
    """A recipient signed in with a code: the portal cookie carries a random token, the table its SHA-256."""

    __tablename__ = "portal_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PortalEvent(Base):
    """What happened on a link, for business support's page ("opened") and counting; the audit trail
    has the same events with who and when."""

    __tablename__ = "portal_events"
    __table_args__ = (
        CheckConstraint(_one_of("kind", EVENT_KINDS), name="kind"),
        Index("ix_portal_events_link", "link_id", "kind"),
        Index("ix_portal_events_document", "document_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("portal_documents.id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
