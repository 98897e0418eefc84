"""Disclosure-risk flags on a family copy: what the reader would see that nobody marked but that a
chair should look at before approving (contact details of others, unknown names, repeated
withheld text, and what locates a person whose whereabouts are withheld from the reader).

Pure: it takes the validated case, the reader's audience, the redacted view their copy is rendered
from and the withheld text, and returns flags; storing and resolving them is the service's job.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from docgen.domain.disclosure.text import normalise, words
from docgen.domain.redaction import Audience

FlagKind = Literal["contact_details", "unknown_name", "repeats_withheld", "locates_person"]

KIND_TEXT: dict[FlagKind, str] = {
    "contact_details": "contact details",
    "unknown_name": "a name",
    "repeats_withheld": "text repeating withheld text",
    "locates_person": "a place that could locate someone",
}

# What the family copy of the record shows, by top-level key of the view, as the template does
# (templates/records/conference_record.html): None means every text under that key.
RECORD_SHOWS: dict[str, frozenset[str] | None] = {
    "conference": frozenset({"venue", "purpose"}),
    "family": frozenset({"name", "relationship", "address"}),
    "invitations": frozenset({"name", "role", "supporter", "note", "exclusion_reason"}),
    "subject_children": frozenset({"name", "views", "born_text", "address"}),
    "other_children": frozenset({"name", "views", "born_text", "address"}),
    "record": None,
    "decisions": None,
    "plan": None,
}
# Keys whose values are ids, codes or flags, never text a reader reads.
_CODES = frozenset({"id", "invitee", "child", "by", "school", "agency", "author", "kind", "category", "attendance",
                    "gender", "withheld", "invitee_kind", "confidentiality", "withheld_from", "reason", "subject",
                    "lead_social_worker", "members"})

_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")
_PHONE = re.compile(r"(?<![\d])(?:\+44\s?|0)\d(?:[ -]?\d){8,9}(?![\d])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NHS = re.compile(r"(?<![\d])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\d])")
_BORN = re.compile(r"\b(?:born(?: on)?|date of birth:?|d\.?o\.?b\.?:?)\s+"
                   r"(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2} [A-Z][a-z]+ \d{4})", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"], start=1)}
# Two or more capitalised words in a row, or a title and one: how a personal name appears.
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|DC|DS|PC)\.?"
_TITLE_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "dc", "ds", "pc"})
_CAPITAL_WORD = r"[A-Z][a-zà-ÿĀ-ž'’-]+"
_NAME = re.compile(rf"\b(?:{_TITLES} {_CAPITAL_WORD}(?: {_CAPITAL_WORD})*|{_CAPITAL_WORD}(?: {_CAPITAL_WORD})+)")
# Last words that make a run of capitalised words a place or an organisation, not a person.


def _word_set(text: str) -> frozenset[str]:
    return frozenset(normalise(w) for w in text.split())


_PLACE_WORDS = _word_set(
    "Street Road Row Court Lane Avenue Close Drive Way Place Crescent Gardens Terrace Square Park Hill Centre "
    "Center School Academy Nursery College University Services Service Council Trust Practice Surgery Hospital "
    "Clinic Police Team Unit Group Court Club House Hall Church Mosque Temple Office Department Board Partnership "
    "Authority Agency Programme Project Line Care Team Refuge")
_NOT_NAMES = _word_set(
    "January February March April May June July August September October November December Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday English Polish Arabic Urdu Welsh British The A An In On At It He "
    "She They We I If When This That His Her Their Our Child Children Protection Conference Plan Chair")

SHINGLE = 3  # words per shingle when comparing texts
REPEAT_THRESHOLD = 0.5  # share of the shorter text's shingles found in withheld text
REPEAT_MIN_SHINGLES = 4  # fewer shared shingles than this is a phrase in common, not a repetition


@dataclass(frozen=True)
class Flag:
    """One disclosure risk in a reader's copy: ``key`` stays the same while the flagged text at
    ``path`` does, so a chair's decision on it carries over to later versions."""

    key: str
    kind: FlagKind
    path: str
    description: str


