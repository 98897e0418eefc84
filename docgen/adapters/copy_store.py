"""A folder that keeps rendered copies between runs, addressed by what they were made from, so
that nothing is laid out twice for the same inputs.

Three kinds of file, all written whole (temporary file, then rename) and all safe to lose:

- ``blobs/AB/ABCD...``: bytes named by their SHA-256 (a copy, or what the leak gate read back
  from it, as JSON). The name is checked against the content on every read, so a damaged file is
  treated as missing, never used.
- ``records/NS/KEY.json``: small JSON records under a namespace (which reads a recipe depends
  on, which copy those reads gave).
- ``marks/NS/KEY``: empty files that say something was established for a key (a copy passed
  the leak gate for exactly these inputs).

The store is bounded: when it holds more than ``max_bytes``, the least recently used files are
removed until it holds three quarters of that. Everything in it can be made again, so removing
any file, or emptying the store (:meth:`CopyStore.clear`, ``docgen store clear``), only costs time.
The folder is as confidential as the copies it holds: it is created readable by its owner only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from docgen.errors import DocgenError

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{16,128}$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_LOCK = threading.Lock()


class CopyStoreError(DocgenError):
    """The copy store's folder cannot be used."""


class CopyStore:
    """The store in ``folder``; see the module's description."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1024 * 1024:
            raise CopyStoreError(f"the copy store's size limit must be at least 1 MB, not {max_bytes} bytes")
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._held: int | None = None  # what the store holds, counted once, then kept up to date
        self._checked = False

    # -- blobs ------------------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        """Keep ``data``; returns its SHA-256, its address."""
        address = hashlib.sha256(data).hexdigest()
        path = self._blob(address)
        if path.exists():
            _touch(path)
        else:
            self._write(path, data)
        return address

    def blob(self, address: str) -> bytes | None:
        """The bytes at ``address``, or None when they are not kept (or were damaged)."""
        self._trusted()
        path = self._blob(address)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != address:
            path.unlink(missing_ok=True)
            return None
        _touch(path)
        return data

    # -- records and marks --------------------------------------------------------------------------

    def put_record(self, namespace: str, key: str, record: Any) -> None:
        self._write(self._record(namespace, key), json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    def record(self, namespace: str, key: str) -> Any:
        """The record kept under ``namespace`` and ``key``, or None."""
        self._trusted()
        path = self._record(namespace, key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        _touch(path)
        return record

    def mark(self, namespace: str, key: str) -> None:
        self._write(self._mark(namespace, key), b"")

    def marked(self, namespace: str, key: str) -> bool:
        self._trusted()
        path = self._mark(namespace, key)
        if not path.exists():
            return False
        _touch(path)
        return True

    # -- size -------------------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        """The files kept and their bytes."""
        files = self._files()
        return len(files), sum(size for _, size, _ in files)

    def prune(self) -> int:
        """Remove the least recently used files until the store is within three quarters of its
        limit, if it is over it; returns the files removed."""
        with _LOCK:
            files = sorted(self._files(), key=lambda entry: entry[2])
            total = sum(size for _, size, _ in files)
            self._held = total
            if total <= self.max_bytes:
                return 0
            removed = 0
            for path, size, _ in files:
                if total <= self.max_bytes * 3 // 4:
                    break
                path.unlink(missing_ok=True)
                total -= size
                removed += 1
            self._held = total
            return removed

    def clear(self) -> int:
        """Remove everything the store holds; returns the files removed."""
        count = sum(1 for _ in self._files())
        for name in ("blobs", "records", "marks"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
        return count

    # -- inside -----------------------------------------------------------------------------------

    def _trusted(self) -> None:
        """Refuse a store folder another user could have written to: what it holds is served as copies."""
        try:
            status = self.folder.stat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CopyStoreError(f"the copy store {self.folder} cannot be read: {exc.strerror}") from None
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            raise CopyStoreError(f"the copy store {self.folder} can be written by another user or group; it is not "
                                 "used. Make it this user's own with mode 700, or empty it (`docgen store clear`)")

    def _files(self) -> list[tuple[Path, int, int]]:
        found = []
        for name in ("blobs", "records", "marks"):
            for root, _, files in os.walk(self.folder / name):
                for file in files:
                    if file.endswith(".part"):
                        continue  # another writer's file, not yet in place
                    path = Path(root) / file
                    try:
                        status = path.stat()
                    except OSError:
                        continue
                    found.append((path, status.st_size, status.st_mtime_ns))
        return found

    def _blob(self, address: str) -> Path:
        if not _KEY.match(address):
            raise CopyStoreError("a copy store address must be a SHA-256 in hexadecimal")
        return self.folder / "blobs" / address[:2] / address

    def _record(self, namespace: str, key: str) -> Path:
        return self._keyed("records", namespace, key, ".json")

    def _mark(self, namespace: str, key: str) -> Path:
        return self._keyed("marks", namespace, key, "")

    def _keyed(self, kind: str, namespace: str, key: str, suffix: str) -> Path:
        if not _NAMESPACE.match(namespace) or not _KEY.match(key):
            raise CopyStoreError(f"a copy store key must be hexadecimal under a plain namespace ({kind})")
        return self.folder / kind / namespace / key[:2] / f"{key}{suffix}"

    def _write(self, path: Path, data: bytes) -> None:
        """Write whole or not at all. Not synced to disk: a file lost or emptied in a crash is
        only a copy to make again (blobs are checked against their address, records parsed)."""
        if not self._checked:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._checked = True
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        except OSError as exc:
            raise CopyStoreError(f"the copy store {self.folder} cannot be written: {exc.strerror}") from None
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise CopyStoreError(f"the copy store {self.folder} cannot be written: {exc.strerror}") from None
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if self._held is None:
            self.prune()  # counts what the store holds (and trims it if it is over its limit)
        else:
            self._held += len(data)
            if self._held > self.max_bytes:
                self.prune()


def _touch(path: Path) -> None:
    """Mark ``path`` as used now, for pruning the least recently used first."""
    try:
        os.utime(path)
    except OSError:
        pass


def store_from_environment(default_folder: Path) -> CopyStore:
    """The store ``DOCGEN_COPY_STORE`` names (default ``default_folder``), limited to
    ``DOCGEN_COPY_STORE_MEGABYTES`` (default 512)."""
    folder = Path(os.environ.get("DOCGEN_COPY_STORE") or default_folder)
    megabytes = os.environ.get("DOCGEN_COPY_STORE_MEGABYTES") or str(DEFAULT_MAX_BYTES // (1024 * 1024))
    try:
        limit = int(megabytes)
    except ValueError:
        raise CopyStoreError("DOCGEN_COPY_STORE_MEGABYTES must be a whole number of megabytes") from None
    return CopyStore(folder, max_bytes=limit * 1024 * 1024)
