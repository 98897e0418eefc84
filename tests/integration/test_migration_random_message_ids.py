"""Migration 0011: outbox items not yet sent get a random Message-ID; sent items keep theirs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, select

from docgen.adapters.database import MIGRATIONS, make_engine
from docgen.adapters.orm_outbox import OutboxItemRow, item_values

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SENDER = "cp.conferences@northmoor.gov.uk"


def _upgrade(engine: Engine, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_unsent_items_get_random_message_ids_and_sent_items_keep_theirs(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _upgrade(engine, "0003")
        derived = {}
        with engine.begin() as connection:
            for state, recipient in (("sent", "claire-dunn"), ("ready", "sanjay-mehta"),
                                     ("waiting_for_content", "tom-walsh"), ("failed", "amy-reed")):
                values = item_values(conference="NM-ICPC-2026-0147", rule="record-to-invitees",
                                     document="conference_record", copy="conference_record--professional",
                                     recipient=recipient, recipient_name=recipient, recipient_address=None,
                                     envelope_from=SENDER, now=NOW)
                # As the rows were before 0011: the Message-ID derived from the idempotency key.
                values.update(state=state, message_id=f"<{values['idempotency_key']}@northmoor.gov.uk>")
                connection.execute(insert(OutboxItemRow.__table__).values(**values))
                derived[recipient] = values["message_id"]
        _upgrade(engine, "heads")
        with engine.connect() as connection:
            after = dict(connection.execute(select(OutboxItemRow.recipient, OutboxItemRow.message_id)).all())
        assert after["claire-dunn"] == derived["claire-dunn"]  # sent: history
        for recipient in ("sanjay-mehta", "tom-walsh", "amy-reed"):
            assert after[recipient] != derived[recipient]
            assert re.fullmatch(r"<[0-9a-f]{32}@northmoor\.gov\.uk>", after[recipient])
        assert len(set(after.values())) == 4
    finally:
        engine.dispose()
