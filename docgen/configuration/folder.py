"""Where the product's folders are: the configuration folder, the templates and their assets.

The one place these are worked out; everything else asks here.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The configuration shipped with the product, used when ``DOCGEN_CONFIG_DIR`` is not set.
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
CONFIG_DIR_VARIABLE = "DOCGEN_CONFIG_DIR"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
ASSETS_DIR = TEMPLATES_DIR / "assets"
EXAMPLES_DIR = PROJECT_ROOT / "examples"


def template_folders(override: str = "") -> tuple[Path, ...]:
    """The folders a template is looked for in, first match wins: the authority's templates
    folder (``override``, from ``[templates] folder``) if set, then the shipped templates."""
    return (Path(override), TEMPLATES_DIR) if override else (TEMPLATES_DIR,)


def find_template(name: str, override: str = "") -> Path:
    """The file a template called ``name`` (``records/conference_record.docx``, ``assets/style.css``)
    is read from: the authority's if it has one, else the shipped one (which may not exist)."""
    for folder in template_folders(override):
        path = folder / name
        if path.is_file():
            return path
    return TEMPLATES_DIR / name


def config_dir(explicit: Path | None = None) -> Path:
    """The configuration folder: ``explicit`` if given, else ``DOCGEN_CONFIG_DIR`` if set, else ``config/``.

    The environment is read when asked, never at import, so a test or a process can point it
    elsewhere before it loads anything.
    """
    if explicit is not None:
        return explicit
    # An empty variable is treated as unset: it would otherwise mean the current directory.
    named = os.environ.get(CONFIG_DIR_VARIABLE)
    return Path(named) if named else DEFAULT_CONFIG_DIR


def config_file(name: str, folder: Path | None = None) -> Path:
    """The file called ``name`` in the configuration folder (see :func:`config_dir`)."""
    return config_dir(folder) / name
