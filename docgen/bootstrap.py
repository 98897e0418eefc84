"""Wiring in one place: settings, database and clock for the entry points; transports and the dispatch policy from their settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from distribution.abc import Transport
from distribution.transports.accredited import AccreditedDomainsOnly
from distribution.transports.common import Clock, utc_now
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.print_batch import PrintBatchTransport
from distribution.transports.sms_folder import SmsFolderTransport
from distribution.transports.smtp import SmtpTransport
from docgen.adapters.clock import london_now
from docgen.adapters.copy_store import CopyStore, store_from_environment
from docgen.adapters.database import make_engine, migrate
from docgen.configuration.authority import load_settings
from docgen.configuration.circulation import CirculationConfig
from docgen.configuration.delivery import DeliverySettings, load_delivery_settings
from docgen.configuration.scheduler import SchedulerSettings
from docgen.configuration.transports import (
    BACKEND_CHANNELS,
    Channel,
    NotifySettings,
    OutboxFolderSettings,
    PrintBatchSettings,
    SmsFolderSettings,
    TransportSettings,
    load_transport,
)
from docgen.domain.outbox import Backoff
from docgen.errors import ConfigurationError, PortalError
from docgen.services.delivery_routes import code_email
from docgen.services.dispatch import DispatchPolicy
from docgen.services.jobs import Handler
from docgen.services.pack_jobs import PACK, pack_handler
from docgen.services.portal import CodeSender
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
                   delivery=load_delivery_settings(config_dir), copies=copy_store())


def copy_store() -> CopyStore:
    """The copy store: ``DOCGEN_COPY_STORE`` (default ``var/copies``), bounded by ``DOCGEN_COPY_STORE_MEGABYTES``."""
    return store_from_environment(DEFAULT_COPY_STORE)


def build_transport(settings: TransportSettings, *, clock: Clock = utc_now, channel: Channel = "email") -> Transport:
    """The transport ``settings`` describe for ``channel``: their ``backend``, built from its table.

    ``channel`` is what the transport is handed: ``"email"`` (RFC 5322 bytes), ``"sms"`` (a text
    message's UTF-8 text) or ``"letter"`` (a PDF with the address in its window).
    """
    transports = build_transports(settings, clock=clock, channels=(channel,))
    return transports[channel]


def build_transports(settings: TransportSettings, *, clock: Clock = utc_now,
                     channels: tuple[Channel, ...] | None = None) -> dict[Channel, Transport]:
    """A transport for each of ``channels`` (default: every channel the backend carries); GOV.UK
    Notify's share one client. A channel the backend cannot carry is a ``ConfigurationError``."""
    carried = BACKEND_CHANNELS[settings.backend]
    wanted = carried if channels is None else channels
    for channel in wanted:
        if channel not in carried:
            raise ConfigurationError(f"transport.backend {settings.backend!r} cannot send {channel} "
                                     f"(it sends {' and '.join(carried)}); choose another backend for {channel}.")
    if settings.backend == "smtp" and settings.smtp is not None:
        smtp = settings.smtp
        return {"email": SmtpTransport(
            smtp.host,
            smtp.port,
            security=smtp.security,
            username_env=smtp.username_env,
            password_env=smtp.password_env,
            ca_file=smtp.ca_file,
            timeout=smtp.timeout_seconds,
            clock=clock,
        )}
    if settings.backend == "outbox_folder" and settings.outbox_folder is not None:
        return {"email": OutboxFolderTransport(settings.outbox_folder.folder, clock=clock)}
    if settings.backend == "sms_folder" and settings.sms_folder is not None:
        return {"sms": SmsFolderTransport(settings.sms_folder.folder, clock=clock)}
    if settings.backend == "print_batch" and settings.print_batch is not None:
        return {"letter": PrintBatchTransport(settings.print_batch.folder, clock=clock)}
    if settings.backend == "notify" and settings.notify is not None:
        return _notify_transports(settings.notify, wanted, clock)
    raise ConfigurationError(f"transport.backend {settings.backend!r} has no settings table.")


def _notify_transports(settings: NotifySettings, channels: tuple[Channel, ...],
                       clock: Clock) -> dict[Channel, Transport]:
    templates = {"email": settings.email_template_id, "sms": settings.sms_template_id}
    if channels == ("email", "sms", "letter"):
        # Every channel the backend carries: those whose template is configured.
        channels = tuple(c for c in channels if c == "letter" or templates[c] is not None)
    for channel in channels:
        if channel != "letter" and templates[channel] is None:
            raise ConfigurationError(f"transport.notify.{channel}_template_id is needed to send {channel} through "
                                     "GOV.UK Notify: the id of a template whose content is ((body))"
                                     + (" and subject ((subject))" if channel == "email" else "") + ".")
    # Imported here: the Notify client brings requests with it, which no other command needs.
    from distribution.transports.notify import (
        NotifyClient,
        NotifyEmailTransport,
        NotifyLetterTransport,
        NotifySmsTransport,
    )

    client = NotifyClient(api_key_env=settings.api_key_env, base_url=settings.base_url,
                          timeout=settings.timeout_seconds)
    built: dict[Channel, Transport] = {}
    for channel in channels:
        if channel == "email" and settings.email_template_id is not None:
            built["email"] = NotifyEmailTransport(client, template_id=settings.email_template_id, clock=clock)
        elif channel == "sms" and settings.sms_template_id is not None:
            built["sms"] = NotifySmsTransport(client, template_id=settings.sms_template_id, clock=clock)
        elif channel == "letter":
            built["letter"] = NotifyLetterTransport(client, postage=settings.letter_postage, clock=clock)
    return built


@dataclass(frozen=True)
class Carriers:
    """What carries each kind of message the scheduler sends (``[channels]`` in delivery.toml, or flags)."""

    email: Transport
    secure_email: Transport
    """The relay to accredited domains, wrapped so that it refuses any other domain."""
    sms: Transport | None
    letter: Transport | None

    def for_dispatcher(self) -> dict[str, Transport]:
        """The dispatcher's carriers beside its main (email) transport."""
        return {"secure_email": self.secure_email, **({"sms": self.sms} if self.sms is not None else {})}


def transport_for(spec: str, channel: Channel, *, relative_to: Path | None = None, clock: Clock = utc_now) -> Transport:
    """The transport a channel spec names: ``smtp:FILE`` or ``notify:FILE`` (a transport settings file,
    relative to ``relative_to`` when given), ``outbox-folder:PATH``, ``sms-folder:PATH`` or ``print-batch:PATH``."""
    kind, _, value = spec.partition(":")
    value = value.strip()
    if not value:
        raise ConfigurationError(f"{spec!r}: use smtp:FILE, notify:FILE, outbox-folder:PATH, sms-folder:PATH or "
                                 "print-batch:PATH")
    if kind in ("smtp", "notify"):
        path = Path(value)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        settings = load_transport(path)
        if settings.backend != kind.replace("-", "_"):
            raise ConfigurationError(f"{spec!r}: {path} describes the {settings.backend} backend, not {kind}")
    elif kind == "outbox-folder":
        settings = TransportSettings(backend="outbox_folder", outbox_folder=OutboxFolderSettings(Path(value)))
    elif kind == "sms-folder":
        settings = TransportSettings(backend="sms_folder", sms_folder=SmsFolderSettings(Path(value)))
    elif kind == "print-batch":
        settings = TransportSettings(backend="print_batch", print_batch=PrintBatchSettings(Path(value)))
    else:
        raise ConfigurationError(f"{spec!r}: use smtp:FILE, notify:FILE, outbox-folder:PATH, sms-folder:PATH or "
                                 "print-batch:PATH")
    return build_transport(settings, clock=clock, channel=channel)


def build_carriers(delivery: DeliverySettings, *, email: str | None = None, secure_email: str | None = None,
                   sms: str | None = None, letter: str | None = None, clock: Clock = utc_now) -> Carriers:
    """The scheduler's carriers: each flag given wins over its channel in ``delivery``; a flag is read
    from the working folder, a settings file named in delivery.toml from the configuration folder."""
    base = delivery.source.parent if delivery.source is not None else None
    channels = delivery.channels

    def chosen(flag: str | None, configured: str | None, channel: Channel) -> Transport | None:
        if flag:
            return transport_for(flag, channel, clock=clock)
        if configured:
            return transport_for(configured, channel, relative_to=base, clock=clock)
        return None

    main = chosen(email, channels.email, "email")
    if main is None:
        raise ConfigurationError("no transport for email: give --transport, or set [channels] email in delivery.toml")
    relay_spec = secure_email or channels.secure_email or email or channels.email or ""
    if relay_spec.startswith("notify:"):
        raise ConfigurationError("secure email attaches the document, and GOV.UK Notify sends no attachments: the "
                                 "secure_email channel must be the authority's SMTP relay (smtp:FILE)")
    relay = chosen(secure_email, channels.secure_email, "email") or main
    return Carriers(email=main, secure_email=AccreditedDomainsOnly(relay, delivery.routes.accredited_domains),
                    sms=chosen(sms, channels.sms, "sms"), letter=chosen(letter, channels.letter, "letter"))


def code_sender(delivery: DeliverySettings, *, sender: str, clock: Clock = utc_now) -> CodeSender | None:
    """What sends the recipient portal's one-time codes, from delivery.toml's ``[channels]``: text
    messages by the ``sms`` channel, emails by the ``email`` channel; ``None`` when neither is set
    (the portal then asks the recipient to phone)."""
    base = delivery.source.parent if delivery.source is not None else None
    sms = transport_for(delivery.channels.sms, "sms", relative_to=base, clock=clock) if delivery.channels.sms else None
    email = (transport_for(delivery.channels.email, "email", relative_to=base, clock=clock)
             if delivery.channels.email else None)
    if sms is None and email is None:
        return None

    def send(channel: str, address: str, text: str, idempotency_key: str) -> None:
        carrier = sms if channel == "sms" else email
        if carrier is None:
            raise PortalError(f"no {channel} channel is configured to send portal codes ([channels] in delivery.toml)")
        message = text.encode() if channel == "sms" else code_email(address, text, sender=sender, at=clock())
        carrier.send(message, envelope_from=sender, recipients=[address], idempotency_key=idempotency_key)

    return send


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
