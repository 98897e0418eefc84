"""Reads a case file's text into plain data, strictly: dates stay text, duplicate keys are errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from docgen.errors import CaseFileError

MAX_CASE_FILE_BYTES = 5 * 1024 * 1024


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys and leaves dates as text.

    Dates are left for the schema to check, so that a mistyped date is reported with its
    field path instead of being silently turned into something else.
    """


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


def parse_case_text(text: str, *, source: str, fmt: str) -> Any:
    """Parse the text of a case file; ``fmt`` is ``"yaml"`` or ``"json"``."""
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.load(text, Loader=_StrictLoader)
    except json.JSONDecodeError as exc:
        raise CaseFileError(source, [f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseFileError(source, [f"{where}not valid YAML: {problem}"]) from None


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
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(source, [f"byte {exc.start}: the file is not UTF-8 text"]) from None
    return parse_case_text(text, source=source, fmt="json" if suffix == ".json" else "yaml")
