"""The ``[transport]`` configuration table: which backend delivers messages, and its settings.

Strict: an unknown key is an error naming it, and a password can only be given as the name of
an environment variable. Example::

    [transport]
    backend = "smtp"                      # "smtp" or "outbox_folder"

    [transport.smtp]
    host = "smtp.authority.example.gov.uk"
    port = 587                            # default 587 for starttls, 465 for implicit_tls
    security = "starttls"                 # or "implicit_tls"; there is no plaintext option
    username_env = "DOCGEN_SMTP_USERNAME" # optional; both or neither
    password_env = "DOCGEN_SMTP_PASSWORD"
    ca_file = "/etc/docgen/smtp-ca.pem"   # optional; default is the system trust store
    timeout_seconds = 30                  # default 30

    [transport.outbox_folder]
    folder = "/var/spool/docgen/outbox"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from distribution.abc import Transport
from distribution.transports.common import Clock, utc_now
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.smtp import SECURITY_MODES, Security, SmtpTransport
from docgen.errors import ConfigurationError

Backend = Literal["smtp", "outbox_folder"]
BACKENDS: tuple[Backend, ...] = ("smtp", "outbox_folder")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "implicit_tls": 465}
_SECRET_KEYS = {"password", "username", "secret", "pass"}


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key in allowed:
            continue
        hint = ""
        if key in _SECRET_KEYS:
            hint = " Credentials are never written in configuration: set username_env and password_env to the names of environment variables."
        raise ConfigurationError(
            f"Unknown key {where}.{key}. Allowed keys: {', '.join(sorted(allowed))}.{hint}"
        )


def _string(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigurationError(f"{where}.{key} is required.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}.{key} must be a non-empty string.")
    return value


def _env_name(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _string(table, key, where)
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ConfigurationError(
            f"{where}.{key} must be the NAME of an environment variable (letters, digits, _), "
            "not the value itself."
        )
    return value


@dataclass(frozen=True)
class SmtpConfig:
    """Settings of the SMTP backend; see the module docstring for each key."""

    host: str
    port: int
    security: Security = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 30.0

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, where: str = "transport.smtp") -> SmtpConfig:
        _check_keys(
            table,
            {"host", "port", "security", "username_env", "password_env", "ca_file", "timeout_seconds"},
            where,
        )
        host = _string(table, "host", where, required=True)
        assert host is not None
        security = table.get("security", "starttls")
        if security not in SECURITY_MODES:
            raise ConfigurationError(
                f"{where}.security must be one of {', '.join(SECURITY_MODES)}, not {security!r}; "
                "plaintext SMTP is not supported."
            )
        port = table.get("port", _DEFAULT_PORTS[security])
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigurationError(f"{where}.port must be a whole number from 1 to 65535.")
        username_env = _env_name(table, "username_env", where)
        password_env = _env_name(table, "password_env", where)
        if (username_env is None) != (password_env is None):
            raise ConfigurationError(f"Set both {where}.username_env and {where}.password_env, or neither.")
        ca_file = _string(table, "ca_file", where)
        timeout = table.get("timeout_seconds", 30.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
            raise ConfigurationError(f"{where}.timeout_seconds must be a number of seconds from 0 to 600.")
        return cls(
            host=host,
            port=port,
            security=security,
            username_env=username_env,
            password_env=password_env,
            ca_file=Path(ca_file) if ca_file is not None else None,
            timeout_seconds=float(timeout),
        )


@dataclass(frozen=True)
class OutboxFolderConfig:
    """Settings of the outbox folder backend."""

    folder: Path

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, where: str = "transport.outbox_folder") -> OutboxFolderConfig:
        _check_keys(table, {"folder"}, where)
        folder = _string(table, "folder", where, required=True)
        assert folder is not None
        return cls(folder=Path(folder))


@dataclass(frozen=True)
class TransportConfig:
    """The ``[transport]`` table: the chosen backend and its settings."""

    backend: Backend
    smtp: SmtpConfig | None = None
    outbox_folder: OutboxFolderConfig | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, where: str = "transport") -> TransportConfig:
        _check_keys(table, {"backend", "smtp", "outbox_folder"}, where)
        backend = table.get("backend")
        if backend not in BACKENDS:
            raise ConfigurationError(
                f"{where}.backend must be one of {', '.join(BACKENDS)}, not {backend!r}."
            )
        sections: dict[str, Any] = {}
        for name in BACKENDS:
            section = table.get(name)
            if section is not None and not isinstance(section, Mapping):
                raise ConfigurationError(f"{where}.{name} must be a table.")
            sections[name] = section
        if sections[backend] is None:
            raise ConfigurationError(f"{where}.backend is {backend!r} but there is no [{where}.{backend}] table.")
        smtp = SmtpConfig.from_table(sections["smtp"], where=f"{where}.smtp") if sections["smtp"] is not None else None
        outbox = (
            OutboxFolderConfig.from_table(sections["outbox_folder"], where=f"{where}.outbox_folder")
            if sections["outbox_folder"] is not None
            else None
        )
        return cls(backend=backend, smtp=smtp, outbox_folder=outbox)


def build_transport(config: TransportConfig, *, clock: Clock = utc_now) -> Transport:
    """The transport ``config`` describes."""
    if config.backend == "smtp" and config.smtp is not None:
        smtp = config.smtp
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
    if config.backend == "outbox_folder" and config.outbox_folder is not None:
        return OutboxFolderTransport(config.outbox_folder.folder, clock=clock)
    raise ConfigurationError(f"transport.backend {config.backend!r} has no settings table.")
