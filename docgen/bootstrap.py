"""Wiring in one place: settings, database and clock for the entry points."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from docgen.adapters.clock import london_now
from docgen.adapters.database import make_engine, migrate
from docgen.configuration.authority import load_settings
from docgen.services.runtime import Runtime

DEFAULT_DATABASE = Path("var") / "docgen.sqlite3"


def default_database_url() -> str:
    """``DOCGEN_DATABASE_URL`` if set, else the embedded SQLite file under ``var/``."""
    return os.environ.get("DOCGEN_DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE.resolve()}"


def bootstrap(database_url: str | None = None, *, config_dir: Path | None = None,
              clock: Callable[[], datetime] = london_now) -> Runtime:
    """Load settings, connect to the database and bring its schema up to date."""
    settings = load_settings(config_dir)
    engine = make_engine(database_url or default_database_url())
    migrate(engine)
    return Runtime(settings=settings, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), clock=clock)
