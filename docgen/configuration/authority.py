"""The authority's details and wording, read from ``authority.toml`` in the configuration folder.

Unknown keys are errors, so a misspelt setting is found at once instead of silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from docgen.configuration.folder import config_file
from docgen.configuration.toml import At, Problems, check_keys, read_dataclass, read_toml
from docgen.domain.authority import ApprovalRules, Authority, Contacts, Marking, Settings, Templates
from docgen.errors import ConfigurationError

FILE_NAME = "authority.toml"
TABLES = ("authority", "marking", "contacts", "approval", "templates")
T = TypeVar("T")


def load_settings(config_dir: Path | None = None) -> Settings:
    """Read ``authority.toml`` from the configuration folder (``config_dir``, else ``DOCGEN_CONFIG_DIR``, else ``config/``).

    Raises ``ConfigurationError`` listing every problem in the file.
    """
    path = config_file(FILE_NAME, config_dir)
    problems = Problems()
    data = read_toml(path, problems)
    settings = parse_settings(data, source=str(path), problems=problems) if data is not None else None
    problems.raise_if_any("Authority settings not loaded")
    if settings is None:  # cannot happen without a problem reported; never carry on without settings
        raise ConfigurationError(f"{path}: the authority settings could not be read")
    return settings


def parse_settings(data: Mapping[str, Any], *, source: str, problems: Problems) -> Settings | None:
    """The settings in parsed TOML, or ``None`` with every problem added to ``problems``."""
    at = At(source, problems)
    tables = check_keys(data, TABLES, at)
    authority = _table(Authority, tables, "authority", at)
    # Every [marking] key has a default, so that table may be left out.
    marking = _table(Marking, tables, "marking", at, required=False)
    contacts = _table(Contacts, tables, "contacts", at)
    # [approval] may be left out too: its default is the safe one (a second pair of eyes).
    approval = _table(ApprovalRules, tables, "approval", at, required=False)
    # [templates] may be left out: the shipped templates are used.
    templates = _table(Templates, tables, "templates", at, required=False)
    if templates is not None and templates.folder:
        templates = _template_folder(templates.folder, source, at.key("templates").key("folder"))
    if authority is None or marking is None or contacts is None or approval is None or templates is None:
        return None
    return Settings(authority=authority, marking=marking, contacts=contacts, approval=approval, templates=templates,
                    source=source)


def _template_folder(folder: str, source: str, at: At) -> Templates | None:
    """The authority's templates folder, relative to the folder ``authority.toml`` is in; it must exist."""
    path = (Path(source).parent / folder).resolve()
    if not path.is_dir():
        at.report(f"the templates folder {str(path)!r} does not exist; create it (`docgen templates export` "
                  "writes a starting copy of a template into it) or remove the key to use the shipped templates")
        return None
    return Templates(folder=str(path))


def _table(cls: type[T], tables: Mapping[str, Any], name: str, at: At, *, required: bool = True) -> T | None:
    if name in tables:
        return read_dataclass(cls, tables[name], at.key(name))
    if required:
        at.key(name).report("required but missing")
        return None
    return cls()
