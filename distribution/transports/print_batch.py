"""Print batch backend: letters put in a folder for the authority's post room to print and post.

Each letter (a PDF with the address in its window) is written atomically as ``<idempotency
key>.pdf`` (mode 0600), and a row is added to ``manifest.csv``: the file, its pages and when it
was added, and nothing else, so the manifest names nobody. A receipt is kept in
``.docgen-receipts/``: sending the same key again returns the first delivery and writes nothing,
even after the post room has taken the batch away. Writers take a lock on the folder, so two
schedulers never interleave manifest rows.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pikepdf

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, check_letter, utc_now
from distribution.transports.outbox_folder import KEY_PATTERN, RECEIPTS_FOLDER, publish_file

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("file", "pages", "added")
_LOCK = ".docgen-batch.lock"


def page_count(pdf: bytes) -> int:
    """The pages of a letter the post room can print: a PDF that opens without a password."""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            return len(document.pages)
    except pikepdf.PasswordError:
        raise TransportError("The letter is a locked PDF the post room could not print; nothing was written.",
                             transient=False) from None
    except pikepdf.PdfError:
        raise TransportError("The letter is not a readable PDF; nothing was written.", transient=False) from None


class PrintBatchTransport(Transport):
    """Adds each letter to the print batch in ``folder`` as ``<idempotency key>.pdf`` with a manifest row.

    A letter has no Message-ID: the delivery's ``message_id`` is the idempotency key.
    """

    name = "print_batch"

    def __init__(self, folder: Path | str, *, clock: Clock = utc_now) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def __repr__(self) -> str:
        return f"PrintBatchTransport(folder={str(self.folder)!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        if not KEY_PATTERN.fullmatch(idempotency_key):
            raise TransportError("The idempotency key cannot name a file (1-128 letters, digits, '.', '_' or '-'); "
                                 "nothing was written.", transient=False)
        check_letter(message, recipients)
        pages = page_count(message)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._locked():
                earlier = self._receipt(idempotency_key)
                if earlier is not None:
                    return earlier
                name = f"{idempotency_key}.pdf"
                publish_file(self.folder, self.folder / name, message, 0o600)
                delivery = Delivery(message_id=idempotency_key, transport=self.name, accepted_at=self._clock(),
                                    idempotency_key=idempotency_key, reference=name)
                self._add_to_manifest(name, pages, delivery.accepted_at)
                self._write_receipt(delivery, pages)
        except OSError as exc:
            raise TransportError(f"Cannot write to the print batch folder {self.folder}: {exc.strerror or exc}.",
                                 transient=exc.errno in (errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.EINTR)) from None
        return delivery

    def manifest(self) -> list[dict[str, str]]:
        """The manifest's rows, as the post room reads them."""
        path = self.folder / MANIFEST
        if not path.exists():
            return []
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _add_to_manifest(self, name: str, pages: int, added: datetime) -> None:
        # A letter written before a crash, whose row was not, gets its row now; never a second one.
        if any(row.get("file") == name for row in self.manifest()):
            return
        path = self.folder / MANIFEST
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(MANIFEST_COLUMNS)
            writer.writerow((name, pages, added.isoformat(timespec="seconds")))
            handle.flush()
            os.fsync(handle.fileno())

    def _receipt_path(self, key: str) -> Path:
        return self.folder / RECEIPTS_FOLDER / f"{key}.json"

    def _receipt(self, key: str) -> Delivery | None:
        path = self._receipt_path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Delivery(message_id=data["message_id"], transport=data["transport"],
                            accepted_at=datetime.fromisoformat(data["accepted_at"]), idempotency_key=key,
                            reference=data["reference"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            raise TransportError(f"The print batch receipt {path} cannot be read; check it before sending this "
                                 "letter again, or it may be printed twice.", transient=False) from None

    def _write_receipt(self, delivery: Delivery, pages: int) -> None:
        folder = self.folder / RECEIPTS_FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
        record = {"message_id": delivery.message_id, "transport": delivery.transport,
                  "accepted_at": delivery.accepted_at.isoformat(), "reference": delivery.reference, "pages": pages}
        publish_file(folder, self._receipt_path(delivery.idempotency_key), json.dumps(record).encode("utf-8"), 0o600)
