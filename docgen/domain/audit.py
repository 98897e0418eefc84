"""The audit trail as a hash chain: the canonical form of an entry, its SHA-256, and checking a chain.

Pure: no I/O and no clock. Each entry's hash covers every field of the entry and the hash of the
entry before it, so changing any field of any entry, deleting an entry or putting entries in a
different order breaks the chain at the first entry affected. Removing entries from the *end*, or
rewriting the whole chain from some entry onwards, leaves a chain that is consistent in itself;
that is caught only by comparing the head (the newest entry's hash) with one noted down earlier,
which :func:`verify_chain` does when given ``expected_head``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from docgen.errors import AuditError

FORMAT = "docgen.domain.audit/1"
GENESIS = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True)
class AuditEntry:
    """One event of the trail. ``recorded_at`` is naive UTC; ``details`` is plain JSON data."""

    sequence: int
    recorded_at: datetime
    actor: str
    action: str
    reference: str | None
    subject: str | None
    details: Mapping[str, Any] = field(default_factory=dict)
    previous_sha256: str = GENESIS
    sha256: str = ""


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops being trustworthy: the first entry that fails, and why."""

    position: int  # index in the list that was checked
    sequence: int | None  # the entry's own sequence number (None when the chain is short)
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.sequence}" if self.sequence is not None else f"position {self.position + 1}"
        return f"{where}: {self.problem}"


def to_utc(moment: datetime) -> datetime:
    """A moment as naive UTC, the form entries are stored and hashed in (naive input is taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"audit details {where}: key {key!r} is not text; use text keys")
            _check_json(item, f"{where}.{key}")
        return
    raise AuditError(f"audit details {where}: {type(value).__name__} cannot be recorded exactly; "
                     "record text, whole numbers, true/false or null")


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash is taken over: every field but the hash itself, as sorted,
    compact JSON in UTF-8. Times are written to the microsecond in UTC."""
    _check_json(dict(entry.details), "details")
    document = {
        "format": FORMAT,
        "sequence": entry.sequence,
        "recorded_at": to_utc(entry.recorded_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": entry.actor,
        "action": entry.action,
        "reference": entry.reference,
        "subject": entry.subject,
        "details": dict(entry.details),
        "previous_sha256": entry.previous_sha256,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def seal(entry: AuditEntry, previous: AuditEntry | None) -> AuditEntry:
    """``entry`` as the next entry after ``previous`` (None for the first): numbered, linked, hashed."""
    linked = replace(entry, sequence=1 if previous is None else previous.sequence + 1,
                     previous_sha256=GENESIS if previous is None else previous.sha256,
                     recorded_at=to_utc(entry.recorded_at), sha256="")
    return replace(linked, sha256=entry_hash(linked))


def verify_chain(entries: Iterable[AuditEntry], *, expected_head: str | None = None) -> ChainBreak | None:
    """The first broken entry of a chain given oldest first, or None if the chain is intact.

    Entries must be numbered 1, 2, 3, ... with no gaps, each must point at the hash of the one
    before, and each hash must match the entry's contents. With ``expected_head``, the newest
    entry's hash must also equal it (catches entries removed from the end).
    """
    previous: AuditEntry | None = None
    position = -1
    for position, entry in enumerate(entries):
        expected_sequence = 1 if previous is None else previous.sequence + 1
        if entry.sequence != expected_sequence:
            return ChainBreak(position, entry.sequence, f"is numbered {entry.sequence} where {expected_sequence} "
                              "was expected: entries were deleted, inserted or reordered")
        expected_previous = GENESIS if previous is None else previous.sha256
        if entry.previous_sha256 != expected_previous:
            return ChainBreak(position, entry.sequence, "does not point at the hash of the entry before it: "
                              "entries were deleted, inserted or reordered, or the link was changed")
        try:
            actual = entry_hash(entry)
        except AuditError as exc:
            return ChainBreak(position, entry.sequence, f"cannot be hashed ({exc})")
        if entry.sha256 != actual:
            return ChainBreak(position, entry.sequence, "its contents do not match its hash: the entry was changed")
        previous = entry
    if expected_head is not None:
        head = previous.sha256 if previous is not None else GENESIS
        if head != expected_head:
            return ChainBreak(position + 1, None, f"the newest entry's hash is {head[:16]}..., not the expected "
                              f"{expected_head[:16]}...: entries were removed from the end, or the chain was rewritten")
    return None
