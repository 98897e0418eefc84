"""Conferences imported and updated by a case management system through the API: the same validation
and versioned saving as the CLI and the web pages, recorded under the actor ``api:<system>``."""

from __future__ import annotations

from docgen.adapters.case_store import VersionSummary, newest_version, save_case
from docgen.adapters.casefile import ValidatedCase, validate_case
from docgen.adapters.casefile.limits import size_problems
from docgen.adapters.database import unit_of_work
from docgen.adapters.files import sha256
from docgen.adapters.orm_governance import append_event
from docgen.errors import CaseFileError, ConflictError, NotFoundError
from docgen.services.api_keys import api_actor
from docgen.services.runtime import Runtime

SOURCE = "request body"


def _validated(data: object) -> ValidatedCase:
    """The same limits as a case file (string and list lengths, nesting), then the same validation."""
    problems = size_problems(data)
    if problems:
        raise CaseFileError(SOURCE, problems)
    return validate_case(data, source=SOURCE)


def import_conference(runtime: Runtime, data: object, raw: bytes, *, system: str) -> VersionSummary:
    """Validate a new conference and save it as version 1. CaseFileError lists every problem;
    ConflictError if a conference with its reference is already stored. Nothing is saved on either."""
    case = _validated(data)
    actor = api_actor(system)
    now = runtime.clock().replace(tzinfo=None)
    with unit_of_work(runtime.sessions) as session:
        newest = newest_version(session, case["reference"])
        if newest is not None:
            raise ConflictError(f"conference {case['reference']} is already imported (its newest version is "
                                f"{newest}); nothing was saved. Send a change to it with PUT and the version it "
                                "was made to")
        saved = save_case(session, case, saved_by=actor, now=now, source_sha256=sha256(raw))
        append_event(session, at=runtime.clock(), actor=actor, action="conference_imported",
                     reference=saved.reference, details={"version": saved.version})
        return saved


def update_conference(runtime: Runtime, reference: str, data: object, raw: bytes, *, based_on: int,
                      system: str) -> VersionSummary:
    """Validate a changed conference and save it as the version after ``based_on``, the version the
    change was made to. NotFoundError for an unknown reference; CaseFileError lists every problem;
    ConflictError says who saved since, when ``based_on`` is no longer the newest. Nothing is saved
    unless all is well."""
    with unit_of_work(runtime.sessions) as session:
        if newest_version(session, reference) is None:
            raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
    case = _validated(data)
    if case["reference"] != reference:
        raise CaseFileError(SOURCE, ["reference: differs from the reference in the address; a conference's "
                                     "reference cannot be changed"])
    actor = api_actor(system)
    with unit_of_work(runtime.sessions) as session:
        saved = save_case(session, case, saved_by=actor, now=runtime.clock().replace(tzinfo=None),
                          source_sha256=sha256(raw), based_on=based_on)
        append_event(session, at=runtime.clock(), actor=actor, action="conference_updated",
                     reference=saved.reference, details={"version": saved.version, "based_on": based_on})
        return saved
