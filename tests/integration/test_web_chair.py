"""The chair's workspace: the queue across the chair's conferences, the review made in the background
and shown side by side, flags resolved, one copy approved (its held outbox items released) and one
returned with a comment that business support sees and answers; report sharing; who may do what.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.services.chair_queue import review_queue
from docgen.services.importing import import_case_file, stored_version
from docgen.services.jobs import run_one
from docgen.services.outbox_view import conference_outbox
from docgen.services.review_jobs import REVIEW, review_handler
from tests.conftest import EXAMPLE
from tests.support.chair_workspace import CHAIR, FATHER, MOTHER, REFERENCE, example_for_the_chair
from tests.support.web import WebWorld, post_form


def _events(world: WebWorld, action: str) -> list[AuditEvent]:
    with unit_of_work(world.runtime.sessions) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.sequence)))


def _work(world: WebWorld) -> int:
    """Run the review worker until no job is left; how many jobs it did."""
    data_folder = world.app.extensions["docgen.web_settings"].data_folder
    done = 0
    while run_one(world.runtime, {REVIEW: review_handler(data_folder)}, "test-worker", lease=timedelta(seconds=60)):
        done += 1
    return done


def page_of(person: str) -> str:
    return f"/chair/{REFERENCE}/{person}"


def _states(world: WebWorld, person: str) -> set[str]:
    return {row.item.state for row in conference_outbox(world.runtime, REFERENCE)
            if row.item.family_copy and row.item.audience_person == person}


def _review(client: Any, person: str) -> str:
    return str(client.get(f"/chair/{REFERENCE}/{person}").get_data(as_text=True))


def test_the_chair_reviews_resolves_approves_one_copy_and_returns_another(web: WebWorld) -> None:
    example_for_the_chair(web.runtime)
    chair = web.signed_in("chair")

    queue = chair.get("/chair").get_data(as_text=True)
    assert "Family copies waiting for you" in queue
    entries = review_queue(web.runtime, CHAIR)
    assert {FATHER, MOTHER} <= {e.person for e in entries}
    deadlines = [e.deadline for e in entries if e.deadline is not None]
    assert deadlines == sorted(deadlines) and deadlines, "ordered by the deadline they hold up"
    assert f'href="/chair/{REFERENCE}/{FATHER}"' in queue
    assert re.search(r"(On track|Due soon|Overdue)", queue)

    # The queue asked for the reviews; before the worker makes them the page says so, with progress.
    waiting = _review(chair, FATHER)
    assert "The review is being made" in waiting and 'http-equiv="refresh"' in waiting
    assert "data-progress-url=" in waiting
    polled = chair.get(f"{page_of(FATHER)}?progress=yes").get_data(as_text=True)
    assert 'data-finished="false"' in polled and 'http-equiv="refresh"' not in polled
    assert _work(web) >= 2
    # What the page's script polls now says it is finished, so the script reloads the page.
    assert 'data-finished="true"' in chair.get(f"{page_of(FATHER)}?progress=yes").get_data(as_text=True)

    page = _review(chair, FATHER)
    assert "Review Karim Haddad&#39;s copy of the record" in page or "Review Karim Haddad's copy" in page
    assert "The copy and the full record, side by side" in page and "app-side-by-side" in page
    assert "WITHHELD:" in page  # the full record marks what is withheld, with the reason
    assert "SHA-256 of the copy" in page and "Content version" in page
    assert "<strong>Where:</strong> Record › &#39;Essential facts&#39; › item" in page  # each flag where it is
    opened = [e for e in _events(web, "previewed") if e.details.get("chair") == CHAIR and e.subject == FATHER]
    assert len(opened) == 1
    _review(chair, FATHER)
    assert len([e for e in _events(web, "previewed") if e.details.get("chair") == CHAIR]) == 1  # once per content
    assert chair.get(f"/chair/{REFERENCE}/{FATHER}/files/copy").data.startswith(b"%PDF-")
    assert chair.get(f"/chair/{REFERENCE}/{FATHER}/files/review").data.startswith(b"%PDF-")

    # Approval is refused while a flag is open.
    refused = post_form(chair, f"/chair/{REFERENCE}/{FATHER}/approve", {}, form_page=f"/chair/{REFERENCE}/{FATHER}")
    assert refused.status_code == 409 and "open disclosure" in refused.get_data(as_text=True)
    pasted = re.search(r"Repeats withheld.*?name=\"flag\" value=\"([0-9a-f]{16})\"", page, re.S)
    assert pasted and len(re.findall(r'name="flag" value="', page)) == 3
    resolve = f"/chair/{REFERENCE}/{FATHER}/flags"
    no_reason = post_form(chair, resolve, {"flag": pasted.group(1), "resolution": "withhold"}, form_page=page_of(FATHER))
    assert no_reason.status_code == 400 and "Give your reason for withholding this item" in no_reason.get_data(as_text=True)
    withheld = post_form(chair, resolve, {"flag": pasted.group(1), "resolution": "withhold",
                                          f"reason-{pasted.group(1)}": "Police information"}, form_page=page_of(FATHER))
    assert withheld.status_code == 302
    assert stored_version(web.runtime, REFERENCE).version == 3  # withholding saved a new version
    assert "The review is being made" in _review(chair, FATHER)  # of the new version
    _work(web)
    page = _review(chair, FATHER)
    still_open = re.findall(r'name="flag" value="([0-9a-f]{16})"', page)
    assert len(still_open) == 2 and "Police information" not in page  # the withheld flag is gone
    for key in still_open:
        shared = post_form(chair, resolve, {"flag": key, "resolution": "share", f"reason-{key}": "He knows the school"},
                           form_page=page_of(FATHER))
        assert shared.status_code == 302
    approved = post_form(chair, f"/chair/{REFERENCE}/{FATHER}/approve", {"comment": ""},
                         form_page=f"/chair/{REFERENCE}/{FATHER}")
    assert approved.status_code == 302, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", approved.get_data(as_text=True)))[:3000]
    assert "Approved" in chair.get("/chair").get_data(as_text=True)
    assert _states(web, FATHER) == {"ready"}  # released to go in its window

    # The mother's copy is returned with a comment; it stays held.
    _review(chair, MOTHER)
    returned = post_form(chair, f"/chair/{REFERENCE}/{MOTHER}/return", {"comment": "Add the interpreter booking"})
    assert returned.status_code == 302
    assert _states(web, MOTHER) == {"waiting_for_approval"}
    assert MOTHER not in {e.person for e in review_queue(web.runtime, CHAIR)}  # with business support now

    # Business support sees the comment on the conference and its outbox, and answers it.
    support = web.signed_in("support")
    overview = support.get(f"/conferences/{REFERENCE}").get_data(as_text=True)
    assert "Returned by the chair" in overview and "Add the interpreter booking" in overview
    assert "Add the interpreter booking" in support.get(f"/conferences/{REFERENCE}/outbox").get_data(as_text=True)
    answer_page = f"/conferences/{REFERENCE}/returns/{MOTHER}"
    empty = post_form(support, answer_page, {"answer": " "})
    assert empty.status_code == 400
    assert post_form(support, answer_page, {"answer": "Interpreter added to the invitations"}).status_code == 302
    assert "Answered: back with the chair" in support.get(f"/conferences/{REFERENCE}").get_data(as_text=True)
    [answered] = _events(web, "return_answered")
    assert (answered.actor, answered.subject) == ("support", MOTHER)
    assert "Interpreter added" not in str(answered.details)  # the trail holds the answer's hash only
    back = [e for e in review_queue(web.runtime, CHAIR) if e.person == MOTHER]
    assert [e.reason for e in back] == ["answered"]


def test_who_may_use_the_chairs_workspace(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    review = f"/chair/{REFERENCE}/{FATHER}"
    assert web.signed_in("otherchair").get(review).status_code == 404  # not their conference
    assert "No family copies are waiting for you" in web.signed_in("otherchair").get("/chair").get_data(as_text=True)
    for username in ("support", "manager", "admin"):
        client = web.signed_in(username)
        assert client.get("/chair").status_code == 403, username
        assert client.get(review).status_code == 403, username
    # Only business support answers a return.
    answer = f"/conferences/{REFERENCE}/returns/{MOTHER}"
    for username in ("chair", "manager"):
        assert web.signed_in(username).get(answer).status_code == 403, username
    assert web.signed_in("support").get(answer).status_code == 404  # nothing returned


def test_the_chair_decides_whether_parents_may_see_a_report(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    chair = web.signed_in("chair")
    page = f"/chair/{REFERENCE}/reports"
    before = chair.get(page).get_data(as_text=True)
    assert "Not decided" in before
    report = re.search(r'name="report" value="([^"]+)"', before)
    assert report
    missing = post_form(chair, page, {"report": report.group(1)})
    assert missing.status_code == 400 and "Choose whether the report may be shared" in missing.get_data(as_text=True)
    saved = post_form(chair, page, {"report": report.group(1), f"share-{report.group(1)}": "yes"})
    assert saved.status_code == 302
    assert "Parents may see it" in chair.get(page).get_data(as_text=True)
    assert [e.actor for e in _events(web, "report_sharing_decided")] == [CHAIR]
    assert web.signed_in("otherchair").get(page).status_code == 404


def test_a_manager_reassigns_the_chair_and_the_new_chair_sees_the_copies(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    manager = web.signed_in("manager")
    page = f"/conferences/{REFERENCE}/chair"
    assert "Reassign the chair" in manager.get(f"/conferences/{REFERENCE}").get_data(as_text=True)
    unchosen = post_form(manager, page, {"chair": "nobody", "based_on": "1"})
    assert unchosen.status_code == 400 and "Choose the conference&#39;s new chair" in unchosen.get_data(as_text=True)
    moved = post_form(manager, page, {"chair": "hannah-okafor", "based_on": "1"})
    assert moved.status_code == 302
    saved = stored_version(web.runtime, REFERENCE)
    assert (saved.version, saved.case["conference"]["chair"], saved.saved_by) == (2, "hannah-okafor", "manager")
    [edited] = _events(web, "conference_edited")
    assert edited.actor == "manager" and edited.details["paths"] == ["conference"]
    assert web.signed_in("chair").get(page_of(FATHER)).status_code == 404  # no longer theirs
    assert review_queue(web.runtime, CHAIR) == []
    assert {e.person for e in review_queue(web.runtime, "hannah-okafor")} >= {FATHER, MOTHER}
    for username in ("support", "chair"):
        assert web.signed_in(username).get(page).status_code == 403, username
