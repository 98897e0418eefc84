"""Signed checkpoints of the audit trail's head, kept outside the database in an append-only file.

Someone who can write to the database can rewrite the whole hash chain, but not this file, and not
the authority's signature: each line holds one checkpoint (entry number, its hash, when), signed
with the authority's signing key (the S/MIME key) and carrying the certificate to check it with.
A line whose signature does not verify, or made with another certificate than the one configured,
is reported, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from docgen.domain.audit import Checkpoint, to_utc
from docgen.errors import AuditError

FORMAT = "docgen.audit-checkpoint/1"


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _statement(trail: str, checkpoint: Checkpoint) -> bytes:
    """The bytes a checkpoint's signature is over: which trail, which entry, its hash, when."""
    document = {"format": FORMAT, "trail": trail, "sequence": checkpoint.sequence, "sha256": checkpoint.sha256,
                "signed_at": to_utc(checkpoint.signed_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _sign(private_key: Any, data: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise AuditError(f"the signing key is a {type(private_key).__name__}; audit checkpoints are signed with an RSA "
                     "or elliptic-curve key")


def _verify(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class CheckpointSigner:
    """The authority's signing key and certificate, as the checkpoints are signed with."""

    private_key: Any
    certificate: x509.Certificate


@dataclass(frozen=True)
class ReadCheckpoints:
    """The checkpoints whose signatures verify, oldest first, and what was wrong with any other line."""

    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...]


class CheckpointLog:
    """The append-only file of signed checkpoints for one trail (one database).

    ``trail`` names the database the checkpoints are for, so that a checkpoint of one database is
    never taken for another's; ``certificate``, when given, is the only certificate trusted.
    """

    def __init__(self, path: Path, *, trail: str, certificate: x509.Certificate | None = None) -> None:
        self.path = path
        self.trail = trail
        self.certificate = certificate
        # The file only grows: what was read and verified is kept, and only new lines are read
        # again (the scheduler reads it after every item it sends).
        self._read_to = 0
        self._lines_read = 0
        self._found: list[Checkpoint] = []
        self._problems: list[str] = []
        self._certificates: dict[str, x509.Certificate] = {}

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, checkpoint: Checkpoint, signer: CheckpointSigner) -> str:
        """Sign ``checkpoint`` and add it as a line at the end of the file, flushed to disk; the line."""
        signature = _sign(signer.private_key, _statement(self.trail, checkpoint))
        line = {"sequence": checkpoint.sequence, "sha256": checkpoint.sha256,
                "signed_at": to_utc(checkpoint.signed_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "trail": self.trail, "signature": base64.b64encode(signature).decode("ascii"),
                "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")}
        text = json.dumps(line, sort_keys=True)
        data = (text + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return text

    def read(self) -> ReadCheckpoints:
        """Every checkpoint in the file whose signature verifies; the others as problems."""
        if self._size() < self._read_to:  # not the file read before: read it all again
            self._read_to, self._lines_read, self._found, self._problems = 0, 0, [], []
        data = self._bytes_from(self._read_to)
        complete = data.rfind(b"\n") + 1  # a line still being written is read next time
        if complete:
            text = data[:complete].decode("utf-8", "replace")
            for line in text.split("\n")[:-1]:
                self._lines_read += 1
                if line.strip():
                    self._take(self._lines_read, line)
            self._read_to += complete
            # Schedulers running side by side append as they go, so lines need not be in order.
            self._found.sort(key=lambda c: c.sequence)
        return ReadCheckpoints(tuple(self._found), tuple(self._problems))

    def _take(self, number: int, line: str) -> None:
        checkpoint, problem = self._parse(line)
        if problem is not None:
            self._problems.append(f"{self.path}, line {number}: {problem}")
        elif checkpoint is not None:
            same = [c for c in self._found if c.sequence == checkpoint.sequence]
            if any(c.sha256 != checkpoint.sha256 for c in same):
                self._problems.append(f"{self.path}, line {number}: two signed checkpoints of entry "
                                      f"{checkpoint.sequence} disagree on its hash; the trail was forked")
            elif not same:
                self._found.append(checkpoint)

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _bytes_from(self, offset: int) -> bytes:
        try:
            with self.path.open("rb") as stream:
                stream.seek(offset)
                return stream.read()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise AuditError(f"the audit checkpoints {self.path} cannot be read ({exc.strerror or exc}); nothing "
                             "can be released until they can") from None

    def _parse(self, line: str) -> tuple[Checkpoint | None, str | None]:
        try:
            record = json.loads(line)
            checkpoint = Checkpoint(sequence=int(record["sequence"]), sha256=str(record["sha256"]),
                                    signed_at=datetime.strptime(record["signed_at"], "%Y-%m-%dT%H:%M:%S.%fZ"))
            pem = str(record["certificate"])
            certificate = self._certificates.get(pem) or x509.load_pem_x509_certificate(pem.encode("ascii"))
            self._certificates[pem] = certificate
            signature = base64.b64decode(record["signature"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            return None, f"not a checkpoint ({type(exc).__name__})"
        if record.get("trail") != self.trail:
            return None, None  # another database's checkpoint: not this trail's business
        if self.certificate is not None and fingerprint(certificate) != fingerprint(self.certificate):
            return None, "signed with a certificate other than the authority's; not trusted"
        if not _verify(certificate, signature, _statement(self.trail, checkpoint)):
            return None, f"the signature of the checkpoint of entry {checkpoint.sequence} does not verify; not trusted"
        return checkpoint, None
