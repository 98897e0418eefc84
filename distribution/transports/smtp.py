"""SMTP backend: hands messages to a mail server over TLS only, never in plaintext.

``security="starttls"`` connects in plaintext and refuses to go further unless the server offers
STARTTLS and the upgrade succeeds; ``security="implicit_tls"`` starts TLS at once (port 465).
The server certificate is verified against ``ca_file`` or the system trust store, with its
hostname. Credentials, when configured, come from environment variables named in the
configuration and are only sent after TLS is up.

Failures are classified for the dispatcher: 4xx replies, refused or reset connections, timeouts
and name-lookup failures are transient; 5xx replies, certificate and other TLS failures, a missing
STARTTLS and rejected credentials are not. Either all recipients are accepted and the message is
sent, or the transaction is reset and nothing is sent.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from pathlib import Path
from typing import Literal

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, check_envelope, message_id_of, utc_now
from docgen.errors import ConfigurationError, DocgenError

Security = Literal["starttls", "implicit_tls"]
SECURITY_MODES: tuple[Security, ...] = ("starttls", "implicit_tls")


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _to_crlf(message: bytes) -> bytes:
    """SMTP needs CRLF line endings; convert bare LF (and leave CRLF alone)."""
    return message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class SmtpTransport(Transport):
    """Sends through an SMTP server that must speak TLS."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username_env: str | None = None,
        password_env: str | None = None,
        ca_file: Path | str | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ConfigurationError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {security!r}."
            )
        if (username_env is None) != (password_env is None):
            raise ConfigurationError("Set both username_env and password_env for SMTP, or neither.")
        if timeout <= 0:
            raise ConfigurationError("The SMTP timeout must be a positive number of seconds.")
        self.host = host
        self.port = port
        self.security: Security = security
        self.username_env = username_env
        self.password_env = password_env
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._clock = clock

    def __repr__(self) -> str:
        return f"SmtpTransport(host={self.host!r}, port={self.port}, security={self.security!r})"

    @property
    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file is not None else None
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"Cannot load the CA file {self.ca_file} for the {self._where}: {exc}."
            ) from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _credentials(self) -> tuple[str, str] | None:
        if self.username_env is None or self.password_env is None:
            return None
        username = os.environ.get(self.username_env)
        password = os.environ.get(self.password_env)
        missing = [name for name, value in ((self.username_env, username), (self.password_env, password)) if not value]
        if missing or username is None or password is None:
            raise ConfigurationError(
                f"SMTP credentials are configured but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set in the environment."
            )
        return username, password

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.security == "implicit_tls":
            client = smtplib.SMTP_SSL(
                self.host, self.port, local_hostname=self.local_hostname,
                timeout=self.timeout, context=context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            code, reply = client.ehlo()
            if not 200 <= code < 300:
                raise smtplib.SMTPHeloError(code, reply)
            if self.security == "implicit_tls":
                return client
            if not client.has_extn("starttls"):
                raise TransportError(
                    f"The {self._where} does not offer STARTTLS, so the message was not sent: "
                    "messages are never sent unencrypted. Check the server, or whether "
                    "something on the network is stripping STARTTLS.",
                    transient=False,
                )
            client.starttls(context=context)
            client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    def _transfer(
        self,
        client: smtplib.SMTP,
        credentials: tuple[str, str] | None,
        envelope_from: str,
        recipients: list[str],
        wire: bytes,
    ) -> str:
        if credentials is not None:
            client.login(*credentials)
        code, reply = client.mail(envelope_from)
        if code != 250:
            client.rset()
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        refused: dict[str, tuple[int, bytes]] = {}
        for address in recipients:
            code, reply = client.rcpt(address)
            if code not in (250, 251):
                refused[address] = (code, reply)
        if refused:
            client.rset()
            details = "; ".join(f"{a}: {c} {_reply_text(r)}" for a, (c, r) in refused.items())
            raise TransportError(
                f"The {self._where} refused recipients, so nothing was sent: {details}.",
                transient=all(400 <= c < 500 for c, _ in refused.values()),
            )
        code, reply = client.data(wire)  # raises unless DATA is answered 354, but not on the final reply
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return f"{code} {_reply_text(reply)}"

    def send(
        self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str
    ) -> Delivery:
        check_envelope(envelope_from, recipients)
        message_id = message_id_of(message)
        wire = _to_crlf(message)
        if not wire.isascii():
            raise TransportError(
                "The message is not 7-bit ASCII; S/MIME messages from docgen always are, so it "
                "was not sent.",
                transient=False,
            )
        credentials = self._credentials()
        context = self._tls_context()
        try:
            client = self._connect(context)
            try:
                final_reply = self._transfer(client, credentials, envelope_from, recipients, wire)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except DocgenError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is classified as transient or permanent; none is swallowed
            raise self._classify(exc) from None
        return Delivery(
            message_id=message_id,
            transport=self.name,
            accepted_at=self._clock(),
            idempotency_key=idempotency_key,
            reference=final_reply,
        )

    def _classify(self, exc: Exception) -> Exception:
        """Turn what smtplib, ssl and socket raise into a :class:`TransportError`."""
        where = self._where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            transient = 400 <= exc.smtp_code < 500
            return TransportError(
                f"The {where} did not accept the SMTP credentials from {self.username_env}/"
                f"{self.password_env} ({exc.smtp_code} {_reply_text(exc.smtp_error)}).",
                transient=transient,
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            transient = 400 <= exc.smtp_code < 500
            kind = "temporarily refused" if transient else "refused"
            return TransportError(
                f"The {where} {kind} the message ({exc.smtp_code} {_reply_text(exc.smtp_error)}).",
                transient=transient,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return TransportError(f"The {where} does not support what is needed: {exc}.", transient=False)
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError):
            exc = exc.__context__  # smtplib reports a read timeout as a disconnection
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TransportError(f"The {where} closed the connection unexpectedly ({exc}).", transient=True)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TransportError(
                f"The {where} presented a certificate that could not be verified "
                f"({exc.verify_message}); nothing was sent. Check ca_file and the server name.",
                transient=False,
            )
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return TransportError(f"The TLS connection to the {where} was cut off ({exc}).", transient=True)
        if isinstance(exc, ssl.SSLError):
            return TransportError(f"TLS with the {where} failed ({exc.reason or exc}); nothing was sent.", transient=False)
        if isinstance(exc, TimeoutError | socket.timeout):
            return TransportError(f"The {where} did not answer within {self.timeout:g} seconds.", transient=True)
        if isinstance(exc, ConnectionError):
            return TransportError(f"Cannot connect to the {where}: {exc.strerror or exc}.", transient=True)
        if isinstance(exc, socket.gaierror):
            return TransportError(f"Cannot look up the {where}: {exc.strerror or exc}.", transient=True)
        if isinstance(exc, OSError):
            return TransportError(f"Network error talking to the {where}: {exc.strerror or exc}.", transient=True)
        # Only the type: the text of an unexpected error (e.g. a codec error) may quote a secret.
        return TransportError(
            f"Unexpected failure sending to the {where} ({type(exc).__name__}); nothing is known "
            "to have been sent.",
            transient=False,
        )
