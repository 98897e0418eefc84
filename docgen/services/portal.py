"""The recipient portal, as the dispatcher and business support use it: publishing a copy on the
person's one link for the conference, confirming it once its outbox item is sent, recalling a copy or
a whole link, and listing the links of a conference with what was opened.

People without an S/MIME certificate (families, and professionals without one) get one link per
person per conference instead of an attachment. The link's address holds a 256-bit token made with
HMAC from the portal's key and the link's random seed: the database keeps the seed and the token's
SHA-256, never the token, and the same address can be made again when the dispatcher repeats a
publication after a crash (so the recipient is never sent a second, different link). Documents are
kept encrypted (AES-256-GCM, ``adapters/portal_crypto.py``). The recipient's side (codes, sessions,
downloads) is ``services/portal_access.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import append_event
from docgen.adapters.orm_portal import CHANNELS, PortalDocument, PortalEvent, PortalLink, PortalSession
from docgen.adapters.portal_crypto import PortalKeys, new_seed, token_sha256
from docgen.domain.portal import CORRECTABLE, LinkState, link_state
from docgen.errors import NotFoundError, PortalError
from docgen.services.runtime import Runtime

__all__ = [
    "CodeSender",
    "PortalDocumentView",
    "PortalLinkView",
    "Publication",
    "confirm_published",
    "link_url",
    "links_of",
    "opened_by_item",
    "publish",
    "recall_document",
    "recall_link",
]

#: Sends a one-time code: (channel "sms" or "email", address, text, idempotency key). Wired by the lead
#: from configuration (GOV.UK Notify for SMS, SMTP for email); tests pass a fake.
CodeSender = Callable[[str, str, str, str], None]

DISTRIBUTION = "distribution"


@dataclass(frozen=True)
class Publication:
    link_id: int
    url: str  # the full link the recipient gets
    new_link: bool


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal/{token}"


def publish(runtime: Runtime, *, reference: str, recipient_key: str, recipient_name: str, message_token: str,
            outbox_item_id: int | None, document_kind: str, title: str, note: str, filename: str, pdf: bytes,
            code_channel: str, code_address: str, announced_by: str, now: datetime, base_url: str,
            lifetime: timedelta) -> Publication:
    """Put ``pdf`` on the person's live link for the conference (made if they have none), not yet
    visible: :func:`confirm_published` shows it, in the transaction that marks the outbox item sent.

    Idempotent on ``message_token``: the same call again gives the same link and address, with
    ``new_link`` False. Raises PortalUnavailable without ``DOCGEN_PORTAL_SECRET`` (the dispatcher
    holds the item), and PortalError for a copy business support recalled or a channel not known.
    """
    keys = PortalKeys.from_environment()
    for channel, what in ((code_channel, "code_channel"), (announced_by, "announced_by")):
        if channel not in CHANNELS:
            raise PortalError(f"{what} must be one of {', '.join(CHANNELS)}, not {channel!r}")
    if not pdf.startswith(b"%PDF-"):
        raise PortalError(f"outbox item {outbox_item_id}: only PDF documents are published on the portal")
    person = _Person(reference, recipient_key, recipient_name, code_channel, code_address.strip(), announced_by)
    corrections_by = _corrections_by(document_kind, now)
    for attempt in (1, 2):
        try:
            with unit_of_work(runtime.sessions) as session:
                existing = session.scalar(select(PortalDocument).where(PortalDocument.message_token == message_token))
                if existing is not None:
                    return _again(session, keys, existing, person, now=now, base_url=base_url, lifetime=lifetime)
                link, new = _live_link(session, keys, person, now=now, lifetime=lifetime)
                document = PortalDocument(
                    link_id=link.id, message_token=message_token, outbox_item_id=outbox_item_id,
                    document_kind=document_kind, title=title[:200], note=note, filename=_safe_filename(filename),
                    corrections_by=corrections_by, sealed=keys.seal(pdf, bound_to=message_token),
                    plaintext_sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), created_at=now)
                session.add(document)
                session.flush()
                return Publication(link.id, link_url(base_url, keys.link_token(link.token_seed)), new)
        except IntegrityError:
            # Another dispatcher made the person's link, or published this token, at the same moment:
            # the second try finds what it made.
            if attempt == 2:
                raise PortalError(f"outbox item {outbox_item_id} could not be published on the portal: another "
                                  "process kept changing the same link; it will be tried again") from None
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Person:
    reference: str
    key: str
    name: str
    code_channel: str
    code_address: str
    announced_by: str

    @property
    def live_key(self) -> str:
        return f"{self.reference} {self.key}"


def _again(session: Session, keys: PortalKeys, document: PortalDocument, person: _Person, *, now: datetime,
           base_url: str, lifetime: timedelta) -> Publication:
    """The publication of a token published before: the same link, unless the document was never
    confirmed and its link no longer works (recalled after a wrong address, say), when it moves to the
    person's live link."""
    if document.recalled_at is not None:
        raise PortalError(f"outbox item {document.outbox_item_id}: business support recalled this copy from the "
                          "portal; it is not published again (cancel the item, or schedule a new copy)")
    link = session.get(PortalLink, document.link_id)
    assert link is not None
    if document.published_at is None and _state(link, now) is not LinkState.LIVE:
        link, new = _live_link(session, keys, person, now=now, lifetime=lifetime)
        document.link_id = link.id
        return Publication(link.id, link_url(base_url, keys.link_token(link.token_seed)), new)
    return Publication(link.id, link_url(base_url, keys.link_token(link.token_seed)), False)


