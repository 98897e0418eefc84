"""Which withheld items the leak gate looks for in a copy: those whose presence would show a leak."""

from __future__ import annotations

from collections.abc import Mapping

from docgen.domain.disclosure.allowed import AllowedWords
from docgen.domain.disclosure.text import normalise, words

_GENERIC_MAX_WORDS = 3
"""Most words a withheld item may have to count as a short plain phrase."""


def choose_evidence(withheld: Mapping[str, str], *, fixed: AllowedWords, shown: AllowedWords,
             shown_values: frozenset[str]) -> dict[str, str]:
    """The withheld items (label to text) whose presence in a copy would show a leak.

    ``fixed`` holds the words of the copy's fixed wording (its template's, its title, the
    authority's own), ``shown`` the words of the audience's redacted view, and ``shown_values``
    each text of that view in :func:`normalise` form.

    An item made only of words every reader sees anyway gives nothing away and is not looked
    for: the template's or the authority's own wording (a town in the council's address); a
    value the copy's data holds in its own right as well (the name of a professional who wrote a
    withheld report and also attended, an id, a date); or a short plain phrase the copy's data
    also uses (a section titled "Legal advice" when the plan says legal advice will be sought).
    Anything else stays in, and the leak check refuses the copy if it is in the allowed text
    too, because then the redaction itself has gone wrong.

    "Words" means whole words in order, as the leak check matches them, never part of a word: a
    withheld "Dan" is looked for even though the template says "guidance".
    """
    kept = {}
    for label, text in withheld.items():
        item = words(text)
        if fixed.has(item) or normalise(text) in shown_values:
            continue
        spaced = text.split()
        plain_phrase = (len(spaced) <= _GENERIC_MAX_WORDS
                        and all(w[:1].islower() or not w[:1].isalpha() for w in spaced[1:])
                        and not any(ch.isdigit() for ch in text))
        if plain_phrase and shown.has(item):
            continue
        kept[label] = text
    return kept
