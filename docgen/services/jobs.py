"""Background jobs (generating a pack): requested from the web application, done by workers.

Any number of workers, in any number of processes on any number of machines when the database is
PostgreSQL, take jobs with the outbox's discipline: a job is claimed by one worker under a lease,
which the worker renews as it reports progress; a job whose lease runs out (its worker was killed)
is claimed again by another, up to ``MAX_ATTEMPTS`` times. On PostgreSQL the claim skips rows
another worker has locked; on SQLite the database's write lock orders claims. Why not a task queue
library: the jobs live in the same database as the conferences, so a job and what it records commit
together, and no broker is added to what an authority runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import append_event
from docgen.adapters.orm_web import Job
from docgen.errors import DocgenError, NotFoundError
from docgen.services.runtime import Runtime

log = logging.getLogger("docgen.jobs")

MAX_ATTEMPTS = 3


class LeaseLost(DocgenError):
    """Another worker took the job over (this one was too slow to renew its lease); stop working on it."""


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    reference: str
    content_version: int
    parameters: Mapping[str, Any]
    state: str
    requested_by: str
    requested_at: datetime
    done: int
    total: int | None
    finished_at: datetime | None
    result: Mapping[str, Any] | None
    error: str | None
    attempts: int

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def _view(row: Job) -> JobView:
    return JobView(row.id, row.kind, row.conference_reference, row.content_version, dict(row.parameters), row.state,
                   row.requested_by, row.requested_at, row.done, row.total, row.finished_at,
                   dict(row.result) if row.result is not None else None, row.error, row.attempts)


#: What a job handler is given to report progress with: (copies done, copies in all). It renews the lease.
Progress = Callable[[int, int], None]
Handler = Callable[[Runtime, JobView, Progress], dict[str, Any]]


def request_job(runtime: Runtime, kind: str, reference: str, *, content_version: int, parameters: Mapping[str, Any],
                actor: str) -> JobView:
    """Queue a job; audited with who asked for it."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        row = Job(kind=kind, conference_reference=reference, content_version=content_version,
                  parameters=dict(parameters), state="queued", requested_by=actor, requested_at=now, attempts=0, done=0)
        session.add(row)
        session.flush()
        append_event(session, at=now, actor=actor, action=f"{kind}_requested", reference=reference,
                     subject=f"job {row.id}", details={"content_version": content_version})
        return _view(row)


def get_job(runtime: Runtime, job_id: int) -> JobView:
    with unit_of_work(runtime.sessions) as session:
        row = session.get(Job, job_id)
        if row is None:
            raise NotFoundError(f"there is no job {job_id}")
        return _view(row)


def jobs_for(runtime: Runtime, reference: str, *, kind: str | None = None, limit: int = 20) -> list[JobView]:
    """A conference's jobs, newest first."""
    query = select(Job).where(Job.conference_reference == reference).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    with unit_of_work(runtime.sessions) as session:
        return [_view(row) for row in session.scalars(query)]


def claim_job(runtime: Runtime, worker: str, *, lease: timedelta) -> JobView | None:
    """Claim the oldest job that is queued, or whose worker's lease has run out; None if there is none."""
    now = runtime.clock()
    claimable = or_(Job.state == "queued", (Job.state == "running") & (Job.lease_until < now))
    for _ in range(5):  # another worker may take the candidate between the read and the update
        with unit_of_work(runtime.sessions) as session:
            candidate = select(Job.id, Job.attempts).where(claimable).order_by(Job.id).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                candidate = candidate.with_for_update(skip_locked=True)
            found = session.execute(candidate).first()
            if found is None:
                return None
            job_id, attempts = found
            if attempts >= MAX_ATTEMPTS:
                given_up = session.execute(update(Job).where(Job.id == job_id, claimable).values(
                    state="failed", finished_at=now, lease_until=None,
                    error=f"stopped {attempts} times before finishing (a worker was killed or ran out of memory); "
                          "request it again"))
                if given_up.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get(Job, job_id)
                    assert row is not None
                    append_event(session, at=now, actor=worker, action=f"{row.kind}_failed",
                                 reference=row.conference_reference, subject=f"job {job_id}",
                                 details={"attempts": attempts})
                continue
            taken = session.execute(update(Job).where(Job.id == job_id, claimable).values(
                state="running", claimed_by=worker, lease_until=now + lease, attempts=attempts + 1))
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                row = session.get(Job, job_id)
                assert row is not None
                session.refresh(row)
                return _view(row)
    return None


