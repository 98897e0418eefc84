"""Benchmark: how long a dispatch pass takes with many open outbox rows and few of them due.

Fills a fresh outbox with OPEN rows that are not due (held for their window, waiting for content
or approval, failed, retrying later; deadlines more than a day ahead) plus DUE rows that are
ready now, then times the dispatch pass that sends what is due (``Dispatcher.drain``, batches of
100) several times, resetting the due rows between runs. The transport accepts messages in memory,
so the figures are the outbox's own cost: mostly two commits per item sent (the attempt before
the transport is called, ``sent`` after). The pass's cost should follow the number due, not the
number open: the benchmark counts the SQL statements of each pass and prints the query plan of
the claim to show why.

    .venv/bin/python bench/dispatch_pass.py                      # SQLite in a temporary file
    .venv/bin/python bench/dispatch_pass.py --postgres URL       # and PostgreSQL (a scratch schema)
    .venv/bin/python bench/dispatch_pass.py --open 100000 --due 0 100 1000 --runs 7
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event, insert, text, update
from sqlalchemy.orm import sessionmaker

from distribution.abc import Delivery, Transport
from docgen.adapters.database import make_engine, migrate
from docgen.adapters.orm_outbox import OutboxItemRow, item_values
from docgen.domain.outbox import OutboxItem
from docgen.services.dispatch import Dispatcher, DispatchPolicy
from tests.support.postgres import scratch_schema

SENDER = "cp.conferences@northmoor.gov.uk"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CLAIM_QUERY = ("SELECT id FROM outbox_items WHERE due_at <= :now ORDER BY due_at LIMIT 100")


class MemoryTransport(Transport):
    name = "memory"

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        self.count += 1
        return Delivery(f"<{idempotency_key}>", self.name, NOW, idempotency_key, "250 OK")


def build(item: OutboxItem) -> bytes:
    return f"Message-ID: {item.message_id}\r\nSubject: bench\r\n\r\nx\r\n".encode()


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A fresh, empty database: a temporary SQLite file, or a scratch PostgreSQL schema."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    with scratch_schema(postgres, prefix="bench") as url:
        yield url


def fill(engine: Engine, open_rows: int, due_rows: int) -> list[int]:
    """Insert the rows; returns the ids of the due ones."""
    rng = random.Random(1)
    rows = []
    for n in range(open_rows + due_rows):
        deadline = NOW + timedelta(days=2 + rng.random() * 60)
        values = item_values(conference=f"BENCH-{n // 50:05d}", rule="record-to-invitees",
                             document="conference_record", copy="conference_record--professional",
                             recipient=f"person-{n:07d}", recipient_name=f"Person {n}",
                             recipient_address=f"p{n}@agency.example.org", envelope_from=SENDER,
                             now=NOW - timedelta(days=1), deadline=deadline)
        if n >= open_rows:
            values.update(due_at=NOW - timedelta(minutes=1 + rng.random() * 60))
        else:
            kind = n % 5
            if kind == 0:  # held until its window opens
                values.update(not_before=deadline - timedelta(days=1), due_at=deadline - timedelta(days=1))
            elif kind == 1:
                values.update(state="waiting_for_content", due_at=None)
            elif kind == 2:
                values.update(state="waiting_for_approval", due_at=NOW + timedelta(minutes=15 + rng.random() * 600))
            elif kind == 3:  # retrying after a transient failure
                values.update(attempts=2, last_error="421 try later", due_at=NOW + timedelta(minutes=5 + rng.random() * 60))
            else:
                values.update(state="failed", due_at=None, last_error="550 no such mailbox")
        rows.append(values)
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(OutboxItemRow), rows[start:start + 5000])
        connection.execute(text("ANALYZE outbox_items" if engine.dialect.name == "postgresql" else "ANALYZE"))
    with engine.connect() as connection:
        return [r[0] for r in connection.execute(text(
            "SELECT id FROM outbox_items ORDER BY id"))][open_rows:]


def plan(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {CLAIM_QUERY} FOR UPDATE SKIP LOCKED"
            return "\n".join(r[0] for r in connection.execute(text(query), {"now": NOW.replace(tzinfo=None)}))
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {CLAIM_QUERY}"), {"now": "2026-11-23 09:00:00"})
        return "\n".join(str(r[-1]) for r in rows)


def reset(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(ids), 900):
            connection.execute(update(OutboxItemRow).where(OutboxItemRow.id.in_(ids[start:start + 900])).values(
                state="ready", due_at=NOW - timedelta(minutes=5), attempts=0, sent_at=None, claim_token=None))


def bench(url: str, open_rows: int, due_rows: int, runs: int) -> tuple[list[float], int, str]:
    engine = make_engine(url)
    migrate(engine)
    due_ids = fill(engine, open_rows, due_rows)
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    transport = MemoryTransport()
    dispatcher = Dispatcher(sessionmaker(engine, expire_on_commit=False), transport, build_message=build,
                            policy=DispatchPolicy(envelope_from=SENDER, batch_size=100), clock=lambda: NOW,
                            worker="bench")
    timings = []
    query_plan = ""
    for run in range(runs):
        reset(engine, due_ids)
        if run == 0:
            query_plan = plan(engine)  # with the rows due, as the pass sees them
        event.listen(engine, "before_cursor_execute", count)
        statements[0] = 0
        started = time.perf_counter()
        report = dispatcher.drain()
        timings.append(time.perf_counter() - started)
        event.remove(engine, "before_cursor_execute", count)
        assert report.sent == due_rows and report.warnings == report.breaches == 0, report
    engine.dispose()
    return timings, statements[0], query_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, nargs="+", default=[10_000, 100_000], help="open rows not due")
    parser.add_argument("--due", type=int, nargs="+", default=[0, 100, 1000], help="rows due now")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("DOCGEN_TEST_POSTGRES_URL"),
                        help="also run on PostgreSQL (default URL: DOCGEN_TEST_POSTGRES_URL)")
    args = parser.parse_args()
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    print(f"{'backend':<11} {'open':>7} {'due':>5}  {'median':>9}  {'min':>9}  {'max':>9}  {'per due item':>12}"
          f"  {'SQL statements':>14}")
    for name, postgres in backends:
        for open_rows in args.open:
            for due_rows in args.due:
                with database(postgres) as url:
                    timings, statements, query_plan = bench(url, open_rows, due_rows, args.runs)
                median = statistics.median(timings)
                per_item = f"{median / due_rows * 1000:.2f} ms" if due_rows else "-"
                print(f"{name:<11} {open_rows:>7} {due_rows:>5}  {median * 1000:>7.1f}ms  {min(timings) * 1000:>7.1f}ms"
                      f"  {max(timings) * 1000:>7.1f}ms  {per_item:>12}  {statements:>14}", flush=True)
        print(f"\nclaim query plan ({name}, {open_rows} open, {due_rows} due):")
        print("  " + query_plan.replace("\n", "\n  ") + "\n")


if __name__ == "__main__":
    main()
