"""The audit chain, pure: an intact chain verifies, and changing any field of any entry, deleting,
inserting or reordering entries is found, at the first entry affected."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.domain.audit import GENESIS, AuditEntry, canonical, entry_hash, seal, to_utc, verify_chain
from docgen.errors import AuditError

START = datetime(2026, 11, 20, 9, 0, 0, 123456)
ACTIONS = ["previewed", "approved", "sending_refused", "returned", "approved", "sending_cleared"]


def make_chain(count: int = len(ACTIONS)) -> list[AuditEntry]:
    chain: list[AuditEntry] = []
    for index in range(count):
        draft = AuditEntry(sequence=0, recorded_at=START + timedelta(minutes=index), actor="david-pryce",
                           action=ACTIONS[index % len(ACTIONS)], reference="NM-2026-0142", subject="karim",
                           details={"content_version": 1, "copy_sha256": f"{index:064x}", "note": "Wiśniewska"})
        chain.append(seal(draft, chain[-1] if chain else None))
    return chain


def test_an_intact_chain_verifies() -> None:
    chain = make_chain()
    assert [e.sequence for e in chain] == [1, 2, 3, 4, 5, 6]
    assert chain[0].previous_sha256 == GENESIS
    assert all(later.previous_sha256 == earlier.sha256 for earlier, later in itertools.pairwise(chain))
    assert verify_chain(chain) is None
    assert verify_chain(chain, expected_head=chain[-1].sha256) is None


def test_an_empty_chain_verifies_and_its_head_is_genesis() -> None:
    assert verify_chain([]) is None
    assert verify_chain([], expected_head=GENESIS) is None
    assert verify_chain([], expected_head="f" * 64) is not None


FIELD_CHANGES: dict[str, Callable[[AuditEntry], AuditEntry]] = {
    "sequence": lambda e: replace(e, sequence=e.sequence + 10),
    "recorded_at": lambda e: replace(e, recorded_at=e.recorded_at + timedelta(microseconds=1)),
    "actor": lambda e: replace(e, actor="someone-else"),
    "action": lambda e: replace(e, action="returned" if e.action != "returned" else "approved"),
    "reference": lambda e: replace(e, reference="NM-2026-0143"),
    "reference-removed": lambda e: replace(e, reference=None),
    "subject": lambda e: replace(e, subject="zofia"),
    "details-value": lambda e: replace(e, details={**e.details, "content_version": 2}),
    "details-key-added": lambda e: replace(e, details={**e.details, "extra": True}),
    "details-key-removed": lambda e: replace(e, details={k: v for k, v in e.details.items() if k != "note"}),
    "details-type": lambda e: replace(e, details={**e.details, "content_version": "1"}),
    "previous_sha256": lambda e: replace(e, previous_sha256="0" * 63 + "1"),
    "sha256": lambda e: replace(e, sha256="f" * 64),
}


@pytest.mark.parametrize("position", [0, 2, 5], ids=["first", "middle", "last"])
@pytest.mark.parametrize("change", list(FIELD_CHANGES.values()), ids=list(FIELD_CHANGES))
def test_changing_any_field_of_any_entry_is_found_at_that_entry(change: Callable[[AuditEntry], AuditEntry],
                                                                 position: int) -> None:
    chain = make_chain()
    chain[position] = change(chain[position])
    broken = verify_chain(chain)
    assert broken is not None
    assert broken.position == position


def _delete(index: int) -> Callable[[list[AuditEntry]], list[AuditEntry]]:
    return lambda chain: chain[:index] + chain[index + 1:]


def _swap(index: int) -> Callable[[list[AuditEntry]], list[AuditEntry]]:
    return lambda chain: [*chain[:index], chain[index + 1], chain[index], *chain[index + 2:]]


def _forge_after(index: int) -> Callable[[list[AuditEntry]], list[AuditEntry]]:
    """Insert a well-formed forged entry after ``index``, keeping the later entries as they were."""
    def forge(chain: list[AuditEntry]) -> list[AuditEntry]:
        forged = seal(replace(chain[index], action="approved", actor="intruder"), chain[index])
        return [*chain[:index + 1], forged, *chain[index + 1:]]
    return forge


def _rewrite_from(index: int) -> Callable[[list[AuditEntry]], list[AuditEntry]]:
    """Change one entry and re-seal everything after it: consistent in itself, caught by the head."""
    def rewrite(chain: list[AuditEntry]) -> list[AuditEntry]:
        out = chain[:index]
        for entry in chain[index:]:
            changed = replace(entry, actor="intruder") if entry is chain[index] else entry
            out.append(seal(changed, out[-1] if out else None))
        return out
    return rewrite


@pytest.mark.parametrize(("edit", "position", "needs_head"), [
    pytest.param(_delete(0), 0, False, id="first-deleted"),
    pytest.param(_delete(3), 3, False, id="middle-deleted"),
    pytest.param(_delete(5), 5, True, id="last-deleted-found-by-head"),
    pytest.param(lambda chain: chain[:3], 3, True, id="tail-truncated-found-by-head"),
    pytest.param(_swap(0), 0, False, id="first-two-swapped"),
    pytest.param(_swap(3), 3, False, id="middle-two-swapped"),
    pytest.param(lambda chain: list(reversed(chain)), 0, False, id="reversed"),
    pytest.param(lambda chain: [*chain[:2], chain[1], *chain[2:]], 2, False, id="entry-duplicated"),
    pytest.param(_forge_after(2), 4, False, id="forged-entry-inserted"),
    pytest.param(_rewrite_from(2), 6, True, id="rewritten-from-middle-found-by-head"),
])
def test_deleting_inserting_and_reordering_are_found(edit: Callable[[list[AuditEntry]], list[AuditEntry]],
                                                     position: int, needs_head: bool) -> None:
    original = make_chain()
    chain = edit(list(original))
    head = original[-1].sha256
    broken_with_head = verify_chain(chain, expected_head=head)
    assert broken_with_head is not None
    assert broken_with_head.position == position
    if needs_head:
        assert verify_chain(chain) is None  # the limit of a chain on its own, stated in the module
    else:
        assert verify_chain(chain) == broken_with_head


def test_the_break_names_the_entry_and_says_what_happened() -> None:
    chain = make_chain()
    chain[2] = replace(chain[2], actor="someone-else")
    assert str(verify_chain(chain)) == "entry 3: its contents do not match its hash: the entry was changed"


def test_hash_does_not_depend_on_key_order_or_time_zone_of_the_same_moment() -> None:
    entry = make_chain(1)[0]
    reordered = replace(entry, details=dict(reversed(list(entry.details.items()))))
    assert entry_hash(reordered) == entry.sha256
    london = entry.recorded_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/London"))
    assert to_utc(london) == entry.recorded_at
    assert entry_hash(replace(entry, recorded_at=london)) == entry.sha256


@pytest.mark.parametrize("value", [
    pytest.param(1.5, id="float"), pytest.param(datetime(2026, 1, 1), id="datetime"),
    pytest.param({1: "x"}, id="non-text-key"), pytest.param(b"bytes", id="bytes"),
])
def test_details_that_cannot_be_stored_exactly_are_refused(value: object) -> None:
    draft = AuditEntry(sequence=0, recorded_at=START, actor="a", action="b", reference=None, subject=None,
                       details={"value": value})
    with pytest.raises(AuditError, match="details"):
        seal(draft, None)


def test_canonical_form_is_compact_sorted_utf8_json() -> None:
    entry = make_chain(1)[0]
    text = canonical(entry).decode("utf-8")
    assert text.startswith('{"action":"previewed","actor":"david-pryce","details":{')
    assert '"recorded_at":"2026-11-20T09:00:00.123456Z"' in text
    assert "Wiśniewska" in text and '"sha256"' not in text.replace('"previous_sha256"', "")


texts = st.text(min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(actors=st.lists(texts, min_size=1, max_size=6), details=st.dictionaries(texts, st.integers() | texts | st.booleans()),
       data=st.data())
def test_property_any_single_change_to_a_sealed_entry_is_found(actors: list[str], details: dict[str, object],
                                                                data: st.DataObject) -> None:
    chain: list[AuditEntry] = []
    for index, actor in enumerate(actors):
        draft = AuditEntry(sequence=0, recorded_at=START + timedelta(seconds=index), actor=actor, action="approved",
                           reference="R", subject=None, details=details)
        chain.append(seal(draft, chain[-1] if chain else None))
    assert verify_chain(chain) is None
    position = data.draw(st.integers(0, len(chain) - 1))
    new_actor = data.draw(texts.filter(lambda text: text != chain[position].actor))
    chain[position] = replace(chain[position], actor=new_actor)
    broken = verify_chain(chain)
    assert broken is not None and broken.position == position
