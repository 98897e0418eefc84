"""Governance tables: the chair's decisions on family copies and on sharing reports, and the
append-only audit trail, with the one function that appends to it.

Decisions are never changed: a later decision for the same copy or report supersedes the earlier
one, so the history of what the chair decided, and on which content, is kept. Neither decisions
nor the audit trail refer to a conference by its row id, because importing a conference again
(``--replace``) deletes its rows and makes new ones; they use its reference. The migration puts
triggers on all three tables so that the database itself refuses UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from docgen.adapters.orm import Base
from docgen.domain.audit import GENESIS, AuditEntry, Checkpoint, compare_with_checkpoints, seal, verify_chain
from docgen.errors import AuditError

DECISIONS = ("approved", "returned")


class Approval(Base):
    """The chair's decision on what one family member or child may be sent: approved, or
    returned with comments.

    It is bound to the content it was made on: the conference's content version, the SHA-256 of
    the whole stored case, the SHA-256 of the redacted view every copy for that person is rendered
    from, and the SHA-256 of the exact PDF of the record the chair approved.
    """

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'returned')", name="decision"),
        CheckConstraint("decision <> 'returned' OR comment IS NOT NULL", name="returned_with_comment"),
        CheckConstraint("decision <> 'approved' OR copy_sha256 IS NOT NULL", name="approved_with_copy"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    conference_reference: Mapped[str] = mapped_column(String(64), index=True)
    person: Mapped[str] = mapped_column(String(64))  # id of the family member or child the copy is for
    document: Mapped[str] = mapped_column(String(32))  # the kind of the copy the chair reviewed: conference_record
    decision: Mapped[str] = mapped_column(String(16))
    chair: Mapped[str] = mapped_column(String(64))  # the chair's professional id
    decided_at: Mapped[datetime] = mapped_column(DateTime)  # local time in Europe/London
    comment: Mapped[str | None] = mapped_column(Text)
    content_version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    view_sha256: Mapped[str] = mapped_column(String(64))
    # The copy the chair approved (a return may be made without rendering, so these may be empty).
    copy_sha256: Mapped[str | None] = mapped_column(String(64))
    copy_format: Mapped[str | None] = mapped_column(String(8))
    generated_on: Mapped[date | None] = mapped_column(Date)


class ReportSharingDecision(Base):
    """The chair's decision whether a report marked ``chair_decides`` may be shared with parents,
    bound to the SHA-256 of the report's content it was made on."""

    __tablename__ = "report_sharing_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    conference_reference: Mapped[str] = mapped_column(String(64), index=True)
    report: Mapped[str] = mapped_column(String(64))
    shared: Mapped[bool] = mapped_column(Boolean)
    chair: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime)  # local time in Europe/London
    comment: Mapped[str | None] = mapped_column(Text)
    content_version: Mapped[int] = mapped_column(Integer)
    report_sha256: Mapped[str] = mapped_column(String(64))


class DisclosureFlag(Base):
    """A disclosure risk found in one reader's family copy of the record, on one content version,
    and the chair's resolution of it: open until the chair withholds the item or shares it with a
    reason. Raising and resolving are also in the audit trail, which is what approval trusts."""

    __tablename__ = "disclosure_flags"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'shared', 'withheld')", name="status"),
        CheckConstraint("status = 'open' OR (reason IS NOT NULL AND chair IS NOT NULL)", name="resolved_with_reason"),
        UniqueConstraint("conference_reference", "reader", "content_version", "flag_key", name="uq_disclosure_flags_one_per_version"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    conference_reference: Mapped[str] = mapped_column(String(64), index=True)
    reader: Mapped[str] = mapped_column(String(64))  # id of the family member or child the copy is for
    content_version: Mapped[int] = mapped_column(Integer)
    flag_key: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    chair: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)  # local time in Europe/London


class AuditEvent(Base):
    """One entry of the audit trail; see :mod:`docgen.domain.audit` for how entries are chained."""

    __tablename__ = "audit_events"
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, unlike the rest of the model: unambiguous
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Unique, so that two writers who both read the same newest entry cannot fork the chain.
    previous_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)

    def entry(self) -> AuditEntry:
        return AuditEntry(sequence=self.sequence, recorded_at=self.recorded_at, actor=self.actor, action=self.action,
                          reference=self.reference, subject=self.subject, details=dict(self.details or {}),
                          previous_sha256=self.previous_sha256, sha256=self.sha256)


