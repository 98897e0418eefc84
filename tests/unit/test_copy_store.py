"""The copy store: addressed by content, checked on every read, bounded, and emptied on request."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from docgen.adapters.copy_store import CopyStore, CopyStoreError

MB = 1024 * 1024


def test_a_blob_is_kept_under_its_sha256_and_survives_a_new_store_on_the_same_folder(tmp_path: Path) -> None:
    address = CopyStore(tmp_path).put_blob(b"copy")
    assert address == hashlib.sha256(b"copy").hexdigest()
    assert CopyStore(tmp_path).blob(address) == b"copy"
    assert CopyStore(tmp_path).blob(hashlib.sha256(b"other").hexdigest()) is None


def test_a_damaged_blob_is_a_miss_never_used(tmp_path: Path) -> None:
    store = CopyStore(tmp_path)
    address = store.put_blob(b"the copy as it was made")
    path = next((tmp_path / "blobs").rglob(address))
    path.write_bytes(b"the copy changed on disk")
    assert store.blob(address) is None
    assert not path.exists()


def test_records_and_marks(tmp_path: Path) -> None:
    store = CopyStore(tmp_path)
    key = "ab" * 32
    assert store.record("copies", key) is None and not store.marked("passed", key)
    store.put_record("copies", key, {"sha256": "x", "pages": 2})
    store.mark("passed", key)
    assert store.record("copies", key) == {"sha256": "x", "pages": 2} and store.marked("passed", key)
    with pytest.raises(CopyStoreError):
        store.record("../outside", key)
    with pytest.raises(CopyStoreError):
        store.mark("passed", "../../etc")


def test_the_store_stays_within_its_limit_removing_the_least_recently_used(tmp_path: Path) -> None:
    store = CopyStore(tmp_path, max_bytes=MB)
    addresses = []
    for number in range(12):
        addresses.append(store.put_blob(os.urandom(200 * 1024)))
        os.utime(next((tmp_path / "blobs").rglob(addresses[-1])), ns=(number * 10**9, number * 10**9))
    store.prune()
    _, size = store.size()
    assert size <= MB
    assert store.blob(addresses[-1]) is not None  # the newest kept
    assert store.blob(addresses[0]) is None  # the oldest gone


def test_clear_empties_it(tmp_path: Path) -> None:
    store = CopyStore(tmp_path)
    store.put_blob(b"a")
    store.mark("passed", "cd" * 32)
    assert store.clear() == 2
    assert store.size() == (0, 0)


def test_the_store_never_holds_more_than_its_limit_after_a_write(tmp_path: Path) -> None:
    store = CopyStore(tmp_path, max_bytes=MB)
    for _ in range(30):
        store.put_blob(os.urandom(100 * 1024))
        assert store.size()[1] <= MB


def test_a_store_another_user_or_group_could_write_to_is_not_used(tmp_path: Path) -> None:
    """What the store holds is served as copies: a folder others could have written to is refused."""
    store = CopyStore(tmp_path / "store")
    address = store.put_blob(b"a copy")
    assert store.blob(address) == b"a copy"
    os.chmod(tmp_path / "store", 0o777)
    with pytest.raises(CopyStoreError, match="can be written by another user or group"):
        store.blob(address)
    with pytest.raises(CopyStoreError):
        store.record("copies", "0" * 64)
