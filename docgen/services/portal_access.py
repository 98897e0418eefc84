"""The recipient's side of the portal: the link alone opens nothing. A one-time code goes by a second
channel (a text message when the link went by email); a code works for a few minutes and a few tries,
a link gets a few codes an hour and is locked when the last of them is used up with wrong tries. The
right code starts a portal session (its own table and cookie, never a staff session), in which the
recipient sees their documents and downloads each one.

Every code sent and refused, lock, view and download is recorded (``portal_events``) and in the audit
trail as ``recipient:<link id>``, with no code, token, name or address in it; so is every other refusal
on a known link (``portal_refused``, with why: the link recalled, expired or locked, a document not on
it, too many codes, no way to send one).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import append_event
from docgen.adapters.orm_portal import PortalCode, PortalDocument, PortalEvent, PortalLink, PortalSession
from docgen.adapters.portal_crypto import PortalKeys, new_code, token_sha256
from docgen.configuration.web import WebSettings
from docgen.domain.portal import LinkState, code_message, corrections_sentence, link_state, where_the_code_goes
from docgen.errors import DocgenError, PortalError
from docgen.services.portal import CodeSender
from docgen.services.runtime import Runtime

__all__ = [
    "CodeMistyped",
    "CodeNotSent",
    "DocumentNotAvailable",
    "Door",
    "Download",
    "LinkLocked",
    "LinkNotWorking",
    "NoLiveCode",
    "RecipientDocument",
    "SignedIn",
    "TooManyCodes",
    "WrongCode",
    "documents_for",
    "download",
    "enter_code",
    "open_link",
    "send_code",
    "session_link",
    "sign_out",
]

_CODE = re.compile(r"^\d{6}$")


class LinkNotWorking(PortalError):
    """Unknown, expired, recalled or locked: the recipient is told the same in every case."""


class LinkLocked(LinkNotWorking):
    """The last code the link could have this hour was used up with wrong tries: it is now locked."""


class TooManyCodes(PortalError):
    """The link has had as many codes as it may in an hour."""


class CodeNotSent(PortalError):
    """No way to send a code: no sender configured, no address known, or the sender failed."""


class CodeMistyped(PortalError):
    """Not six digits: not counted as a try."""


class NoLiveCode(PortalError):
    """No code to check against: none asked for, expired, used, or its tries used up (``used_up``)."""

    def __init__(self, message: str, *, used_up: bool = False) -> None:
        self.used_up = used_up
        super().__init__(message)


class DocumentNotAvailable(PortalError):
    """Not on this link, not yet published, or recalled."""


class WrongCode(PortalError):
    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(f"the code is not right; {tries_left} tries left")


def _actor(link: PortalLink) -> str:
    return f"recipient:{link.id}"


E = TypeVar("E", bound=PortalError)


def _on(link: PortalLink, error: E, why: str) -> E:
    """``error``, marked as a refusal on ``link`` for :func:`_recorded` to put in the audit trail."""
    error.refused = (link.id, link.conference_reference, why)  # type: ignore[attr-defined]
    return error


def _record_refusal(runtime: Runtime, refused: tuple[int, str, str]) -> None:
    link_id, reference, why = refused
    with unit_of_work(runtime.sessions) as session:
        append_event(session, at=runtime.clock(), actor=f"recipient:{link_id}", action="portal_refused",
                     reference=reference, subject=f"portal link {link_id}", details={"link": link_id, "why": why})


@contextmanager
def _recorded(runtime: Runtime) -> Iterator[Session]:
    """A unit of work for a recipient: a refusal raised in it (a link that no longer works, a document
    not on it, too many codes, no way to send one) is rolled back with the work and then recorded in the
    audit trail (``portal_refused``) before it reaches the page. A token that names no link is not
    recorded: there is no link to name, and anyone could fill the trail with guesses."""
    try:
        with unit_of_work(runtime.sessions) as session:
            yield session
    except PortalError as error:
        refused = getattr(error, "refused", None)
        if refused is not None:
            _record_refusal(runtime, refused)
        raise


def _live(session: Session, token: str, now: datetime, *, lock: bool = False) -> PortalLink:
    """The live link the token names. ``lock`` holds its row until the transaction ends (PostgreSQL), so
    codes asked for at the same moment are counted one after the other."""
    query = select(PortalLink).where(PortalLink.token_sha256 == token_sha256(token))
    return _still_live(session.scalar(query.with_for_update() if lock else query), now)


def _still_live(link: PortalLink | None, now: datetime) -> PortalLink:
    """``link`` if it is live now; LinkNotWorking (the same for every reason) otherwise."""
    if link is None:
        raise LinkNotWorking("this link no longer works")
    state = link_state(recalled_at=link.recalled_at, locked_at=link.locked_at, expires_at=link.expires_at, now=now)
    if state is not LinkState.LIVE:
        raise _on(link, LinkNotWorking("this link no longer works"), f"link {state.value}")
    return link


def _event(session: Session, link: PortalLink, kind: str, action: str, now: datetime, *,
           document: PortalDocument | None = None, **details: object) -> None:
    session.add(PortalEvent(link_id=link.id, document_id=document.id if document else None, kind=kind, at=now))
    facts: dict[str, object] = {"link": link.id, **details}
    if document is not None:
        facts |= {"document": document.id, "outbox_item": document.outbox_item_id}
    append_event(session, at=now, actor=_actor(link), action=action, reference=link.conference_reference,
                 subject=f"portal link {link.id}", details=facts)


@dataclass(frozen=True)
class Door:
    """What the link's first page may say before a code is entered."""

    link_id: int
    code_channel: str
    code_goes_to: str | None  # "your phone ending 733"; None when no address is known


