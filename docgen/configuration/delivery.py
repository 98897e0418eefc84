"""The delivery settings, ``delivery.toml`` in the configuration folder: which route each recipient's
documents take (``[routes]``, read by ``docgen.domain.routes``) and what carries each kind of
message (``[channels]``). Building the transports is wiring (``docgen.bootstrap``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.configuration.folder import config_file
from docgen.configuration.toml import (
    INVALID,
    At,
    Check,
    Key,
    Problems,
    checked,
    list_of,
    read_dataclass,
    read_table,
    read_toml,
)
from docgen.domain.routes import DEFAULT_ACCREDITED_DOMAINS, RoutePolicy
from docgen.errors import ConfigurationError

FILE_NAME = "delivery.toml"
HEADING = "Delivery settings not loaded"
#: A channel's value: which backend, a colon, and its settings file or folder.
CHANNEL_KINDS = ("smtp", "notify", "outbox-folder", "sms-folder", "print-batch")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,75}$")


def _domain(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not _DOMAIN.match(value.strip().lower()):
        return None, "must be a domain name such as \"nhs.net\" (no @, no wildcard: subdomains are included)"
    return value.strip().lower(), None


def _header(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not _HEADER.match(value) or value.lower() in _RESERVED_HEADERS:
        return None, "must be a header name such as \"X-Protective-Marking\" (letters, digits and hyphens)"
    return value, None


_RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "content-type", "mime-version"}


def _channel(value: Any) -> tuple[Any, str | None]:
    kind, _, rest = value.partition(":") if isinstance(value, str) else ("", "", "")
    if kind not in CHANNEL_KINDS or not rest.strip():
        return None, ("must be a backend and its settings, such as \"smtp:smtp.toml\", \"notify:notify.toml\", "
                      "\"outbox-folder:var/outbox\", \"sms-folder:var/sms\" or \"print-batch:var/post\"")
    return value, None


@dataclass(frozen=True)
class RoutesSettings:
    """``[routes]``: the route policy."""

    accredited_domains: tuple[str, ...] = DEFAULT_ACCREDITED_DOMAINS
    portal: bool = True
    marking_header: str = "X-Protective-Marking"


@dataclass(frozen=True)
class ChannelsSettings:
    """``[channels]``: each a backend spec (``CHANNEL_KINDS``); left out, as described in delivery.toml."""

    email: str | None = None
    secure_email: str | None = None
    sms: str | None = None
    letter: str | None = None


@dataclass(frozen=True)
class DeliverySettings:
    routes: RoutesSettings = field(default_factory=RoutesSettings)
    channels: ChannelsSettings = field(default_factory=ChannelsSettings)
    source: Path | None = None
    """The file read, so a channel's relative path is read from its folder."""

    def policy(self) -> RoutePolicy:
        return RoutePolicy(accredited_domains=self.routes.accredited_domains, portal=self.routes.portal)

    def channel_path(self, value: str) -> Path:
        """A channel spec's file or folder; relative to the configuration folder for settings files."""
        kind, _, rest = value.partition(":")
        target = Path(rest.strip())
        if kind in ("smtp", "notify") and not target.is_absolute() and self.source is not None:
            return self.source.parent / target
        return target


_ROUTE_CHECKS: Mapping[str, Check] = {
    "accredited_domains": list_of(checked(_domain)),
    "marking_header": checked(_header),
}
_CHANNEL_CHECKS: Mapping[str, Check] = {name: checked(_channel) for name in ("email", "secure_email", "sms", "letter")}


def load_delivery_settings(config_dir: Path | None = None) -> DeliverySettings:
    """``delivery.toml`` from the configuration folder; the defaults when it is absent."""
    path = config_file(FILE_NAME, config_dir)
    if not path.exists():
        return DeliverySettings()
    problems = Problems()
    data = read_toml(path, problems)
    settings = read_delivery(data, At(str(path), problems), source=path) if data is not None else None
    problems.raise_if_any(HEADING)
    if settings is None:
        raise ConfigurationError(f"{path}: the delivery settings could not be read")
    return settings


def read_delivery(data: Mapping[str, Any], at: At, *, source: Path | None = None) -> DeliverySettings | None:
    result = read_table(data, {
        "routes": Key(lambda value, where: read_dataclass(RoutesSettings, value, where, checks=_ROUTE_CHECKS)
                      or INVALID),
        "channels": Key(lambda value, where: read_dataclass(ChannelsSettings, value, where, checks=_CHANNEL_CHECKS)
                        or INVALID),
    }, at)
    if result is None or result.failed:
        return None
    routes = result.values.get("routes", RoutesSettings())
    if not routes.accredited_domains:
        at.key("routes").key("accredited_domains").report(
            "is empty: list at least one domain, or leave the key out for the shipped list")
        return None
    return DeliverySettings(routes=routes, channels=result.values.get("channels", ChannelsSettings()), source=source)