def _live_link(session: Session, keys: PortalKeys, person: _Person, *, now: datetime,
               lifetime: timedelta) -> tuple[PortalLink, bool]:
    """The person's live link for the conference, kept working for ``lifetime`` from now; or a new one."""
    link = session.scalar(select(PortalLink).where(PortalLink.live_for == person.live_key))
    if link is not None and _state(link, now) is LinkState.LIVE:
        changed = [field for field in ("code_channel", "code_address", "announced_by")
                   if getattr(link, field) != getattr(person, field)]
        for field in changed:
            setattr(link, field, getattr(person, field))
        link.expires_at = max(link.expires_at, now + lifetime)
        if changed:  # which, never the values: an address is the person's
            append_event(session, at=now, actor=DISTRIBUTION, action="portal_link_changed",
                         reference=person.reference, subject=f"portal link {link.id}",
                         details={"link": link.id, "changed": changed})
        return link, False
    if link is not None:  # expired while it was the live one: no longer
        link.live_for = None
        session.flush()
    seed = new_seed()
    link = PortalLink(conference_reference=person.reference, recipient_key=person.key,
                      recipient_name=person.name[:200], token_seed=seed,
                      token_sha256=token_sha256(keys.link_token(seed)), live_for=person.live_key, created_at=now,
                      expires_at=now + lifetime, code_channel=person.code_channel, code_address=person.code_address,
                      announced_by=person.announced_by)
    session.add(link)
    session.flush()
    append_event(session, at=now, actor=DISTRIBUTION, action="portal_link_created", reference=person.reference,
                 subject=f"portal link {link.id}",
                 details={"link": link.id, "recipient": person.key, "announced_by": person.announced_by,
                          "code_channel": person.code_channel, "expires_at": link.expires_at.isoformat()})
    return link, True


def _state(link: PortalLink, now: datetime) -> LinkState:
    return link_state(recalled_at=link.recalled_at, locked_at=link.locked_at, expires_at=link.expires_at, now=now)


def _safe_filename(filename: str) -> str:
    """Only the name's own characters: it goes into a Content-Disposition header."""
    kept = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "-_.")).strip(".")
    return (kept or "document.pdf")[:100]


def _corrections_by(kind: str, now: datetime) -> date | None:
    """For the record: the last day to ask the chair for corrections, by the circulation rule for
    amendments (``record_amendments``) counted from today; None when no rule is enabled for it."""
    if kind not in CORRECTABLE:
        return None
    from docgen.configuration.circulation import load_rules
    from docgen.configuration.folder import config_file
    from docgen.domain.circulation import deadline_date

    rules = load_rules(config_file("circulation.toml"))
    rule = next((r for r in rules.rules if r.document == "record_amendments"), None)
    if rule is None:
        return None
    return deadline_date(rule, now.astimezone(rules.zone).date(), rules.calendar)


def confirm_published(session: Session, message_token: str, *, now: datetime) -> None:
    """Make the document published under ``message_token`` visible to its recipient; called in the
    transaction that marks its outbox item sent. An unknown token, or one confirmed before, changes nothing."""
    document = session.scalar(select(PortalDocument).where(PortalDocument.message_token == message_token))
    if document is None or document.published_at is not None:
        return
    document.published_at = now
    link = session.get(PortalLink, document.link_id)
    assert link is not None
    append_event(session, at=now, actor=DISTRIBUTION, action="portal_document_published",
                 reference=link.conference_reference, subject=f"portal link {link.id}",
                 details={"link": link.id, "document": document.id, "outbox_item": document.outbox_item_id,
                          "document_kind": document.document_kind, "plaintext_sha256": document.plaintext_sha256})


def opened_by_item(session: Session, reference: str) -> dict[int, datetime]:
    """For each outbox item of ``reference`` published on the portal and downloaded: when it was first downloaded."""
    first = func.min(PortalEvent.at)
    rows = session.execute(
        select(PortalDocument.outbox_item_id, first)
        .join(PortalEvent, PortalEvent.document_id == PortalDocument.id)
        .join(PortalLink, PortalLink.id == PortalDocument.link_id)
        .where(PortalLink.conference_reference == reference, PortalEvent.kind == "downloaded",
               PortalDocument.outbox_item_id.is_not(None))
        .group_by(PortalDocument.outbox_item_id)).all()
    return {item: at for item, at in rows if item is not None}


