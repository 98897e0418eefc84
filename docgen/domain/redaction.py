"""Audiences and redaction on the data, before any template sees it.

A view is plain data (dicts, lists, text). Any dict may carry a confidentiality marking
(``confidentiality: confidential`` or ``withheld_from: [ids]``). Redacting a view for an
audience replaces every node withheld from that audience by a neutral placeholder and returns,
beside the redacted view, every text that was taken out, so the rendered bytes can be checked
for it afterwards. Nothing withheld is left anywhere in the redacted view, so no template can
show it, however it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AudienceKind = Literal["professional", "family", "child", "legal"]


@dataclass(frozen=True)
class Audience:
    """Who a copy is for.

    ``person`` is the id of the family member or child the copy is for (for a legal
    representative's copy, the family member they represent); the professional copy has none.
    """

    kind: AudienceKind
    person: str | None = None
    name: str = ""

    @property
    def is_family_copy(self) -> bool:
        return self.kind != "professional"

    @property
    def slug(self) -> str:
        return "professional" if self.person is None else f"{self.kind}-{self.person}"


PROFESSIONALS = Audience("professional")

WITHHELD_KEY = "withheld"
_MARKING_KEYS = frozenset({"confidentiality", "withheld_from", "reason"})


def withholds(node: Mapping[str, Any], audience: Audience) -> bool:
    """Whether a marked node must be withheld from this audience."""
    if not audience.is_family_copy:
        return False
    if node.get("confidentiality") == "confidential":
        return True
    return audience.person is not None and audience.person in (node.get("withheld_from") or ())


def placeholder() -> dict[str, Any]:
    """What stands where something was withheld: no title, no size, no reason."""
    return {WITHHELD_KEY: True}


def strings_in(node: object, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every piece of text inside a node, keys excluded, and the values of ``skip`` keys too."""
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if current.strip():
                found.append(current)
        elif isinstance(current, Mapping):
            stack.extend(value for key, value in current.items() if key not in skip)
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
    return found


@dataclass
class Redacted:
    """A view as one audience may see it, and what was taken out of it (label -> text)."""

    view: Any
    withheld: dict[str, str] = field(default_factory=dict)

    def allowed_text(self) -> str:
        return "\n".join(strings_in(self.view))


def redact(view: object, audience: Audience) -> Redacted:
    """Redact ``view`` for ``audience``; the input is left unchanged."""
    result = Redacted(view=None)
    result.view = _redact(view, audience, "", result.withheld)
    return result


def _redact(node: object, audience: Audience, path: str, withheld: dict[str, str]) -> object:
    if isinstance(node, Mapping):
        if withholds(node, audience):
            for index, text in enumerate(strings_in(node, skip=_MARKING_KEYS)):
                withheld[f"{path or '(view)'}#{index}"] = text
            return placeholder()
        out: dict[str, Any] = {}
        for key, value in node.items():
            if audience.is_family_copy and key in _MARKING_KEYS:
                # Family copies never learn who else something was withheld from, or why.
                continue
            out[key] = _redact(value, audience, f"{path}.{key}" if path else str(key), withheld)
        out.setdefault(WITHHELD_KEY, False)
        return out
    if isinstance(node, (list, tuple)):
        items: list[object] = []
        for index, value in enumerate(node):
            redacted = _redact(value, audience, f"{path}[{index}]", withheld)
            # Consecutive withheld items become one placeholder, so a copy does not show how many there were.
            if _is_placeholder(redacted) and items and _is_placeholder(items[-1]):
                continue
            items.append(redacted)
        return items
    return node


def _is_placeholder(node: object) -> bool:
    return isinstance(node, dict) and node.get(WITHHELD_KEY) is True and len(node) == 1
