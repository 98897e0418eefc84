"""Conferences coming in and going out: validated once where they enter, saved as a new version,
and read back as stored, trusted without validating them again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from docgen.adapters.case_store import (
    StoredVersion,
    VersionSummary,
    case_history,
    load_version,
    newest_version,
    save_case,
)
from docgen.adapters.casefile import ValidatedCase, load_case_bytes, load_case_file, validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.files import sha256
from docgen.adapters.orm_governance import append_event
from docgen.errors import CaseFileError, NotFoundError
from docgen.services.runtime import Runtime


def import_case_file(runtime: Runtime, path: Path, *, actor: str, replace: bool = False) -> tuple[str, int]:
    """Validate and store a case file as a new version saved by ``actor``; returns the reference
    and its content version.

    Validation finishes before anything is written, and the store runs in one transaction,
    so a bad file leaves the database as it was.
    """
    data = load_case_file(path)
    case = validate_case(data, source=str(path))
    with unit_of_work(runtime.sessions) as session:
        saved = save_case(session, case, saved_by=actor, now=runtime.clock().replace(tzinfo=None),
                          source_sha256=sha256(path.read_bytes()), replace=replace)
        return saved.reference, saved.version


def import_case_bytes(runtime: Runtime, raw: bytes, *, source: str, actor: str, replace: bool = False) -> tuple[str, int]:
    """Validate and store a case file that arrived as bytes (an upload, an API call): judged by its
    content, not its name: JSON if it is a JSON object, YAML otherwise. ``source`` names it in problems."""
    if b"\x00" in raw[:8192]:
        raise CaseFileError(source, ["the file holds binary data; a case file is YAML or JSON text"])
    fmt = "json" if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "yaml"
    case = validate_case(load_case_bytes(raw, source=source, fmt=fmt), source=source)
    with unit_of_work(runtime.sessions) as session:
        saved = save_case(session, case, saved_by=actor, now=runtime.clock().replace(tzinfo=None),
                          source_sha256=sha256(raw), replace=replace)
        _audit_saved(session, runtime, saved, how="imported")
        return saved.reference, saved.version


def save_conference(runtime: Runtime, data: object, *, based_on: int | None, saved_by: str,
                    source: str) -> VersionSummary:
    """Validate a conference as edited (``source`` names where it came from in problems reported)
    and save it as the version after ``based_on``, the version the edit was made to (None for a
    new conference). CaseFileError lists every problem; ConflictError means someone else saved
    first, and nothing was saved."""
    case = validate_case(data, source=source)
    with unit_of_work(runtime.sessions) as session:
        saved = save_case(session, case, saved_by=saved_by, now=runtime.clock().replace(tzinfo=None), based_on=based_on)
        _audit_saved(session, runtime, saved, how="edited" if based_on is not None else "booked")
        return saved


def _audit_saved(session: Session, runtime: Runtime, saved: VersionSummary, *, how: str) -> None:
    """Every saved version in the audit trail, in the same transaction: who saved which content."""
    append_event(session, at=runtime.clock(), actor=saved.saved_by, action="conference_saved", reference=saved.reference,
                 subject=f"version {saved.version}", details={"how": how, "content_sha256": saved.sha256})


def stored_case(runtime: Runtime, reference: str) -> ValidatedCase:
    """A stored conference's newest version as a validated case (the form packs are built from)."""
    return stored_version(runtime, reference).case


def stored_version(runtime: Runtime, reference: str, version: int | None = None) -> StoredVersion:
    """A stored conference's newest version (or the one asked for), with its number, which a change
    to it is saved as ``based_on``."""
    with unit_of_work(runtime.sessions) as session:
        return load_version(session, reference, version)


def conference_history(runtime: Runtime, reference: str) -> list[VersionSummary]:
    """Every saved version of a conference, oldest first: its number, who saved it and when."""
    with unit_of_work(runtime.sessions) as session:
        return case_history(session, reference)


def content_version(runtime: Runtime, reference: str) -> int:
    """The number of a stored conference's newest version."""
    with unit_of_work(runtime.sessions) as session:
        version = newest_version(session, reference)
    if version is None:
        raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
    return version
