"""The audit trail as a hash chain: the canonical form of an entry, its SHA-256, and checking a chain.

Pure: no I/O and no clock. Each entry's hash covers every field of the entry and the hash of the
entry before it, so changing any field of any entry, deleting an entry or putting entries in a
different order breaks the chain at the first entry affected. Removing entries from the *end*, or
rewriting the whole chain from some entry onwards, leaves a chain that is consistent in itself;
that is caught only by comparing it with heads noted down earlier: ``expected_head`` in
:func:`verify_chain`, and the signed checkpoints kept outside the database, which
:func:`compare_with_checkpoints` checks (truncation, recomputation, a re-created table, and
decisions appended after the last checkpoint, which a checkpoint would have covered).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
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


def verify_chain(entries: Iterable[AuditEntry], *, expected_head: str | None = None,
                 partial: bool = False) -> ChainBreak | None:
    """The first broken entry of a chain given oldest first, or None if the chain is intact.

    Entries must be numbered 1, 2, 3, ... with no gaps, each must point at the hash of the one
    before, and each hash must match the entry's contents. With ``expected_head``, the chain must
    hold an entry with that hash (it may have grown since: entries appended after it are fine), so
    entries removed from the end, or a chain rewritten from before that entry, are found. With
    ``partial``, the entries are a stretch of a chain: the first is taken as numbered and linked.
    """
    previous: AuditEntry | None = None
    position = -1
    head_seen = expected_head is None or expected_head == GENESIS
    for position, entry in enumerate(entries):
        if partial and previous is None:
            previous = replace(entry, sequence=entry.sequence - 1, sha256=entry.previous_sha256)
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
        head_seen = head_seen or entry.sha256 == expected_head
        previous = entry
    if not head_seen and expected_head is not None:
        head = previous.sha256 if previous is not None else GENESIS
        return ChainBreak(position + 1, None, f"no entry has the expected hash {expected_head[:16]}... (the newest "
                          f"is {head[:16]}...): entries were removed from the end, or the chain was rewritten")
    return None


#: The entries a release depends on: the chair's decisions on family copies and on sharing reports.
DECISIONS = frozenset({"approved", "returned", "report_sharing_decided"})


@dataclass(frozen=True)
class Checkpoint:
    """A head of the chain noted outside the database and signed: entry ``sequence`` had hash ``sha256``."""

    sequence: int
    sha256: str
    signed_at: datetime  # UTC

    def describe(self) -> str:
        return f"the signed checkpoint of {to_utc(self.signed_at):%Y-%m-%d %H:%M:%S} UTC (entry {self.sequence})"


def compare_with_checkpoints(hashes: Mapping[int, str], newest: int, checkpoints: Sequence[Checkpoint],
                             uncovered: Sequence[AuditEntry] = ()) -> list[str]:
    """What the trail's entries contradict in the signed checkpoints, each naming the entries affected.

    ``hashes`` holds the trail's hash of each entry a checkpoint names (where the entry exists),
    ``newest`` the newest entry's sequence (0 for an empty trail), ``checkpoints`` the signed
    checkpoints oldest first, ``uncovered`` the entries after the newest checkpoint.
    """
    if not checkpoints:
        return []
    problems: list[str] = []
    last = checkpoints[-1]
    if newest == 0:
        problems.append(f"the trail is empty, but {last.describe()} covers entries 1 to {last.sequence}: the table "
                        f"was emptied, or dropped and created again; entries 1 to {last.sequence} are missing")
        return problems
    if newest < last.sequence:
        problems.append(f"the trail ends at entry {newest}, but {last.describe()} covers entries up to "
                        f"{last.sequence}: entries {newest + 1} to {last.sequence} were removed from the end")
    matched = 0
    for checkpoint in checkpoints:
        found = hashes.get(checkpoint.sequence)
        if found is None:
            continue
        if found != checkpoint.sha256:
            problems.append(f"entry {checkpoint.sequence} does not have the hash signed in {checkpoint.describe()}: "
                            f"the chain was rewritten (recomputed) from an entry after entry {matched}; entries "
                            f"{matched + 1} to {checkpoint.sequence} cannot be trusted")
            break
        matched = checkpoint.sequence
    for entry in uncovered:
        if entry.action in DECISIONS:
            problems.append(f"entry {entry.sequence} ({entry.action}, conference {entry.reference or '-'}) was added "
                            f"after {last.describe()} and no checkpoint covers it, as every genuine decision's does: "
                            "it may be forged; if it is genuine, `docgen audit checkpoint --confirm` covers it")
    return problems
