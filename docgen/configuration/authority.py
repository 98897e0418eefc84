"""Typed, strict configuration: the authority's details and wording, read from TOML.

Unknown keys are errors, so a misspelt setting is found at once instead of silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from docgen.domain.authority import Authority, Contact, Contacts, Marking, Settings
from docgen.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
ASSETS_DIR = TEMPLATES_DIR / "assets"


def _check_keys(table: dict[str, Any], cls: type, where: str, problems: list[str]) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    for key in table:
        if key not in known:
            problems.append(f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})")
    return {k: v for k, v in table.items() if k in known}


def _build(cls: type, table: object, where: str, problems: list[str]) -> Any:
    if not isinstance(table, dict):
        problems.append(f"{where}: must be a table")
        return None
    values = _check_keys(table, cls, where, problems)
    for f in fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        expected = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if expected.startswith("tuple[str"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}.{f.name}: must be a list of text")
            else:
                values[f.name] = tuple(value)
        elif expected.startswith("tuple[Contact"):
            if not isinstance(value, list):
                problems.append(f"{where}.{f.name}: must be a list of tables")
            else:
                values[f.name] = tuple(_build(Contact, v, f"{where}.{f.name}[{i}]", problems) for i, v in enumerate(value))
        elif expected == "bool" and not isinstance(value, bool):
            problems.append(f"{where}.{f.name}: must be true or false")
        elif expected == "str" and not isinstance(value, str):
            problems.append(f"{where}.{f.name}: must be text")
    try:
        return cls(**values)
    except TypeError as exc:
        missing = str(exc).split("argument")[-1].strip(": ")
        problems.append(f"{where}: missing required setting(s) {missing}")
        return None


def load_settings(config_dir: Path | None = None) -> Settings:
    """Read ``authority.toml`` from the configuration folder (``DOCGEN_CONFIG_DIR`` or ``config/``)."""
    folder = config_dir or Path(os.environ.get("DOCGEN_CONFIG_DIR", DEFAULT_CONFIG_DIR))
    path = folder / "authority.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: the authority settings file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    problems: list[str] = []
    for key in data:
        if key not in {"authority", "marking", "contacts"}:
            problems.append(f"{key}: unknown table (known: authority, marking, contacts)")
    authority = _build(Authority, data.get("authority"), "authority", problems)
    marking = _build(Marking, data.get("marking", {}), "marking", problems)
    contacts = _build(Contacts, data.get("contacts"), "contacts", problems)
    if problems:
        raise ConfigurationError(f"{path}: " + "; ".join(problems))
    return Settings(authority=authority, marking=marking, contacts=contacts, source=str(path))
