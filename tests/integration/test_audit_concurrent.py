"""Writers appending to the audit trail at the same moment (the web application and the workers beside
it, schedulers side by side) each get the next entry: none is refused, the chain stays whole."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent, append_event
from docgen.services.runtime import Runtime


def test_concurrent_writers_all_get_the_next_entry(runtime: Runtime) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(name: str) -> None:
        try:
            start.wait()
            for n in range(15):
                with unit_of_work(runtime.sessions) as session:
                    # a read before the append, as the services do, then the append
                    session.scalar(select(func.count()).select_from(AuditEvent))
                    append_event(session, at=runtime.clock(), actor=name, action="tested", subject=str(n))
        except BaseException as error:  # noqa: BLE001 - reported below with the others
            errors.append(error)

    threads = [threading.Thread(target=write, args=(f"writer-{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with unit_of_work(runtime.sessions) as session:
        sequences = list(session.scalars(select(AuditEvent.sequence).order_by(AuditEvent.sequence)))
    assert sequences == list(range(1, 61))
