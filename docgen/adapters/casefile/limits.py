"""The limits every case file is held to before it is validated, wherever it comes from.

A case file is refused, with the field path and the limit, when it is too big, nested too deep, has
a value, field name or list too long, or (YAML) uses anchors and aliases; a JSON file is refused
when a key appears twice in one object. These checks run before the JSON Schema so that a hostile
file costs little to refuse: no alias is ever expanded, no deep structure is ever built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docgen.adapters.casefile.validation import format_path, preview

MAX_CASE_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
MAX_STRING_CHARACTERS = 20_000
MAX_KEY_CHARACTERS = 64
MAX_LIST_ENTRIES = 1_000


@dataclass(frozen=True)
class CaseFileLimits:
    """How big a case file and its parts may be; the defaults fit every conference the service holds
    (the example's deepest value is 11 levels down, its longest list 11 entries)."""

    max_bytes: int = MAX_CASE_FILE_BYTES
    max_depth: int = MAX_DEPTH
    max_string: int = MAX_STRING_CHARACTERS
    max_key: int = MAX_KEY_CHARACTERS
    max_list: int = MAX_LIST_ENTRIES


LIMITS = CaseFileLimits()

# A JSON string, escapes included; what is left once strings are removed holds the structure.
# (Written as an unrolled loop: an alternation inside the repeat would keep a backtracking state
# per character, hundreds of megabytes for one long string.)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_nesting_problem(text: str, limits: CaseFileLimits = LIMITS) -> str | None:
    """The place where JSON text nests deeper than allowed, found without parsing it (a parser would
    recurse once per level and fail with a RecursionError)."""
    depth = 0
    structure = _JSON_STRING.sub('""', text)
    for match in _JSON_BRACKET.finditer(structure):
        if match.group() in "[{":
            depth += 1
            if depth > limits.max_depth:
                # Offsets in `structure` differ from the text's once strings were shortened, so the
                # place is given by depth, the one thing that matters here.
                return f"(top level): nested more than {limits.max_depth} levels deep; the limit is {limits.max_depth}"
        else:
            depth -= 1
    return None


def size_problems(data: object, limits: CaseFileLimits = LIMITS) -> list[str]:
    """Every value, field name and list over its limit, and any nesting too deep, with its field path."""
    return list(_walk(data, (), 0, limits))


def _walk(node: object, path: tuple[object, ...], depth: int, limits: CaseFileLimits) -> Iterator[str]:
    if depth > limits.max_depth:
        yield f"{format_path(path)}: nested more than {limits.max_depth} levels deep; the limit is {limits.max_depth}"
        return
    if isinstance(node, str):
        if len(node) > limits.max_string:
            yield (f"{format_path(path)}: is {len(node)} characters long; the limit is {limits.max_string}. "
                   f"The value starts {preview(node)}")
    elif isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield f"{format_path(path)}: the field name {preview(key)} is not text"
                continue
            if len(key) > limits.max_key:
                yield (f"{format_path(path)}: a field name is {len(key)} characters long; the limit is "
                       f"{limits.max_key}. The name starts {preview(key)}")
                continue
            yield from _walk(value, (*path, key), depth + 1, limits)
    elif isinstance(node, list):
        if len(node) > limits.max_list:
            yield f"{format_path(path)}: has {len(node)} entries; the limit is {limits.max_list}"
            return
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index), depth + 1, limits)


class DuplicateKeys:
    """Collects the keys a JSON object repeats, to be reported with their field paths after parsing."""

    def __init__(self) -> None:
        self.repeated: dict[int, list[str]] = {}

    def object_pairs_hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                self.repeated.setdefault(id(result), []).append(key)
            result[key] = value
        return result

    def problems(self, data: object) -> list[str]:
        if not self.repeated:
            return []
        found: list[str] = []
        self._find(data, (), found)
        return found

    def _find(self, node: object, path: tuple[object, ...], found: list[str]) -> None:
        if isinstance(node, dict):
            for key in self.repeated.get(id(node), ()):
                found.append(f"{format_path((*path, key))}: the key {preview(key)} appears twice in the same "
                             "object; a case file must give each field once")
            for key, value in node.items():
                self._find(value, (*path, key), found)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                self._find(value, (*path, index), found)
