"""The outbox folder transport, the ``[transport]`` settings table and the transports built from it."""

from __future__ import annotations

import email
import json
import os
import stat
import tomllib
from datetime import UTC, datetime
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports import OutboxFolderTransport, PrintBatchTransport, SmsFolderTransport, SmtpTransport
from docgen.bootstrap import build_transport
from docgen.configuration.transports import (
    OutboxFolderSettings,
    SmtpSettings,
    TransportSettings,
    load_transport,
    parse_transport,
)
from docgen.errors import ConfigurationError

ACCEPTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
SENDER = "cp-conferences@authority.example.gov.uk"
RECIPIENT = "duty.officer@police.example.gov.uk"


def _message(message_id: str = "<item-7@authority.example.gov.uk>", body: bytes = b"TUlJQmVuY3J5cHRlZA==") -> bytes:
    return (
        f"From: {SENDER}\r\nTo: {RECIPIENT}\r\nSubject: Conference documents\r\n"
        f"Date: Mon, 02 Mar 2026 09:30:00 +0000\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + body + b"\r\n"


class Clock:
    def __init__(self, *times: datetime) -> None:
        self.times = list(times)

    def __call__(self) -> datetime:
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


def _send(transport: Transport, message: bytes, key: str = "conf-1234-item-7") -> Delivery:
    return transport.send(message, envelope_from=SENDER, recipients=[RECIPIENT], idempotency_key=key)


def _visible_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


# --- outbox folder ----------------------------------------------------------------------------


def test_outbox_writes_a_parseable_eml_named_after_the_key(tmp_path: Path) -> None:
    transport = OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT))
    message = _message()
    delivery = _send(transport, message)
    assert delivery == Delivery(
        message_id="<item-7@authority.example.gov.uk>",
        transport="outbox_folder",
        accepted_at=ACCEPTED_AT,
        idempotency_key="conf-1234-item-7",
        reference="conf-1234-item-7.eml",
    )
    written = tmp_path / "conf-1234-item-7.eml"
    assert written.read_bytes() == message
    parsed = email.message_from_bytes(written.read_bytes(), policy=email_policy.default)
    assert parsed["Message-ID"] == "<item-7@authority.example.gov.uk>"
    assert parsed.get_content_type() == "application/pkcs7-mime"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert _visible_files(tmp_path) == ["conf-1234-item-7.eml"]  # no temporary file left behind


def test_outbox_keeps_a_receipt_outside_the_pickup_files(tmp_path: Path) -> None:
    _send(OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT)), _message())
    receipt = json.loads((tmp_path / ".docgen-receipts" / "conf-1234-item-7.json").read_text())
    assert receipt == {
        "message_id": "<item-7@authority.example.gov.uk>",
        "transport": "outbox_folder",
        "accepted_at": "2026-03-02T09:30:00+00:00",
        "idempotency_key": "conf-1234-item-7",
        "reference": "conf-1234-item-7.eml",
        "envelope_from": SENDER,
        "recipients": [RECIPIENT],
    }


def test_repeat_send_of_a_key_returns_the_original_delivery(tmp_path: Path) -> None:
    transport = OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT, LATER))
    first = _send(transport, _message())
    again = _send(transport, _message("<retry@authority.example.gov.uk>", b"RElGRkVSRU5U"))
    assert again == first
    assert again.accepted_at == ACCEPTED_AT
    assert (tmp_path / "conf-1234-item-7.eml").read_bytes() == _message()
    assert _visible_files(tmp_path) == ["conf-1234-item-7.eml"]


def test_repeat_send_after_the_gateway_took_the_file_writes_nothing(tmp_path: Path) -> None:
    transport = OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT, LATER))
    first = _send(transport, _message())
    (tmp_path / "conf-1234-item-7.eml").unlink()  # picked up and sent by the mail gateway
    assert _send(transport, _message()) == first
    assert _visible_files(tmp_path) == []


def test_file_written_before_a_crash_is_not_written_twice(tmp_path: Path) -> None:
    earlier = _message("<before-crash@authority.example.gov.uk>")
    (tmp_path / "conf-1234-item-7.eml").write_bytes(earlier)  # .eml present, receipt never written
    os.utime(tmp_path / "conf-1234-item-7.eml", (ACCEPTED_AT.timestamp(), ACCEPTED_AT.timestamp()))
    delivery = _send(OutboxFolderTransport(tmp_path, clock=Clock(LATER)), _message())
    assert delivery.message_id == "<before-crash@authority.example.gov.uk>"
    assert delivery.accepted_at == ACCEPTED_AT
    assert (tmp_path / "conf-1234-item-7.eml").read_bytes() == earlier
    assert (tmp_path / ".docgen-receipts" / "conf-1234-item-7.json").exists()


