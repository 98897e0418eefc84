"""Decide whether withheld text, or a distinctive fragment of it, is in what a copy gives away.

This is the independent gate after rendering: redaction has already run on the data, and this
module looks at the text that :mod:`docgen.adapters.readback` read back out of the copy's bytes. Everything
here except :func:`verify_copy` is pure (no I/O, no clock); ``verify_copy`` only composes the
read-back adapter with the pure check so every caller runs the same gate.

Matching happens on *tokens*: the text is normalised (:func:`normalise`), accents are folded
away and it is cut into runs of letters and digits, so punctuation, case, curly quotes, dashes,
soft hyphens, zero-width characters and line breaks make no difference.

The fragment rule, and why
--------------------------
A withheld string rarely leaks whole: a template may print just the postcode, a text extractor
may break a line in the middle of a street name, an editor may quote half a sentence. So each
withheld string is turned into *fragments*, and a copy is refused if any fragment appears:

1. the whole string (any length), so that even a one-word item such as a first name is covered;
2. every run of three consecutive words (:data:`RUN_WORDS`) with at least ``min_chars`` letters
   and digits and at least one word that is not a common function word ("the", "her", ...):
   three words are rare enough to be evidence yet short enough to survive partial quoting, and a
   run made only of function words ("and he was") says nothing about the item;
3. every pair of consecutive content words (not a function word; contains a digit or has three
   or more letters) with at least ``min_chars`` letters and digits: "Rowan Close", "DL3 7QP",
   "14 Rowan" name a place on their own, while "her father" does not;
4. single words that are distinctive on their own: containing a digit and at least four
   characters, except plain numbers of up to four digits which are mostly years and times
   ("01325", "AB123456C", but not "2024"); or at least :data:`LONG_WORD` letters ("Harrowgate",
   "stepfather");
5. UK postcodes as a unit, both as a pair ("dl3 7qp") and written without the space ("dl37qp").

Any fragment that also appears in the text the audience is *allowed* to see is dropped: if
"Darlington" is printed in the council's address in the template, seeing "Darlington" in the copy
is not evidence of a leak. For the same reason matching is symmetric: a fragment is "in" a text
exactly when it would be found in the allowed text by the same rule, so a copy made only of
allowed text can never be refused.

Text extraction may insert spaces (letter-spacing, justified lines) or drop them (line breaks,
hyphenation), so each fragment with at least :data:`COMPACT_MIN_CHARS` letters and digits is also
matched with all spaces and punctuation removed, on text with the same removed. Shorter fragments
are not matched that way because "amy" would then be found inside "dreamy". Runs of three or more
single letters ("A M Y", from letter-spacing) are also joined back into a word.

If a withheld item leaves no fragment at all, its whole text is in the allowed text; the check
cannot tell a leak from allowed wording, so that is refused too (fail closed): either the withheld
list or the allowed text is wrong.

Results name the withheld item's label and the part of the copy where it was found, never the
withheld text, so error messages and logs do not spread it further.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from docgen.errors import RedactionError
from docgen.adapters.readback import ReadBack, read_back_docx, read_back_pdf

RUN_WORDS = 3
"""Number of consecutive words in a word-run fragment."""

DEFAULT_MIN_CHARS = 6
"""Fewest letters and digits in a word-run or word-pair fragment."""

LONG_WORD = 8
"""Fewest letters for a single word to count as distinctive on its own."""

COMPACT_MIN_CHARS = 8
"""Fewest letters and digits for a fragment to be matched with spaces removed too."""

_FUNCTION_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours""".split()
)

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
_POSTCODE = re.compile(r"\b([a-z]{1,2}[0-9][a-z0-9]?) ?([0-9][a-z]{2})\b")

Tokens = tuple[str, ...]


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


def _join_spaced_letters(tokens: list[str]) -> list[str] | None:
    """Join runs of three or more one-character tokens ("a m y" -> "amy"), or None if none."""
    spaced = " ".join(tokens)
    if _SPACED_LETTERS.search(spaced) is None:
        return None
    return _SPACED_LETTERS.sub(lambda run: run[0].replace(" ", ""), spaced).split(" ")


def _is_content(token: str) -> bool:
    return token not in _FUNCTION_WORDS and (len(token) >= 3 or _has_digit(token))


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _is_distinctive_word(token: str) -> bool:
    if _has_digit(token):
        return len(token) >= 4 and not (token.isdigit() and len(token) <= 4)
    return len(token) >= LONG_WORD and token not in _FUNCTION_WORDS


