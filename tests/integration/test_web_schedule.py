"""Business support schedules a conference's documents from its outbox page; a late booking asks for the
reason for the delay first, as `docgen schedule` does."""

from __future__ import annotations

import copy
import re

from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.outbox_store.sqlalchemy import SQLAlchemyOutboxStore
from docgen.services.importing import import_case_file, save_conference, stored_case
from docgen.services.scheduling import conference_items
from tests.conftest import EXAMPLE
from tests.support.web import WebWorld, post_form


def test_scheduling_fills_the_outbox_and_is_audited(web: WebWorld) -> None:
    reference, _ = import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    assert "Schedule the documents" in support.get(f"/conferences/{reference}/outbox").get_data(as_text=True)
    response = post_form(support, f"/conferences/{reference}/outbox/schedule", {},
                         form_page=f"/conferences/{reference}/outbox")
    assert response.status_code == 302
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "Scheduled:" in page and "Schedule again after a change" in page
    assert conference_items(SQLAlchemyOutboxStore(web.runtime.sessions), reference)
    with unit_of_work(web.runtime.sessions) as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "scheduled")) == "support"


def test_a_late_booking_asks_for_the_reason_for_the_delay(web: WebWorld, example_case) -> None:
    late = copy.deepcopy(dict(example_case))
    late["reference"] = "NM-ICPC-2026-0999"
    late["conference"]["strategy_discussion_on"] = "2026-09-01"
    save_conference(web.runtime, late, based_on=None, saved_by="tests", source="tests")
    support = web.signed_in("support")
    path = "/conferences/NM-ICPC-2026-0999/outbox"
    refused = post_form(support, f"{path}/schedule", {}, form_page=path)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "booked outside the procedures" in text and "Give the reason for the delay" in text
    accepted = post_form(support, f"{path}/schedule", {"reason": "Family unavailable; agreed by M. Kowalczyk"},
                         form_page=path)
    assert accepted.status_code == 302


def test_scheduling_that_would_move_deadlines_lists_them_and_waits_for_confirmation(web: WebWorld) -> None:
    reference, _ = import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    path = f"/conferences/{reference}/outbox"
    assert post_form(support, f"{path}/schedule", {}, form_page=path).status_code == 302
    store = SQLAlchemyOutboxStore(web.runtime.sessions)
    before = {i.id: (i.not_before, i.deadline) for i in conference_items(store, reference)}
    # The conference is brought forward a day: the invitations' deadlines (its start) move with it.
    moved = copy.deepcopy(stored_case(web.runtime, reference))
    moved["conference"].update(starts_at="2026-11-18T10:00:00", ends_at="2026-11-18T12:30:00")
    save_conference(web.runtime, moved, based_on=1, saved_by="tests", source="tests")

    asked = post_form(support, f"{path}/schedule", {}, form_page=path)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Windows that would move" in page and "Confirm these changes and schedule" in page
    assert "19 Nov 2026 10:00" in page and "18 Nov 2026 10:00" in page
    assert {i.id: (i.not_before, i.deadline) for i in conference_items(store, reference)} == before  # nothing moved
    confirmed = re.search(r'name="confirmed" value="([0-9a-f]{32})"', page)
    assert confirmed

    # A confirmation of another list (the conference changed again meanwhile) is refused with the new list.
    stale = post_form(support, f"{path}/schedule", {"confirmed": "0" * 32}, form_page=path)
    assert stale.status_code == 200 and "no longer the ones you confirmed" in stale.get_data(as_text=True)
    assert {i.id: (i.not_before, i.deadline) for i in conference_items(store, reference)} == before

    accepted = post_form(support, f"{path}/schedule", {"confirmed": confirmed[1]}, form_page=path)
    assert accepted.status_code == 302
    after = {i.id: (i.not_before, i.deadline) for i in conference_items(store, reference)}
    assert after != before and "windows moved as confirmed" in support.get(path).get_data(as_text=True)
    with unit_of_work(web.runtime.sessions) as session:
        details = list(session.scalars(select(AuditEvent.details).where(AuditEvent.action == "scheduled")))
    assert details[-1]["windows_moved"] and details[-1]["windows_moved"] == sorted(
        item for item in before if before[item] != after[item])
