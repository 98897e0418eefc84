"""What a template read from its context, so that a copy can be known to be the same without
rendering it again.

A render is given the context wrapped (:func:`tracked`): every mapping and list in it notes each
key looked up (found or not), each time its keys or its length are looked at (a loop, a length,
``in``), and each time it is printed whole (all of it). The context's own names, and the value of
each name that is not a mapping or a list, are always noted: a template can test a name
(``{% if report %}``) or print a top-level value without any wrapper seeing it. Those notes, as a
tree of paths (:class:`Reads`), say everything the output can depend on: rendering again with a
context that holds the same values at those paths takes the same branches and prints the same
text. :func:`fingerprint` evaluates the tree on another context and hashes what it finds there;
equal fingerprints mean equal output (the templates themselves, the settings and the code being
the same, which the caller's key covers).

Wrapped mappings are not ``dict`` and wrapped lists not ``list``, on purpose: C code that reads a
real dict's storage directly (``json.dumps``, some ``dict(...)`` paths) would bypass the notes, and
with these types it fails loudly instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Path = tuple[str | int, ...]
GET, KEYS, LENGTH, ALL = "get", "keys", "len", "all"
_MISSING = object()


class Reads:
    """The paths a render read, each with how: its value (``get``), a mapping's keys, a list's length."""

    def __init__(self) -> None:
        self.noted: set[tuple[Path, str]] = set()

    def note(self, path: Path, how: str) -> None:
        self.noted.add((path, how))

    def tree(self) -> list[Any]:
        """The notes as a tree ``[hows, [[key, subtree], ...]]`` in a fixed order, ready for JSON."""
        root: dict[str, Any] = {"hows": set(), "children": {}}
        for path, how in self.noted:
            node = root
            for key in path:
                node = node["children"].setdefault((isinstance(key, int), key), {"hows": set(), "children": {}})
            node["hows"].add(how)

        def freeze(node: dict[str, Any]) -> list[Any]:
            return [sorted(node["hows"]), [[key, freeze(child)] for (_, key), child in sorted(node["children"].items())]]
        return freeze(root)


def _wrap(value: Any, path: Path, reads: Reads) -> Any:
    if isinstance(value, Mapping):
        return TrackedMapping(value, path, reads)
    if isinstance(value, (list, tuple)):
        return TrackedList(value, path, reads)
    return value


class _PrintedWhole:
    """Printed whole (``{{ section }}``), a tracked container prints what the container itself
    would, and all of it is noted as read."""

    __slots__ = ()
    _data: Any
    _path: Path
    _reads: Reads

    def __str__(self) -> str:
        self._reads.note(self._path, ALL)
        return str(self._data)

    def __repr__(self) -> str:
        self._reads.note(self._path, ALL)
        return repr(self._data)


class TrackedMapping(_PrintedWhole, Mapping[str, Any]):
    """A read-only view of a mapping that notes what is read."""

    __slots__ = ("_data", "_path", "_reads")

    def __init__(self, data: Mapping[str, Any], path: Path, reads: Reads) -> None:
        self._data, self._path, self._reads = data, path, reads

    def __getitem__(self, key: str) -> Any:
        path = (*self._path, key)
        self._reads.note(path, GET)
        return _wrap(self._data[key], path, self._reads)

    def __iter__(self) -> Iterator[str]:
        self._reads.note(self._path, KEYS)
        return iter(self._data)

    def __len__(self) -> int:
        self._reads.note(self._path, KEYS)
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self._reads.note(self._path, KEYS)
        return key in self._data

    def copy(self) -> dict[str, Any]:
        return {key: self[key] for key in self}


class TrackedList(_PrintedWhole, Sequence[Any]):
    """A read-only view of a list that notes what is read."""

    __slots__ = ("_data", "_path", "_reads")

    def __init__(self, data: Sequence[Any], path: Path, reads: Reads) -> None:
        self._data, self._path, self._reads = data, path, reads

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        self._reads.note(self._path, LENGTH)  # a negative index depends on the length
        position = index + len(self._data) if isinstance(index, int) and index < 0 else index
        path = (*self._path, position)
        self._reads.note(path, GET)
        return _wrap(self._data[index], path, self._reads)

    def __iter__(self) -> Iterator[Any]:
        self._reads.note(self._path, LENGTH)
        for index, value in enumerate(self._data):
            path = (*self._path, index)
            self._reads.note(path, GET)
            yield _wrap(value, path, self._reads)

    def __len__(self) -> int:
        self._reads.note(self._path, LENGTH)
        return len(self._data)

    # What a template may do with a list besides reading it; each reads every element.
    def __add__(self, other: object) -> list[Any]:
        if not isinstance(other, (list, tuple, TrackedList)):
            return NotImplemented
        return [*self, *other]

    def __radd__(self, other: object) -> list[Any]:
        if not isinstance(other, (list, tuple, TrackedList)):
            return NotImplemented
        return [*other, *self]

    def __mul__(self, times: int) -> list[Any]:
        return [*self] * times

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, TrackedList)):
            return [*self] == [*other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list has no hash either


def tracked(context: dict[str, Any], reads: Reads) -> dict[str, Any]:
    """``context`` with each mapping and list in it wrapped to note reads into ``reads``; other values as they are.

    The context's names and each top-level value (a mapping or a list only as what it is) are
    noted at once: Jinja reads the top level of a context directly, so no wrapper would see them."""
    reads.note((), KEYS)
    for key in context:
        reads.note((key,), GET)
    return {key: _wrap(value, (key,), reads) for key, value in context.items()}


def _observe(value: Any, how: str) -> str:
    if value is _MISSING:
        return "-"
    if how == KEYS:
        return repr(tuple(value)) if isinstance(value, Mapping) else "not a mapping"
    if how == LENGTH:
        return repr(len(value)) if isinstance(value, (list, tuple)) else "not a list"
    if how == ALL:
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return f"{type(value).__name__}:{value!r}"


def _child(value: Any, key: str | int) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, _MISSING)
    if isinstance(value, (list, tuple)) and isinstance(key, int):
        return value[key] if 0 <= key < len(value) else _MISSING
    return _MISSING


def fingerprint(tree: list[Any], context: Mapping[str, Any]) -> str:
    """SHA-256 of the paths of ``tree`` (a :meth:`Reads.tree`) and what ``context`` holds at each."""
    digest = hashlib.sha256()

    def visit(node: list[Any], value: Any) -> None:
        hows, children = node
        for how in hows:
            digest.update(f"{how}={_observe(value, how)}".encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        for key, child in children:
            digest.update(b"\x01" + repr(key).encode("utf-8", "surrogatepass") + b"\x03")
            visit(child, _child(value, key))
            digest.update(b"\x02")

    visit(tree, context)
    return digest.hexdigest()