def flag_key(kind: str, path: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\x1f{path}\x1f{normalise(text)}".encode()).hexdigest()[:16]


def _flag(kind: FlagKind, path: str, text: str, why: str) -> Flag:
    return Flag(flag_key(kind, path, text), kind, path, f"{KIND_TEXT[kind][0].upper()}{KIND_TEXT[kind][1:]} at {path}: "
                f"{why}")


# -- what the reader sees -------------------------------------------------------------------------

def visible_texts(view: Mapping[str, Any], shows: Mapping[str, frozenset[str] | None] = RECORD_SHOWS,
                  ) -> Iterator[tuple[str, str]]:
    """(path, text) of every text the copy shows, in the redacted ``view``."""
    for top, fields in shows.items():
        if top in view:
            yield from _walk(view[top], top, fields)


def _walk(node: object, path: str, fields: frozenset[str] | None) -> Iterator[tuple[str, str]]:
    """Texts under ``node``; ``fields`` limits the keys of the entries at this level (below them, all)."""
    if isinstance(node, str):
        if node.strip():
            yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key not in _CODES and (fields is None or key in fields):
                yield from _walk(value, f"{path}.{key}", None)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]", fields)


# -- who is who -------------------------------------------------------------------------------

@dataclass(frozen=True)
class People:
    """What the case records about its people that the checks need."""

    household: frozenset[str]  # the reader and whoever shares their address
    owners: Mapping[str, frozenset[str]]  # normalised contact detail -> ids of the people it belongs to
    conference_details: frozenset[str]  # the venue's and professionals' details: fine in any copy
    name_words: frozenset[str]  # every word of every name and organisation in the conference
    locating: Mapping[str, str]  # normalised place name -> id of the person it could locate


def _address_key(address: object) -> str:
    if not isinstance(address, Mapping):
        return ""
    return normalise(" ".join([*address.get("lines", ()), str(address.get("postcode", ""))]))


def _digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:] if digits.startswith("44") else digits


def _postcode(text: str) -> str:
    return re.sub(r"\s", "", text).upper()


def _contact_keys(person: Mapping[str, Any]) -> Iterator[str]:
    address = person.get("address")
    if isinstance(address, Mapping) and address.get("postcode"):
        yield "postcode:" + _postcode(str(address["postcode"]))
    for field in ("phone", "mobile"):
        if person.get(field):
            yield "phone:" + _digits(str(person[field]))
    if person.get("email"):
        yield "email:" + str(person["email"]).casefold()
    if person.get("nhs_number"):
        yield "nhs:" + _digits(str(person["nhs_number"]))
    if person.get("date_of_birth"):
        yield "dob:" + str(person["date_of_birth"])


def people(case: Mapping[str, Any], audience: Audience) -> People:
    """What the checks know about the conference's people, for ``audience``'s copy."""
    family = [*case.get("children", ()), *case.get("family", ())]
    me = next((p for p in family if p["id"] == audience.person), None)
    home = _address_key(me.get("address")) if me else ""
    household = frozenset({audience.person or ""} | {p["id"] for p in family if home and _address_key(p.get("address")) == home})
    owners: dict[str, set[str]] = {}
    for person in family:
        for key in _contact_keys(person):
            owners.setdefault(key, set()).add(person["id"])
    conference = case.get("conference", {})
    fine = {key for p in case.get("professionals", ()) for key in _contact_keys(p)}
    fine |= {"postcode:" + _postcode(m.group(0)) for m in _POSTCODE.finditer(str(conference.get("venue", "")))}
    agencies = {a["id"]: a["name"] for a in case.get("agencies", ())}
    names = [p.get("name", "") for p in (*family, *case.get("professionals", ()))]
    names += [*agencies.values(), str(conference.get("minute_taker", "")), str(conference.get("venue", ""))]
    names += [str(i.get("supporter", "")) for i in case.get("invitations", ())]
    return People(household, {k: frozenset(v) for k, v in owners.items()}, frozenset(fine),
                  frozenset(w for n in names for w in words(n)), _locating(case, audience, family, agencies))


def _whereabouts_withheld(person: Mapping[str, Any], audience: Audience) -> bool:
    address = person.get("address")
    marked = isinstance(address, Mapping) and (address.get("confidentiality") == "confidential"
                                               or audience.person in (address.get("withheld_from") or ()))
    return marked or audience.person in (person.get("at_risk_from") or ())


def _locating(case: Mapping[str, Any], audience: Audience, family: list[Mapping[str, Any]],
              agencies: Mapping[str, str]) -> dict[str, str]:
    """Place names that could lead the reader to a person whose whereabouts are withheld from them:
    their own or their household's school or nursery, workplace, GP practice and named venues."""
    places: dict[str, str] = {}
    hidden = [p for p in family if p["id"] != audience.person and _whereabouts_withheld(p, audience)]
    for person in hidden:
        home = _address_key(person.get("address"))
        household = [p for p in family if p is person or (home and _address_key(p.get("address")) == home)]
        for member in household:
            for field in ("school", "nursery", "workplace", "gp_practice"):
                value = member.get(field)
                if isinstance(value, str) and value:
                    places[normalise(agencies.get(value, value))] = person["id"]
            for venue in member.get("venues", ()) or ():
                places[normalise(str(venue))] = person["id"]
    return places