# -- business support's page -------------------------------------------------------------------

@dataclass(frozen=True)
class PortalDocumentView:
    id: int
    title: str
    document_kind: str
    outbox_item_id: int | None
    published_at: datetime | None
    opened_at: datetime | None  # first download
    recalled_at: datetime | None
    recalled_by: str | None


@dataclass(frozen=True)
class PortalLinkView:
    id: int
    recipient_key: str
    recipient_name: str
    announced_by: str
    code_channel: str
    created_at: datetime
    expires_at: datetime
    state: LinkState
    recalled_at: datetime | None
    recalled_by: str | None
    locked_at: datetime | None
    documents: tuple[PortalDocumentView, ...]


def links_of(runtime: Runtime, reference: str) -> list[PortalLinkView]:
    """Every portal link of the conference, newest first, each with its documents and when each was opened."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        links = list(session.scalars(select(PortalLink).where(PortalLink.conference_reference == reference)
                                     .order_by(PortalLink.id.desc())))
        ids = [link.id for link in links]
        documents = list(session.scalars(select(PortalDocument).where(PortalDocument.link_id.in_(ids))
                                         .order_by(PortalDocument.id))) if ids else []
        opened = dict(session.execute(
            select(PortalEvent.document_id, func.min(PortalEvent.at))
            .where(PortalEvent.link_id.in_(ids), PortalEvent.kind == "downloaded")
            .group_by(PortalEvent.document_id)).all()) if ids else {}
        return [PortalLinkView(
            id=link.id, recipient_key=link.recipient_key, recipient_name=link.recipient_name,
            announced_by=link.announced_by, code_channel=link.code_channel, created_at=link.created_at,
            expires_at=link.expires_at, state=_state(link, now), recalled_at=link.recalled_at,
            recalled_by=link.recalled_by, locked_at=link.locked_at,
            documents=tuple(PortalDocumentView(d.id, d.title, d.document_kind, d.outbox_item_id, d.published_at,
                                               opened.get(d.id), d.recalled_at, d.recalled_by)
                            for d in documents if d.link_id == link.id))
            for link in links]


def recall_link(runtime: Runtime, link_id: int, *, actor: str, reason: str, now: datetime,
                reference: str | None = None) -> None:
    """Stop a link at once (after a wrong address, for example): it and every document on it refuse
    from now, its sessions end, and ``publish`` makes the person a new one for the next document."""
    reason = _reason(reason)
    with unit_of_work(runtime.sessions) as session:
        link = _link_of(session, link_id, reference)
        if link.recalled_at is not None:
            return
        link.recalled_at, link.recalled_by, link.recall_reason, link.live_for = now, actor[:64], reason, None
        session.execute(delete(PortalSession).where(PortalSession.link_id == link.id))
        session.add(PortalEvent(link_id=link.id, kind="recalled", at=now))
        append_event(session, at=now, actor=actor, action="portal_link_recalled",
                     reference=link.conference_reference, subject=f"portal link {link.id}",
                     details={"link": link.id, "reason_sha256": _digest(reason)})


def recall_document(runtime: Runtime, document_id: int, *, actor: str, reason: str, now: datetime,
                    reference: str | None = None) -> None:
    """Take one copy off its link at once; the link and its other documents keep working."""
    reason = _reason(reason)
    with unit_of_work(runtime.sessions) as session:
        document = session.get(PortalDocument, document_id)
        if document is None:
            raise NotFoundError(f"there is no portal document {document_id}")
        link = _link_of(session, document.link_id, reference)
        if document.recalled_at is not None:
            return
        document.recalled_at, document.recalled_by, document.recall_reason = now, actor[:64], reason
        session.add(PortalEvent(link_id=link.id, document_id=document.id, kind="recalled", at=now))
        append_event(session, at=now, actor=actor, action="portal_document_recalled",
                     reference=link.conference_reference, subject=f"portal link {link.id}",
                     details={"link": link.id, "document": document.id, "outbox_item": document.outbox_item_id,
                              "reason_sha256": _digest(reason)})


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise PortalError("give the reason for the recall; it is kept with the recall")
    return text[:2000]


def _digest(text: str) -> str:
    """Reasons are kept in the portal's tables; the audit trail, which is never erased, holds their hash."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _link_of(session: Session, link_id: int, reference: str | None) -> PortalLink:
    link = session.get(PortalLink, link_id)
    if link is None or (reference is not None and link.conference_reference != reference):
        raise NotFoundError(f"there is no portal link {link_id}" + (f" in conference {reference}" if reference else ""))
    return link
