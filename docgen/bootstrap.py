"""Wiring in one place: settings, database and clock for the entry points; transports and the dispatch policy from their settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from distribution.abc import Transport
from distribution.transports.common import Clock, utc_now
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.smtp import SmtpTransport
from docgen.adapters.clock import london_now
from docgen.adapters.copy_store import CopyStore, store_from_environment
from docgen.adapters.database import make_engine, migrate
from docgen.configuration.authority import load_settings
from docgen.configuration.circulation import CirculationConfig
from docgen.configuration.scheduler import SchedulerSettings
from docgen.configuration.transports import TransportSettings
from docgen.domain.outbox import Backoff
from docgen.errors import ConfigurationError
from docgen.services.dispatch import DispatchPolicy
from docgen.services.jobs import Handler
from docgen.services.pack_jobs import PACK, pack_handler
from docgen.services.review_jobs import REVIEW, ReviewSweep, review_handler
from docgen.services.runtime import Runtime

DEFAULT_DATABASE = Path("var") / "docgen.sqlite3"
DEFAULT_COPY_STORE = Path("var") / "copies"


def default_database_url() -> str:
    """``DOCGEN_DATABASE_URL`` if set, else the embedded SQLite file under ``var/``."""
    return os.environ.get("DOCGEN_DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE.resolve()}"


def bootstrap(database_url: str | None = None, *, config_dir: Path | None = None,
              clock: Callable[[], datetime] = london_now) -> Runtime:
    """Load settings, connect to the database and bring its schema up to date."""
    settings = load_settings(config_dir)
    engine = make_engine(database_url or default_database_url())
    migrate(engine)
    return Runtime(settings=settings, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), clock=clock,
                   copies=copy_store())


def copy_store() -> CopyStore:
    """The copy store: ``DOCGEN_COPY_STORE`` (default ``var/copies``), bounded by ``DOCGEN_COPY_STORE_MEGABYTES``."""
    return store_from_environment(DEFAULT_COPY_STORE)


def build_transport(settings: TransportSettings, *, clock: Clock = utc_now) -> Transport:
    """The transport ``settings`` describe: their ``backend``, built from its table."""
    if settings.backend == "smtp" and settings.smtp is not None:
        smtp = settings.smtp
        return SmtpTransport(
            smtp.host,
            smtp.port,
            security=smtp.security,
            username_env=smtp.username_env,
            password_env=smtp.password_env,
            ca_file=smtp.ca_file,
            timeout=smtp.timeout_seconds,
            clock=clock,
        )
    if settings.backend == "outbox_folder" and settings.outbox_folder is not None:
        return OutboxFolderTransport(settings.outbox_folder.folder, clock=clock)
    raise ConfigurationError(f"transport.backend {settings.backend!r} has no settings table.")


def dispatch_policy(settings: SchedulerSettings, *, authority_email: str,
                    circulation: CirculationConfig) -> DispatchPolicy:
    """The dispatcher's policy from the scheduler's settings; unset addresses are the authority's email."""
    return DispatchPolicy(
        envelope_from=settings.envelope_from or authority_email,
        batch_size=settings.batch_size,
        lease=timedelta(seconds=settings.lease_seconds),
        backoff=Backoff(timedelta(seconds=settings.backoff_base_seconds),
                        timedelta(seconds=settings.backoff_cap_seconds)),
        max_attempts=settings.max_attempts,
        warn_before=timedelta(hours=settings.warn_before_hours),
        business_support_address=(settings.business_support or authority_email) if settings.notices else None,
        calendar=circulation.calendar,
        zone=circulation.zone,
    )


def job_handlers(data_folder: Path, *, render_workers: int | None = None) -> dict[str, Handler]:
    """What background workers can do, by job kind."""
    return {PACK: pack_handler(data_folder, workers=render_workers), REVIEW: review_handler(data_folder)}


def between_jobs(data_folder: Path) -> ReviewSweep:
    """What workers do when there is no job: ask for the chair's reviews of content that changed."""
    return ReviewSweep(data_folder)