def open_link(runtime: Runtime, token: str) -> Door:
    """The link's landing page; LinkNotWorking for an unknown, expired, recalled or locked link alike."""
    with _recorded(runtime) as session:
        link = _live(session, token, runtime.clock())
        goes_to = where_the_code_goes(link.code_channel, link.code_address) if link.code_address else None
        return Door(link.id, link.code_channel, goes_to)


def send_code(runtime: Runtime, token: str, sender: CodeSender | None, settings: WebSettings) -> None:
    """Make a new code (earlier ones stop working), record it, then send it. Refused after
    ``portal_codes_per_hour`` codes in the last hour."""
    keys = PortalKeys.from_environment()
    phone = runtime.settings.authority.phone
    now = runtime.clock()
    with _recorded(runtime) as session:
        link = _live(session, token, now, lock=True)
        if sender is None or not link.code_address:
            raise _on(link, CodeNotSent(f"We cannot send you a code at the moment. Phone us on {phone} and we will "
                                        "help you get your documents."),
                      "no code sender" if sender is None else "no address for codes")
        sent = session.scalar(select(func.count()).select_from(PortalCode).where(
            PortalCode.link_id == link.id, PortalCode.created_at > now - timedelta(hours=1))) or 0
        if sent >= settings.portal_codes_per_hour:
            raise _on(link, TooManyCodes(f"You have asked for {sent} codes in the last hour. Wait an hour and try "
                                         f"again, or phone us on {phone}."), "too many codes this hour")
        session.execute(update(PortalCode).where(PortalCode.link_id == link.id, PortalCode.used_at.is_(None),
                                                 PortalCode.expires_at > now).values(expires_at=now))
        code, salt = new_code(), secrets.token_hex(16)
        row = PortalCode(link_id=link.id, salt=salt, code_hash=keys.code_hash(code, salt=salt), created_at=now,
                         expires_at=now + timedelta(minutes=settings.portal_code_minutes), attempts=0)
        session.add(row)
        session.flush()
        _event(session, link, "code_sent", "portal_code_sent", now, channel=link.code_channel)
        # A random key: it names the message to its carrier (GOV.UK Notify's reference), and says nothing.
        channel, address, key = link.code_channel, link.code_address, secrets.token_hex(16)
        refused = (link.id, link.conference_reference, "the code could not be sent")
    text = code_message(runtime.settings.authority.name, code, settings.portal_code_minutes)
    try:
        sender(channel, address, text, key)
    except (DocgenError, OSError):
        _record_refusal(runtime, refused)
        raise CodeNotSent(f"We could not send your code just now. Try again in a few minutes, or phone us on "
                          f"{phone}.") from None


@dataclass(frozen=True)
class SignedIn:
    session_token: str  # for the portal cookie; only its SHA-256 is kept
    link_id: int


