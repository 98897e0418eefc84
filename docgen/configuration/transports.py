"""The transport settings file: which backend hands messages on, and its settings, as a ``[transport]`` table.

Strict, like every configuration file: unknown keys are errors, and a password can only be given
as the name of an environment variable. Building the transport is wiring (``docgen.bootstrap``).
Example::

    [transport]
    backend = "smtp"                      # "smtp", "outbox_folder", "notify", "sms_folder" or "print_batch"

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

    [transport.notify]                    # GOV.UK Notify: email, text messages and letters
    api_key_env = "DOCGEN_NOTIFY_API_KEY" # the NAME of the variable holding the API key
    base_url = "https://api.notifications.service.gov.uk"  # the default
    email_template_id = "..."             # a UUID; needed to send email
    sms_template_id = "..."               # a UUID; needed to send text messages
    letter_postage = "second"             # "first", "second" (default) or "economy"
    timeout_seconds = 30                  # default 30

    [transport.sms_folder]                # text messages as files, for the demo and local use
    folder = "var/sms"

    [transport.print_batch]               # letters for the post room: PDFs and a manifest.csv
    folder = "/var/spool/docgen/print"

Each backend carries some channels (``BACKEND_CHANNELS``): email (RFC 5322 messages), sms (the
text of a text message) and letter (a PDF with the address in its window).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from docgen.configuration.toml import (
    INVALID,
    At,
    Key,
    Problems,
    check_keys,
    checked,
    non_empty_text,
    number,
    one_of,
    path,
    read_table,
    read_toml,
    whole_number,
)
from docgen.errors import ConfigurationError

Backend = Literal["smtp", "outbox_folder", "notify", "sms_folder", "print_batch"]
BACKENDS: tuple[Backend, ...] = ("smtp", "outbox_folder", "notify", "sms_folder", "print_batch")
Channel = Literal["email", "sms", "letter"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "letter")
#: What each backend can send: an email is RFC 5322 bytes, a text its UTF-8 text, a letter a PDF.
BACKEND_CHANNELS: Mapping[str, tuple[Channel, ...]] = {
    "smtp": ("email",), "outbox_folder": ("email",), "notify": ("email", "sms", "letter"),
    "sms_folder": ("sms",), "print_batch": ("letter",)}
#: The same words as ``distribution.transports.notify.POSTAGES``.
Postage = Literal["first", "second", "economy"]
POSTAGES: tuple[Postage, ...] = ("first", "second", "economy")
NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
#: The same words as ``distribution.transports.smtp.SECURITY_MODES``; configuration may not import it.
SmtpSecurity = Literal["starttls", "implicit_tls"]
SECURITY_MODES: tuple[SmtpSecurity, ...] = ("starttls", "implicit_tls")
DEFAULT_PORTS: Mapping[str, int] = {"starttls": 587, "implicit_tls": 465}
HEADING = "Transport settings not loaded"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CREDENTIALS = ("Credentials are never written in configuration: set username_env and password_env "
                "to the names of environment variables.")
_API_KEY = ("The API key is never written in configuration: set api_key_env to the name of the environment "
            "variable that holds it.")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HTTPS = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?")
_LOOPBACK = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?(/[^\s]*)?")
_SECRET_KEYS = dict.fromkeys(("password", "username", "secret", "pass"), _CREDENTIALS)


@dataclass(frozen=True)
class SmtpSettings:
    """The ``[transport.smtp]`` table; see the module docstring for each key."""

    host: str
    port: int
    security: SmtpSecurity = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class OutboxFolderSettings:
    """The ``[transport.outbox_folder]`` table."""

    folder: Path


@dataclass(frozen=True)
class NotifySettings:
    """The ``[transport.notify]`` table: GOV.UK Notify, the API key's variable and the templates."""

    api_key_env: str
    base_url: str = NOTIFY_BASE_URL
    email_template_id: str | None = None
    sms_template_id: str | None = None
    letter_postage: Postage = "second"
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SmsFolderSettings:
    """The ``[transport.sms_folder]`` table."""

    folder: Path


@dataclass(frozen=True)
class PrintBatchSettings:
    """The ``[transport.print_batch]`` table."""

    folder: Path


@dataclass(frozen=True)
class TransportSettings:
    """The ``[transport]`` table: the chosen backend and the settings given for each backend."""

    backend: Backend
    smtp: SmtpSettings | None = None
    outbox_folder: OutboxFolderSettings | None = None
    notify: NotifySettings | None = None
    sms_folder: SmsFolderSettings | None = None
    print_batch: PrintBatchSettings | None = None


def load_transport(file: Path) -> TransportSettings:
    """Read a transport settings file (one ``[transport]`` table); raises ``ConfigurationError`` listing every problem."""
    problems = Problems()
    data = read_toml(file, problems)
    settings = read_transport(data, At(str(file), problems)) if data is not None else None
    problems.raise_if_any(HEADING)
    if settings is None:  # cannot happen without a problem reported; never go on without settings
        raise ConfigurationError(f"{file}: the transport settings could not be read")
    return settings


