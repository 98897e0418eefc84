"""The audit trail's seal: signed checkpoints of its head outside the database, written after every
decision and every release, and the check that release decisions are read from a trail that
agrees with them.

Where the checkpoints are and who signs them: ``use_audit_seal`` (the scheduler, the demo and the
tests), else the environment: ``DOCGEN_AUDIT_CHECKPOINTS`` (the file; by default beside a SQLite
database, ``DATABASE.audit-checkpoints.jsonl``, or ``var/audit-checkpoints-TRAIL.jsonl``) and
``DOCGEN_SIGNING_IDENTITY`` with ``DOCGEN_SIGNING_PASSPHRASE`` (the authority's signing key, the
one S/MIME uses). Without a file and without a key the trail is still checked as a chain, but
nothing outside the database vouches for its head.
"""

from __future__ import annotations

import hashlib
import logging
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from docgen.adapters.audit_checkpoints import CheckpointLog, CheckpointSigner, ReadCheckpoints
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import TAMPERED, append_event, entries_from, newest_entry, verify_trail
from docgen.domain.audit import DECISIONS, AuditEntry, Checkpoint, compare_with_checkpoints, verify_chain
from docgen.errors import AuditError
from docgen.services.runtime import Runtime

log = logging.getLogger("docgen.audit")

CHECKPOINTS_ENV = "DOCGEN_AUDIT_CHECKPOINTS"
SYSLOG_ENV = "DOCGEN_AUDIT_SYSLOG"
SIGNING_IDENTITY_ENV = "DOCGEN_SIGNING_IDENTITY"


@dataclass(frozen=True)
class AuditSeal:
    """The checkpoint file of one database's trail, and the key to sign new checkpoints (if this
    process has it: the chair's command line may not)."""

    log: CheckpointLog
    signer: CheckpointSigner | None = None


_SEALS: weakref.WeakKeyDictionary[Engine, AuditSeal] = weakref.WeakKeyDictionary()


def trail_name(engine: Engine) -> str:
    """Which trail (database) checkpoints are for: from its URL, never its password."""
    url = engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def default_checkpoint_path(engine: Engine) -> Path:
    configured = os.environ.get(CHECKPOINTS_ENV)
    if configured:
        return Path(configured)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        return Path(database).with_name(Path(database).name + ".audit-checkpoints.jsonl")
    return Path("var") / f"audit-checkpoints-{trail_name(engine)}.jsonl"


def use_audit_seal(runtime: Runtime, *, path: Path | None = None, signer: CheckpointSigner | None = None) -> AuditSeal:
    """Seal ``runtime``'s trail with the checkpoint file ``path`` (default as above), signed by ``signer``."""
    seal = AuditSeal(CheckpointLog(path or default_checkpoint_path(runtime.engine), trail=trail_name(runtime.engine),
                                   certificate=signer.certificate if signer is not None else None), signer)
    _SEALS[runtime.engine] = seal
    return seal


def audit_seal(target: Runtime | Session | Engine) -> AuditSeal | None:
    """The seal of a database's trail: as set by ``use_audit_seal``, else from the environment, else
    the default file if it exists (checkpoints written by the scheduler), else None."""
    engine = _engine(target)
    seal = _SEALS.get(engine)
    if seal is not None:
        return seal
    signer = _signer_from_environment()
    path = default_checkpoint_path(engine)
    if signer is None and CHECKPOINTS_ENV not in os.environ and not path.exists():
        return None
    seal = AuditSeal(CheckpointLog(path, trail=trail_name(engine),
                                   certificate=signer.certificate if signer is not None else None), signer)
    _SEALS[engine] = seal
    return seal


def _engine(target: Runtime | Session | Engine) -> Engine:
    if isinstance(target, Runtime):
        return target.engine
    if isinstance(target, Session):
        bind = target.get_bind()
        return bind if isinstance(bind, Engine) else bind.engine
    return target


def _signer_from_environment() -> CheckpointSigner | None:
    identity_path = os.environ.get(SIGNING_IDENTITY_ENV)
    if not identity_path:
        return None
    from distribution.keys import load_signing_identity

    identity = load_signing_identity(identity_path)
    return CheckpointSigner(identity.private_key, identity.certificate)


def signed_checkpoints(seal: AuditSeal | None) -> ReadCheckpoints:
    if seal is None:
        return ReadCheckpoints((), ())
    return seal.log.read()


def checkpoint(runtime: Runtime, *, vouch_for: Iterable[int] = (), actor: str = "docgen") -> Checkpoint | None:
    """Sign the trail's head into the checkpoint file, if this process has the key.

    The trail since the last checkpoint is verified first, and a decision entry in it that the
    caller does not vouch for (``vouch_for``: the entries it has just written) is not covered: a
    decision appended by someone else would otherwise be signed as genuine. Returns the new
    checkpoint, or None when there is no key or nothing new.
    """
    seal = audit_seal(runtime)
    if seal is None or seal.signer is None:
        return None
    read = seal.log.read()
    vouched = set(vouch_for)
    with unit_of_work(runtime.sessions) as session:
        previous = read.checkpoints[-1] if read.checkpoints else None
        entries, newest = _stretch(session, previous.sequence if previous is not None else 1)
    _check_stretch(entries, newest, read.checkpoints, read.problems)
    if not entries or (previous is not None and entries[-1].sequence == previous.sequence):
        return None
    # The first checkpoint of a trail covers what is there (nothing signed before can contradict it);
    # after that, only what the signer itself wrote, or was told to confirm.
    strangers = [e.sequence for e in entries if e.action in DECISIONS and e.sequence not in vouched
                 and previous is not None and e.sequence > previous.sequence]
    if strangers:
        raise AuditError(f"entries {', '.join(map(str, strangers))} are decisions that no checkpoint covers and "
                         f"that {actor} did not write; they are not signed as genuine. Check them with `docgen audit "
                         "list`, then run `docgen audit checkpoint --confirm`")
    head = entries[-1]
    made = Checkpoint(sequence=head.sequence, sha256=head.sha256, signed_at=runtime.clock())
    line = seal.log.append(made, seal.signer)
    _send_to_syslog(line)
    return made