def enter_code(runtime: Runtime, token: str, code: str, settings: WebSettings) -> SignedIn:
    """Check ``code`` against the link's newest code; on success start a portal session. Each try is
    counted before it is checked, so tries made at the same moment cannot exceed the limit."""
    code = re.sub(r"\s", "", code)
    if not _CODE.match(code):
        raise CodeMistyped("Enter the 6 numbers of the code we sent you")
    keys = PortalKeys.from_environment()
    now = runtime.clock()
    refusal: PortalError | None = None
    with _recorded(runtime) as session:
        link = _live(session, token, now)
        row = session.scalars(select(PortalCode).where(PortalCode.link_id == link.id, PortalCode.used_at.is_(None))
                              .order_by(PortalCode.id.desc()).limit(1)).first()
        counted = row is not None and row.expires_at > now and session.execute(
            update(PortalCode).where(PortalCode.id == row.id, PortalCode.attempts < settings.portal_code_attempts)
            .values(attempts=PortalCode.attempts + 1)).rowcount == 1  # type: ignore[attr-defined]
        if row is None or not counted:
            _event(session, link, "code_refused", "portal_code_refused", now, why="no live code")
            refusal = NoLiveCode("no live code")
        else:
            session.refresh(row)
            if keys.code_matches(code, salt=row.salt, stored=row.code_hash):
                row.used_at = now
                session_token = secrets.token_urlsafe(32)
                session.add(PortalSession(token_sha256=token_sha256(session_token), link_id=link.id, created_at=now,
                                          last_seen_at=now))
                append_event(session, at=now, actor=_actor(link), action="portal_signed_in",
                             reference=link.conference_reference, subject=f"portal link {link.id}",
                             details={"link": link.id})
                return SignedIn(session_token, link.id)
            tries_left = max(0, settings.portal_code_attempts - row.attempts)
            _event(session, link, "code_refused", "portal_code_refused", now, why="wrong code", tries_left=tries_left)
            refusal = WrongCode(tries_left) if tries_left else NoLiveCode("tries used up", used_up=True)
            codes_this_hour = session.scalar(select(func.count()).select_from(PortalCode).where(
                PortalCode.link_id == link.id, PortalCode.created_at > now - timedelta(hours=1))) or 0
            if not tries_left and codes_this_hour >= settings.portal_codes_per_hour:
                link.locked_at, link.live_for = now, None
                session.execute(delete(PortalSession).where(PortalSession.link_id == link.id))
                _event(session, link, "locked", "portal_link_locked", now)
                refusal = LinkLocked("this link is locked")
    # Committed above before raising, so the try counts.
    assert refusal is not None
    raise refusal


def session_link(runtime: Runtime, session_token: str, settings: WebSettings) -> int | None:
    """The link a portal session is for, or None when the session is unknown, older than
    ``portal_session_minutes``, or its link no longer works (the session is then removed)."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        row = session.get(PortalSession, token_sha256(session_token))
        if row is None:
            return None
        link = session.get(PortalLink, row.link_id)
        if (link is None or now - row.created_at > timedelta(minutes=settings.portal_session_minutes)
                or link_state(recalled_at=link.recalled_at, locked_at=link.locked_at, expires_at=link.expires_at,
                              now=now) is not LinkState.LIVE):
            session.delete(row)
            return None
        if now - row.last_seen_at > timedelta(seconds=30):
            row.last_seen_at = now
        return link.id


def sign_out(runtime: Runtime, session_token: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = session.get(PortalSession, token_sha256(session_token))
        if row is not None:
            session.delete(row)


@dataclass(frozen=True)
class RecipientDocument:
    id: int
    title: str
    note: str
    corrections: str | None  # what to do if the record is wrong, and by when
    filename: str
    size: int
    published_on: date


def documents_for(runtime: Runtime, link_id: int) -> list[RecipientDocument]:
    """The published documents of a live link, oldest first; the view is recorded."""
    now = runtime.clock()
    with _recorded(runtime) as session:
        link = _live_by_id(session, link_id, now)
        documents = session.scalars(select(PortalDocument).where(
            PortalDocument.link_id == link.id, PortalDocument.published_at.is_not(None),
            PortalDocument.recalled_at.is_(None)).order_by(PortalDocument.published_at, PortalDocument.id)).all()
        _event(session, link, "viewed", "portal_viewed", now, documents=len(documents))
        return [RecipientDocument(d.id, d.title, d.note, corrections_sentence(d.document_kind, d.corrections_by),
                                  d.filename, d.size, d.published_at.date() if d.published_at else now.date())
                for d in documents]


@dataclass(frozen=True)
class Download:
    filename: str
    data: bytes


def download(runtime: Runtime, link_id: int, document_id: int) -> Download:
    """The document's bytes exactly as published (they carry its "Copy for" line), checked against
    their SHA-256; the download is recorded. NotFound-like PortalError for anything not on this live link."""
    keys = PortalKeys.from_environment()
    now = runtime.clock()
    with _recorded(runtime) as session:
        link = _live_by_id(session, link_id, now)
        document = session.get(PortalDocument, document_id)
        if (document is None or document.link_id != link.id or document.published_at is None
                or document.recalled_at is not None):
            why = "document recalled" if document is not None and document.recalled_at else "document not on the link"
            raise _on(link, DocumentNotAvailable("this document is not available"), why)
        data = keys.open(document.sealed, bound_to=document.message_token)
        if hashlib.sha256(data).hexdigest() != document.plaintext_sha256:
            raise PortalError(f"portal document {document.id} is not the document that was published; it was not "
                              "given out")
        _event(session, link, "downloaded", "portal_downloaded", now, document=document)
        return Download(document.filename, data)


def _live_by_id(session: Session, link_id: int, now: datetime) -> PortalLink:
    return _still_live(session.get(PortalLink, link_id), now)
