"""The checkpoint file: what it trusts (a signature that verifies, with the authority's certificate,
for this trail) and what it reports, read again as it grows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from distribution import demo_pki
from docgen.adapters.audit_checkpoints import CheckpointLog, CheckpointSigner
from docgen.domain.audit import Checkpoint

AT = datetime(2026, 11, 20, 9, 0)


def _checkpoint(sequence: int) -> Checkpoint:
    return Checkpoint(sequence=sequence, sha256=f"{sequence:064x}", signed_at=AT)


@pytest.fixture
def signer(pki: demo_pki.DemoPki) -> CheckpointSigner:
    return CheckpointSigner(pki.signing.private_key, pki.signing.certificate)


def test_checkpoints_read_back_and_new_lines_are_read_as_the_file_grows(tmp_path: Path, signer: CheckpointSigner) -> None:
    log = CheckpointLog(tmp_path / "c.jsonl", trail="t1", certificate=signer.certificate)
    assert log.read().checkpoints == ()
    log.append(_checkpoint(1), signer)
    log.append(_checkpoint(3), signer)
    assert [c.sequence for c in log.read().checkpoints] == [1, 3]
    log.append(_checkpoint(7), signer)
    read = log.read()
    assert read.checkpoints == (_checkpoint(1), _checkpoint(3), _checkpoint(7))
    assert read.problems == ()


def test_another_trails_checkpoints_are_not_this_ones(tmp_path: Path, signer: CheckpointSigner) -> None:
    CheckpointLog(tmp_path / "c.jsonl", trail="other", certificate=signer.certificate).append(_checkpoint(5), signer)
    read = CheckpointLog(tmp_path / "c.jsonl", trail="t1", certificate=signer.certificate).read()
    assert read == (read.__class__((), ()))


@pytest.mark.parametrize(("tamper", "problem"), [
    pytest.param(lambda r: r.__setitem__("sha256", "ab" * 32),
                 "the signature of the checkpoint of entry 2 does not verify; not trusted", id="hash-changed"),
    pytest.param(lambda r: r.__setitem__("signed_at", "2027-01-01T00:00:00.000000Z"),
                 "the signature of the checkpoint of entry 2 does not verify; not trusted", id="time-changed"),
    pytest.param(lambda r: r.pop("signature"), "not a checkpoint (KeyError)", id="signature-missing"),
])
def test_an_edited_line_is_reported_and_not_trusted(tmp_path: Path, signer: CheckpointSigner,
                                                    tamper: Callable[[dict[str, Any]], object], problem: str) -> None:
    path = tmp_path / "c.jsonl"
    log = CheckpointLog(path, trail="t1", certificate=signer.certificate)
    log.append(_checkpoint(1), signer)
    log.append(_checkpoint(2), signer)
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    tamper(record)
    path.write_text(lines[0] + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    read = CheckpointLog(path, trail="t1", certificate=signer.certificate).read()
    assert read.checkpoints == (_checkpoint(1),)
    assert read.problems == (f"{path}, line 2: {problem}",)


def test_a_checkpoint_signed_with_another_key_is_not_trusted(tmp_path: Path, signer: CheckpointSigner,
                                                             pki: demo_pki.DemoPki) -> None:
    path = tmp_path / "c.jsonl"
    impostor = CheckpointSigner(pki.archive.private_key, pki.archive.certificate)
    CheckpointLog(path, trail="t1").append(_checkpoint(9), impostor)
    read = CheckpointLog(path, trail="t1", certificate=signer.certificate).read()
    assert read.checkpoints == ()
    assert read.problems == (f"{path}, line 1: signed with a certificate other than the authority's; not trusted",)


def test_checkpoints_appended_out_of_order_by_schedulers_side_by_side_are_all_kept(
        tmp_path: Path, signer: CheckpointSigner) -> None:
    log = CheckpointLog(tmp_path / "c.jsonl", trail="t1", certificate=signer.certificate)
    for sequence in (4, 9, 8, 9):
        log.append(_checkpoint(sequence), signer)
    read = CheckpointLog(tmp_path / "c.jsonl", trail="t1", certificate=signer.certificate).read()
    assert [c.sequence for c in read.checkpoints] == [4, 8, 9]
    assert read.problems == ()


def test_two_checkpoints_of_one_entry_that_disagree_are_reported(tmp_path: Path, signer: CheckpointSigner) -> None:
    path = tmp_path / "c.jsonl"
    log = CheckpointLog(path, trail="t1", certificate=signer.certificate)
    log.append(_checkpoint(4), signer)
    log.append(Checkpoint(sequence=4, sha256="ef" * 32, signed_at=AT), signer)
    read = CheckpointLog(path, trail="t1", certificate=signer.certificate).read()
    assert read.problems == (f"{path}, line 2: two signed checkpoints of entry 4 disagree on its hash; the trail was forked",)
