"""The database model: conferences and everything a conference pack is made from.

Every item of content that could be withheld from someone carries a confidentiality marking
(`Marked`), so the redaction step can decide from the data alone what each audience may see.
Times are stored as local time in Europe/London, as the procedures state them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Marked:
    """Columns of a confidentiality marking: open, confidential, or withheld from named people."""

    confidentiality: Mapped[str] = mapped_column(String(16), default="open")
    withheld_from: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    withheld_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class AddressMarked:
    """A postal address with its own marking (it also covers the person's phone and email)."""

    address_lines: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    address_postcode: Mapped[str | None] = mapped_column(String(12), default=None)
    address_confidentiality: Mapped[str | None] = mapped_column(String(16), default=None)
    address_withheld_from: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    address_withheld_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))


class Professional(Base):
    """A professional in the recipient directory."""

    __tablename__ = "professionals"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    agency: Mapped[Agency] = relationship()


class Conference(Base):
    __tablename__ = "conferences"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    strategy_discussion_on: Mapped[date | None] = mapped_column(Date)
    transfer_agreed_on: Mapped[date | None] = mapped_column(Date)
    previous_conference_on: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str | None] = mapped_column(String(200))
    virtual_link: Mapped[str | None] = mapped_column(String(500))
    chair_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"))
    minute_taker: Mapped[str | None] = mapped_column(String(200))
    quorate: Mapped[bool | None] = mapped_column(Boolean)
    purpose: Mapped[str | None] = mapped_column(Text)
    booking_delay_reason: Mapped[str | None] = mapped_column(Text)
    next_conference_on: Mapped[date | None] = mapped_column(Date)
    lead_social_worker_id: Mapped[int | None] = mapped_column(ForeignKey("professionals.id"))
    plan_contingency: Mapped[str | None] = mapped_column(Text)
    core_group_first_meeting_on: Mapped[date | None] = mapped_column(Date)
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    source_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime)

    chair: Mapped[Professional] = relationship(foreign_keys=[chair_id])
    lead_social_worker: Mapped[Professional | None] = relationship(foreign_keys=[lead_social_worker_id])
    children: Mapped[list[Child]] = relationship(order_by="Child.position", cascade="all, delete-orphan")
    family: Mapped[list[FamilyMember]] = relationship(order_by="FamilyMember.position", cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(order_by="Invitation.position", cascade="all, delete-orphan")
    reports: Mapped[list[Report]] = relationship(order_by="Report.position", cascade="all, delete-orphan")
    content: Mapped[list[ContentItem]] = relationship(order_by="ContentItem.position", cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(order_by="Decision.position", cascade="all, delete-orphan")
    plan_outcomes: Mapped[list[PlanOutcome]] = relationship(order_by="PlanOutcome.position", cascade="all, delete-orphan")
    plan_actions: Mapped[list[PlanAction]] = relationship(order_by="PlanAction.position", cascade="all, delete-orphan")
    core_group: Mapped[list[CoreGroupMember]] = relationship(order_by="CoreGroupMember.position", cascade="all, delete-orphan")
    discharges: Mapped[list[Discharge]] = relationship(order_by="Discharge.position", cascade="all, delete-orphan")


class ConferenceVersion(Base):
    """One saved version of a conference: the whole case as validated when it was saved, who saved
    it, when, and the SHA-256 of its canonical JSON.

    Versions are only added, never changed: the migration puts triggers on the table that refuse
    UPDATE and DELETE. A conference's newest version is also spread over the tables below
    (``Conference`` and its parts) for queries; documents are made from the version itself.
    Versions refer to their conference by reference, not row id, because a new version replaces
    those rows. The unique (reference, version) pair is what stops two saves made at the same time
    from both becoming the next version.
    """

    __tablename__ = "conference_versions"
    __table_args__ = (UniqueConstraint("reference", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(DateTime)  # local time in Europe/London
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # of the case file, for an import


class _ConferencePart:
    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class Child(_ConferencePart, AddressMarked, Base):
    """A subject child, or another child in the household (``subject`` false)."""

    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("conference_id", "key"),)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    expected_on: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[bool] = mapped_column(Boolean)
    first_language: Mapped[str | None] = mapped_column(String(200))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    views: Mapped[str | None] = mapped_column(Text)
    school: Mapped[Agency | None] = relationship()


class FamilyMember(_ConferencePart, AddressMarked, Base):
    __tablename__ = "family_members"
    __table_args__ = (UniqueConstraint("conference_id", "key"),)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_in_own_script: Mapped[str | None] = mapped_column(String(200))
    relationship_to_child: Mapped[str] = mapped_column(String(200))
    parental_responsibility: Mapped[bool] = mapped_column(Boolean)
    lives_with_child: Mapped[bool] = mapped_column(Boolean)
    preferred_language: Mapped[str | None] = mapped_column(String(200))
    interpreter_needed: Mapped[bool | None] = mapped_column(Boolean)
    communication_needs: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))


class Invitation(_ConferencePart, Base):
    """An invitation to one child, family member or professional (exactly one is set)."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN child_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN family_member_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN professional_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_invitee",
        ),
    )
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id", ondelete="CASCADE"))
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("professionals.id"))
    attendance: Mapped[str] = mapped_column(String(16))
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    supporter: Mapped[str | None] = mapped_column(String(200))
    invited_separately: Mapped[bool | None] = mapped_column(Boolean)
    report_due_on: Mapped[date | None] = mapped_column(Date)
    child: Mapped[Child | None] = relationship()
    family_member: Mapped[FamilyMember | None] = relationship()
    professional: Mapped[Professional | None] = relationship()


class Report(_ConferencePart, Marked, Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("conference_id", "key"),)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    received_on: Mapped[date | None] = mapped_column(Date)
    shared_with_parents: Mapped[str] = mapped_column(String(16))
    sharing_note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[Professional] = relationship()
    agency: Mapped[Agency | None] = relationship()


class ContentItem(_ConferencePart, Marked, Base):
    """A section, paragraph, opinion, table or table row of the record or of a report.

    Sections belong to the record (no report) or to one report; their items point at them
    through ``parent_id``; table rows point at their table.
    """

    __tablename__ = "content_items"
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    opinion_by: Mapped[str | None] = mapped_column(String(64))
    columns: Mapped[list[Any] | None] = mapped_column(JSON)
    cells: Mapped[list[Any] | None] = mapped_column(JSON)
    report: Mapped[Report | None] = relationship()
    parent_item: Mapped[ContentItem | None] = relationship(remote_side="ContentItem.id")


class Decision(_ConferencePart, Base):
    __tablename__ = "decisions"
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    plan: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(16))
    other_concerns: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    dissent: Mapped[list[Any] | None] = mapped_column(JSON)
    child: Mapped[Child] = relationship()


class PlanOutcome(_ConferencePart, Base):
    __tablename__ = "plan_outcomes"
    text: Mapped[str] = mapped_column(Text)


class PlanAction(_ConferencePart, Marked, Base):
    __tablename__ = "plan_actions"
    what: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    by_when: Mapped[date] = mapped_column(Date)
    progress_check: Mapped[str] = mapped_column(Text)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    child: Mapped[Child | None] = relationship()


class CoreGroupMember(_ConferencePart, Base):
    __tablename__ = "core_group_members"
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("professionals.id"))
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_members.id", ondelete="CASCADE"))
    professional: Mapped[Professional | None] = relationship()
    family_member: Mapped[FamilyMember | None] = relationship()


class Discharge(_ConferencePart, Base):
    """A child stopping being subject to a child protection plan."""

    __tablename__ = "discharges"
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    discharged_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(32))
    details: Mapped[str | None] = mapped_column(Text)
    continuing_support: Mapped[str | None] = mapped_column(Text)
    child: Mapped[Child] = relationship()
