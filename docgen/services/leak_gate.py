"""The leak gate every rendered copy passes before it is written or sent: nothing withheld from its
reader can be read back out of its bytes, and a family copy is marked on every page.

:func:`check_copy` reads only the output bytes, independently of how they were made, and returns a
:class:`~docgen.domain.disclosure.Verdict` that the caller enforces where it must stop.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from typing import Any

from docgen.adapters.docx import docx_fixed_wording, docx_package_text
from docgen.adapters.readback import ReadBack, read_back_docx, read_back_pdf
from docgen.adapters.stamping import StampError, check_pdf_stamp
from docgen.adapters.templating import fixed_wording
from docgen.domain.authority import Settings
from docgen.domain.disclosure import (
    AllowedText,
    AllowedWords,
    LeakCheck,
    Verdict,
    choose_evidence,
    find_missing_marking,
    normalise,
    words,
)
from docgen.domain.documents import CopySpec, copy_marking
from docgen.domain.redaction import Audience, redact, strings_in
from docgen.errors import RedactionError


@dataclass(frozen=True)
class RenderedCopy:
    """One copy as rendered: what copy it is, its format, its bytes, its pages as laid out (PDF
    only) and its title."""

    copy_spec: CopySpec
    format: str
    data: bytes
    pages: int | None
    title: str
    stamped_from: bytes | None = None  # a stamped PDF: the copy it is, before its recipient's line

    @property
    def name(self) -> str:
        """The copy's file name, as messages about it name it."""
        return f"{self.copy_spec.stem}.{self.format}"


