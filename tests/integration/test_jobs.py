"""Background jobs on every backend: one worker a job, a killed worker's job taken over when its lease
runs out, given up after MAX_ATTEMPTS, progress renewing the lease, a handler's error failing the job
with a message that quotes no case content, and workers side by side never doing the same job."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.errors import RenderError
from docgen.services.jobs import (
    MAX_ATTEMPTS,
    JobView,
    LeaseLost,
    Progress,
    claim_job,
    finish_job,
    get_job,
    report_progress,
    request_job,
    run_one,
    work,
)
from docgen.services.runtime import Runtime
from tests.conftest import RUNTIME_NOW
from tests.support.web import MovableClock

KIND = "test"
LEASE = timedelta(seconds=60)


@pytest.fixture
def moving(runtime: Runtime) -> Runtime:
    """The runtime with a clock the test moves on."""
    return dataclasses.replace(runtime, clock=MovableClock(RUNTIME_NOW))


def _request(runtime: Runtime, reference: str = "NM-TEST-1") -> JobView:
    return request_job(runtime, KIND, reference, content_version=1, parameters={}, actor="support")


def _advance(runtime: Runtime, **kwargs: float) -> None:
    clock = runtime.clock
    assert isinstance(clock, MovableClock)
    clock.advance(**kwargs)


def _counting(total: int = 3) -> Any:
    def handler(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        for done in range(1, total + 1):
            progress(done, total)
        return {"copies": total}
    return handler


def test_a_claimed_job_is_not_claimed_by_another_worker(moving: Runtime) -> None:
    job = _request(moving)
    claimed = claim_job(moving, "worker-1", lease=LEASE)
    assert claimed is not None and (claimed.id, claimed.state, claimed.attempts) == (job.id, "running", 1)
    assert claim_job(moving, "worker-2", lease=LEASE) is None
    _advance(moving, seconds=59)
    assert claim_job(moving, "worker-2", lease=LEASE) is None


def test_a_job_whose_worker_was_killed_is_taken_over_and_finishes(moving: Runtime) -> None:
    job = _request(moving)
    assert claim_job(moving, "killed", lease=LEASE) is not None  # ... and the worker is never heard of again
    assert not run_one(moving, {KIND: _counting()}, "worker-2", lease=LEASE)  # its lease still runs
    _advance(moving, seconds=61)
    assert run_one(moving, {KIND: _counting()}, "worker-2", lease=LEASE)
    done = get_job(moving, job.id)
    assert (done.state, done.done, done.total, done.attempts, done.result) == ("done", 3, 3, 2, {"copies": 3})
    # The first worker, had it only been slow, can no longer record anything for the job.
    with pytest.raises(LeaseLost):
        report_progress(moving, job.id, "killed", 1, 3, lease=LEASE)
    with pytest.raises(LeaseLost):
        finish_job(moving, job.id, "killed", {"copies": 0})
    assert get_job(moving, job.id).result == {"copies": 3}


def test_a_job_stopped_max_attempts_times_fails_with_its_message(moving: Runtime) -> None:
    job = _request(moving)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim_job(moving, f"worker-{attempt}", lease=LEASE)
        assert claimed is not None and claimed.attempts == attempt
        _advance(moving, seconds=61)
    assert claim_job(moving, "worker-last", lease=LEASE) is None
    failed = get_job(moving, job.id)
    assert failed.state == "failed" and failed.finished
    assert failed.error is not None and f"stopped {MAX_ATTEMPTS} times" in failed.error
    with unit_of_work(moving.sessions) as session:
        actions = [(e.action, e.subject) for e in session.scalars(select(AuditEvent))]
    assert (f"{KIND}_failed", f"job {job.id}") in actions


def test_progress_renews_the_lease(moving: Runtime) -> None:
    job = _request(moving)
    assert claim_job(moving, "worker-1", lease=LEASE) is not None
    _advance(moving, seconds=50)
    report_progress(moving, job.id, "worker-1", 1, 10, lease=LEASE)
    _advance(moving, seconds=50)  # 100 s after the claim, 50 s after the progress
    assert claim_job(moving, "worker-2", lease=LEASE) is None
    assert (get_job(moving, job.id).done, get_job(moving, job.id).total) == (1, 10)
    _advance(moving, seconds=11)
    assert claim_job(moving, "worker-2", lease=LEASE) is not None


def test_an_unexpected_error_fails_the_job_without_case_content(moving: Runtime) -> None:
    def broken(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        raise ValueError("Amira Haddad, 14 Linden Close, disclosed that ...")

    job = _request(moving)
    assert run_one(moving, {KIND: broken}, "worker-1", lease=LEASE)
    failed = get_job(moving, job.id)
    assert failed.state == "failed" and failed.error is not None
    assert "ValueError" in failed.error and "Request it again" in failed.error
    assert "Amira" not in failed.error and "Linden" not in failed.error


def test_a_product_error_fails_the_job_with_its_message(moving: Runtime) -> None:
    def refuses(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        progress(1, 4)
        raise RenderError("the record template is missing; nothing was written")

    job = _request(moving)
    assert run_one(moving, {KIND: refuses}, "worker-1", lease=LEASE)
    failed = get_job(moving, job.id)
    assert (failed.state, failed.error, failed.done) == ("failed", "the record template is missing; nothing was written", 1)


def test_a_job_of_a_kind_the_worker_cannot_do_fails(moving: Runtime) -> None:
    job = _request(moving)
    assert run_one(moving, {}, "worker-1", lease=LEASE)
    assert "cannot do 'test' jobs" in (get_job(moving, job.id).error or "")
    assert not run_one(moving, {}, "worker-1", lease=LEASE)  # nothing left


def test_a_worker_taken_over_mid_job_stops_quietly(moving: Runtime) -> None:
    job = _request(moving)

    def slow(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        progress(1, 2)
        _advance(runtime, seconds=61)  # this worker stalls past its lease ...
        assert claim_job(runtime, "worker-2", lease=LEASE) is not None  # ... and another takes the job
        progress(2, 2)  # raises LeaseLost
        raise AssertionError("progress after losing the lease must stop the handler")

    assert run_one(moving, {KIND: slow}, "worker-1", lease=LEASE)
    taken = get_job(moving, job.id)
    assert (taken.state, taken.attempts, taken.error) == ("running", 2, None)


def test_workers_side_by_side_never_do_the_same_job(runtime: Runtime) -> None:
    jobs = [_request(runtime, f"NM-TEST-{n}").id for n in range(24)]
    done: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def record(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        with lock:
            done.append((job.id, threading.current_thread().name))
        progress(1, 1)
        return {}

    threads = [threading.Thread(target=work, args=(runtime, {KIND: record}, stop),
                                kwargs={"lease": LEASE, "poll_seconds": 0.01, "worker": f"worker-{n}"},
                                name=f"worker-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3000):
            if all(get_job(runtime, job_id).finished for job_id in jobs):
                break
            stop.wait(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(job_id for job_id, _ in done) == jobs  # every job once, none twice
    assert all(get_job(runtime, job_id).state == "done" for job_id in jobs)
