"""The commands for the person who looks after an authority's templates: ``docgen templates list``,
``export``, ``check`` and ``reference``.

``register`` adds them to the ``docgen`` command's subparsers; errors are turned into messages by
the CLI's one error handler.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from docgen.adapters import template_files
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.configuration.authority import load_settings
from docgen.configuration.folder import EXAMPLES_DIR, TEMPLATES_DIR, find_template
from docgen.domain.authority import Settings, Templates
from docgen.domain.documents import KINDS
from docgen.errors import DocgenError
from docgen.services import templates_reference
from docgen.services.templates_check import check_templates

SYNTHETIC_SIZES = ("S", "M", "L")


def register(commands: Any) -> None:
    """Add ``templates list|export|check`` to the ``docgen`` command."""
    templates = commands.add_parser("templates", help="the templates in use: list, export a copy to edit, check")
    actions = templates.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each document, its shipped files and the authority's overriding files")
    listing.set_defaults(handler=cmd_list)
    export = actions.add_parser("export", help="write a starting copy of a template to edit")
    export.add_argument("name", help="a document (decisions_notice: its HTML and Word files) or a file "
                                     "(records/decisions_notice.docx, base.html, assets/style.css)")
    export.add_argument("dir", help="the folder to write it into, keeping its place (records/..., assets/...)")
    export.set_defaults(handler=cmd_export)
    check = actions.add_parser("check", help="check every template in use against the example and synthetic conferences")
    check.add_argument("--dir", help="check this templates folder instead of the one authority.toml names")
    check.add_argument("--document", action="append", choices=sorted(KINDS),
                       help="check only this document (repeat for more; default every document)")
    check.add_argument("--examples-only", action="store_true",
                       help="render against the example conferences only, not also the synthetic S, M and L ones")
    check.set_defaults(handler=cmd_check)
    ref = actions.add_parser("reference", help="print the reference of the names each document's context offers "
                                               "(as in docs/templates.md)")
    ref.set_defaults(handler=cmd_reference)


def _settings(folder: str | None = None) -> Settings:
    settings = load_settings()
    if folder is None:
        return settings
    path = Path(folder).resolve()
    if not path.is_dir():
        raise DocgenError(f"{folder}: no such templates folder")
    return dataclasses.replace(settings, templates=Templates(folder=str(path)))


def cmd_list(args: argparse.Namespace) -> None:
    override = _settings().templates.folder
    print(f"Shipped templates: {TEMPLATES_DIR}")
    print(f"Authority's templates: {override or 'none ([templates] folder is not set in authority.toml)'}")
    for key, kind in KINDS.items():
        print(f"\n{key}: {kind.title}")
        for name in (kind.html_template, kind.docx_template):
            print(f"  {name:45} {_in_use(name, override)}")
        for path in template_files.html_files(kind.html_template, override)[1:]:
            print(f"    uses {template_files.display_name(path, override)}")
    print("\nassets (for every document):")
    for path in template_files.asset_files(override):
        print(f"  {template_files.display_name(path, override)}")


def _in_use(name: str, override: str) -> str:
    path = find_template(name, override)
    if not path.is_file():
        return "missing"
    return "the authority's" if override and Path(override) in path.parents else "shipped"


def cmd_export(args: argparse.Namespace) -> None:
    override = _settings().templates.folder
    names = [KINDS[args.name].html_template, KINDS[args.name].docx_template] if args.name in KINDS else [args.name]
    target = Path(args.dir)
    written = []
    for name in names:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise DocgenError(f"{name}: give a template's name as `docgen templates list` shows it")
        source = find_template(name, override)
        if not source.is_file():
            raise DocgenError(f"{name}: no such template; `docgen templates list` shows every template")
        destination = target / relative
        if destination.exists():
            raise DocgenError(f"{destination} already exists; nothing was written (move it away or choose another folder)")
        written.append((source, destination))
    for source, destination in written:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        print(f"{destination}  (a copy of {template_files.display_name(source, override)})")
    print("Edit it, then run `docgen templates check --dir FOLDER` before naming the folder in authority.toml.")


def conferences(examples_only: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """The example conferences, then the synthetic S, M and L ones."""
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        yield path.name, validate_case(load_case_file(path), source=str(path))
    if examples_only:
        return
    try:  # the benchmark's generator, in the project folder beside docgen (not part of the installed package)
        synthetic = importlib.import_module("bench.synthetic")
    except ImportError:
        raise DocgenError("the synthetic conferences (bench/synthetic.py) cannot be loaded here; run from the project "
                          "folder, or give --examples-only") from None
    for size in SYNTHETIC_SIZES:
        yield f"synthetic {size}", synthetic.conference(size)


def cmd_check(args: argparse.Namespace) -> None:
    settings = _settings(args.dir)
    report = check_templates(conferences(args.examples_only), settings, generated_on=date.today(), kinds=args.document)
    print(f"Checked {len(report.checked)} template files in {report.renders} renders.")
    if report.problems:
        lines = "\n".join(f"  - {problem}" for problem in report.problems)
        raise DocgenError(f"{len(report.problems)} template problems found; no copy will be made from these templates "
                          f"until they are corrected:\n{lines}")
    print("No problems found.")


REFERENCE_DAY = date(2026, 11, 20)  # the examples' pack day: the reference does not depend on today's date


def reference_text() -> str:
    """The generated reference, from the example conferences and the shipped settings."""
    cases = [case for _, case in conferences(examples_only=True)]
    return templates_reference.reference(templates_reference.context_names(cases, load_settings(), generated_on=REFERENCE_DAY))


def cmd_reference(args: argparse.Namespace) -> None:
    print(reference_text(), end="")
