"""The normal form every comparison of the leak check uses, and the words it matches on.

Text is normalised (:func:`normalise`), accents are folded away and it is cut into runs of
letters and digits (:func:`words`), so punctuation, case, curly quotes, dashes, soft hyphens,
zero-width characters and line breaks make no difference to what is found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

Tokens = tuple[str, ...]
"""Words in order, as :func:`words` cuts them: a fragment, or the text it is looked for in."""

_TRANSLATE = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4\u02bc\u02b9"},
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63"},
}
# Format characters (Unicode category Cf): soft hyphen, zero-width space/joiners, word joiner,
# bidirectional marks, byte order mark, interlinear annotation and tag characters.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# Control characters other than whitespace stand between words (pdfium uses some as markers).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+")
# Combining marks left after canonical decomposition, removed to fold accents ("zoë" -> "zoe").
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Three or more one-character words in a row, as letter-spaced text is extracted ("a m y").
_SPACED_LETTERS = re.compile(r"(?<![^ ])[^ ](?: [^ ]){2,}(?![^ ])")
# A character outside ASCII that is not a letter or digit, so splits words.
_NON_ASCII_SEPARATOR = re.compile(r"[^\w\x00-\x7f]")
# Every ASCII byte that is not a letter or digit becomes a space; other bytes are kept.
_ASCII_SEPARATORS = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256))


def normalise(text: str) -> str:
    """Return ``text`` in the form every comparison uses.

    NFKC (so ligatures and full-width forms become plain letters), case-folded, with curly
    quotes, apostrophes and dashes unified, soft hyphens and zero-width characters removed, other
    control characters treated as spaces, and all whitespace collapsed to single spaces.
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("`", "'")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
        text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def _tokens(text: str) -> list[str]:
    """The words of ``text``: runs of letters and digits of its normalised form, accents folded.

    Gives the same words as cutting ``normalise(text)`` with :data:`_TOKEN`, but skips the
    steps that only touch characters between words, and cuts ASCII text with a byte table
    rather than a regex, which is five times quicker on a copy's worth of text.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text).translate(_TRANSLATE))
        text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
        if _NON_ASCII_SEPARATOR.search(text) is not None:
            return _TOKEN.findall(text)
    return text.encode().translate(_ASCII_SEPARATORS).decode().split()


def words(text: str) -> Tokens:
    """The words the leak check matches on: the runs of letters and digits of ``normalise(text)``,
    accents folded.

    Words never span a line break, so the words of texts joined by newlines are the words of
    each text in turn: ``words(a + "\n" + b) == words(a) + words(b)``. That lets a caller cut
    text it checks many times against into pieces and cut each piece into words only once.
    """
    return tuple(_tokens(text))


def join_spaced_letters(tokens: Iterable[str]) -> list[str] | None:
    """Join runs of three or more one-character words ("a m y" -> "amy"), or None if none."""
    spaced = " ".join(tokens)
    if _SPACED_LETTERS.search(spaced) is None:
        return None
    return _SPACED_LETTERS.sub(lambda run: run[0].replace(" ", ""), spaced).split(" ")


def padded(tokens: Iterable[str]) -> str:
    """Words joined by single spaces with a space either end, so ``" a b " in`` means whole words."""
    return " " + " ".join(tokens) + " "
