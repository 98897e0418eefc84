"""Which reports the chair's decisions share with the family, for the pack, the schedule and ``render``.

A decision binds the report's content as it was stored when the chair decided; it applies to a
case only where that case's report is the same content, so a report edited since (in the
database or in a case file) is not shared until the chair decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from docgen.adapters.case_store import content_hash
from docgen.adapters.database import unit_of_work
from docgen.errors import NotFoundError
from docgen.services.approval import current_content, shared_reports
from docgen.services.runtime import Runtime


def reports_shared_in(session: Session, case: Mapping[str, Any], now: datetime, *, actor: str) -> frozenset[str]:
    """The ids of ``case``'s reports the chair has decided to share, read in ``session``.

    Empty for a conference that was never imported: nobody can have decided on its reports."""
    try:
        content = current_content(session, case["reference"])
    except NotFoundError:
        return frozenset()
    decided = shared_reports(session, content, now, actor=actor)
    stored = {r["id"]: content_hash(r) for r in content.case["reports"]}
    return frozenset(r["id"] for r in case["reports"]
                     if r["id"] in decided and stored.get(r["id"]) == content_hash(r))


def reports_shared(runtime: Runtime, case: Mapping[str, Any], *, actor: str = "docgen") -> frozenset[str]:
    """The ids of ``case``'s reports the chair has decided to share, in a transaction of its own
    (reading the decisions may record in the audit trail that one no longer applies)."""
    with unit_of_work(runtime.sessions) as session:
        return reports_shared_in(session, case, runtime.clock(), actor=actor)