def test_different_keys_make_different_files(tmp_path: Path) -> None:
    transport = OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT))
    _send(transport, _message(), key="conf-1234-item-7")
    _send(transport, _message("<item-8@authority.example.gov.uk>"), key="conf-1234-item-8")
    assert _visible_files(tmp_path) == ["conf-1234-item-7.eml", "conf-1234-item-8.eml"]


def test_failed_write_leaves_no_file_and_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(TransportError) as caught:
        _send(OutboxFolderTransport(tmp_path, clock=Clock(ACCEPTED_AT)), _message())
    assert caught.value.transient is True
    assert "No space left on device" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"idempotency_key": "../escape"}, "idempotency key '../escape'"),
        ({"idempotency_key": ""}, "idempotency key ''"),
        ({"message": b"Subject: no id\r\n\r\nbody\r\n"}, "no Message-ID header"),
        ({"envelope_from": "not-an-address"}, "envelope sender 'not-an-address'"),
        ({"recipients": []}, "no envelope recipients"),
        ({"recipients": ["a@b.example\r\nRCPT TO:<x@y>"]}, "is not an email address"),
    ],
    ids=["path in key", "empty key", "no message id", "bad sender", "no recipients", "injected recipient"],
)
def test_outbox_refusals(tmp_path: Path, change: dict[str, Any], fragment: str) -> None:
    arguments: dict[str, Any] = {
        "message": _message(),
        "envelope_from": SENDER,
        "recipients": [RECIPIENT],
        "idempotency_key": "conf-1234-item-7",
    }
    arguments.update(change)
    message = arguments.pop("message")
    with pytest.raises(TransportError) as caught:
        OutboxFolderTransport(tmp_path).send(message, **arguments)
    assert fragment in str(caught.value)
    assert caught.value.transient is False
    assert list(tmp_path.iterdir()) == []


def test_missing_outbox_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="does not exist") as caught:
        _send(OutboxFolderTransport(tmp_path / "absent"), _message())
    assert caught.value.transient is False


# --- configuration ----------------------------------------------------------------------------

SMTP_TOML = """
[transport]
backend = "smtp"

[transport.smtp]
host = "smtp.authority.example.gov.uk"
security = "implicit_tls"
username_env = "DOCGEN_SMTP_USERNAME"
password_env = "DOCGEN_SMTP_PASSWORD"
ca_file = "/etc/docgen/smtp-ca.pem"
timeout_seconds = 20

[transport.outbox_folder]
folder = "/var/spool/docgen/outbox"
"""


def test_full_smtp_table_parses_and_builds() -> None:
    config = parse_transport(tomllib.loads(SMTP_TOML), source="transport.toml")
    assert config == TransportSettings(
        backend="smtp",
        smtp=SmtpSettings(
            host="smtp.authority.example.gov.uk",
            port=465,
            security="implicit_tls",
            username_env="DOCGEN_SMTP_USERNAME",
            password_env="DOCGEN_SMTP_PASSWORD",
            ca_file=Path("/etc/docgen/smtp-ca.pem"),
            timeout_seconds=20.0,
        ),
        outbox_folder=OutboxFolderSettings(folder=Path("/var/spool/docgen/outbox")),
    )
    transport = build_transport(config)
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port, transport.security, transport.timeout) == (
        "smtp.authority.example.gov.uk", 465, "implicit_tls", 20.0
    )
    assert transport.ca_file == Path("/etc/docgen/smtp-ca.pem")


def _transport_table(table: dict[str, Any]) -> TransportSettings:
    return parse_transport({"transport": table}, source="transport.toml")


def test_minimal_tables_use_safe_defaults() -> None:
    smtp = _transport_table({"backend": "smtp", "smtp": {"host": "relay.example"}}).smtp
    assert smtp is not None
    assert (smtp.port, smtp.security, smtp.username_env, smtp.ca_file, smtp.timeout_seconds) == (
        587, "starttls", None, None, 30.0
    )
    outbox = _transport_table({"backend": "outbox_folder", "outbox_folder": {"folder": "out"}})
    transport = build_transport(outbox)
    assert isinstance(transport, OutboxFolderTransport)
    assert transport.folder == Path("out")


