"""The text a copy's reader is allowed to see, in each form the leak check matches fragments in.

A fragment of a withheld item that is also in the allowed text is not evidence of a leak, so the
check asks the allowed text about every fragment; these classes answer, and remember the answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from docgen.domain.disclosure.text import Tokens, join_spaced_letters, padded, words

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
        self.padded = padded(self.tokens)
        longer = [i for i, token in enumerate(self.tokens) if len(token) > 1]
        joined = join_spaced_letters(self.tokens[longer[0] : longer[-1] + 1]) if longer else None
        self.padded_joined = padded(joined) if joined is not None else ""
        self.compact = "".join(self.tokens)
        self._has: dict[Tokens, bool] = {}
        self._has_compact: dict[str, bool] = {}

    def has(self, fragment: Tokens) -> bool:
        """Whether ``fragment`` is in these words, or in the settled part of their joined form."""
        found = self._has.get(fragment)
        if found is None:
            if len(self._has) >= _REMEMBERED:
                self._has.clear()
            looked_for = padded(fragment)
            found = self._has[fragment] = looked_for in self.padded or looked_for in self.padded_joined
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
    """The text an audience is allowed to see, in each form that read-back text is matched in.

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
        self._build([AllowedWords(words(allowed_text))])

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
        """Whether ``fragment`` is in the allowed text, as whole words in order."""
        if any(piece.has(fragment) for piece in self._pieces):
            return True
        windows = self._windows.get(len(fragment))
        if windows is None:
            windows = self._windows[len(fragment)] = self._word_windows(len(fragment))
        looked_for = padded(fragment)
        return any(looked_for in window for window in windows)

    def has_compact(self, compact: str) -> bool:
        """Whether ``compact`` is in the allowed text's letters and digits run together."""
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
        all_words, joins = self._all_words()
        windows = []
        for join in joins:
            start, seen = join, 0
            while start > 0 and seen < size:
                start -= 1
                seen += len(all_words[start]) > 1
            end, seen = join, 0
            while end < len(all_words) and seen < size:
                seen += len(all_words[end]) > 1
                end += 1
            window = all_words[start:end]
            windows.append(padded(window))
            joined = join_spaced_letters(window)
            if joined is not None:
                windows.append(padded(joined))
        return windows

    def _letter_windows(self, size: int) -> list[str]:
        """Letters and digits run together around each join, ``size`` characters either side."""
        all_words, joins = self._all_words()
        windows = []
        for join in joins[1:-1]:
            start, chars = join, 0
            while start > 0 and chars < size:
                start -= 1
                chars += len(all_words[start])
            end, chars = join, 0
            while end < len(all_words) and chars < size:
                chars += len(all_words[end])
                end += 1
            windows.append("".join(all_words[start:end]))
        return windows