@dataclass(frozen=True)
class AudienceView:
    """The view redacted for one audience, and the forms of its text that every check of that
    audience's copies compares against. The same for every copy the audience gets, so a pack
    makes it once per audience (:meth:`prepare`)."""

    audience: Audience
    view: Any
    withheld: dict[str, str]
    strings: list[str]  # every text of the redacted view, in the order the allowed text lists them
    shown_values: frozenset[str]  # normalise() of each text
    allowed: AllowedWords  # the words of those texts joined by newlines, remembering what was looked up

    @cached_property
    def digest(self) -> str:
        """SHA-256 of what the gate compares this audience's copies against: the withheld texts
        and every text of the redacted view (a copy store key, with the copy's own)."""
        return hashlib.sha256(json.dumps([self.audience.slug, sorted(self.withheld.items()), self.strings],
                                         ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def prepare(cls, view: dict[str, Any], audience: Audience) -> AudienceView:
        """Redact ``view`` for ``audience`` and prepare what its copies are checked against.

        Kept for the most recent views and audiences, by a digest of the view's content: a pack, a
        chair's previews and a delivery run render many copies from one view, and each needs the
        same redaction. A view that has changed in any way has another digest, so is redacted anew.
        What is kept is shared by every copy made from it, and read only: nothing changes a view.
        """
        key = (hashlib.sha256(pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL)).digest(), audience)
        with _PREPARED_LOCK:
            found = _PREPARED.get(key)
            if found is not None:
                _PREPARED.move_to_end(key)
                return found
        redacted = redact(view, audience)
        strings = strings_in(redacted.view)
        text = "\n".join(strings)
        prepared = cls(audience, redacted.view, redacted.withheld, strings,
                       frozenset(normalise(value) for value in strings), AllowedWords(words(text)))
        with _PREPARED_LOCK:
            _PREPARED[key] = prepared
            while len(_PREPARED) > _PREPARED_KEPT:
                _PREPARED.popitem(last=False)
        return prepared


_PREPARED: OrderedDict[tuple[bytes, Audience], AudienceView] = OrderedDict()
_PREPARED_KEPT = 12  # a pack has one professional and a few family audiences
_PREPARED_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReaderView:
    """What the reader of one copy may see and what was withheld from them, as the gate uses it.

    ``withheld`` maps a label to each withheld text to look for (the evidence); ``allowed`` is the
    text the reader may see, which is never evidence of a leak; ``marking`` holds the phrases every
    page of the copy must carry, none for a professional's copy. :meth:`for_copy` builds it for a
    copy of a pack; a test may give the texts themselves.
    """

    withheld: Mapping[str, str]
    allowed: AllowedText | str
    marking: tuple[str, ...] = ()

    @classmethod
    def for_copy(cls, prepared: AudienceView, copy: RenderedCopy, settings: Settings, *,
                 recipient_line: str = "") -> ReaderView:
        """The reader of ``copy``: its audience's redacted view, and the copy's fixed wording (its
        templates', its title, its recipient line and the authority's settings)."""
        override = settings.templates.folder
        fixed = "\n".join([fixed_wording(copy.copy_spec.kind.html_template, override),
                           docx_fixed_wording(copy.copy_spec.kind.docx_template, override) if copy.format == "docx" else "",
                           copy.title, recipient_line, *strings_in(asdict(settings))])
        withheld = choose_evidence(prepared.withheld, fixed=_fixed_words(fixed), shown=prepared.allowed,
                                   shown_values=prepared.shown_values)
        return cls(withheld, _allowed_text(prepared, fixed, copy, override), _marking(copy.copy_spec.audience, settings))


# The fixed wording of a copy is the same for every copy of a kind, format and title: cut it into
# words once, and remember what the leak check looked up in it. Bounded, so a
# long-running process does not keep every title.
@lru_cache(maxsize=128)
def _fixed_words(fixed: str) -> AllowedWords:
    return AllowedWords(words(fixed))


def _allowed_text(prepared: AudienceView, fixed: str, copy: RenderedCopy, override: str = "") -> AllowedText:
    """What the copy's reader may see: the redacted view, the fixed wording, and for a Word copy
    the words its template's package holds."""
    template = copy.copy_spec.kind.docx_template
    package = (_fixed_words(docx_package_text(template, override)),) if copy.format == "docx" else ()
    return AllowedText.from_words(prepared.allowed, _fixed_words(fixed), *package)


def _marking(audience: Audience, settings: Settings) -> tuple[str, ...]:
    """The phrases every page of a copy for ``audience`` must carry: a family copy's label, whom
    it is for, and the confidentiality notice."""
    marking = copy_marking(audience, settings)
    if not marking["is_family_copy"]:
        return ()
    return (marking["label"], f"Copy for: {marking['copy_for']}", marking["notice"])


def read_back_copy(copy: RenderedCopy) -> ReadBack:
    """Everything in ``copy``'s bytes, as the gate reads it; RedactionError if it cannot be read whole.

    A stamped PDF (``stamped_from``) is read whole as well; the copy it updates is read back and
    checked on its own, and the update must be the stamp and nothing else."""
    if copy.stamped_from is not None:
        if copy.format != "pdf":
            raise RedactionError(f"{copy.name}: only a PDF is stamped as an update")
        try:
            check_pdf_stamp(copy.stamped_from, copy.data)
        except StampError as exc:
            raise RedactionError(f"{copy.name}: {exc}") from None
        return read_back_pdf(copy.data, earlier=copy.stamped_from)
    return _read_back(copy.data, copy.format)


def check_copy(copy: RenderedCopy, reader: ReaderView, *, read_back: ReadBack | None = None) -> Verdict:
    """Read everything back out of ``copy``'s bytes and decide whether its reader may have it.

    Refused if any withheld item shows anywhere in the bytes (named by label and part, never by
    its text), if the copy cannot be read completely or an item cannot be told from allowed
    wording (fail closed), or if a family copy lacks its marking on a page (a PDF's pages, a
    Word copy's headers and body) or reads back with another number of pages than it was
    rendered with.

    ``read_back``: what :func:`read_back_copy` read from these very bytes, if it was kept.
    """
    try:
        check = LeakCheck(reader.withheld, reader.allowed)
        if read_back is None:
            read_back = read_back_copy(copy)
    except RedactionError as exc:
        return Verdict.cannot_check(copy.name, str(exc))
    leaks = check.find(read_back)
    if leaks:
        return Verdict.leaked(copy.name, copy.format, leaks)
    if not reader.marking:
        return Verdict(copy.name)
    if copy.format == "pdf":
        places = [(f"page {number}", text) for number, text in enumerate(read_back.pages, 1)]
        if copy.pages is not None and len(places) != copy.pages:
            return Verdict.pages_differ(copy.name, len(places), copy.pages)
    else:
        places = [(f"header {number}", text) for number, text in enumerate(read_back.headers, 1)]
        places.append(("body", read_back.body))
    if not places:
        return Verdict.nothing_to_mark(copy.name)
    missing = find_missing_marking(places, reader.marking)
    return Verdict.marking_missing(copy.name, missing) if missing else Verdict(copy.name)


def _read_back(data: bytes, fmt: str) -> ReadBack:
    if fmt == "pdf":
        return read_back_pdf(data)
    if fmt == "docx":
        return read_back_docx(data)
    raise RedactionError(f"cannot verify a copy in format {fmt!r}; expected 'pdf' or 'docx'")
