"""Stored windows that scheduling again would move: the refusal that lists them, each in words, and
the fingerprint a confirmation carries so that it accepts exactly the list it was shown."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from docgen.domain.outbox import WindowChange
from docgen.errors import SchedulingError


class WindowChangesNeedConfirmation(SchedulingError):
    """Scheduling again would move stored windows and nobody has agreed to it: nothing was written.

    ``changes`` lists them; ``digest`` identifies exactly this list, so a confirmation given on a
    page that showed it cannot accept a different list made meanwhile.
    """

    def __init__(self, reference: str, changes: tuple[WindowChange, ...], zone: Any, *, stale: bool = False) -> None:
        self.reference = reference
        self.changes = changes
        self.digest = changes_digest(changes)
        lines = "\n".join(f"  - {describe_change(c, zone)}" for c in changes)
        first = ("The changes are no longer the ones confirmed: scheduling" if stale else "Scheduling")
        super().__init__(
            f"{first} conference {reference} again would move {len(changes)} stored "
            f"{'window' if len(changes) == 1 else 'windows'}:\n{lines}\nNothing was changed. If these changes are "
            "right, schedule again accepting them (`docgen schedule --accept-changes`).")


def _when(value: datetime | None, zone: Any) -> str:
    return value.astimezone(zone).strftime("%a %d %b %Y %H:%M") if value is not None else "none"


def describe_change(change: WindowChange, zone: Any) -> str:
    """One moved window in words: the item, and its old and new earliest and latest times."""
    parts = []
    if change.old_not_before != change.new_not_before:
        parts.append(f"earliest {_when(change.old_not_before, zone)} -> {_when(change.new_not_before, zone)}")
    if change.old_deadline != change.new_deadline:
        parts.append(f"deadline {_when(change.old_deadline, zone)} -> {_when(change.new_deadline, zone)}")
    return f"item {change.item_id} ({change.copy} to {change.recipient}, rule {change.rule}): {'; '.join(parts)}"


def changes_digest(changes: tuple[WindowChange, ...]) -> str:
    """A short fingerprint of a list of changes, for a confirmation form to carry."""
    text = "\n".join(f"{c.item_id}|{c.old_not_before}|{c.new_not_before}|{c.old_deadline}|{c.new_deadline}"
                     for c in changes)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