def _candidates(tokens: list[str], min_chars: int) -> list[Tokens]:
    """Every fragment of one withheld string before allowed text is taken away, in order."""
    if not tokens:
        return []
    found: list[Tokens] = [tuple(tokens)]
    for i in range(len(tokens) - RUN_WORDS + 1):
        run = tuple(tokens[i : i + RUN_WORDS])
        if sum(map(len, run)) >= min_chars and any(
            t not in _FUNCTION_WORDS and (len(t) >= 4 or _has_digit(t)) for t in run
        ):
            found.append(run)
    for first, second in zip(tokens, tokens[1:]):
        if _is_content(first) and _is_content(second) and len(first) + len(second) >= min_chars:
            found.append((first, second))
    found.extend((token,) for token in tokens if _is_distinctive_word(token))
    for outward, inward in _POSTCODE.findall(" ".join(tokens)):
        found.extend([(outward, inward), (outward + inward,)])
    return list(dict.fromkeys(found))


def _padded(tokens: Iterable[str]) -> str:
    """Tokens joined by single spaces with a space either end, so ``" a b " in`` means words."""
    return " " + " ".join(tokens) + " "


def words(text: str) -> tuple[str, ...]:
    """The words the leak check matches on: the tokens of ``text`` (see :func:`_tokens`).

    Words never span a line break, so the words of texts joined by newlines are the words of
    each text in turn: ``words(a + "\n" + b) == words(a) + words(b)``. That lets a caller cut
    text it checks many times against into pieces and cut each piece into words only once.
    """
    return tuple(_tokens(text))


# Answers an AllowedWords keeps before starting afresh: a template's wording is shared by every
# conference a long-running scheduler handles, so its memory must not grow with them. A pack's
# copies look up a few thousand fragments.
_REMEMBERED = 50_000


class AllowedWords:
    """The words of one text the audience may see, remembering what was looked up in them.

    An audience's redacted view is the same for every copy it gets, and a template's fixed
    wording the same for every copy of that template, so a pack or a chair's previews look the
    same fragments up in them again and again; each answer is worked out once (a substring
    search over the whole text) and kept. Read only apart from that memory.

    Joining spaced-out letters ("a m y" to "amy") depends on the words either side, so a run of
    single letters at either end of this text is not settled until the texts around it are
    known. :attr:`padded_joined` therefore covers this text only from its first to its last word
    of two or more characters; :class:`AllowedText` checks the ends itself.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: Tokens = tuple(tokens)
        self.padded = _padded(self.tokens)
        longer = [i for i, token in enumerate(self.tokens) if len(token) > 1]
        joined = _join_spaced_letters(list(self.tokens[longer[0] : longer[-1] + 1])) if longer else None
        self.padded_joined = _padded(joined) if joined is not None else ""
        self.compact = "".join(self.tokens)
        self._has: dict[Tokens, bool] = {}
        self._has_compact: dict[str, bool] = {}

    def has(self, fragment: Tokens) -> bool:
        """Whether ``fragment`` is in these words, or in the settled part of their joined form."""
        found = self._has.get(fragment)
        if found is None:
            if len(self._has) >= _REMEMBERED:
                self._has.clear()
            padded = _padded(fragment)
            found = self._has[fragment] = padded in self.padded or padded in self.padded_joined
        return found

    def has_compact(self, compact: str) -> bool:
        """Whether ``compact`` is in these words' letters and digits run together."""
        found = self._has_compact.get(compact)
        if found is None:
            if len(self._has_compact) >= _REMEMBERED:
                self._has_compact.clear()
            found = self._has_compact[compact] = compact in self.compact
        return found


