"""Hand delivery: copies for people without an email address, put out for printing and handing over.

A child's copy is handed over by their social worker; a parent without email gets theirs by hand
or by post. The message built for them is the same as an emailed one (a protected PDF with a
covering note), and this backend takes it apart: the protected PDF becomes ``<key>.pdf`` and the
covering note, which says who hands it to whom, ``<key>.txt``. Nothing in clear is written: the
PDF is the protected one and the passphrase goes separately by letter. Files appear atomically and
a key already handed over is not written again.
"""

from __future__ import annotations

import errno
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, message_id_of, utc_now
from distribution.transports.outbox_folder import KEY_PATTERN, publish_file


class HandDeliveryTransport(Transport):
    """Writes the protected PDF of each message and its covering note into ``folder``."""

    name = "hand_delivery"

    def __init__(self, folder: Path | str, *, clock: Clock = utc_now) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def __repr__(self) -> str:
        return f"HandDeliveryTransport(folder={str(self.folder)!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        if not KEY_PATTERN.fullmatch(idempotency_key):
            raise TransportError(f"The idempotency key {idempotency_key!r} cannot name a file; nothing was written.",
                                 transient=False)
        message_id = message_id_of(message)
        parsed = message_from_bytes(message, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        pdfs = [part for part in parsed.iter_attachments() if part.get_content_type() == "application/pdf"]
        if len(pdfs) != 1:
            raise TransportError(f"a message for hand delivery must carry exactly one PDF, this one has {len(pdfs)}; "
                                 "nothing was written", transient=False)
        document = pdfs[0].get_payload(decode=True)
        if not isinstance(document, bytes) or b"/Encrypt" not in document:
            raise TransportError("the PDF for hand delivery is not protected; nothing was written", transient=False)
        body = parsed.get_body(preferencelist=("plain",))
        note = body.get_content() if body is not None else ""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            new = publish_file(self.folder, self.folder / f"{idempotency_key}.pdf", document, 0o600)
            publish_file(self.folder, self.folder / f"{idempotency_key}.txt",
                     f"Message-ID: {message_id}\n{note}".encode(), 0o600)
        except OSError as exc:
            raise TransportError(f"Cannot write to the hand-delivery folder {self.folder}: {exc.strerror or exc}.",
                                 transient=exc.errno in (errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.EINTR)) from None
        accepted = self._clock() if new else datetime.fromtimestamp(
            (self.folder / f"{idempotency_key}.pdf").stat().st_mtime, tz=self._clock().tzinfo)
        return Delivery(message_id=message_id, transport=self.name, accepted_at=accepted,
                        idempotency_key=idempotency_key, reference=f"{idempotency_key}.pdf")
