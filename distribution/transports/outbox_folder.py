"""Outbox folder backend: each message becomes a ready-to-send ``.eml`` file in a folder.

A mail gateway's pickup directory, or a person, takes the files from there. Files appear
atomically (written to a temporary name in the same folder, flushed to disk, then linked into
place), so a reader never sees half a message. The file is named after the idempotency key, and a
receipt is kept in ``.docgen-receipts/``; sending the same key again returns the first delivery
and writes nothing, even after the gateway has taken the ``.eml`` away.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, check_envelope, message_id_of, utc_now

RECEIPTS_FOLDER = ".docgen-receipts"
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _fsync_folder(folder: Path) -> None:
    # Makes the new directory entry durable (POSIX); not possible or needed on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish_file(folder: Path, final: Path, data: bytes, mode: int) -> bool:
    """Write ``data`` to ``final`` atomically; ``False`` if ``final`` already existed."""
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        try:
            # link() never replaces an existing file: two senders of one key cannot both win.
            os.link(tmp, final)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # File systems without hard links (some network shares): rename instead.
            if final.exists():
                return False
            os.replace(tmp, final)
        _fsync_folder(folder)
        return True
    finally:
        tmp.unlink(missing_ok=True)


class OutboxFolderTransport(Transport):
    """Writes each message as ``<idempotency key>.eml`` into ``folder``."""

    name = "outbox_folder"

    def __init__(self, folder: Path | str, *, clock: Clock = utc_now, file_mode: int = 0o600) -> None:
        self.folder = Path(folder)
        self._clock = clock
        self._file_mode = file_mode

    def __repr__(self) -> str:
        return f"OutboxFolderTransport(folder={str(self.folder)!r})"

    def _receipt_path(self, key: str) -> Path:
        return self.folder / RECEIPTS_FOLDER / f"{key}.json"

    def _read_receipt(self, key: str) -> Delivery | None:
        path = self._receipt_path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise TransportError(
                f"The outbox receipt {path} cannot be read ({exc}); check it before sending "
                "this item again, or it may be sent twice.",
                transient=False,
            ) from None
        return Delivery(
            message_id=data["message_id"],
            transport=data["transport"],
            accepted_at=datetime.fromisoformat(data["accepted_at"]),
            idempotency_key=data["idempotency_key"],
            reference=data["reference"],
        )

    def _write_receipt(self, delivery: Delivery, envelope_from: str, recipients: list[str]) -> Delivery:
        """Record ``delivery``; if another sender of the same key recorded first, return theirs."""
        folder = self.folder / RECEIPTS_FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
        record = {
            "message_id": delivery.message_id,
            "transport": delivery.transport,
            "accepted_at": delivery.accepted_at.isoformat(),
            "idempotency_key": delivery.idempotency_key,
            "reference": delivery.reference,
            "envelope_from": envelope_from,
            "recipients": recipients,
        }
        data = json.dumps(record, indent=2).encode("utf-8")
        if publish_file(folder, self._receipt_path(delivery.idempotency_key), data, 0o600):
            return delivery
        return self._read_receipt(delivery.idempotency_key) or delivery

    def _delivery_from_file(self, path: Path, key: str) -> Delivery:
        """Rebuild the delivery of an ``.eml`` written before its receipt was (after a crash)."""
        stat = path.stat()
        return Delivery(
            message_id=message_id_of(path.read_bytes()),
            transport=self.name,
            accepted_at=datetime.fromtimestamp(stat.st_mtime, tz=self._clock().tzinfo),
            idempotency_key=key,
            reference=path.name,
        )

    def send(
        self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str
    ) -> Delivery:
        if not KEY_PATTERN.fullmatch(idempotency_key):
            raise TransportError(
                f"The idempotency key {idempotency_key!r} must be 1-128 letters, digits, '.', '_' "
                "or '-' (starting with a letter or digit); nothing was written.",
                transient=False,
            )
        check_envelope(envelope_from, recipients)
        message_id = message_id_of(message)
        if not self.folder.is_dir():
            raise TransportError(
                f"The outbox folder {self.folder} does not exist or is not a folder; create it or "
                "correct transport.outbox_folder.folder.",
                transient=False,
            )
        try:
            earlier = self._read_receipt(idempotency_key)
            if earlier is not None:
                return earlier
            final = self.folder / f"{idempotency_key}.eml"
            if not publish_file(self.folder, final, message, self._file_mode):
                delivery = self._delivery_from_file(final, idempotency_key)
            else:
                delivery = Delivery(
                    message_id=message_id,
                    transport=self.name,
                    accepted_at=self._clock(),
                    idempotency_key=idempotency_key,
                    reference=final.name,
                )
            delivery = self._write_receipt(delivery, envelope_from, recipients)
        except OSError as exc:
            raise TransportError(
                f"Cannot write to the outbox folder {self.folder}: {exc.strerror or exc}.",
                transient=exc.errno in (errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.EINTR),
            ) from None
        return delivery
