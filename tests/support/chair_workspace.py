"""The chair's workspace under test: the example conference with a paragraph the disclosure-risk check
flags in the father's copy, scheduled, with the parents' family copies held for the chair."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from docgen.adapters.database import unit_of_work
from docgen.adapters.outbox_store import outbox_store
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.services.importing import import_case_file, save_conference, stored_case, stored_version
from docgen.services.runtime import Runtime
from tests.conftest import EXAMPLE

REFERENCE = "NM-ICPC-2026-0147"
CHAIR = "david-pryce"
FATHER, MOTHER = "karim", "zofia"  # the father's copy has disclosure flags; the mother's none
PASTED = ("DC Moore told the conference that Mr Haddad is also under investigation for an assault on a "
          "neighbour's child, aged 11, on 2 September 2026. No charging decision has been made.")


def plant(runtime: Runtime) -> None:
    """Business support pastes into the record a paragraph that repeats police information withheld
    from the father: the disclosure-risk check flags it in his copy."""
    case: dict[str, Any] = copy.deepcopy(dict(stored_case(runtime, REFERENCE)))
    case["record"]["sections"][0]["items"].append({"text": PASTED})
    save_conference(runtime, case, based_on=1, saved_by="support", source="test edit")


def schedule_and_hold(runtime: Runtime) -> None:
    """The conference scheduled, and the parents' family copies held for the chair, as a dispatch pass
    leaves them when the approval gate refuses them."""
    from docgen.services.scheduling import schedule_conference

    case = stored_version(runtime, REFERENCE).case
    with unit_of_work(runtime.sessions) as session:
        schedule_conference(session, case, load_rules(DEFAULT_CONFIG_DIR / "circulation.toml"),
                            now=runtime.clock(), envelope_from=runtime.settings.authority.email)
    store = outbox_store(runtime.sessions)
    now = runtime.clock()
    later = now + timedelta(days=60)
    claimed = store.claim(now=later, lease_until=later + timedelta(minutes=5), limit=500, worker="tests")
    family = [item for item in claimed if item.family_copy and item.audience_person in (FATHER, MOTHER)]
    for item in family:
        assert store.hold(item, now=now, reason="the chair has not approved it", recheck_at=later)
    store.unclaim([item for item in claimed if item not in family], now=now)


def example_for_the_chair(runtime: Runtime) -> None:
    """The example imported, the flagged paragraph pasted in, scheduled, the parents' copies held."""
    import_case_file(runtime, EXAMPLE, actor="support")
    plant(runtime)
    schedule_and_hold(runtime)
