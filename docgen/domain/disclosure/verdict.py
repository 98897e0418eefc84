"""What the leak gate decides about one copy, worded for the person who has to put it right, and
the check that a family copy carries its marking on every page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docgen.domain.disclosure.matching import Leak
from docgen.domain.disclosure.text import normalise
from docgen.errors import RedactionError


@dataclass(frozen=True)
class Verdict:
    """The leak gate's decision on one copy: passed, or refused, with what was found and why.

    ``copy`` names the copy as its file is named ("stem.pdf"). A refused verdict always says why
    in ``refusal``, a message for people that never repeats withheld text; ``leaks`` lists every
    withheld item found and where, and ``unmarked`` every place that lacks the copy's marking.
    Make refusals with the class methods, which word them.
    """

    copy: str
    refusal: str = ""
    leaks: tuple[Leak, ...] = ()
    unmarked: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.leaks or self.unmarked) and not self.refusal:
            raise ValueError("a verdict with findings must be a refusal that says why")

    @property
    def passed(self) -> bool:
        """Whether the copy may be used: nothing withheld found, and marked where it must be."""
        return not self.refusal

    def enforce(self) -> None:
        """Raise :class:`RedactionError` with the refusal, unless the copy passed."""
        if self.refusal:
            raise RedactionError(self.refusal)

    @classmethod
    def cannot_check(cls, copy: str, problem: str) -> Verdict:
        """Refused because the copy could not be read completely, or an item cannot be checked."""
        return cls(copy, f"{copy} was refused and not written: {problem}")

    @classmethod
    def leaked(cls, copy: str, fmt: str, leaks: Sequence[Leak]) -> Verdict:
        """Refused because withheld items can be read back from the copy."""
        lines = "\n".join(f"  - {leak}" for leak in leaks)
        problem = (f"the {fmt.upper()} copy was refused: withheld content is recoverable from it in "
                   f"{len(leaks)} place(s):\n{lines}\n"
                   "Nothing was sent. Fix the redaction of these items and generate the copy again.")
        return cls(copy, f"{copy} was refused and not written: {problem}", leaks=tuple(leaks))

    @classmethod
    def pages_differ(cls, copy: str, read: int, rendered: int) -> Verdict:
        """Refused because the pages read back are not the pages rendered."""
        return cls(copy, f"{copy}: {read} pages were read back but {rendered} were rendered")

    @classmethod
    def nothing_to_mark(cls, copy: str) -> Verdict:
        """Refused because no page or header could be read back to check the marking on."""
        return cls(copy, f"{copy}: no pages or headers could be read back to check the copy's marking")

    @classmethod
    def marking_missing(cls, copy: str, missing: Sequence[str]) -> Verdict:
        """Refused because places of the copy lack its marking (see :func:`find_missing_marking`)."""
        return cls(copy, f"{copy} was refused: the copy's marking is missing: " + "; ".join(missing),
                   unmarked=tuple(missing))


def find_missing_marking(places: Iterable[tuple[str, str]], required: Sequence[str]) -> list[str]:
    """Each place (name, text read back) that lacks a required phrase, as "NAME lacks 'PHRASE'".

    Compared in :func:`normalise` form, so line breaks, case and curly quotes make no difference.
    Phrases are shortened to 40 characters in the result: enough to recognise the marking.
    """
    missing = []
    for name, text in places:
        flat = normalise(text)
        for phrase in required:
            if normalise(phrase) not in flat:
                missing.append(f"{name} lacks {phrase[:40]!r}")
    return missing
