"""Keeps every saved version of a conference, and gives the newest back exactly as it was validated.

Each save adds a version: the whole validated case as JSON, who saved it and when, and the SHA-256
of its canonical JSON. A save names the version it was based on and is refused with ConflictError
if another save came first. The relational tables (``case_rows``) hold the newest version spread out
for queries. See docs/architecture-storage.md for why it is stored this way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docgen.adapters.case_rows import find_conference, write_rows
from docgen.adapters.casefile import ValidatedCase
from docgen.adapters.orm import Conference, ConferenceVersion
from docgen.errors import CaseFileError, ConflictError, NotFoundError, StoredContentError

__all__ = ["StoredVersion", "VersionSummary", "case_history", "content_hash", "find_conference", "load_case",
           "load_version", "newest_version", "save_case"]


def content_hash(data: object) -> str:
    """SHA-256 of data in canonical JSON (sorted keys, compact, UTF-8): what approvals bind."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VersionSummary:
    """One saved version of a conference, without its content: for its history."""

    reference: str
    version: int
    sha256: str
    saved_by: str
    saved_at: datetime  # local time in Europe/London
    source_sha256: str | None  # of the case file, when the version was imported from one


@dataclass(frozen=True)
class StoredVersion(VersionSummary):
    """One saved version of a conference with its content, checked against its SHA-256."""

    case: ValidatedCase


def content_versions(session: Session) -> dict[str, int]:
    """Every conference's reference with its newest content version."""
    return {row[0]: row[1] for row in session.execute(select(Conference.reference, Conference.content_version))}


def newest_version(session: Session, reference: str) -> int | None:
    """The number of the conference's newest version, or None if it has never been saved."""
    return session.scalar(select(func.max(ConferenceVersion.version)).where(ConferenceVersion.reference == reference))


def save_case(session: Session, case: ValidatedCase, *, saved_by: str, now: datetime, source_sha256: str | None = None,
              replace: bool = False, based_on: int | None = None) -> VersionSummary:
    """Save ``case`` as the conference's next version, attributed to ``saved_by`` at ``now`` (local time).

    ``based_on`` is the version the change was made to; if another version was saved since, nothing
    is saved and ConflictError says who saved it. Without ``based_on``, a conference already stored
    is refused unless ``replace`` (an import with --replace, which replaces whatever is newest).
    A new version invalidates approvals given for the old one, because they bind its number.
    """
    reference: str = case["reference"]
    newest = newest_version(session, reference)
    if based_on is not None:
        if newest is None:
            raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
        if newest != based_on:
            raise _conflict(session, reference, based_on, newest)
    elif newest is not None and not replace:
        raise CaseFileError(reference, [(
            f"reference: a conference {reference!r} is already imported; "
            "import again with --replace to update its content")])
    version = (newest or 0) + 1
    sha256 = content_hash(case)
    session.add(ConferenceVersion(reference=reference, version=version, content=case, content_sha256=sha256,
                                  saved_by=saved_by, saved_at=now, source_sha256=source_sha256))
    try:
        # Flushed alone and first: the unique (reference, version) is what refuses the second of two
        # saves that both read the same newest version, before either has touched the other tables.
        session.flush()
    except IntegrityError as exc:
        if "conference_versions" not in str(exc.orig):
            raise
        raise ConflictError(
            f"conference {reference} was saved by someone else while this change was being saved (both would "
            f"have been version {version}); nothing was saved. Open the newest version, make the change "
            "again and save it") from None
    write_rows(session, case, version=version, source_sha256=source_sha256 or sha256, now=now)
    return VersionSummary(reference, version, sha256, saved_by, now, source_sha256)


def _conflict(session: Session, reference: str, based_on: int, newest: int) -> ConflictError:
    later = session.scalars(select(ConferenceVersion.saved_by).where(
        ConferenceVersion.reference == reference, ConferenceVersion.version > based_on)
        .order_by(ConferenceVersion.version)).all()
    who = ", ".join(dict.fromkeys(later)) or "someone"
    return ConflictError(
        f"conference {reference} is at version {newest}, saved by {who} after version {based_on}, which this "
        f"change was made to; nothing was saved, so their change is not overwritten. Open version {newest}, "
        "make the change again and save it")


def load_version(session: Session, reference: str, version: int | None = None) -> StoredVersion:
    """The conference's newest version (or the one asked for), exactly as it was validated when saved.

    Raises NotFoundError if there is no such version, and StoredContentError if its content no
    longer matches the SHA-256 recorded when it was saved.
    """
    query = select(ConferenceVersion.reference, ConferenceVersion.version, ConferenceVersion.content_sha256,
                   ConferenceVersion.saved_by, ConferenceVersion.saved_at, ConferenceVersion.source_sha256,
                   ConferenceVersion.content).where(ConferenceVersion.reference == reference)
    # Columns, not the mapped object: each read parses the JSON afresh, so a caller changing the
    # case it was given cannot change what a later read in the same session gives back.
    if version is None:
        query = query.order_by(ConferenceVersion.version.desc()).limit(1)
    else:
        query = query.where(ConferenceVersion.version == version)
    row = session.execute(query).first()
    if row is None:
        if version is None:
            raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
        raise NotFoundError(f"conference {reference} has no version {version}")
    if content_hash(row.content) != row.content_sha256:
        raise StoredContentError(
            f"version {row.version} of conference {reference} in the database is not what was saved (its SHA-256 "
            "does not match): it was changed outside docgen. Nothing was made from it. Keep the database as it "
            "is and report this to your information governance lead; a backup shows what was changed")
    return StoredVersion(row.reference, row.version, row.content_sha256, row.saved_by, row.saved_at,
                         row.source_sha256, ValidatedCase(row.content))


def load_case(session: Session, reference: str) -> ValidatedCase:
    """The conference's newest version as a case, exactly as ``validate_case`` returned it when saved."""
    return load_version(session, reference).case


def case_history(session: Session, reference: str) -> list[VersionSummary]:
    """Every saved version of the conference, oldest first; NotFoundError if it was never saved."""
    rows = session.execute(select(
        ConferenceVersion.reference, ConferenceVersion.version, ConferenceVersion.content_sha256,
        ConferenceVersion.saved_by, ConferenceVersion.saved_at, ConferenceVersion.source_sha256)
        .where(ConferenceVersion.reference == reference).order_by(ConferenceVersion.version)).all()
    if not rows:
        raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
    return [VersionSummary(*row) for row in rows]
