"""Editing a conference and its record on the web: one form per entry, the version each form was made
from, a save refused with the difference shown when someone saved first, the case file's problems
beside their fields, and markings that keep withheld text out of a family copy. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.domain.redaction import PROFESSIONALS, Audience, redact
from docgen.domain.views import build_case_view
from docgen.entrypoints.web.conferences import edit_forms as forms
from docgen.errors import ApprovalError
from docgen.services import approval
from docgen.services.importing import conference_history, import_case_file, stored_case, stored_version
from tests.conftest import EXAMPLE
from tests.support.chair import review_and_approve
from tests.support.web import WebWorld, post_form

REFERENCE = "NM-ICPC-2026-0147"
WITHHELD = "Mr Haddad was seen near the school gates on 3 November; the police were told."


@pytest.fixture
def imported(web: WebWorld) -> WebWorld:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    return web


def _newest(web: WebWorld) -> Any:
    return stored_version(web.runtime, REFERENCE)


def _index(case: dict[str, Any], part: str, ident: str) -> int:
    return next(n for n, entry in enumerate(case[part]) if entry["id"] == ident)


def _form(fields: tuple[forms.Field, ...], entry: dict[str, Any], version: int, **changes: Any) -> dict[str, Any]:
    """What a browser would post: the form as the page fills it, with the person's changes."""
    return {**forms.form_values(fields, entry), "version": str(version), **changes}


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_business_support_corrects_an_invitees_email(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    before = _newest(imported)
    karim = _index(before.case, "family", "karim")
    summary = client.get(f"/conferences/{REFERENCE}/edit")
    assert summary.status_code == 200
    assert f'href="/conferences/{REFERENCE}/edit/family/{karim}"' in summary.get_data(as_text=True)

    path = f"/conferences/{REFERENCE}/edit/family/{karim}"
    page = _text(client.get(path))
    assert 'name="version" value="1"' in page and "k.haddad@example.net" in page
    data = _form(forms.PARTS["family"][1], before.case["family"][karim], before.version, email="karim.haddad@example.net")
    response = post_form(client, path, data)
    assert response.status_code == 302, _text(response)[:2000]
    assert response.headers["Location"].endswith(f"/conferences/{REFERENCE}/edit#family")
    assert "Family member Karim Haddad: email changed" in _text(client.get(response.headers["Location"]))

    after = _newest(imported)
    assert after.version == 2 and after.saved_by.startswith("support")
    assert after.case["family"][karim]["email"] == "karim.haddad@example.net"
    assert {k: v for k, v in after.case["family"][karim].items() if k != "email"} == \
        {k: v for k, v in before.case["family"][karim].items() if k != "email"}
    assert [v.version for v in conference_history(imported.runtime, REFERENCE)] == [1, 2]
    with unit_of_work(imported.runtime.sessions) as session:
        edited = [e for e in session.scalars(select(AuditEvent)) if e.action == "conference_edited"]
    assert len(edited) == 1 and edited[0].actor == after.saved_by
    assert edited[0].details["paths"] == [f"family[{karim}]"] and "karim.haddad" not in repr(edited[0].details)


def test_a_record_paragraph_withheld_from_the_father_stays_out_of_his_family_copy(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    version = _newest(imported)
    items = version.case["record"]["sections"][0]["items"]
    path = f"/conferences/{REFERENCE}/record/sections/0/items/new?kind=paragraph"
    page = _text(client.get(path))
    assert 'value="withheld"' in page and "Karim Haddad" in page and "Where a victim lives or can be found" in page
    response = post_form(client, path, {"version": str(version.version), "text": WITHHELD, "marking": "withheld",
                                        "withheld_from": ["karim"], "reason": "victim_whereabouts"})
    assert response.status_code == 302, _text(response)[:2000]

    stored = _newest(imported).case
    added = stored["record"]["sections"][0]["items"][len(items)]
    assert added == {"text": WITHHELD, "withheld_from": ["karim"], "reason": "victim_whereabouts"}
    record = _text(client.get(f"/conferences/{REFERENCE}/record"))
    assert WITHHELD in record and "Withheld from Karim Haddad" in record

    view = build_case_view(stored)
    fathers = redact(view, Audience("family", "karim", "Karim Haddad"))
    assert WITHHELD not in fathers.allowed_text()
    assert WITHHELD in fathers.withheld.values()
    assert WITHHELD in redact(view, Audience("family", "zofia", "Zofia Wiśniewska")).allowed_text()
    assert WITHHELD in redact(view, PROFESSIONALS).allowed_text()


def test_a_save_on_an_older_version_is_refused_with_the_difference_and_nothing_is_overwritten(imported: WebWorld) -> None:
    first, second = imported.signed_in("support"), imported.signed_in("support")
    version = _newest(imported)
    karim = _index(version.case, "family", "karim")
    path = f"/conferences/{REFERENCE}/edit/family/{karim}"
    fields, entry = forms.PARTS["family"][1], version.case["family"][karim]
    first_token = _token(first, path)
    second_token = _token(second, path)  # both opened version 1

    saved = first.post(path, data={**_form(fields, entry, 1, email="karim.new@example.net"), "csrf_token": first_token})
    assert saved.status_code == 302
    refused = second.post(path, data={**_form(fields, entry, 1, phone="07700 900999"), "csrf_token": second_token})
    page = _text(refused)
    assert refused.status_code == 409
    assert "Someone else saved first" in page and "nothing was saved" in page
    assert "Family member Karim Haddad: email changed" in page
    assert 'value="07700 900999"' in page  # what the person typed is kept
    assert f'href="{path}">Open the newest version' in page

    newest = _newest(imported)
    assert newest.version == 2
    assert newest.case["family"][karim]["email"] == "karim.new@example.net"
    assert newest.case["family"][karim]["phone"] == entry["phone"]
    reopened = _text(second.get(path))
    assert 'name="version" value="2"' in reopened and "karim.new@example.net" in reopened


def _token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_form_with_five_errors_shows_each_beside_its_field_and_saves_nothing(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    version = _newest(imported)
    path = f"/conferences/{REFERENCE}/edit/conference"
    data = {**forms.conference_form_values(version.case["conference"]), "version": "1",
            "kind": "initial-ish", "starts_time": "25:00", "virtual_link": "http://meet.example/x",
            "next_conference_on": "2027-13-01", "strategy_discussion_on": "soon"}
    response = post_form(client, path, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = page[page.index("govuk-error-summary"):page.index("</main>")]
    links = re.findall(r'<a href="#([a-z_]+)">', summary)
    assert sorted(links) == ["kind", "next_conference_on", "starts_on", "strategy_discussion_on", "virtual_link"]
    for field in links:
        message = re.search(rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>([^<]+)', page)
        assert message, field
    assert "initial-ish" in _text(response)  # what was typed is kept
    assert _newest(imported).version == 1


def test_the_form_asks_who_a_withheld_paragraph_is_withheld_from_and_why(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    path = f"/conferences/{REFERENCE}/record/sections/0/items/new?kind=paragraph"
    response = post_form(client, path, {"version": "1", "text": "Some text.", "marking": "withheld"})
    page = _text(response)
    assert response.status_code == 400
    assert 'href="#withheld_from">Tick who it is withheld from' in page and 'href="#reason">Choose why' in page
    assert _newest(imported).version == 1


def test_the_record_is_arranged_with_buttons_and_each_move_is_a_version(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    titles = [s["title"] for s in _newest(imported).case["record"]["sections"]]
    record = f"/conferences/{REFERENCE}/record"
    moved = post_form(client, f"{record}/arrange", {"version": "1", "at": "1", "action": "up"}, form_page=record)
    assert moved.status_code == 302
    assert [s["title"] for s in _newest(imported).case["record"]["sections"]] == [titles[1], titles[0], *titles[2:]]
    assert "Record, section 2 moved to place 1" in _text(client.get(moved.headers["Location"]))
    first_items = _newest(imported).case["record"]["sections"][0]["items"]
    removed = post_form(client, f"{record}/arrange", {"version": "2", "at": "0.0", "action": "remove"}, form_page=record)
    assert removed.status_code == 302
    assert _newest(imported).case["record"]["sections"][0]["items"] == first_items[1:]
    stale = post_form(client, f"{record}/arrange", {"version": "2", "at": "0", "action": "down"}, form_page=record)
    assert stale.status_code == 409 and "Record, section 1, paragraph 1 removed" in _text(stale)
    assert _newest(imported).version == 3


def test_a_table_row_is_added_with_its_own_marking(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    add_table = f"/conferences/{REFERENCE}/record/sections/1/items/new?kind=table"
    added = post_form(client, add_table, {"version": "1", "columns": "Who\nView", "marking": "open"})
    assert added.status_code == 302, _text(added)[:2000]
    items = _newest(imported).case["record"]["sections"][1]["items"]
    table = len(items) - 1
    add_row = f"/conferences/{REFERENCE}/record/sections/1/items/{table}/rows/new"
    assert "Who" in _text(client.get(add_row))
    response = post_form(client, add_row, {"version": "2", "cell_0": "Police", "cell_1": "Investigation open",
                                           "marking": "confidential", "reason": "police_investigation"})
    assert response.status_code == 302, _text(response)[:2000]
    row = _newest(imported).case["record"]["sections"][1]["items"][table]["table"]["rows"][0]
    assert row == {"cells": ["Police", "Investigation open"], "confidentiality": "confidential",
                   "reason": "police_investigation"}


def test_adding_and_removing_an_entry(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    add = f"/conferences/{REFERENCE}/edit/invitations/new"
    case = _newest(imported).case
    invited = {i["invitee"] for i in case["invitations"]}
    someone = next(p for p in case["professionals"] if p["id"] not in invited)
    response = post_form(client, add, {"version": "1", "invitee": someone["id"], "attendance": "apologies"})
    assert response.status_code == 302, _text(response)[_text(response).find("There is a problem"):][:1500]
    invitations = _newest(imported).case["invitations"]
    assert invitations[-1] == {"invitee": someone["id"], "attendance": "apologies"}
    remove = f"/conferences/{REFERENCE}/edit/invitations/{len(invitations) - 1}/remove"
    assert f"Remove the invitation {someone['name']}?" in _text(client.get(remove))
    assert post_form(client, remove, {"version": "2"}).status_code == 302
    assert _newest(imported).case["invitations"] == case["invitations"]
    # A family member still invited cannot be removed: the case file's own rule, shown on the page.
    karim = _index(case, "family", "karim")
    refused = post_form(client, f"/conferences/{REFERENCE}/edit/family/{karim}/remove", {"version": "3"})
    assert refused.status_code == 400 and "invitations[" in _text(refused)
    assert _newest(imported).version == 3


@pytest.mark.parametrize("username", ["chair", "manager"])
def test_only_business_support_edits(imported: WebWorld, username: str) -> None:
    client = imported.signed_in(username)
    for path in ("/edit", "/edit/conference", "/edit/family/0", "/record", "/record/sections/0"):
        assert client.get(f"/conferences/{REFERENCE}{path}").status_code == 403


def test_a_missing_entry_is_not_found(imported: WebWorld) -> None:
    client = imported.signed_in("support")
    for path in ("/edit/family/9", "/edit/nothing/0", "/record/sections/9", "/record/sections/0/items/9",
                 "/record/sections/0/items/0/rows/0", "/record/sections/0/items/new?kind=poem"):
        assert client.get(f"/conferences/{REFERENCE}{path}").status_code == 404, path


def test_an_edited_record_needs_the_chairs_approval_again(web: WebWorld) -> None:
    """The approval binds the content version: after a web edit, the father's copy approved for
    version 1 is refused ("content_changed") until the chair approves version 2."""
    import_case_file(web.runtime, EXAMPLE, actor="business-support")
    review_and_approve(web.runtime, REFERENCE, "karim", chair="david-pryce")
    case = stored_case(web.runtime, REFERENCE)
    view = approval.view_hash(case, approval.reader(case, "karim"))  # what a copy made now is made from
    approval.check_approval(web.runtime, REFERENCE, "karim", "0" * 64, 1, view_sha256=view)

    client = web.signed_in("support")
    path = f"/conferences/{REFERENCE}/record/sections/0/items/new?kind=paragraph"
    assert post_form(client, path, {"version": "1", "text": "Added after approval.", "marking": "open"}).status_code == 302
    with pytest.raises(ApprovalError, match="changed after the chair approved it"):
        approval.check_approval(web.runtime, REFERENCE, "karim", "0" * 64, 2, view_sha256=view)
    assert "version 2" in _text(client.get(f"/conferences/{REFERENCE}/record"))
