"""Killing the scheduler at random while it sends 500 items over real SMTP: every item arrives exactly once.

The scheduler runs as a separate process (``python -m docgen.entrypoints.scheduler``) against a
SQLite outbox and the product's SMTP transport, talking STARTTLS to an aiosmtpd server on
loopback with a certificate from the run-time demo CA. The test SIGKILLs it at seeded random
moments while it sends, restarts it, and finally lets it finish and stops it with SIGTERM.

The items are business-support notices, which go through exactly the same claims, leases and
sends as documents but need no rendering, so the test exercises the outbox and not WeasyPrint;
tests/test_scheduler_documents.py sends a real conference's encrypted documents the same way.

The mail store deduplicates by Message-ID, as real mail stores do. SMTP has no two-phase commit,
so a kill between the server's 250 and the outbox's commit repeats that one transaction on
restart, with the same Message-ID; the test bounds those repeats by the number of kills.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy as email_policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import func, insert, select

from distribution import demo_pki
from docgen.adapters.database import make_engine, migrate
from docgen.adapters.orm_outbox import OutboxItemRow, item_values
from docgen.domain.outbox import NOTICE_RULE

ROOT = Path(__file__).resolve().parent.parent
SENDER = "cp.conferences@northmoor.gov.uk"
ITEMS = 500
SEED = 20261122
MAX_KILLS = 15
TIME_BOUND = 150.0  # seconds for the kill-and-restart phase


@dataclass
class MailStore:
    """An SMTP server's handler that records every transaction and files each Message-ID once."""

    transactions: list[str] = field(default_factory=list)
    mailbox: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message_id = str(BytesHeaderParser(policy=email_policy.compat32).parsebytes(content)["Message-ID"]).strip()
        with self.lock:
            self.transactions.append(message_id)
            self.mailbox.setdefault(message_id, content)
        return "250 2.0.0 Queued"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Any:
    """A STARTTLS-only aiosmtpd server on loopback; yields (store, transport config file)."""
    now = datetime.now(timezone.utc)  # TLS checks certificates against the real clock
    ca = demo_pki.create_certificate_authority(tmp_path, at=now)
    server_cert = demo_pki.issue_server_certificate(ca, tmp_path, at=now)
    assert server_cert.key_path is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_cert.cert_path, server_cert.key_path)
    store = MailStore()
    port = free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    config = tmp_path / "transport.toml"
    config.write_text(
        f'[transport]\nbackend = "smtp"\n\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        f'security = "starttls"\nca_file = "{ca.cert_path}"\ntimeout_seconds = 10\n', encoding="utf-8")
    yield store, config
    controller.stop()


def add_items(url: str, count: int, *, ready: bool, conference: str = "KILL-TEST") -> set[str]:
    """``count`` business-support notices due now; returns their Message-IDs."""
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(timezone.utc)
    rows = [{**item_values(conference=conference, rule=NOTICE_RULE, document="deadline_warning",
                           copy=f"deadline_warning--item-{n}", recipient="business-support",
                           recipient_name="Business support", recipient_address=f"support-{n:04d}@northmoor.example.org",
                           envelope_from=SENDER, now=now, ready=ready),
             "notice_text": f"Notice {n} for the kill test.\n"}
            for n in range(count)]
    with engine.begin() as connection:
        connection.execute(insert(OutboxItemRow), rows)
    engine.dispose()
    return {row["message_id"] for row in rows}


def states(url: str) -> Counter[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        counts = Counter({state: n for state, n in connection.execute(
            select(OutboxItemRow.state, func.count()).group_by(OutboxItemRow.state))})
    engine.dispose()
    return counts


SIGNING_PASSPHRASE = "scheduler test passphrase"


def signing_options(folder: Path) -> list[str]:
    """The scheduler's signing identity and archive certificate, made at run time in ``folder``."""
    keys = folder / "scheduler-keys"
    if not keys.exists():
        demo_pki.create_demo_pki(keys, at=datetime.now(timezone.utc), signing_passphrase=SIGNING_PASSPHRASE)
    return ["--signing-identity", str(keys / "authority-signing.p12"),
            "--archive-certificate", str(keys / "archive.cert.pem"),
            "--ca-bundle", str(keys / "authority-ca.pem"), "--delivery-folder", str(folder / "delivery")]


def start_scheduler(url: str, transport_config: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "docgen.entrypoints.scheduler", "--database", url,
               "--transport", f"smtp:{transport_config}", "--interval", "0.2", "--no-notices",
               *signing_options(transport_config.parent), *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOCGEN_SIGNING_PASSPHRASE": SIGNING_PASSPHRASE}
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def started_lines(log: Path) -> int:
    """How many times a scheduler has logged that it is running, in ``log``."""
    if not log.exists():
        return 0
    return len(re.findall(r"docgen\.scheduler: scheduler \S+ started", log.read_text(errors="replace")))


def wait_until_started(process: subprocess.Popen[bytes], log: Path, starts_seen: int, timeout: float = 30) -> None:
    """Block until the log shows one more "started" line than before (or the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if started_lines(log) > starts_seen:
            return
        if process.poll() is not None:
            raise AssertionError(f"scheduler exited early:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.02)
    raise AssertionError("scheduler did not start in time")


def wait_until_sent_more(url: str, process: subprocess.Popen[bytes], more: int, timeout: float = 30) -> None:
    """Block until ``more`` further items are sent (or everything is, or the process ended)."""
    target = min(states(url).get("sent", 0) + more, ITEMS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if states(url).get("sent", 0) >= target:
            return
        time.sleep(0.005)


def wait_for_all_sent(url: str, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if states(url).get("sent", 0) == total:
            return
        time.sleep(0.2)
    raise AssertionError(f"not everything was sent in {timeout}s: {dict(states(url))}")


def stop(process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # the scheduler writes every thread's stack to its log
        time.sleep(1)
        process.kill()
        process.wait(timeout=30)
        raise AssertionError("scheduler did not stop on SIGTERM; its log ends:\n"
                             + log.read_text(errors="replace")[-6000:]) from None
    assert code == 0, log.read_text(errors="replace")[-3000:]


@pytest.mark.slow
def test_killed_and_restarted_scheduler_delivers_every_item_exactly_once(tmp_path: Path, smtp_server: Any) -> None:
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
        process = start_scheduler(url, transport_config, log, *options)
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
    process = start_scheduler(url, transport_config, log, *options)
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

