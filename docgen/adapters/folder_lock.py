"""A lock on an output folder, so that two `docgen pack` runs never write into one folder at once.

The lock is an advisory ``flock`` on a small file beside the folder (``.NAME.lock``), which says who
holds it; the operating system releases it when the holder exits, however it exits, so a killed
run never leaves the folder locked. The file itself stays, holding nobody once it is unlocked.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from docgen.errors import FolderInUseError


def lock_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.lock"


@contextmanager
def folder_lock(folder: Path, *, holder: str, now: datetime) -> Iterator[None]:
    """Hold the folder's lock while the block runs, or raise FolderInUseError naming who holds it."""
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUseError(f"{folder}: a pack is already being written into this folder by "
                                   f"{_holder(path)}; wait for it to finish, or choose another folder") from None
        record = {"holder": holder, "pid": os.getpid(), "host": socket.gethostname(), "since": now.isoformat(timespec="seconds")}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(record).encode("utf-8"), 0)
        yield
    finally:
        os.close(descriptor)


def _holder(path: Path) -> str:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return f"{str(record['holder'])[:60]} (process {record['pid']} on {str(record['host'])[:60]}, since {record['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another docgen process (it has not yet said who it is)"