def lock_audit_trail(session: Session) -> None:
    """Hold the audit trail against other writers until this transaction ends (PostgreSQL's table lock;
    SQLite's write lock, by a statement that writes nothing). Work that appends entries after reading
    what it will decide on takes it first, so two writers do not decide on the same reading."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE"))
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_events SET sequence = sequence WHERE 0 = 1"))


def append_event(session: Session, *, at: datetime, actor: str, action: str, reference: str | None = None,
                 subject: str | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one entry to the trail in the session's transaction (so it is kept exactly when the
    work it records is kept). On PostgreSQL the table is locked against other writers until the
    transaction ends, so entries are chained one after another. On SQLite the database's write lock
    is taken first, by a statement that writes nothing: otherwise two writers (the web application and
    a worker beside it) could both read the same newest entry before either holds the lock, and the
    second would be refused for reusing its number."""
    lock_audit_trail(session)
    newest = session.scalars(select(AuditEvent).order_by(AuditEvent.sequence.desc()).limit(1)).first()
    entry = seal(AuditEntry(sequence=0, recorded_at=at, actor=actor, action=action, reference=reference,
                            subject=subject, details=dict(details or {})),
                 newest.entry() if newest is not None else None)
    row = AuditEvent(sequence=entry.sequence, recorded_at=entry.recorded_at, actor=entry.actor, action=entry.action,
                     reference=entry.reference, subject=entry.subject, details=dict(entry.details),
                     previous_sha256=entry.previous_sha256, sha256=entry.sha256)
    session.add(row)
    session.flush()
    return row


def audit_entries(session: Session, *, reference: str | None = None) -> Iterator[AuditEntry]:
    """Entries oldest first, all of them or only one conference's."""
    query = select(AuditEvent).order_by(AuditEvent.sequence)
    if reference is not None:
        query = query.where(AuditEvent.reference == reference)
    for row in session.scalars(query.execution_options(yield_per=500)):
        yield row.entry()


def entries_from(session: Session, sequence: int) -> list[AuditEntry]:
    """The entries numbered ``sequence`` and after, oldest first (read as plain rows: the release
    check reads every entry since the decision it relies on, so this is on its path)."""
    table = AuditEvent.__table__
    query = select(*table.c).where(table.c.sequence >= sequence).order_by(table.c.sequence)
    return [AuditEntry(sequence=row.sequence, recorded_at=row.recorded_at, actor=row.actor, action=row.action,
                       reference=row.reference, subject=row.subject, details=dict(row.details or {}),
                       previous_sha256=row.previous_sha256, sha256=row.sha256)
            for row in session.execute(query)]


def newest_entry(session: Session, *, reference: str | None = None, subject: str | None = None,
                 actions: frozenset[str] | None = None) -> AuditEntry | None:
    """The newest entry (of one conference, about one subject, of some actions), as the table holds it."""
    query = select(AuditEvent).order_by(AuditEvent.sequence.desc()).limit(1)
    if reference is not None:
        query = query.where(AuditEvent.reference == reference)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(sorted(actions)))
    row = session.scalars(query).first()
    return row.entry() if row is not None else None


TAMPERED = ("It was changed outside docgen. Release no more copies, keep the database as it is, and report this to "
            "your information governance lead; comparing the audit_events table with a backup shows what was changed")


def verify_trail(session: Session, *, expected_head: str | None = None,
                 checkpoints: tuple[Checkpoint, ...] | None = None) -> tuple[int, str]:
    """Check the whole trail, and against the signed ``checkpoints`` when given; the number of entries
    and the newest entry's hash, or AuditError saying where it is broken, which entries, and what to do."""
    count, head, newest = 0, GENESIS, 0
    named = {c.sequence for c in checkpoints or ()}
    last = checkpoints[-1].sequence if checkpoints else None
    hashes: dict[int, str] = {}
    uncovered: list[AuditEntry] = []

    def counted() -> Iterator[AuditEntry]:
        nonlocal count, head, newest
        for entry in audit_entries(session):
            count, head, newest = count + 1, entry.sha256, entry.sequence
            if entry.sequence in named:
                hashes[entry.sequence] = entry.sha256
            if last is not None and entry.sequence > last:
                uncovered.append(entry)
            yield entry

    broken = verify_chain(counted(), expected_head=expected_head)
    problems = [f"the audit trail is broken at {broken}."] if broken is not None else []
    problems += compare_with_checkpoints(hashes, newest, checkpoints or (), uncovered)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise AuditError(f"the audit trail does not check out:\n{listed}\n{TAMPERED}")
    return count, head