BAD_TABLES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown top-level key": (
        {"backend": "smtp", "smtp": {"host": "h"}, "retries": 3},
        "transport.toml: transport.retries: unknown key; known keys: backend, smtp, outbox_folder",
    ),
    "unknown smtp key": (
        {"backend": "smtp", "smtp": {"host": "h", "starttls": False}},
        "transport.toml: transport.smtp.starttls: unknown key; known keys: host, port,",
    ),
    "password in file": (
        {"backend": "smtp", "smtp": {"host": "h", "password": "hunter2"}},
        "transport.toml: transport.smtp.password: unknown key",
    ),
    "unknown outbox key": (
        {"backend": "outbox_folder", "outbox_folder": {"folder": "f", "mode": "0644"}},
        "transport.toml: transport.outbox_folder.mode: unknown key; known keys: folder",
    ),
    "plaintext security": (
        {"backend": "smtp", "smtp": {"host": "h", "security": "none"}},
        "transport.smtp.security: 'none' is not one of: starttls, implicit_tls; plaintext SMTP is not supported",
    ),
    "unknown backend": ({"backend": "fax"}, "transport.backend: 'fax' is not one of: smtp, outbox_folder"),
    "missing backend": ({"smtp": {"host": "h"}}, "transport.backend: required but missing"),
    "missing backend table": (
        {"backend": "smtp"},
        "transport.smtp: required but missing: backend 'smtp' needs a [transport.smtp] table",
    ),
    "missing host": ({"backend": "smtp", "smtp": {}}, "transport.smtp.host: required but missing"),
    "empty host": ({"backend": "smtp", "smtp": {"host": " "}}, "transport.smtp.host: must not be empty"),
    "port out of range": ({"backend": "smtp", "smtp": {"host": "h", "port": 70000}},
                          "transport.smtp.port: must be a whole number from 1 to 65535"),
    "port as text": ({"backend": "smtp", "smtp": {"host": "h", "port": "587"}},
                     "transport.smtp.port: must be a whole number from 1 to 65535"),
    "port as boolean": ({"backend": "smtp", "smtp": {"host": "h", "port": True}},
                        "transport.smtp.port: must be a whole number from 1 to 65535"),
    "password value instead of variable name": (
        {"backend": "smtp", "smtp": {"host": "h", "username_env": "U", "password_env": "s3cret pass!"}},
        "transport.smtp.password_env: must be the NAME of an environment variable",
    ),
    "username without password": (
        {"backend": "smtp", "smtp": {"host": "h", "username_env": "U"}},
        "transport.smtp: set both username_env and password_env, or neither",
    ),
    "zero timeout": ({"backend": "smtp", "smtp": {"host": "h", "timeout_seconds": 0}},
                     "transport.smtp.timeout_seconds: must be a number of seconds, more than 0"),
    "smtp not a table": ({"backend": "smtp", "smtp": "relay"}, "transport.smtp: must be a table"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES.values()), ids=list(BAD_TABLES))
def test_bad_tables_are_refused_naming_the_key(case: tuple[dict[str, Any], str]) -> None:
    table, fragment = case
    with pytest.raises(ConfigurationError) as caught:
        _transport_table(table)
    assert fragment in str(caught.value)
    assert "hunter2" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_password_key_points_to_environment_variables() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _transport_table({"backend": "smtp", "smtp": {"host": "h", "password": "hunter2"}})
    assert "set username_env and password_env" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_every_problem_in_a_transport_file_is_listed_with_the_file(tmp_path: Path) -> None:
    file = tmp_path / "smtp.toml"
    file.write_text('[transport]\nbackend = "smtp"\nretries = 3\n\n[transport.smtp]\nport = "587"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_transport(file)
    assert str(caught.value).splitlines() == [
        "Transport settings not loaded: 3 problems found:",
        f"  - {file}: transport.retries: unknown key; known keys: backend, smtp, outbox_folder, notify, sms_folder, "
        "print_batch",
        f"  - {file}: transport.smtp.port: must be a whole number from 1 to 65535",
        f"  - {file}: transport.smtp.host: required but missing",
    ]


def test_a_transport_file_holds_only_the_transport_table(tmp_path: Path) -> None:
    file = tmp_path / "smtp.toml"
    file.write_text('[smtp]\nhost = "h"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_transport(file)
    assert f"{file}: smtp: unknown key; known keys: transport" in str(caught.value)
    assert f"{file}: transport: required but missing" in str(caught.value)


def test_transports_share_one_interface(tmp_path: Path) -> None:
    for transport in (OutboxFolderTransport(tmp_path), SmtpTransport("relay.example", 587),
                      SmsFolderTransport(tmp_path), PrintBatchTransport(tmp_path)):
        assert isinstance(transport, Transport)
    assert {OutboxFolderTransport.name, SmtpTransport.name, SmsFolderTransport.name, PrintBatchTransport.name} == {
        "outbox_folder", "smtp", "sms_folder", "print_batch"}
