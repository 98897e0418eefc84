"""The SMTP transport against a real aiosmtpd server on loopback, with TLS from the demo CA."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from distribution import demo_pki
from distribution.errors import TransportError
from distribution.transports import SmtpTransport
from docgen.errors import ConfigurationError

SENDER = "cp-conferences@authority.example.gov.uk"
RECIPIENT = "duty.officer@police.example.gov.uk"
SECOND = "safeguarding.nurse@health.example.nhs.uk"
ACCEPTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
USER = "docgen-relay"
PASSWORD = "relay-Password-9931"
MESSAGE = (
    f"From: {SENDER}\r\nTo: {RECIPIENT}\r\nSubject: Conference documents\r\n"
    "Date: Mon, 02 Mar 2026 09:30:00 +0000\r\nMessage-ID: <item-7@authority.example.gov.uk>\r\n"
    'MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "MIIBdgYJKoZIhvcNAQcDoIIBZzCCAWMCAQAxggF6\r\n.line starting with a dot\r\n"
).encode("ascii")


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo_pki.DemoCertificateAuthority, demo_pki.IssuedCertificate]:
    folder = tmp_path_factory.mktemp("smtp-tls")
    now = datetime.now(UTC)  # the TLS handshake checks certificates against the real clock
    ca = demo_pki.create_certificate_authority(folder, at=now)
    return ca, demo_pki.issue_server_certificate(ca, folder, at=now)


@pytest.fixture(scope="session")
def unrelated_ca(tmp_path_factory: pytest.TempPathFactory) -> demo_pki.DemoCertificateAuthority:
    return demo_pki.create_certificate_authority(
        tmp_path_factory.mktemp("smtp-other-ca"), at=datetime.now(UTC), name="Unrelated CA"
    )


@dataclass
class Handler:
    """Records what the server accepted; answers DATA (and RCPT) as told."""

    data_reply: str = "250 2.0.0 Queued as 4711"
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    delivered: list[Envelope] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_reply.startswith("250"):
            self.delivered.append(envelope)
            self.tls_seen.append(session.ssl is not None)
        return self.data_reply


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_context(server_cert: demo_pki.IssuedCertificate) -> ssl.SSLContext:
    assert server_cert.key_path is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_cert.cert_path, server_cert.key_path)
    return context


StartServer = Callable[..., tuple[Handler, int]]


@pytest.fixture
def start_server(tls: tuple[demo_pki.DemoCertificateAuthority, demo_pki.IssuedCertificate]) -> Iterator[StartServer]:
    """Start aiosmtpd servers on 127.0.0.1; every one is stopped at teardown."""
    controllers: list[Controller] = []

    def start(
        *,
        mode: str = "starttls",
        handler: Handler | None = None,
        server_cert: demo_pki.IssuedCertificate | None = None,
        **options: Any,
    ) -> tuple[Handler, int]:
        handler = handler or Handler()
        port = _free_port()
        context = _server_context(server_cert or tls[1])
        if mode == "starttls":
            options.update(tls_context=context, require_starttls=True)
        elif mode == "implicit_tls":
            options.update(ssl_context=context)
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


def _transport(port: int, ca_file: Path, **options: Any) -> SmtpTransport:
    options.setdefault("timeout", 5.0)
    return SmtpTransport("127.0.0.1", port, ca_file=ca_file, clock=lambda: ACCEPTED_AT, **options)


def _send(transport: SmtpTransport, recipients: list[str] | None = None) -> Any:
    return transport.send(
        MESSAGE, envelope_from=SENDER, recipients=recipients or [RECIPIENT], idempotency_key="conf-1234-item-7"
    )


def test_starttls_required_server_receives_the_message_byte_for_byte(start_server: StartServer, tls: Any) -> None:
    handler, port = start_server(mode="starttls")
    delivery = _send(_transport(port, tls[0].cert_path), [RECIPIENT, SECOND])
    assert len(handler.delivered) == 1
    envelope = handler.delivered[0]
    assert envelope.content == MESSAGE
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT, SECOND]
    assert handler.tls_seen == [True]
    assert delivery.message_id == "<item-7@authority.example.gov.uk>"
    assert delivery.transport == "smtp"
    assert delivery.accepted_at == ACCEPTED_AT
    assert delivery.idempotency_key == "conf-1234-item-7"
    assert delivery.reference == "250 2.0.0 Queued as 4711"


def test_implicit_tls_delivers(start_server: StartServer, tls: Any) -> None:
    handler, port = start_server(mode="implicit_tls")
    delivery = _send(_transport(port, tls[0].cert_path, security="implicit_tls"))
    assert [e.content for e in handler.delivered] == [MESSAGE]
    assert delivery.reference.startswith("250")


def test_bare_line_feeds_are_sent_as_crlf(start_server: StartServer, tls: Any) -> None:
    handler, port = start_server(mode="starttls")
    _transport(port, tls[0].cert_path).send(
        MESSAGE.replace(b"\r\n", b"\n"), envelope_from=SENDER, recipients=[RECIPIENT], idempotency_key="k"
    )
    assert handler.delivered[0].content == MESSAGE


def test_server_without_starttls_is_refused_and_nothing_is_sent(start_server: StartServer, tls: Any) -> None:
    handler, port = start_server(mode="plain")
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path))
    assert caught.value.transient is False
    assert "does not offer STARTTLS" in str(caught.value)
    assert handler.delivered == []


def test_untrusted_server_certificate_is_refused(start_server: StartServer, unrelated_ca: Any) -> None:
    handler, port = start_server(mode="starttls")
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, unrelated_ca.cert_path))
    assert caught.value.transient is False
    assert "could not be verified" in str(caught.value)
    assert handler.delivered == []


def test_implicit_tls_with_untrusted_certificate_is_refused(start_server: StartServer, unrelated_ca: Any) -> None:
    handler, port = start_server(mode="implicit_tls")
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, unrelated_ca.cert_path, security="implicit_tls"))
    assert caught.value.transient is False
    assert handler.delivered == []


def test_certificate_for_another_host_is_refused(start_server: StartServer, tls: Any, tmp_path: Path) -> None:
    elsewhere = demo_pki.issue_server_certificate(
        tls[0], tmp_path, at=datetime.now(UTC), hostname="mail.elsewhere.example", ip_addresses=()
    )
    handler, port = start_server(mode="starttls", server_cert=elsewhere)
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path))
    assert caught.value.transient is False
    assert "could not be verified (IP address mismatch" in str(caught.value)
    assert handler.delivered == []


@pytest.mark.parametrize(
    ("reply", "transient"),
    [("451 4.3.0 Temporary local problem", True), ("550 5.7.1 Message rejected", False)],
    ids=["451 temporary", "550 permanent"],
)
def test_data_replies_are_classified(start_server: StartServer, tls: Any, reply: str, transient: bool) -> None:
    handler, port = start_server(mode="starttls", handler=Handler(data_reply=reply))
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path))
    assert caught.value.transient is transient
    assert reply in str(caught.value)
    assert handler.delivered == []


@pytest.mark.parametrize(
    ("reply", "transient"),
    [("450 4.2.1 Mailbox busy", True), ("550 5.1.1 No such user", False)],
    ids=["450 temporary", "550 permanent"],
)
def test_any_refused_recipient_stops_the_whole_send(
    start_server: StartServer, tls: Any, reply: str, transient: bool
) -> None:
    handler, port = start_server(mode="starttls", handler=Handler(refuse_rcpt={SECOND: reply}))
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path), [RECIPIENT, SECOND])
    assert caught.value.transient is transient
    assert f"{SECOND}: {reply}" in str(caught.value)
    assert handler.delivered == []


def test_connection_refused_is_transient(tls: Any) -> None:
    with pytest.raises(TransportError) as caught:
        _send(_transport(_free_port(), tls[0].cert_path))
    assert caught.value.transient is True
    assert "Cannot connect" in str(caught.value)


def test_silent_server_times_out_as_transient(tls: Any) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP connection in the backlog, never greets
        port = silent.getsockname()[1]
        with pytest.raises(TransportError) as caught:
            _send(_transport(port, tls[0].cert_path, timeout=0.5))
    assert caught.value.transient is True
    assert "did not answer within 0.5 seconds" in str(caught.value)


# --- authentication ---------------------------------------------------------------------------


def _authenticator(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DOCGEN_TEST_SMTP_USER", USER)
    monkeypatch.setenv("DOCGEN_TEST_SMTP_PASSWORD", PASSWORD)
    return {"username_env": "DOCGEN_TEST_SMTP_USER", "password_env": "DOCGEN_TEST_SMTP_PASSWORD"}


def test_authenticates_after_starttls(start_server: StartServer, tls: Any, credentials: dict[str, str]) -> None:
    handler, port = start_server(mode="starttls", authenticator=_authenticator, auth_required=True)
    _send(_transport(port, tls[0].cert_path, **credentials))
    assert [e.content for e in handler.delivered] == [MESSAGE]


def test_server_requiring_auth_refuses_unauthenticated_send_permanently(start_server: StartServer, tls: Any) -> None:
    handler, port = start_server(mode="starttls", authenticator=_authenticator, auth_required=True)
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path))
    assert caught.value.transient is False
    assert "530" in str(caught.value)
    assert handler.delivered == []


def test_rejected_credentials_are_permanent_and_never_shown(
    start_server: StartServer, tls: Any, credentials: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_TEST_SMTP_PASSWORD", "wrong-" + PASSWORD)
    handler, port = start_server(mode="starttls", authenticator=_authenticator, auth_required=True)
    with pytest.raises(TransportError) as caught:
        _send(_transport(port, tls[0].cert_path, **credentials))
    assert caught.value.transient is False
    assert "did not accept the SMTP credentials from DOCGEN_TEST_SMTP_USER/DOCGEN_TEST_SMTP_PASSWORD (535" in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert handler.delivered == []


def test_missing_credential_variable_stops_before_connecting(
    tls: Any, credentials: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCGEN_TEST_SMTP_PASSWORD")
    # Port 9 (discard) on loopback: if a connection were attempted this would be a TransportError.
    with pytest.raises(ConfigurationError, match="DOCGEN_TEST_SMTP_PASSWORD is not set"):
        _send(_transport(9, tls[0].cert_path, **credentials))


def test_repr_shows_no_credentials(credentials: dict[str, str], tls: Any) -> None:
    transport = _transport(587, tls[0].cert_path, **credentials)
    assert repr(transport) == "SmtpTransport(host='127.0.0.1', port=587, security='starttls')"


def test_non_ascii_message_is_refused_before_connecting(tls: Any) -> None:
    with pytest.raises(TransportError, match="not 7-bit ASCII") as caught:
        _transport(9, tls[0].cert_path).send(
            MESSAGE + "café".encode(), envelope_from=SENDER, recipients=[RECIPIENT], idempotency_key="k"
        )
    assert caught.value.transient is False
