"""The outbox store: its interface (``abc``) and its backends, ``sqlalchemy`` and ``memory``."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from docgen.adapters.outbox_store.abc import OutboxConflict, OutboxStore, Outcome
from docgen.adapters.outbox_store.memory import MemoryOutboxStore
from docgen.adapters.outbox_store.sqlalchemy import SQLAlchemyOutboxStore

__all__ = ["MemoryOutboxStore", "OutboxConflict", "OutboxSource", "OutboxStore", "Outcome", "SQLAlchemyOutboxStore",
           "outbox_store"]

OutboxSource = OutboxStore | Session | sessionmaker[Session]
"""Where the services find the outbox: a store, a session whose transaction the database store
joins, or the sessions a database store opens its own transactions with."""


def outbox_store(source: OutboxSource) -> OutboxStore:
    """The store behind ``source``."""
    if isinstance(source, OutboxStore):
        return source
    if isinstance(source, Session):
        return SQLAlchemyOutboxStore.joining(source)
    return SQLAlchemyOutboxStore(source)
