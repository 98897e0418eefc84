"""The scheduler process: APScheduler 3 runs dispatch passes at an interval until SIGTERM.

APScheduler only provides the timer. Its job store is in memory and holds nothing of value:
APScheduler 3 cannot share a job store between processes, so the database outbox is the source
of truth, and any number of these processes can run against one PostgreSQL database, each
claiming its own rows. On SIGTERM or SIGINT the pass in progress finishes the item it is sending,
hands the items it had claimed but not tried back to the outbox, and the process exits.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from distribution.abc import Transport
from docgen.services.dispatch import (
    ApprovalGate,
    Dispatcher,
    DispatchPolicy,
    MessageBuilder,
    SentHook,
    no_approval_gate,
)
from docgen.services.runtime import Runtime

log = logging.getLogger("docgen.scheduler")


class _SkipNotice(logging.Filter):
    """Drops APScheduler's "maximum number of running instances reached" line.

    A pass that drains a backlog outlasts the interval; the next tick is rightly skipped, and
    saying so every interval would bury the log lines that matter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class SchedulerProcess:
    """One scheduler: a ``BlockingScheduler`` with a single interval job that drains the outbox."""

    def __init__(self, runtime: Runtime, transport: Transport, policy: DispatchPolicy, *, interval: float,
                 build_message: MessageBuilder, approval_gate: ApprovalGate = no_approval_gate,
                 on_sent: SentHook | None = None, hand_delivery: Transport | None = None,
                 worker: str | None = None, stopping: threading.Event | None = None,
                 carriers: Mapping[str, Transport] | None = None) -> None:
        """``stopping``: an event already set by a signal received while the process was starting.
        After each item sent, the audit trail's head is checkpointed (when the trail is sealed)."""
        from docgen.services.audit_trail import checkpoint_quietly

        self.stopping = stopping or threading.Event()
        # A stop asked for by a signal: a plain flag and a byte down a pipe, because a signal
        # handler runs in the middle of whatever the main thread was doing and must take no lock
        # (it once deadlocked shutting the scheduler down while the main thread, interrupted
        # inside the scheduler's thread pool, held the lock that shutdown needs). A watcher
        # thread does the rest.
        self._stop_asked = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._in_pass = threading.Lock()
        self.dispatcher = Dispatcher(runtime.sessions, transport, build_message=build_message, policy=policy,
                                     clock=runtime.clock, approval_gate=approval_gate, on_sent=on_sent,
                                     hand_delivery=hand_delivery, worker=worker, carriers=carriers,
                                     should_stop=self._should_stop,
                                     after_sent=lambda: checkpoint_quietly(runtime, actor="distribution"))
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_job(self.tick, IntervalTrigger(seconds=interval), id="dispatch",
                               name="dispatch pass", next_run_time=datetime.now(UTC))

    def _should_stop(self) -> bool:
        return self._stop_asked or self.stopping.is_set()

    def tick(self) -> None:
        """One interval's work: drain what is due; a failure is logged and tried again next time."""
        if self._should_stop():
            self._shutdown()
            return
        with self._in_pass:
            try:
                report = self.dispatcher.drain()
            except Exception as exc:  # noqa: BLE001 - logged without case content (traceback masked, at debug level)
                from docgen.adapters.faults import describe_fault, masked_traceback

                log.error("dispatch pass failed, trying again at the next interval: %s",
                          describe_fault(exc) or type(exc).__name__)
                log.debug("%s", masked_traceback(exc))
                return
        if report.claimed or report.warnings or report.breaches:
            log.info("pass: %d claimed, %d sent (%d late), %d retrying, %d failed, %d held, %d warnings, "
                     "%d breaches", report.claimed, report.sent, report.sent_late, report.retrying, report.failed,
                     report.held, report.warnings, report.breaches)

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the process to stop (the signal handler): no new items are started. Takes no lock,
        so it is safe whatever the main thread was doing; the watcher thread started by
        :meth:`run` shuts the scheduler down."""
        self._stop_asked = True
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full of earlier requests; the watcher has been woken already

    def _stop_when_asked(self) -> None:
        os.read(self._wake_read, 1)
        self.stopping.set()
        self._shutdown()

    def _shutdown(self) -> None:
        try:
            self.scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass

    def run(self, *, install_signals: bool = True) -> None:
        """Block until stopped; returns once the pass in progress has finished its item."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            # ``kill -USR1 PID`` writes where every thread is to standard error (the log), for a
            # process that does not stop or seems stuck; it changes nothing else.
            faulthandler.register(signal.SIGUSR1, all_threads=True)
        logging.getLogger("apscheduler").addFilter(_SkipNotice())
        logging.getLogger("apscheduler.scheduler").addFilter(_SkipNotice())
        threading.Thread(target=self._stop_when_asked, name="docgen-stop", daemon=True).start()
        log.info("scheduler %s started", self.dispatcher.worker)
        if not self._should_stop():
            # A stop asked for from here until the scheduler runs finds it not yet running; the
            # first pass, which starts at once, sees the flag and shuts it down.
            self.scheduler.start()
        with self._in_pass:  # wait for the pass in progress
            pass
        if self._stop_asked:  # the watcher thread may not have run yet: a stop asked for is kept on return
            self.stopping.set()
        log.info("scheduler %s stopped", self.dispatcher.worker)


if __name__ == "__main__":
    import sys

    from docgen.entrypoints.cli_schedule import main

    main(["scheduler", *sys.argv[1:]])
