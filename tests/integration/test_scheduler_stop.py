"""Stopping the scheduler process from a signal handler.

A signal handler runs in the main thread in the middle of whatever it was doing. The scheduler's
main thread spends its time inside APScheduler and its thread pool, so a handler that shut the
scheduler down there could wait for a lock its own thread already held, and the process never
stopped (seen in the kill test, with the stack to prove it). ``stop`` must therefore take no
lock; the process must still stop.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from distribution.transports import OutboxFolderTransport
from docgen.bootstrap import bootstrap
from docgen.entrypoints.scheduler import SchedulerProcess
from docgen.services.dispatch import DispatchPolicy


def _scheduler(tmp_path: Path) -> SchedulerProcess:
    runtime = bootstrap(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")

    def no_messages(*_args, **_kwargs):
        raise AssertionError("the outbox is empty: nothing is built")

    return SchedulerProcess(runtime, OutboxFolderTransport(tmp_path / "out"),
                            DispatchPolicy(envelope_from="cp.conferences@northmoor.gov.uk"),
                            interval=60, build_message=no_messages)


def _run_in_background(process: SchedulerProcess) -> threading.Thread:
    thread = threading.Thread(target=process.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not process.scheduler.running:
        assert time.monotonic() < deadline, "the scheduler did not start"
        time.sleep(0.01)
    return thread


def test_stop_takes_no_lock_the_scheduler_holds_while_it_works(tmp_path: Path) -> None:
    process = _scheduler(tmp_path)
    runner = _run_in_background(process)
    pool = process.scheduler._lookup_executor("default")._pool  # the thread pool the main loop submits to

    def signal_arrives_inside_the_pool() -> None:
        with pool._shutdown_lock:  # where the main thread was when the deadlock happened
            process.stop()

    handler = threading.Thread(target=signal_arrives_inside_the_pool, daemon=True)
    handler.start()
    handler.join(timeout=10)
    assert not handler.is_alive(), "stop() waited for a lock its own thread held"
    runner.join(timeout=30)
    assert not runner.is_alive(), "the scheduler did not stop"


def test_a_stop_asked_for_before_the_scheduler_runs_is_kept(tmp_path: Path) -> None:
    process = _scheduler(tmp_path)
    process.stop()
    runner = threading.Thread(target=process.run, kwargs={"install_signals": False}, daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive() and process.stopping.is_set()
