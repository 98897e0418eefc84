"""The PostgreSQL scratch schema the tests and benchmarks use: tables made through its URL land in
it and nowhere else, and it is gone afterwards, also when the block fails."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from docgen.adapters.database import make_engine
from tests.support.postgres import scratch_schema

POSTGRES_URL = os.environ.get("DOCGEN_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="set DOCGEN_TEST_POSTGRES_URL to run against PostgreSQL")


def _schemas_named(prefix: str) -> set[str]:
    assert POSTGRES_URL is not None
    admin = make_engine(POSTGRES_URL)
    with admin.connect() as connection:
        names = set(connection.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :pattern"),
                                       {"pattern": f"{prefix}\\_%"}).scalars())
    admin.dispose()
    return names


def test_tables_go_into_the_scratch_schema_which_is_dropped_afterwards() -> None:
    assert POSTGRES_URL is not None
    with scratch_schema(POSTGRES_URL, prefix="scratchcheck") as url:
        (schema,) = _schemas_named("scratchcheck")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (n integer)"))
            placed = connection.execute(text("SELECT table_schema FROM information_schema.tables "
                                             "WHERE table_name = 'probe'")).scalars().all()
        engine.dispose()
        assert placed == [schema]
    assert _schemas_named("scratchcheck") == set()


def test_the_schema_is_dropped_when_the_block_fails() -> None:
    assert POSTGRES_URL is not None
    with pytest.raises(RuntimeError, match="the block failed"), scratch_schema(POSTGRES_URL, prefix="scratchfail"):
        assert len(_schemas_named("scratchfail")) == 1
        raise RuntimeError("the block failed")
    assert _schemas_named("scratchfail") == set()
