"""A mail server on loopback for the demo and the tests: STARTTLS required, a certificate from the
demo's own CA made at run time, every message filed by its Message-ID as real mail stores do.

It stands in for the authority's relay, which requires TLS and has its certificate verified by the
SMTP transport (there is no plaintext mode). Nothing it receives leaves the machine.
"""

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

from distribution import demo_pki
from docgen.domain.outbox import message_token


@dataclass
class MailStore:
    """An SMTP server's handler that records every transaction and files each Message-ID once."""

    transactions: list[str] = field(default_factory=list)
    mailbox: dict[str, bytes] = field(default_factory=dict)
    envelopes: dict[str, list[str]] = field(default_factory=dict)
    """Each Message-ID's envelope recipients."""
    folder: Path | None = None
    """When set, every message is also written there, named by its Message-ID's random part."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message_id = str(BytesHeaderParser(policy=email_policy.compat32).parsebytes(content)["Message-ID"]).strip()
        with self.lock:
            self.transactions.append(message_id)
            if message_id not in self.mailbox:
                self.mailbox[message_id] = content
                self.envelopes[message_id] = list(envelope.rcpt_tos)
                if self.folder is not None:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    (self.folder / f"{message_token(message_id)}.eml").write_bytes(content)
        return "250 2.0.0 Queued"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LoopbackMailServer:
    """``with LoopbackMailServer(folder) as server:`` a STARTTLS-only server on 127.0.0.1;
    ``server.config`` is a transport settings file for it, trusting only its CA."""

    def __init__(self, folder: Path, *, keep: Path | None = None) -> None:
        self.folder = folder
        self.store = MailStore(folder=keep)
        self.port = free_port()
        self.config = folder / "smtp-loopback.toml"
        self._controller: Any = None

    def __enter__(self) -> LoopbackMailServer:
        from aiosmtpd.controller import Controller

        now = datetime.now(UTC)  # TLS checks certificates against the real clock
        self.folder.mkdir(parents=True, exist_ok=True)
        ca = demo_pki.create_certificate_authority(self.folder, at=now)
        server_cert = demo_pki.issue_server_certificate(ca, self.folder, at=now)
        assert server_cert.key_path is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(server_cert.cert_path, server_cert.key_path)
        self._controller = Controller(self.store, hostname="127.0.0.1", port=self.port, tls_context=context,
                                      require_starttls=True)
        self._controller.start()
        self.config.write_text(
            f'[transport]\nbackend = "smtp"\n\n[transport.smtp]\nhost = "127.0.0.1"\nport = {self.port}\n'
            f'security = "starttls"\nca_file = "{ca.cert_path}"\ntimeout_seconds = 10\n', encoding="utf-8")
        return self

    def __exit__(self, *_: object) -> None:
        if self._controller is not None:
            self._controller.stop()
