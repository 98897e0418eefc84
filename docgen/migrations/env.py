"""Alembic environment: runs migrations on the connection the product hands over."""

from __future__ import annotations

from alembic import context

# Every module that maps tables, so autogenerate sees the whole schema.
import docgen.adapters.orm_directory
import docgen.adapters.orm_governance
import docgen.adapters.orm_outbox
import docgen.adapters.orm_portal
import docgen.adapters.orm_returns
import docgen.adapters.orm_web  # noqa: F401
from docgen.adapters.orm import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