def parse_transport(data: Mapping[str, Any], *, source: str) -> TransportSettings:
    """The transport settings in parsed TOML (a document holding a ``[transport]`` table)."""
    problems = Problems()
    settings = read_transport(data, At(source, problems))
    problems.raise_if_any(HEADING)
    if settings is None:
        raise ConfigurationError(f"{source}: the transport settings could not be read")
    return settings


def read_transport(data: Mapping[str, Any], at: At) -> TransportSettings | None:
    """The settings in a parsed file, or ``None`` after reporting every problem at ``at``."""
    document = check_keys(data, ("transport",), at)
    if "transport" not in document:
        at.key("transport").report("required but missing; the file holds one [transport] table")
        return None
    at = at.key("transport")
    table = read_table(document["transport"], {
        "backend": Key(checked(one_of(BACKENDS)), required=True),
        "smtp": Key(_smtp),
        "outbox_folder": Key(_outbox_folder),
        "notify": Key(_notify),
        "sms_folder": Key(_folder(SmsFolderSettings)),
        "print_batch": Key(_folder(PrintBatchSettings)),
    }, at)
    if table is None:
        return None
    backend = table.values.get("backend")
    if backend is not None and backend not in table.values and backend not in table.failed:
        at.key(backend).report(f"required but missing: backend {backend!r} needs a [{at.path}.{backend}] table")
        return None
    if table.failed:
        return None
    return TransportSettings(**table.values)


def _smtp(value: Any, at: At) -> Any:
    table = read_table(value, {
        "host": Key(checked(non_empty_text), required=True),
        "port": Key(checked(_port)),
        "security": Key(checked(_security)),
        "username_env": Key(checked(_env_name)),
        "password_env": Key(checked(_env_name)),
        "ca_file": Key(checked(path)),
        "timeout_seconds": Key(checked(_timeout)),
    }, at, advice=_SECRET_KEYS)
    if table is None:
        return INVALID
    values = dict(table.values)
    credentials = {"username_env", "password_env"}
    if len(credentials & set(values)) == 1 and not credentials & table.failed:
        at.report("set both username_env and password_env, or neither")
        return INVALID
    if table.failed:
        return INVALID
    values.setdefault("port", DEFAULT_PORTS[values.get("security", "starttls")])
    return SmtpSettings(**values)


def _outbox_folder(value: Any, at: At) -> Any:
    table = read_table(value, {"folder": Key(checked(path), required=True)}, at)
    if table is None or table.failed:
        return INVALID
    return OutboxFolderSettings(**table.values)


def _notify(value: Any, at: At) -> Any:
    table = read_table(value, {
        "api_key_env": Key(checked(_env_name), required=True),
        "base_url": Key(checked(_base_url)),
        "email_template_id": Key(checked(_template_id)),
        "sms_template_id": Key(checked(_template_id)),
        "letter_postage": Key(checked(one_of(POSTAGES))),
        "timeout_seconds": Key(checked(_timeout)),
    }, at, advice=dict.fromkeys(("api_key", "key", "secret", "password"), _API_KEY))
    if table is None or table.failed:
        return INVALID
    return NotifySettings(**table.values)


def _folder(cls: type[Any]) -> Any:
    def check(value: Any, at: At) -> Any:
        table = read_table(value, {"folder": Key(checked(path), required=True)}, at)
        if table is None or table.failed:
            return INVALID
        return cls(**table.values)

    return check


def _base_url(value: Any) -> tuple[Any, str | None]:
    # Only HTTPS leaves the machine; plain HTTP is for a stand-in on loopback (tests, the demo).
    converted, problem = non_empty_text(value)
    if problem is not None:
        return None, problem
    if _HTTPS.fullmatch(converted) or _LOOPBACK.fullmatch(converted):
        return converted.rstrip("/"), None
    return None, "must be an https:// address (plain http only to 127.0.0.1 or localhost)"


def _template_id(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and _UUID.fullmatch(value.strip()):
        return value.strip(), None
    return None, "must be a template id: a UUID such as f33517ff-2a88-4f6e-b855-c550268ce08a, from the template's page"


def _security(value: Any) -> tuple[Any, str | None]:
    converted, problem = one_of(SECURITY_MODES)(value)
    return (None, f"{problem}; plaintext SMTP is not supported") if problem else (converted, None)


def _port(value: Any) -> tuple[Any, str | None]:
    converted, problem = whole_number(value)
    if problem is None and 1 <= converted <= 65535:
        return converted, None
    return None, "must be a whole number from 1 to 65535"


def _timeout(value: Any) -> tuple[Any, str | None]:
    converted, problem = number(value)
    if problem is None and 0 < converted <= 600:
        return converted, None
    return None, "must be a number of seconds, more than 0 and at most 600"


def _env_name(value: Any) -> tuple[Any, str | None]:
    # Never repeat the value: someone may have written the password itself here.
    if isinstance(value, str) and _ENV_NAME.fullmatch(value):
        return value, None
    return None, ("must be the NAME of an environment variable (letters, digits, _), not the value "
                  "itself")
