"""What of a rendered document the chair's review page shows: the content of its ``main``, without
print styles, headings two levels down; and where a disclosure flag is, in words (named cases)."""

from __future__ import annotations

import pytest

from docgen.services.review import place_of
from docgen.services.review_jobs import page_fragment

CASES = [
    ("only what is in main", "<body><header>Letterhead</header><main><p>Text</p></main></body>", "<p>Text</p>"),
    ("print styles left out", "<main><style>p { color: red }</style><p>Text</p></main>", "<p>Text</p>"),
    ("headings two levels down", "<main><h1>Title</h1><h2>Part</h2><h3 class='x'>Sub</h3><h4>Deep</h4></main>",
     "<h3>Title</h3><h4>Part</h4><h5 class='x'>Sub</h5><h6>Deep</h6>"),
    ("no main: nothing", "<body><p>Text</p></body>", ""),
    ("headers and tables are not headings", "<main><header>H</header><table><th>A</th></table></main>",
     "<header>H</header><table><th>A</th></table>"),
]


@pytest.mark.parametrize(("document", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_page_fragment(document: str, expected: str) -> None:
    assert page_fragment(document) == expected


VIEW = {"invitations": [{"name": "Ewa Nowak", "role": "Interpreter"}],
        "record": {"sections": [{"title": "Police", "items": [{"text": "a"}, {"text": "b"}]}]},
        "plan": {"actions": [{"what": "x", "who": "y"}]}}
PLACES = [
    ("a person by name", "invitations[0].role", "Invitations › Ewa Nowak"),
    ("a section by title, an item by number", "record.sections[0].items[1].text", "Record › 'Police' › item 2"),
    ("an action by number", "plan.actions[0].who", "Plan › actions › action 1"),
    ("a path the view no longer has", "record.sections[5].items[0]", "Record › section 6 › item 1"),
]


@pytest.mark.parametrize(("path", "expected"), [c[1:] for c in PLACES], ids=[c[0] for c in PLACES])
def test_place_of(path: str, expected: str) -> None:
    assert place_of(VIEW, path) == expected
