"""SMS folder backend: each text message becomes a file in a folder, for the demo and for local use.

A text is ``To: <number>``, a blank line and the text, written atomically as ``<idempotency
key>.txt`` (mode 0600), for a person or a gateway to send from. Sending the same key again finds
the file and writes nothing, so a repeated send never makes a second text.
"""

from __future__ import annotations

import errno
import os
from datetime import datetime
from pathlib import Path

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, one_phone_number, sms_text, utc_now
from distribution.transports.outbox_folder import KEY_PATTERN, publish_file


class SmsFolderTransport(Transport):
    """Writes each text message as ``<idempotency key>.txt`` into ``folder``.

    A text has no Message-ID: the delivery's ``message_id`` is the idempotency key.
    """

    name = "sms_folder"

    def __init__(self, folder: Path | str, *, clock: Clock = utc_now) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def __repr__(self) -> str:
        return f"SmsFolderTransport(folder={str(self.folder)!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        if not KEY_PATTERN.fullmatch(idempotency_key):
            raise TransportError("The idempotency key cannot name a file (1-128 letters, digits, '.', '_' or '-'); "
                                 "nothing was written.", transient=False)
        text = sms_text(message)
        number = one_phone_number(recipients)
        final = self.folder / f"{idempotency_key}.txt"
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            now = self._clock()
            if publish_file(self.folder, final, f"To: {number}\n\n{text}\n".encode(), 0o600):
                # The file's time is when it was accepted, so a repeated send gives the same delivery.
                os.utime(final, (now.timestamp(), now.timestamp()))
            accepted = datetime.fromtimestamp(final.stat().st_mtime, tz=now.tzinfo)
        except OSError as exc:
            raise TransportError(f"Cannot write to the SMS folder {self.folder}: {exc.strerror or exc}.",
                                 transient=exc.errno in (errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.EINTR)) from None
        return Delivery(message_id=idempotency_key, transport=self.name, accepted_at=accepted,
                        idempotency_key=idempotency_key, reference=final.name)
