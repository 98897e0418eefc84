"""Killing the scheduler at random while it sends 500 items over real SMTP: every item arrives exactly once.

The scheduler runs as a separate process (``python -m docgen.entrypoints.scheduler``) against a
SQLite outbox and the product's SMTP transport, talking STARTTLS to an aiosmtpd server on
loopback with a certificate from the run-time demo CA. The test SIGKILLs it at seeded random
moments while it sends, restarts it, and finally lets it finish and stops it with SIGTERM.

The items are business-support notices, which go through exactly the same claims, leases and
sends as documents but need no rendering, so the test exercises the outbox and not WeasyPrint;
tests/e2e/test_scheduler_documents.py sends a real conference's encrypted documents the same way.

The mail store deduplicates by Message-ID, as real mail stores do. SMTP has no two-phase commit,
so a kill between the server's 250 and the outbox's commit repeats that one transaction on
restart, with the same Message-ID; the test bounds those repeats by the number of kills.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from distribution.demo_pki import DemoPki
from tests.support.scheduler import (
    add_items,
    start_scheduler,
    started_lines,
    states,
    stop,
    wait_for_all_sent,
    wait_until_started,
)

ITEMS = 500
SEED = 20261122
MAX_KILLS = 15
TIME_BOUND = 150.0  # seconds for the kill-and-restart phase


def wait_until_sent_more(url: str, process: subprocess.Popen[bytes], more: int, timeout: float = 30) -> None:
    """Block until ``more`` further items are sent (or everything is, or the process ended)."""
    target = min(states(url).get("sent", 0) + more, ITEMS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if states(url).get("sent", 0) >= target:
            return
        time.sleep(0.005)


@pytest.mark.slow
def test_killed_and_restarted_scheduler_delivers_every_item_exactly_once(tmp_path: Path, smtp_server: Any,
                                                                          pki: DemoPki) -> None:
    store, transport_config = smtp_server
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    expected = add_items(url, ITEMS, ready=True)
    log = tmp_path / "scheduler.log"
    rng = random.Random(SEED)
    kills = 0
    began = time.monotonic()
    # Short lease: a restarted scheduler takes over the killed one's items after 2 s.
    options = ("--lease", "2", "--batch-size", "10")
    while kills < MAX_KILLS and time.monotonic() - began < TIME_BOUND:
        if states(url).get("sent", 0) == ITEMS:
            break
        starts = started_lines(log)
        process = start_scheduler(url, transport_config, log, *options, pki=pki)
        wait_until_started(process, log, starts)
        # Kill at a seeded random point of the sending itself, counted in items rather than seconds,
        # so that a fast machine, which sends everything in a second or two, is killed as often.
        wait_until_sent_more(url, process, rng.randint(1, 40))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    sent_before_last_run = states(url).get("sent", 0)
    starts = started_lines(log)
    process = start_scheduler(url, transport_config, log, *options, pki=pki)
    wait_until_started(process, log, starts)
    wait_for_all_sent(url, ITEMS, timeout=120)
    stop(process, log)

    repeats = len(store.transactions) - len(set(store.transactions))
    print(f"\n{kills} kills, {len(store.transactions)} SMTP transactions, {repeats} repeated a Message-ID, "
          f"{sent_before_last_run} items sent before the final run")
    assert kills >= 5 and sent_before_last_run > 0, "the test must kill the scheduler while it is sending"
    # (a) every item is in the mailbox exactly once, and nothing else is
    assert set(store.mailbox) == expected and len(store.mailbox) == ITEMS
    # (b) only an item in flight at a kill is sent again, at most once per kill
    assert repeats <= kills
    assert max(Counter(store.transactions).values()) <= 1 + kills
    # (c) nothing left unsent or in a non-final state
    assert states(url) == Counter({"sent": ITEMS})

