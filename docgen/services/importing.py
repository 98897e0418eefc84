"""Importing and exporting conferences as case files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docgen.adapters.case_store import find_conference, load_case, save_case
from docgen.adapters.database import unit_of_work
from docgen.services.runtime import Runtime
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.files import sha256


def import_case_file(runtime: Runtime, path: Path, *, replace: bool = False) -> tuple[str, int]:
    """Validate and store a case file; returns the reference and its content version.

    Validation finishes before anything is written, and the store runs in one transaction,
    so a bad file leaves the database as it was.
    """
    data = load_case_file(path)
    case = validate_case(data, source=str(path))
    with unit_of_work(runtime.sessions) as session:
        conference = save_case(session, case, source_sha256=sha256(path.read_bytes()),
                               now=runtime.clock().replace(tzinfo=None), replace=replace)
        return conference.reference, conference.content_version


def stored_case(runtime: Runtime, reference: str) -> dict[str, Any]:
    """A stored conference as a validated case (the form packs are built from)."""
    with unit_of_work(runtime.sessions) as session:
        return validate_case(load_case(session, reference), source=f"conference {reference}")


def content_version(runtime: Runtime, reference: str) -> int:
    with unit_of_work(runtime.sessions) as session:
        return find_conference(session, reference).content_version
