"""The allowed text assembled from pieces cut into words once is the allowed text: the leak check
refuses and passes exactly the same copies whichever way it was built."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from docgen.leakcheck import AllowedText, LeakCheck, words

# Letters, digits, accents (precomposed and combining), ligatures, punctuation, zero-width and
# soft-hyphen characters, spaces and line breaks: everything the cutting into words treats apart.
PIECES = list("abcxyzAMY019 .,-'_\n\t") + ["\u00e9", "e\u0301", "\u0301", "\u0142", "\u015b", "\ufb01", "\u00ad",
                                           "\u200b", "\u2019", "\u2013", "\u0643", "\u00df", " a m y "]


def text(max_pieces: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PIECES), max_size=max_pieces).map("".join)


TEXTS = st.lists(text(20), min_size=0, max_size=4)


@given(TEXTS)
def test_words_of_texts_joined_by_line_breaks_are_the_words_of_each_text(pieces: list[str]) -> None:
    assert words("\n".join(pieces)) == tuple(word for piece in pieces for word in words(piece))


@given(TEXTS, st.dictionaries(st.sampled_from(["first", "second", "third"]), text(15)), text(30))
def test_allowed_text_from_words_checks_exactly_as_from_text(pieces: list[str], withheld: dict[str, str],
                                                              copy_text: str) -> None:
    whole = AllowedText("\n".join(pieces))
    assembled = AllowedText.from_words(*(words(piece) for piece in pieces))
    assert (assembled.padded, assembled.padded_joined, assembled.compact) == (whole.padded, whole.padded_joined, whole.compact)
    outcomes = []
    for allowed in ("\n".join(pieces), assembled):
        try:
            outcomes.append(LeakCheck(withheld, allowed).labels_in(copy_text))
        except Exception as exc:  # an item that cannot be checked is refused the same way
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]
