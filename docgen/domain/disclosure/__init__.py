"""The pure rules of the leak gate (:mod:`docgen.services.leak_gate`): when withheld text shows in
a copy, and the verdict.

``text`` cuts text into the words everything is matched on, ``allowed`` holds what a reader may
see, ``evidence`` chooses the withheld items to look for, ``matching`` finds them, and ``verdict``
words the decision.
"""

from docgen.domain.disclosure.allowed import AllowedText, AllowedWords
from docgen.domain.disclosure.evidence import choose_evidence
from docgen.domain.disclosure.matching import Leak, LeakCheck, distinctive_fragments, find_leaks
from docgen.domain.disclosure.text import Tokens, normalise, words
from docgen.domain.disclosure.verdict import Verdict, find_missing_marking

__all__ = [
    "AllowedText",
    "AllowedWords",
    "Leak",
    "LeakCheck",
    "Tokens",
    "Verdict",
    "choose_evidence",
    "distinctive_fragments",
    "find_leaks",
    "find_missing_marking",
    "normalise",
    "words",
]
