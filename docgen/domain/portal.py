"""The recipient portal's rules in plain words: whether a link still works, how its code is announced,
and what a family is told about each document (what it is, what to do, by when to ask for corrections).

Pure: no clock is read here, the time is always an argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class LinkState(StrEnum):
    LIVE = "live"
    RECALLED = "recalled"
    EXPIRED = "expired"
    LOCKED = "locked"


def link_state(*, recalled_at: datetime | None, locked_at: datetime | None, expires_at: datetime,
               now: datetime) -> LinkState:
    """Recalled before locked before expired: the reason business support most needs to see."""
    if recalled_at is not None:
        return LinkState.RECALLED
    if locked_at is not None:
        return LinkState.LOCKED
    if now >= expires_at:
        return LinkState.EXPIRED
    return LinkState.LIVE


def where_the_code_goes(channel: str, address: str) -> str:
    """How the landing page names where the code will go, without giving the address away:
    the phone's last three digits, or an email address's first letter and its domain."""
    if channel == "sms":
        digits = re.sub(r"\D", "", address)
        return f"your phone ending {digits[-3:]}" if len(digits) >= 3 else "your phone"
    local, _, domain = address.partition("@")
    if local and domain:
        return f"your email address that starts with {local[0]} and ends with @{domain}"
    return "your email address"


def code_message(authority_name: str, code: str, minutes: int) -> str:
    """The text message (or email) that carries a one-time code."""
    return f"Your code for {authority_name} documents is {code}. It expires in {minutes} minutes."


@dataclass(frozen=True)
class DocumentWords:
    title: str
    note: str  # what it is and what to do, for families


_WORDS: dict[str, DocumentWords] = {
    "conference_record": DocumentWords(
        "The record of the conference",
        "This is the written record of the child protection conference: who came, what was said and what was "
        "decided. Read it carefully and keep it somewhere safe."),
    "decisions_notice": DocumentWords(
        "The conference's decisions",
        "This says what the conference decided and what happens next. Keep it somewhere safe."),
    "outline_plan": DocumentWords(
        "The outline child protection plan",
        "This says what everyone agreed to do to keep the child safe. The core group will make it into a "
        "detailed plan with you."),
    "parent_invitation": DocumentWords(
        "Your invitation to the conference",
        "This tells you when and where the conference is, and who you can bring with you. Please tell us if you "
        "can come."),
    "child_invitation": DocumentWords(
        "Your invitation to the conference",
        "This tells you about the meeting and how you can tell us what you think."),
    "social_worker_report": DocumentWords(
        "The social worker's report",
        "This is the report the social worker wrote for the conference. Read it before the conference; you can "
        "tell the chair what you think about it."),
    "agency_report": DocumentWords(
        "A report for the conference",
        "This is a report one of the services involved wrote for the conference. Read it before the conference."),
    "exclusion_letter": DocumentWords(
        "A letter about attending the conference",
        "This letter explains why you will not be in the conference, and how your views will still be heard."),
    "discharge_notification": DocumentWords(
        "The child protection plan has ended",
        "This tells you that the child protection plan has ended and what happens now."),
}
_ANY = DocumentWords("A document about the conference", "This is a document about the child protection conference.")

#: The documents a family may ask to have corrected (the record, or minutes), within the rule's time.
CORRECTABLE = frozenset({"conference_record"})


def document_words(kind: str) -> DocumentWords:
    """The title and note a family sees for a document kind; a kind not listed gets general words."""
    return _WORDS.get(kind, _ANY)


def corrections_sentence(kind: str, corrections_by: date | None) -> str | None:
    """What to do if something in the record is wrong, with the deadline when it is known."""
    if kind not in CORRECTABLE:
        return None
    if corrections_by is None:
        return "If something in the record is wrong, write to the conference chair as soon as you can."
    return (f"If something in the record is wrong, write to the conference chair by "
            f"{corrections_by:%A} {corrections_by.day} {corrections_by:%B %Y}.")