def _held(session: Any, job_id: int, worker: str) -> Job:
    row = session.get(Job, job_id)
    if row is None or row.state != "running" or row.claimed_by != worker:
        raise LeaseLost(f"job {job_id} is no longer held by this worker")
    return row  # type: ignore[no-any-return]


def report_progress(runtime: Runtime, job_id: int, worker: str, done: int, total: int, *, lease: timedelta) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = _held(session, job_id, worker)
        row.done, row.total, row.lease_until = done, total, runtime.clock() + lease


def finish_job(runtime: Runtime, job_id: int, worker: str, result: Mapping[str, Any]) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = _held(session, job_id, worker)
        row.state, row.result, row.finished_at, row.lease_until = "done", dict(result), runtime.clock(), None


def fail_job(runtime: Runtime, job_id: int, worker: str, message: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = _held(session, job_id, worker)
        row.state, row.error, row.finished_at, row.lease_until = "failed", message[:2000], runtime.clock(), None
        append_event(session, at=runtime.clock(), actor=worker, action=f"{row.kind}_failed",
                     reference=row.conference_reference, subject=f"job {row.id}")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_one(runtime: Runtime, handlers: Mapping[str, Handler], worker: str, *, lease: timedelta) -> bool:
    """Claim and do one job; False if there was none. A product error fails the job with its message;
    anything else fails it with a message that names no case content."""
    job = claim_job(runtime, worker, lease=lease)
    if job is None:
        return False
    handler = handlers.get(job.kind)
    if handler is None:
        fail_job(runtime, job.id, worker, f"this worker cannot do {job.kind!r} jobs")
        return True

    def progress(done: int, total: int) -> None:
        report_progress(runtime, job.id, worker, done, total, lease=lease)

    try:
        try:
            result = handler(runtime, job, progress)
        except LeaseLost:
            raise
        except DocgenError as error:
            fail_job(runtime, job.id, worker, str(error))
            return True
        except Exception as error:  # noqa: BLE001 - the job fails with a message, the worker goes on to the next
            log.error("job %s failed with %s", job.id, type(error).__name__)
            fail_job(runtime, job.id, worker, f"the job stopped with an unexpected {type(error).__name__}; nothing "
                                              "was kept. Request it again; if it happens again, tell your system "
                                              "administrator")
            return True
        finish_job(runtime, job.id, worker, result)
    except LeaseLost:
        # Too slow to renew the lease: another worker has the job now and its outcome is theirs to record.
        log.warning("job %s was taken over by another worker", job.id)
    return True


def work(runtime: Runtime, handlers: Mapping[str, Handler], stop: threading.Event, *, lease: timedelta,
         poll_seconds: float = 1.0, worker: str | None = None,
         on_idle: Callable[[Runtime], object] | None = None) -> None:
    """Do jobs until ``stop`` is set, waiting ``poll_seconds`` when there is none; ``on_idle`` is
    called when there is none, before waiting (it may ask for jobs)."""
    name = worker or worker_name()
    while not stop.is_set():
        try:
            busy = run_one(runtime, handlers, name, lease=lease)
            if not busy and on_idle is not None:
                busy = bool(on_idle(runtime))
        except DocgenError as error:
            log.error("worker %s: %s", name, error)
            busy = False
        except SQLAlchemyError as error:  # the database is away or refuses writes: wait and try again
            log.error("worker %s: the database could not be used (%s); trying again", name, type(error).__name__)
            busy = False
        if not busy:
            stop.wait(poll_seconds)
