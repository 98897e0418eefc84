"""What every use case runs with: the authority's settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from docgen.adapters.copy_store import CopyStore
from docgen.configuration.delivery import DeliverySettings
from docgen.domain.authority import Settings


@dataclass
class Runtime:
    """Built by ``docgen.bootstrap``; the services are handed one and never build their own."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    """How each recipient's documents travel (config/delivery.toml)."""
    copies: CopyStore | None = None  # rendered copies kept between runs (services/copies.py); None: none kept
