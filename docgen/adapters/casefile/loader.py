"""Reads a case file's text into plain data, strictly: dates stay text, duplicate keys are errors,
YAML anchors and aliases are refused, and every size limit is checked (see ``limits.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import Node, ScalarNode
from yaml.resolver import Resolver

from docgen.adapters.casefile.limits import (
    LIMITS,
    MAX_CASE_FILE_BYTES,
    CaseFileLimits,
    DuplicateKeys,
    json_nesting_problem,
    size_problems,
)
from docgen.adapters.casefile.validation import format_path
from docgen.errors import CaseFileError

__all__ = ["MAX_CASE_FILE_BYTES", "load_case_bytes", "load_case_file", "parse_case_text"]


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"


class _StrictComposer(Composer):
    """Builds the node tree, refusing anchors and aliases as they are met (a few kilobytes of nested
    aliases expand to gigabytes), and nesting deeper than the limit before anything deeper is built."""

    max_depth = LIMITS.max_depth
    _path: list[object]
    # Provided by the parser it is mixed with (PyYAML's Parser or libyaml's CParser).
    peek_event: Callable[[], Any]
    check_event: Callable[..., bool]

    def compose_document(self) -> Node | None:
        self._path = []
        return super().compose_document()

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        step = index.value if isinstance(index, ScalarNode) else index
        where = format_path([*self._path, step] if step is not None else self._path)
        event = self.peek_event()
        if self.check_event(AliasEvent):
            raise _refusal(f"{where}: uses the alias *{event.anchor[:60]}; anchors and aliases are not allowed "
                           "in a case file, write the value out in full", event.start_mark)
        if event.anchor is not None:
            raise _refusal(f"{where}: defines the anchor &{event.anchor[:60]}; anchors and aliases are not "
                           "allowed in a case file, write the value out in full", event.start_mark)
        if step is not None:
            self._path.append(step)
        if len(self._path) > self.max_depth:
            raise _refusal(f"{where}: nested more than {self.max_depth} levels deep; the limit is {self.max_depth}",
                           event.start_mark)
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            if step is not None:
                self._path.pop()


class _StrictLoader(_StrictComposer, yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys, anchors and aliases, and leaves dates as text.

    Dates are left for the schema to check, so that a mistyped date is reported with its
    field path instead of being silently turned into something else.
    """


class _Refused(yaml.YAMLError):
    """A limit of the case-file format, met while reading YAML; the message is complete."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _refusal(message: str, mark: Any) -> _Refused:
    return _Refused(message, mark)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice in the same block", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text, and only true/false are booleans: YAML 1.1 would otherwise read an answer
# such as `shared_with_parents: no` as false, and a country code NO as a boolean.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_TIMESTAMP, _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _loader(text: str) -> Any:
    """The strict loader over ``text``: with libyaml's parser where PyYAML has it (a 5 MB file is
    read in about a second instead of twenty), the same composer, constructors and resolvers."""
    if not yaml.__with_libyaml__:
        return _StrictLoader(text)
    from yaml._yaml import CParser

    class _FastStrictLoader(_StrictComposer, CParser, SafeConstructor, Resolver):
        yaml_constructors = _StrictLoader.yaml_constructors
        yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

    return _FastStrictLoader(text)


def parse_case_text(text: str, *, source: str, fmt: str, limits: CaseFileLimits = LIMITS) -> Any:
    """Parse the text of a case file; ``fmt`` is ``"yaml"`` or ``"json"``. Duplicate keys, YAML
    anchors and aliases, and anything over a limit are refused with the field path and the limit."""
    data = _parse(text, source=source, fmt=fmt, limits=limits)
    problems = size_problems(data, limits)
    if problems:
        raise CaseFileError(source, problems)
    return data


def _parse(text: str, *, source: str, fmt: str, limits: CaseFileLimits) -> Any:
    try:
        if fmt == "json":
            nesting = json_nesting_problem(text, limits)
            if nesting is not None:
                raise CaseFileError(source, [nesting])
            duplicates = DuplicateKeys()
            data = json.loads(text, object_pairs_hook=duplicates.object_pairs_hook)
            problems = duplicates.problems(data)
            if problems:
                raise CaseFileError(source, problems)
            return data
        loader = _loader(text)
        loader.max_depth = limits.max_depth
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        line = f"line {exc.mark.line + 1}, column {exc.mark.column + 1}: " if exc.mark is not None else ""
        raise CaseFileError(source, [f"{line}{exc.message}"]) from None
    except json.JSONDecodeError as exc:
        raise CaseFileError(source, [f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseFileError(source, [f"{where}not valid YAML: {problem}"]) from None
    except ValueError:
        # Python refuses to read an integer of more than 4,300 digits; say so without the digits.
        raise CaseFileError(source, ["a number has too many digits to be read; no field of a case file needs one"]) from None


def load_case_bytes(raw: bytes, *, source: str, fmt: str, limits: CaseFileLimits = LIMITS) -> Any:
    """Read a case file's bytes (from disk, or a request to the web application's API) into plain data,
    every limit checked; ``fmt`` is ``"yaml"`` or ``"json"``."""
    if len(raw) > limits.max_bytes:
        raise CaseFileError(source, [f"the file is {len(raw)} bytes; the most a case file may be is {limits.max_bytes}"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(source, [f"byte {exc.start}: the file is not UTF-8 text"]) from None
    return parse_case_text(text, source=source, fmt=fmt, limits=limits)


def load_case_file(path: Path) -> Any:
    """Read a ``.yaml``, ``.yml`` or ``.json`` case file from disk into plain data."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise CaseFileError(source, ["the file name must end in .yaml, .yml or .json"])
    try:
        size = path.stat().st_size
        if size > MAX_CASE_FILE_BYTES:
            raise CaseFileError(source, [f"the file is {size} bytes; the most a case file may be is {MAX_CASE_FILE_BYTES}"])
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseFileError(source, [f"cannot be read: {exc.strerror}"]) from None
    return load_case_bytes(raw, source=source, fmt="json" if suffix == ".json" else "yaml")