def _send_to_syslog(line: str) -> None:
    """A second copy of the checkpoint, off the machine, when ``DOCGEN_AUDIT_SYSLOG`` names a syslog
    server (``HOST:PORT``, UDP) or socket (a path such as ``/dev/log``)."""
    target = os.environ.get(SYSLOG_ENV)
    if not target:
        return
    import json
    import logging.handlers

    # Without the certificate (a syslog message may be cut at 1 or 2 KB): its SHA-256 instead.
    record = json.loads(line)
    certificate = record.pop("certificate", "")
    record["certificate_sha256"] = hashlib.sha256(certificate.encode("ascii")).hexdigest()
    line = json.dumps(record, sort_keys=True)

    address: str | tuple[str, int] = target
    if not target.startswith("/"):
        host, _, port = target.rpartition(":")
        address = (host or "localhost", int(port or 514))
    try:
        handler = logging.handlers.SysLogHandler(address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH)
    except OSError as exc:
        log.error("audit checkpoint not sent to syslog %s: %s", target, exc.strerror or type(exc).__name__)
        return
    try:
        handler.emit(logging.LogRecord("docgen.audit", logging.INFO, __file__, 0, "docgen-audit-checkpoint %s",
                                       (line,), None))
    finally:
        handler.close()


def checkpoint_quietly(runtime: Runtime, *, vouch_for: Iterable[int] = (), actor: str = "docgen") -> None:
    """``checkpoint``, logging instead of raising: what was recorded is kept; a decision it could not
    cover is held at release, with the reason, until it is checked and covered."""
    try:
        checkpoint(runtime, vouch_for=vouch_for, actor=actor)
    except AuditError as exc:
        log.error("audit checkpoint not written: %s", exc)


def _stretch(session: Session, start: int) -> tuple[list[AuditEntry], int]:
    """The entries from ``start`` to the newest, and the newest entry's number (0 for an empty trail)."""
    entries = entries_from(session, start)
    if entries:
        return entries, entries[-1].sequence
    newest = newest_entry(session)
    return entries, newest.sequence if newest is not None else 0


def _check_stretch(entries: list[AuditEntry], newest: int, checkpoints: tuple[Checkpoint, ...],
                   problems: tuple[str, ...]) -> None:
    """Raise AuditError unless ``entries`` (a stretch up to the newest, ``newest``) chain and agree
    with every checkpoint they reach, and no checkpoint is beyond them."""
    found: list[str] = list(problems)
    broken = verify_chain(entries, partial=True)
    if broken is not None:
        found.append(f"the audit trail is broken at {broken}")
    found += compare_with_checkpoints({e.sequence: e.sha256 for e in entries}, newest, checkpoints)
    if found:
        raise AuditError("the audit trail does not check out: " + "; ".join(found) + ". " + TAMPERED)


def trusted_decision(session: Session, runtime_seal: AuditSeal | None, *, reference: str, subject: str,
                     actions: frozenset[str]) -> AuditEntry | None:
    """The newest decision entry about ``subject`` in ``reference``, once the trail from it to the
    head chains, agrees with the signed checkpoints, and a checkpoint covers the decision (once the
    trail has any checkpoint: until its first, the chain is all there is to check).

    Raises AuditError saying why the decision cannot be trusted; returns None if there is none.
    """
    decision = newest_entry(session, reference=reference, subject=subject, actions=actions)
    read = signed_checkpoints(runtime_seal)
    if decision is None:
        if read.checkpoints:  # nothing decided, as long as nothing was removed: check the head
            _check_stretch(*_stretch(session, read.checkpoints[-1].sequence), read.checkpoints, read.problems)
        return None
    start = decision.sequence
    if read.checkpoints:
        start = min(start, read.checkpoints[-1].sequence)
    _check_stretch(*_stretch(session, start), read.checkpoints, read.problems)
    if read.checkpoints and read.checkpoints[-1].sequence < decision.sequence:
        raise AuditError(f"the decision (audit entry {decision.sequence}) is not yet covered by a signed checkpoint, "
                         "as every genuine decision is when it is made; if it is genuine, run `docgen audit "
                         "checkpoint --confirm` with the authority's signing key")
    return decision


def verify_sealed_trail(runtime: Runtime, *, expected_head: str | None = None) -> tuple[int, str, AuditSeal | None, int]:
    """``docgen audit verify``: the whole chain, against every signed checkpoint. Returns the number
    of entries, the head, the seal, and how many checkpoints were checked."""
    seal = audit_seal(runtime)
    read = signed_checkpoints(seal)
    if read.problems:
        raise AuditError("the audit checkpoints do not check out: " + "; ".join(read.problems))
    with unit_of_work(runtime.sessions) as session:
        count, head = verify_trail(session, expected_head=expected_head, checkpoints=read.checkpoints)
    return count, head, seal, len(read.checkpoints)


def record_event(runtime: Runtime, action: str, *, actor: str, reference: str | None = None,
                 subject: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append an entry to the audit trail in its own transaction (for example ``generated`` by the
    pack builder, or ``released`` once a copy has been handed to its transport)."""
    with unit_of_work(runtime.sessions) as session:
        append_event(session, at=runtime.clock(), actor=actor, action=action, reference=reference, subject=subject,
                     details=details)
    checkpoint_quietly(runtime, actor=actor)