# -- the checks -------------------------------------------------------------------------------

def find_flags(case: Mapping[str, Any], audience: Audience, view: Mapping[str, Any],
               withheld: Iterable[str], *, shows: Mapping[str, frozenset[str] | None] = RECORD_SHOWS) -> list[Flag]:
    """Every disclosure risk in what ``audience`` sees of the redacted ``view``; ``withheld`` is the
    text withheld from them (items marked, and reports not shared with them). One flag per kind
    and place, in the order of the copy."""
    known = people(case, audience)
    evidence = [s for s in (_shingles(text) for text in withheld) if len(s) >= REPEAT_MIN_SHINGLES]
    flags: dict[str, Flag] = {}
    for path, text in visible_texts(view, shows):
        for flag in (*_contact_flags(path, text, known), *_name_flags(path, text, known),
                     *_repeat_flags(path, text, evidence), *_locating_flags(path, text, known)):
            flags.setdefault(flag.key, flag)
    return list(flags.values())


def _contact_flags(path: str, text: str, known: People) -> Iterator[Flag]:
    found = [("an address", "postcode:" + _postcode(m.group(0))) for m in _POSTCODE.finditer(text)]
    found += [("a phone number", "phone:" + _digits(m.group(0))) for m in _PHONE.finditer(text)]
    found += [("an email address", "email:" + m.group(0).casefold()) for m in _EMAIL.finditer(text)]
    found += [("an NHS number", "nhs:" + _digits(m.group(0))) for m in _NHS.finditer(text)
              if not _PHONE.fullmatch(m.group(0))]
    found += [("a date of birth", "dob:" + when.isoformat()) for m in _BORN.finditer(text)
              if (when := _date(m.group(1))) is not None]
    for what, key in found:
        if key in known.conference_details:
            continue
        owners = known.owners.get(key)
        if owners is None:
            yield _flag("contact_details", path, key, f"{what} that belongs to no one in the conference")
        elif owners is not None and not owners & known.household:
            yield _flag("contact_details", path, key, f"{what} of someone outside the reader's household")


def _date(text: str) -> date | None:
    try:
        if "-" in text:
            return date.fromisoformat(text)
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year + 2000 if year < 100 else year, month, day)
        day_text, month_text, year_text = text.split()
        return date(int(year_text), _MONTHS[month_text.casefold()], int(day_text))
    except (ValueError, KeyError):
        return None


def _name_flags(path: str, text: str, known: People) -> Iterator[Flag]:
    for match in _NAME.finditer(text):
        parts = [w for w in words(match.group(0)) if len(w) > 1 and w not in _NOT_NAMES]
        titled = any(w in _TITLE_WORDS for w in parts)
        parts = [w for w in parts if w not in _TITLE_WORDS]
        # A sentence's first word is capitalised whatever it is ("Refer Ms Wiśniewska ...").
        before = text[:match.start()].rstrip()
        if parts and (not before or before[-1] in ".!?:;\"(") and parts[0] not in known.name_words:
            parts = parts[1:]
        if not parts or (not titled and len(parts) < 2) or parts[-1] in _PLACE_WORDS:
            continue
        if all(w in known.name_words for w in parts):
            continue
        yield _flag("unknown_name", path, match.group(0), "a name that matches nobody in the conference")


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    tokens = words(text)
    return frozenset(tuple(tokens[i:i + SHINGLE]) for i in range(max(len(tokens) - SHINGLE + 1, 0)))


def _repeat_flags(path: str, text: str, evidence: list[frozenset[tuple[str, ...]]]) -> Iterator[Flag]:
    seen = _shingles(text)
    if len(seen) < REPEAT_MIN_SHINGLES:
        return
    for shingles in evidence:
        shared = len(seen & shingles)
        if shared >= REPEAT_MIN_SHINGLES and shared / min(len(seen), len(shingles)) >= REPEAT_THRESHOLD:
            yield _flag("repeats_withheld", path, text, "repeats, in full or in part, text withheld from the reader")
            return


def _locating_flags(path: str, text: str, known: People) -> Iterator[Flag]:
    seen = normalise(text)
    for place in known.locating:
        if place and place in seen:
            yield _flag("locates_person", path, place, "names a place where someone whose whereabouts are "
                        "withheld from the reader can be found")
