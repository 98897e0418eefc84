"""Two and four scheduler processes on one PostgreSQL outbox send 1,000 items with no duplicate.

Runs only when DOCGEN_TEST_POSTGRES_URL names a database. Every process is started and has
logged that it is running before the items become ready, so they all compete for the same rows
(claimed with SELECT ... FOR UPDATE SKIP LOCKED). Duplicates are counted at the SMTP server by
transactions, not after deduplication by Message-ID.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from distribution.demo_pki import DemoPki
from docgen.adapters.database import make_engine
from docgen.adapters.orm_outbox import OutboxItemRow
from tests.support.postgres import scratch_schema
from tests.support.scheduler import (  # the same process handling as the kill test
    add_items,
    start_scheduler,
    states,
    stop,
    wait_for_all_sent,
    wait_until_started,
)

POSTGRES_URL = os.environ.get("DOCGEN_TEST_POSTGRES_URL")
ITEMS = 1000

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="set DOCGEN_TEST_POSTGRES_URL to run against PostgreSQL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    assert POSTGRES_URL is not None
    with scratch_schema(POSTGRES_URL, prefix="sched") as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4])
def test_schedulers_in_parallel_send_every_item_once(processes: int, postgres_url: str, smtp_server: Any,
                                                     pki: DemoPki, tmp_path: Path) -> None:
    store, transport_config = smtp_server
    expected = add_items(postgres_url, ITEMS, ready=False)
    logs = [tmp_path / f"scheduler-{n}.log" for n in range(processes)]
    running = [start_scheduler(postgres_url, transport_config, log, "--batch-size", "10", "--worker", f"worker-{n}",
                               pki=pki)
               for n, log in enumerate(logs)]
    try:
        for process, log in zip(running, logs):
            wait_until_started(process, log, 0)
        engine = make_engine(postgres_url)
        with engine.begin() as connection:  # the starting gun: everything becomes due at once
            connection.execute(update(OutboxItemRow).values(state="ready", due_at=datetime.now(UTC)))
        wait_for_all_sent(postgres_url, ITEMS, timeout=180)
    finally:
        for process, log in zip(running, logs):
            if process.poll() is None:
                stop(process, log)
    with engine.connect() as connection:
        senders = dict(connection.execute(select(OutboxItemRow.claimed_by, func.count())
                                          .group_by(OutboxItemRow.claimed_by)).all())
    engine.dispose()
    print(f"\n{processes} processes: items sent per process {senders}")
    per_message = Counter(store.transactions)
    assert len(store.transactions) == ITEMS, f"{len(store.transactions) - ITEMS} extra SMTP transactions"
    assert set(per_message) == expected and max(per_message.values()) == 1
    assert states(postgres_url) == Counter({"sent": ITEMS})
    assert set(senders) == {f"worker-{n}" for n in range(processes)}, "every process should have sent some"

