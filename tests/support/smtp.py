"""A STARTTLS-only SMTP server on loopback (aiosmtpd) that files every message by its Message-ID,
as real mail stores do, with a certificate from the run-time demo CA; and the fixture that runs it."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from distribution import demo_pki


@dataclass
class MailStore:
    """An SMTP server's handler that records every transaction and files each Message-ID once."""

    transactions: list[str] = field(default_factory=list)
    mailbox: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message_id = str(BytesHeaderParser(policy=email_policy.compat32).parsebytes(content)["Message-ID"]).strip()
        with self.lock:
            self.transactions.append(message_id)
            self.mailbox.setdefault(message_id, content)
        return "250 2.0.0 Queued"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Any:
    """A STARTTLS-only aiosmtpd server on loopback; yields (store, transport config file)."""
    now = datetime.now(UTC)  # TLS checks certificates against the real clock
    ca = demo_pki.create_certificate_authority(tmp_path, at=now)
    server_cert = demo_pki.issue_server_certificate(ca, tmp_path, at=now)
    assert server_cert.key_path is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_cert.cert_path, server_cert.key_path)
    store = MailStore()
    port = free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    config = tmp_path / "transport.toml"
    config.write_text(
        f'[transport]\nbackend = "smtp"\n\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        f'security = "starttls"\nca_file = "{ca.cert_path}"\ntimeout_seconds = 10\n', encoding="utf-8")
    yield store, config
    controller.stop()
