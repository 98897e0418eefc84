"""Wiring in one place: settings, database and clock for the entry points."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from docgen.adapters.database import make_engine, migrate
from docgen.config import Settings, load_settings

LONDON = ZoneInfo("Europe/London")
DEFAULT_DATABASE = Path("var") / "docgen.sqlite3"


def default_database_url() -> str:
    """``DOCGEN_DATABASE_URL`` if set, else the embedded SQLite file under ``var/``."""
    return os.environ.get("DOCGEN_DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE.resolve()}"


def london_now() -> datetime:
    return datetime.now(LONDON)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]


def bootstrap(database_url: str | None = None, *, config_dir: Path | None = None,
              clock: Callable[[], datetime] = london_now) -> Runtime:
    """Load settings, connect to the database and bring its schema up to date."""
    settings = load_settings(config_dir)
    engine = make_engine(database_url or default_database_url())
    migrate(engine)
    return Runtime(settings=settings, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), clock=clock)
