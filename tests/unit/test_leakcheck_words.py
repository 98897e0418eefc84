"""The allowed text assembled from pieces cut into words once is the allowed text: the leak check
refuses and passes exactly the same copies whichever way it was built."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from docgen.domain.disclosure import AllowedText, AllowedWords, LeakCheck, words
from docgen.domain.disclosure.text import join_spaced_letters, padded

# Letters, digits, accents (precomposed and combining), ligatures, punctuation, zero-width and
# soft-hyphen characters, spaces and line breaks: everything the cutting into words treats apart.
PIECES = [*list("abcxyzAMY019 .,-'_\n\t"), "é", "é", "́", "ł", "ś", "ﬁ", "\xad", "\u200b", "’", "–", "ك", "ß", " a m y "]


def text(max_pieces: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES), max_size=max_pieces).map("".join)


TEXTS = st.lists(text(20), min_size=0, max_size=4)


@given(TEXTS)
def test_words_of_texts_joined_by_line_breaks_are_the_words_of_each_text(pieces: list[str]) -> None:
    assert words("\n".join(pieces)) == tuple(word for piece in pieces for word in words(piece))


class WholeText(AllowedText):
    """The rule itself, with no memory and no join: the whole allowed text as one string."""

    def __init__(self, allowed_text: str) -> None:
        tokens = words(allowed_text)
        joined = join_spaced_letters(tokens)
        self.padded, self.padded_joined = padded(tokens), padded(joined) if joined is not None else ""
        self.compact = "".join(tokens)

    def has(self, fragment: tuple[str, ...]) -> bool:
        return padded(fragment) in self.padded or padded(fragment) in self.padded_joined

    def has_compact(self, compact: str) -> bool:
        return compact in self.compact


ITEMS = st.dictionaries(st.sampled_from(["first", "second", "third"]), text(15))


def outcome(withheld: dict[str, str], allowed: str | AllowedText, copy_text: str) -> set[str] | type:
    try:
        return LeakCheck(withheld, allowed).labels_in(copy_text)
    except Exception as exc:  # noqa: BLE001 - an item that cannot be checked is refused the same way
        return type(exc)


@given(TEXTS, ITEMS, text(30))
def test_allowed_text_from_words_checks_exactly_as_from_text(pieces: list[str], withheld: dict[str, str],
                                                              copy_text: str) -> None:
    assembled = AllowedText.from_words(*(words(piece) for piece in pieces))
    whole = WholeText("\n".join(pieces))
    assert outcome(withheld, whole, copy_text) == outcome(withheld, assembled, copy_text)
    assert outcome(withheld, whole, copy_text) == outcome(withheld, "\n".join(pieces), copy_text)


@given(text(40), st.lists(text(20), max_size=3), ITEMS, ITEMS, text(30))
def test_a_shared_head_remembers_nothing_that_changes_an_answer(head: str, tails: list[str], first: dict[str, str],
                                                                second: dict[str, str], copy_text: str) -> None:
    """One audience's words shared by copies with different fixed wording and withheld items:
    every answer is the answer the whole text gives, whatever was looked up before."""
    shared = AllowedWords(words(head))
    for tail in [*tails, *reversed(tails)]:
        for withheld in (first, second):
            assembled = AllowedText.from_words(shared, words(tail))
            assert outcome(withheld, WholeText(head + "\n" + tail), copy_text) == outcome(withheld, assembled, copy_text)


SIDE = st.lists(st.sampled_from(["a", "m", "y", "x", "a", "m", "amy", "rowan", "close"]), max_size=10)


@settings(max_examples=600)
@example([["rowan", "a", "m", "y"], ["x", "close"]], ["amy"])  # "a m y x" is "amyx", not "amy"
@example([["rowan", "a"], ["m", "y", "close"]], ["rowan", "amy"])  # joined only across the join
@example([["rowan", "x"], ["a", "m", "y", "close"]], ["amy"])  # "x a m y" is "xamy", not "amy"
@example([["a", "m", "y", "rowan", "x"], []], ["x"])
@example([["rowan", "a"], ["m"], ["y", "close"]], ["rowan", "amy", "close"])  # across two joins
@example([["a", "m", "y", "rowan"]], ["amy"])  # settled at the start of the text
@example([["rowan"], ["close", "amy"], ["x"]], ["amyx"])  # run together across the second join
@given(st.lists(SIDE, min_size=1, max_size=3),
       st.lists(st.sampled_from(["a", "m", "y", "x", "amy", "rowan", "close", "amyx", "a m y"]), min_size=1, max_size=4))
def test_fragments_across_joins_are_found_as_in_the_whole_text(pieces: list[list[str]], fragment: list[str]) -> None:
    """Spaced-out letters either side of a join or at an end are where pieces could differ from the whole."""
    whole = WholeText("\n".join(" ".join(piece) for piece in pieces))
    assembled = AllowedText.from_words(*(AllowedWords(words(" ".join(piece))) for piece in pieces))
    candidate = words(" ".join(fragment))
    assert assembled.has(candidate) == whole.has(candidate)
    assert assembled.has_compact("".join(candidate)) == whole.has_compact("".join(candidate))


def test_what_is_remembered_is_bounded_and_forgetting_changes_no_answer(monkeypatch) -> None:
    monkeypatch.setattr("docgen.domain.disclosure.allowed._REMEMBERED", 2)
    text = "14 Rowan Close a m y north gate"
    shared, whole = AllowedWords(words(text)), WholeText(text)
    for fragment in [("rowan", "close"), ("amy",), ("north",), ("gate", "x"), ("rowan", "close"), ("14",)] * 2:
        assert shared.has(fragment) == whole.has(fragment)
        assert shared.has_compact("".join(fragment)) == whole.has_compact("".join(fragment))
        assert len(shared._has) <= 2 and len(shared._has_compact) <= 2
