"""A scratch PostgreSQL schema: created empty, handed out as a URL whose search path is that schema,
dropped afterwards. The one place tests and benchmarks make throw-away PostgreSQL databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from docgen.adapters.database import make_engine


@contextmanager
def scratch_schema(url: str, *, prefix: str = "test") -> Iterator[str]:
    """Create a schema named ``<prefix>_<random>`` in the database at ``url`` and yield a URL that
    works in it; the schema and everything in it are dropped when the block ends, even on error.

    A schema rather than a database: the test user needs no right to create databases, and many
    runs can share one database without seeing each other's tables.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
