"""Decide whether withheld text, or a distinctive fragment of it, is in what a copy gives away.

The pure half of the leak gate (:mod:`docgen.services.leak_gate`): it matches the words read back
out of a copy's bytes against the items withheld from the copy's reader, by the fragment rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from docgen.domain.disclosure.allowed import AllowedText
from docgen.domain.disclosure.text import Tokens, join_spaced_letters, padded, words
from docgen.errors import RedactionError

RUN_WORDS = 3
"""Number of consecutive words in a word-run fragment."""

DEFAULT_MIN_CHARS = 6
"""Fewest letters and digits in a word-run or word-pair fragment."""

LONG_WORD = 8
"""Fewest letters for a single word to count as distinctive on its own."""

COMPACT_MIN_CHARS = 8
"""Fewest letters and digits for a fragment to be matched with spaces removed too."""

_FUNCTION_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours"]
)

_POSTCODE = re.compile(r"\b([a-z]{1,2}[0-9][a-z0-9]?) ?([0-9][a-z]{2})\b")


def _is_content(token: str) -> bool:
    return token not in _FUNCTION_WORDS and (len(token) >= 3 or _has_digit(token))


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _is_distinctive_word(token: str) -> bool:
    if _has_digit(token):
        return len(token) >= 4 and not (token.isdigit() and len(token) <= 4)
    return len(token) >= LONG_WORD and token not in _FUNCTION_WORDS


def _candidates(tokens: Sequence[str], min_chars: int) -> list[Tokens]:
    """Every fragment of one withheld string before allowed text is taken away, in order
    (the rule is told at :func:`distinctive_fragments`)."""
    if not tokens:
        return []
    found: list[Tokens] = [tuple(tokens)]
    for i in range(len(tokens) - RUN_WORDS + 1):
        run = tuple(tokens[i : i + RUN_WORDS])
        if sum(map(len, run)) >= min_chars and any(
            t not in _FUNCTION_WORDS and (len(t) >= 4 or _has_digit(t)) for t in run
        ):
            found.append(run)
    for first, second in pairwise(tokens):
        if _is_content(first) and _is_content(second) and len(first) + len(second) >= min_chars:
            found.append((first, second))
    found.extend((token,) for token in tokens if _is_distinctive_word(token))
    for outward, inward in _POSTCODE.findall(" ".join(tokens)):
        found.extend([(outward, inward), (outward + inward,)])
    return list(dict.fromkeys(found))


def distinctive_fragments(
    withheld: str, allowed_text: str, *, min_chars: int = DEFAULT_MIN_CHARS
) -> list[str]:
    """The fragments of ``withheld`` that would show it leaked, as normalised words.

    Fragments that also occur in ``allowed_text`` are left out; an empty list means the whole
    withheld text is in the allowed text (or it has no letter or digit). Fragments of
    :data:`COMPACT_MIN_CHARS` or more letters and digits are also matched with the spaces removed.

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
    """
    allowed = AllowedText(allowed_text)
    return [
        " ".join(fragment)
        for fragment in _candidates(words(withheld), min_chars)
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
    letters and digits the same way. Fragments are made by the rule told at
    :func:`distinctive_fragments`.

    If a withheld item leaves no fragment at all, its whole text is in the allowed text; the check
    cannot tell a leak from allowed wording, so that is refused too (fail closed): either the withheld
    list or the allowed text is wrong.

    Results name the withheld item's label and the part of the copy where it was found, never the
    withheld text, so error messages and logs do not spread it further.
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
            tokens = words(text)
            if not tokens:
                continue  # nothing readable to withhold: no letter or digit in it
            kept = [f for f in _candidates(tokens, min_chars) if not allowed.has(f)]
            if not kept:
                unverifiable.append(label)
            for fragment in kept:
                by_fragment = self._by_first.setdefault(fragment[0], {})
                by_fragment.setdefault(padded(fragment), set()).add(label)
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
        tokens = words(text)
        found = self._match_tokens(tokens)
        spaced_out = join_spaced_letters(tokens)
        if spaced_out is not None:
            found |= self._match_tokens(spaced_out)
        if len(found) < len(self._labels):
            compact = "".join(tokens)
            for fragment, labels in self._compact.items():
                if not labels <= found and fragment in compact:
                    found |= labels
        return found

    def _match_tokens(self, tokens: Sequence[str]) -> set[str]:
        found: set[str] = set()
        present = self._by_first.keys() & tokens
        if present:
            text = padded(tokens)
            for first in present:
                for fragment, labels in self._by_first[first].items():
                    if not labels <= found and fragment in text:
                        found |= labels
        return found

    def find(self, parts: Mapping[str, str]) -> list[Leak]:
        """Every (item, part) pair where a withheld item shows, in part order.

        Part names are shown as given: :mod:`docgen.adapters.readback` makes them from fixed
        words only.
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
    :class:`~docgen.adapters.readback.ReadBack` is such a mapping); ``withheld`` maps labels to
    withheld text. Raises :class:`RedactionError` if an item cannot be checked at all (see
    :class:`LeakCheck`).
    """
    return LeakCheck(withheld, allowed_text, min_chars=min_chars).find(read_back)