class AllowedText:
    """The text an audience is allowed to see, in each form that recovered text is matched in.

    Matching is symmetric: a fragment is dropped when it would be found in the allowed text by
    the same rules that find it in a copy, spaced-out letters and all. Build it from text, or
    with :meth:`from_words` from the words of texts joined by newlines, which gives the same.

    The text is held as pieces (:class:`AllowedWords`, which may be shared by many copies and
    remember their answers). A fragment is allowed if it is in one piece, or in a window of
    words around a join between pieces or an end of the text. Each window is wide enough to
    hold every occurrence that crosses its join or touches its end, and is cut only beside words
    of two or more characters (or at the text's ends), so joining spaced-out letters inside it
    gives exactly what joining the whole text gives there.
    """

    def __init__(self, allowed_text: str) -> None:
        self._build([AllowedWords(_tokens(allowed_text))])

    @classmethod
    def from_words(cls, *pieces: Iterable[str] | AllowedWords) -> AllowedText:
        """The allowed text made of texts joined by newlines, given as each text's :func:`words`,
        or as :class:`AllowedWords` to share what was looked up with other copies."""
        allowed = cls.__new__(cls)
        allowed._build([piece if isinstance(piece, AllowedWords) else AllowedWords(piece) for piece in pieces])
        return allowed

    def _build(self, pieces: list[AllowedWords]) -> None:
        self._pieces = pieces
        self._words: list[str] | None = None
        self._joins: list[int] = []
        self._windows: dict[int, list[str]] = {}
        self._compact_windows: dict[int, list[str]] = {}

    def has(self, fragment: Tokens) -> bool:
        if any(piece.has(fragment) for piece in self._pieces):
            return True
        windows = self._windows.get(len(fragment))
        if windows is None:
            windows = self._windows[len(fragment)] = self._word_windows(len(fragment))
        padded = _padded(fragment)
        return any(padded in window for window in windows)

    def has_compact(self, compact: str) -> bool:
        if any(piece.has_compact(compact) for piece in self._pieces):
            return True
        windows = self._compact_windows.get(len(compact))
        if windows is None:
            windows = self._compact_windows[len(compact)] = self._letter_windows(len(compact))
        return any(compact in window for window in windows)

    def _all_words(self) -> tuple[list[str], list[int]]:
        """Every word in order, and the position of each join and of both ends."""
        if self._words is None:
            self._words = [word for piece in self._pieces for word in piece.tokens]
            self._joins = list(itertools.accumulate((len(piece.tokens) for piece in self._pieces), initial=0))
        return self._words, self._joins

    def _word_windows(self, size: int) -> list[str]:
        """Padded windows, plain and joined, holding every occurrence of ``size`` words that
        crosses a join or touches an end of the text. Each reaches ``size`` words of two or more
        characters either side of its join (or to the text's end), so it holds the unsettled
        single letters there and ``size`` joined words either side, and starts and ends beside
        a word that joining never touches."""
        words, joins = self._all_words()
        windows = []
        for join in joins:
            start, seen = join, 0
            while start > 0 and seen < size:
                start -= 1
                seen += len(words[start]) > 1
            end, seen = join, 0
            while end < len(words) and seen < size:
                seen += len(words[end]) > 1
                end += 1
            window = words[start:end]
            windows.append(_padded(window))
            joined = _join_spaced_letters(window)
            if joined is not None:
                windows.append(_padded(joined))
        return windows

    def _letter_windows(self, size: int) -> list[str]:
        """Letters and digits run together around each join, ``size`` characters either side."""
        words, joins = self._all_words()
        windows = []
        for join in joins[1:-1]:
            start, chars = join, 0
            while start > 0 and chars < size:
                start -= 1
                chars += len(words[start])
            end, chars = join, 0
            while end < len(words) and chars < size:
                chars += len(words[end])
                end += 1
            windows.append("".join(words[start:end]))
        return windows


def distinctive_fragments(
    withheld: str, allowed_text: str, *, min_chars: int = DEFAULT_MIN_CHARS
) -> list[str]:
    """The fragments of ``withheld`` that would show it leaked, as normalised words.

    See the module docstring for the rule. Fragments that also occur in ``allowed_text`` are
    left out; an empty list means the whole withheld text is in the allowed text (or it has no
    letter or digit). Fragments of :data:`COMPACT_MIN_CHARS` or more letters and digits are
    also matched with the spaces removed.
    """
    allowed = AllowedText(allowed_text)
    return [
        " ".join(fragment)
        for fragment in _candidates(_tokens(withheld), min_chars)
        if not allowed.has(fragment)
    ]


@dataclass(frozen=True)
class Leak:
    """A withheld item found in a part of a copy. Deliberately holds no withheld text."""

    label: str
    part: str

    def __str__(self) -> str:
        return f"withheld item {self.label!r} found in {self.part}"


