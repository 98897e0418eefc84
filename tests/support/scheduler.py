"""Running ``python -m docgen.entrypoints.scheduler`` as a separate process against an outbox, for
the tests that kill, restart and race scheduler processes: filling the outbox, starting, waiting
and stopping."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from distribution import demo_pki
from docgen.adapters.database import make_engine, migrate
from docgen.adapters.orm_outbox import OutboxItemRow, item_values
from docgen.domain.outbox import NOTICE_RULE
from tests.support.pki import SIGNING_PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
SENDER = "cp.conferences@northmoor.gov.uk"


def add_items(url: str, count: int, *, ready: bool, conference: str = "KILL-TEST") -> set[str]:
    """``count`` business-support notices due now; returns their Message-IDs."""
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
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
        counts = Counter(dict(connection.execute(
            select(OutboxItemRow.state, func.count()).group_by(OutboxItemRow.state)).all()))
    engine.dispose()
    return counts


def signing_options(pki: demo_pki.DemoPki, folder: Path) -> list[str]:
    """The scheduler's signing identity, archive certificate and CA from the session's demo PKI; its
    delivery folder in ``folder``."""
    return ["--signing-identity", str(pki.signing_p12_path), "--archive-certificate", str(pki.archive.cert_path),
            "--ca-bundle", str(pki.ca.cert_path), "--delivery-folder", str(folder / "delivery")]


def start_scheduler(url: str, transport_config: Path, log: Path, *extra: str,
                    pki: demo_pki.DemoPki, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "docgen.entrypoints.scheduler", "--database", url,
               "--transport", f"smtp:{transport_config}", "--interval", "0.2", "--no-notices",
               *signing_options(pki, transport_config.parent), *extra]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DOCGEN_SIGNING_PASSPHRASE": SIGNING_PASSPHRASE, **(env or {})}
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)


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