class LeakCheck:
    """The fragments of every withheld item, built once per copy and matched part by part.

    Fragments are indexed by their first word. For each part, one set intersection finds which
    first words occur at all, and only the fragments starting with those are searched for, each
    with one substring search over the part's words; so the cost grows with the text, not with
    text times fragments. Fragments matched without spaces are searched for in the part's
    letters and digits the same way.
    """

    def __init__(
        self,
        withheld: Mapping[str, str],
        allowed_text: str | AllowedText,
        *,
        min_chars: int = DEFAULT_MIN_CHARS,
    ) -> None:
        # With nothing withheld there is nothing to match, and cutting the allowed text into
        # words (the costly part) would be wasted.
        if isinstance(allowed_text, AllowedText):
            allowed = allowed_text
        else:
            allowed = AllowedText(allowed_text) if withheld else AllowedText.from_words()
        # first word -> fragment as " w1 w2 w3 " -> labels of the items it comes from
        self._by_first: dict[str, dict[str, set[str]]] = {}
        self._compact: dict[str, set[str]] = {}
        unverifiable: list[str] = []
        for label, text in withheld.items():
            tokens = _tokens(text)
            if not tokens:
                continue  # nothing readable to withhold: no letter or digit in it
            kept = [f for f in _candidates(tokens, min_chars) if not allowed.has(f)]
            if not kept:
                unverifiable.append(label)
            for fragment in kept:
                by_fragment = self._by_first.setdefault(fragment[0], {})
                by_fragment.setdefault(_padded(fragment), set()).add(label)
                compact = "".join(fragment)
                if len(compact) >= COMPACT_MIN_CHARS and not allowed.has_compact(compact):
                    self._compact.setdefault(compact, set()).add(label)
        if unverifiable:
            names = ", ".join(repr(label) for label in unverifiable)
            raise RedactionError(
                f"withheld item(s) {names} appear word for word in the text this audience is "
                "allowed to see, so the leak check cannot tell a leak from allowed wording; "
                "check the withheld list and the redacted view the allowed text was built from"
            )
        self._labels = list(withheld)

    def labels_in(self, text: str) -> set[str]:
        """Labels of the withheld items with a fragment in ``text``."""
        tokens = _tokens(text)
        found = self._match_tokens(tokens)
        spaced_out = _join_spaced_letters(tokens)
        if spaced_out is not None:
            found |= self._match_tokens(spaced_out)
        if len(found) < len(self._labels):
            compact = "".join(tokens)
            for fragment, labels in self._compact.items():
                if not labels <= found and fragment in compact:
                    found |= labels
        return found

    def _match_tokens(self, tokens: list[str]) -> set[str]:
        found: set[str] = set()
        present = self._by_first.keys() & tokens
        if present:
            padded = _padded(tokens)
            for first in present:
                for fragment, labels in self._by_first[first].items():
                    if not labels <= found and fragment in padded:
                        found |= labels
        return found

    def find(self, parts: Mapping[str, str]) -> list[Leak]:
        """Every (item, part) pair where a withheld item shows, in part order.

        Part names are shown as given: :mod:`docgen.adapters.readback` makes them from fixed words only.
        """
        leaks: list[Leak] = []
        for part, text in parts.items():
            found = self.labels_in(text)
            leaks.extend(
                Leak(self._shown_label(label), part) for label in self._labels if label in found
            )
        return leaks

    def _shown_label(self, label: str) -> str:
        """The label, unless the label itself carries withheld text (then its position)."""
        if self.labels_in(label):
            return f"withheld item #{self._labels.index(label) + 1}"
        return label


def find_leaks(
    read_back: Mapping[str, str],
    withheld: Mapping[str, str],
    allowed_text: str | AllowedText,
    *,
    min_chars: int = DEFAULT_MIN_CHARS,
) -> list[Leak]:
    """Every withheld item (by label) and read-back part (by name) where it shows.

    ``read_back`` maps part names to the text read back there (a
    :class:`~docgen.adapters.readback.ReadBack` is such a mapping); ``withheld`` maps labels to withheld text. Raises :class:`RedactionError`
    if an item cannot be checked at all (see the module docstring).
    """
    return LeakCheck(withheld, allowed_text, min_chars=min_chars).find(read_back)


def verify_copy(
    data: bytes,
    fmt: Literal["pdf", "docx"],
    withheld: Mapping[str, str],
    allowed_text: str | AllowedText,
) -> ReadBack:
    """Read everything back from a copy's bytes and refuse it if any withheld item shows.

    Returns what was read back, so callers can go on to check page markings. Raises
    :class:`RedactionError` listing every leak by label and part, never the withheld text.
    """
    check = LeakCheck(withheld, allowed_text)
    if fmt == "pdf":
        read_back = read_back_pdf(data)
    elif fmt == "docx":
        read_back = read_back_docx(data)
    else:
        raise RedactionError(f"cannot verify a copy in format {fmt!r}; expected 'pdf' or 'docx'")
    leaks = check.find(read_back)
    if leaks:
        lines = "\n".join(f"  - {leak}" for leak in leaks)
        raise RedactionError(
            f"the {fmt.upper()} copy was refused: withheld content is recoverable from it in "
            f"{len(leaks)} place(s):\n{lines}\n"
            "Nothing was sent. Fix the redaction of these items and generate the copy again."
        )
    return read_back
