"""The leak check: normalising, the fragment rule, matching, and the gate on real copies.

Pure-logic cases are table-driven and named; properties are checked with hypothesis; the gate is
run on PDFs made by WeasyPrint and DOCX files made by python-docx, and refuses or accepts them by
what can be read back from their bytes.
"""

from __future__ import annotations

import base64
import io
import re
import string
import unicodedata
import zipfile

import docx
import pytest
import weasyprint
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from weasyprint.urls import URLFetcher

from docgen.adapters.readback import ReadBack, read_back_docx, read_back_pdf
from docgen.domain.disclosure import (
    Leak,
    LeakCheck,
    Verdict,
    distinctive_fragments,
    find_leaks,
    find_missing_marking,
    normalise,
)
from docgen.domain.disclosure import text as disclosure_text
from docgen.domain.documents import KINDS, CopySpec
from docgen.domain.redaction import PROFESSIONALS
from docgen.errors import RedactionError
from docgen.services.leak_gate import ReaderView, RenderedCopy, check_copy

ADDRESS = "14 Rowan Close, Darlington DL3 7QP"
POLICE = (
    "Police attended on 12 March after a neighbour reported shouting at the property "
    "and arrested Mr Keane's partner for assault."
)
SIBLING = "Kayleigh Dobson, born 3 May 2015, attends Harrowgate Hill Primary School"
WITHHELD = {"victim's address": ADDRESS, "police information": POLICE, "half-sibling": SIBLING}
# What the family may see, including the template's fixed wording (the council's own address).
ALLOWED = (
    "Darlington Borough Council, Town Hall, Darlington DL1 5QT. "
    "Record of the initial child protection conference for Jamie Keane. "
    "Present: the chair, the social worker, Ms Keane, Mr Keane, the health visitor. "
    "The police attended the conference. The plan was agreed by everyone present."
)


# --- normalise ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Rowan CLOSE", "rowan close", id="case"),
        pytest.param("Straße", "strasse", id="casefold-sharp-s"),
        pytest.param("O\u2019Brien\u2018s \u201cflat\u201d", "o'brien's \"flat\"", id="curly-quotes"),
        pytest.param("Smith\u2013Jones \u2014 x \u2212 y", "smith-jones - x - y", id="dashes"),
        pytest.param("Dar\u00adling\u200bton\u2060", "darlington", id="soft-hyphen-zero-width"),
        pytest.param("  a\t\tb\r\n\u00a0c \u2003 ", "a b c", id="whitespace"),
        pytest.param("\ufb01nance o\ufb03ce", "finance office", id="ligatures"),
        pytest.param("\uff24\uff2c\uff13 \uff17\uff31\uff30", "dl3 7qp", id="full-width"),
        pytest.param("a\x02b\x7fc", "a b c", id="control-characters"),
        pytest.param("Zo\u0065\u0308", "zo\u00eb", id="combining-mark-composed"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@given(st.text())
def test_quick_word_cutter_agrees_with_cutting_normalised_text(text: str) -> None:
    """The byte-table shortcut in ``_tokens`` must give exactly the words of normalise()."""
    folded = disclosure_text._COMBINING.sub("", unicodedata.normalize("NFD", normalise(text)))
    assert disclosure_text._tokens(text) == disclosure_text._TOKEN.findall(folded)


# --- fragments ---------------------------------------------------------------------------------

def test_address_fragments_leave_out_allowed_words() -> None:
    assert distinctive_fragments(ADDRESS, ALLOWED) == [
        "14 rowan close darlington dl3 7qp",
        "14 rowan close",
        "rowan close darlington",
        "close darlington dl3",
        "darlington dl3 7qp",
        "14 rowan",
        "rowan close",
        "close darlington",
        "darlington dl3",
        "dl3 7qp",
        "dl37qp",
    ]


@pytest.mark.parametrize(
    ("withheld", "allowed", "present", "absent"),
    [
        pytest.param(ADDRESS, "", ["darlington"], [], id="long-word-when-not-allowed"),
        pytest.param(ADDRESS, ALLOWED, ["dl3 7qp", "dl37qp"], ["darlington", "rowan", "14"],
                     id="postcode-pair-and-joined"),
        pytest.param("Call 07700 900123", "", ["07700", "900123", "07700 900123"], ["call"],
                     id="phone-number-parts"),
        pytest.param("seen in 2019 at 1430", "", [], ["2019", "1430"], id="years-and-times-alone"),
        pytest.param("NI number AB123456C", "", ["ab123456c"], [], id="mixed-letters-digits"),
        pytest.param("and he was there", "", ["and he was there"], ["and he was", "he was there"],
                     id="function-word-runs-are-not-fragments"),
        pytest.param("told her father", "", ["told her father"], ["her father"],
                     id="pair-with-function-word-is-not-a-fragment"),
        pytest.param("Amy", "", ["amy"], [], id="single-short-word-whole"),
        pytest.param("Amy", "Amy is in the allowed text", [], ["amy"], id="allowed-whole"),
        pytest.param("the stepfather left", "", ["stepfather"], [], id="long-rare-word"),
    ],
)
def test_distinctive_fragments(
    withheld: str, allowed: str, present: list[str], absent: list[str]
) -> None:
    fragments = distinctive_fragments(withheld, allowed)
    assert [f for f in present if f not in fragments] == []
    assert [f for f in absent if f in fragments] == []


@pytest.mark.parametrize(
    ("min_chars", "expected"),
    [
        pytest.param(8, ["rowan is at home", "rowan is at", "is at home"], id="both-runs"),
        pytest.param(9, ["rowan is at home", "rowan is at"], id="shorter-run-dropped"),
        pytest.param(10, ["rowan is at home"], id="only-the-whole"),
    ],
)
def test_min_chars_drops_short_runs(min_chars: int, expected: list[str]) -> None:
    assert distinctive_fragments("Rowan is at home", "", min_chars=min_chars) == expected


# --- matching ----------------------------------------------------------------------------------

ADDRESS_CASES = [
    pytest.param("The postcode is DL3 7QP.", True, id="postcode-only"),
    pytest.param("They moved to Rowan Close last year.", True, id="street-only"),
    pytest.param("She lives at number 14 Rowan.", True, id="house-number-and-street-name"),
    pytest.param("Darlington Borough Council", False, id="allowed-town-alone"),
    pytest.param("Write to Darlington DL1 5QT", False, id="allowed-council-address"),
    pytest.param("postcode dl37qp", True, id="postcode-without-space"),
    pytest.param("ROWAN CLOSE", True, id="upper-case"),
    pytest.param("rowan\r\n   close", True, id="line-break-between-words"),
    pytest.param("Row an Close", True, id="space-inserted-by-extraction"),
    pytest.param("R o w a n  C l o s e", True, id="letter-spaced"),
    pytest.param("14 Rowan-\nClose", True, id="hyphen-at-line-end"),
    pytest.param("Ｒｏｗａｎ Ｃｌｏｓｅ", True, id="full-width-letters"),
    pytest.param("Rowan\u00adClose\u200b", True, id="soft-hyphen-and-zero-width"),
    pytest.param("A rowan tree stood close by.", False, id="same-words-not-together"),
    pytest.param("Rowan", False, id="one-short-word-is-not-enough"),
    pytest.param("", False, id="empty"),
]


@pytest.mark.parametrize(("read_back_text", "leaks"), ADDRESS_CASES)
def test_address_leaks(read_back_text: str, leaks: bool) -> None:
    found = find_leaks({"page 1 text": read_back_text}, {"victim's address": ADDRESS}, ALLOWED)
    assert found == ([Leak("victim's address", "page 1 text")] if leaks else [])


POLICE_LABEL = "police information"
OTHER_CASES = [
    pytest.param(POLICE_LABEL, "…and arrested Mr Keane’s partner.", True, id="quoted-half-sentence"),
    pytest.param(POLICE_LABEL, "Mr Keane's partner was arrested", True, id="apostrophe-variant"),
    pytest.param(POLICE_LABEL, "The police attended the conference.", False, id="allowed-sentence"),
    pytest.param(POLICE_LABEL, "a neighbour said hello", True, id="long-word-neighbour"),
    pytest.param("half-sibling", "KAYLEIGH", True, id="first-name-long-word"),
    pytest.param("half-sibling", "Harrowgate Hill", True, id="school-name"),
    pytest.param("half-sibling", "Harrow-\ngate", True, id="hyphenated-across-lines"),
    pytest.param("half-sibling", "born in May", False, id="common-words-only"),
]


@pytest.mark.parametrize(("label", "read_back_text", "leaks"), OTHER_CASES)
def test_other_items_leak(label: str, read_back_text: str, leaks: bool) -> None:
    found = find_leaks({"alt text": read_back_text}, WITHHELD, ALLOWED)
    assert [leak.label for leak in found] == ([label] if leaks else [])


def test_every_item_and_part_is_listed() -> None:
    parts = {"page 1 text": "DL3 7QP", "outline": "Harrowgate Hill", "XMP metadata": "Rowan Close"}
    assert find_leaks(parts, WITHHELD, ALLOWED) == [
        Leak("victim's address", "page 1 text"),
        Leak("half-sibling", "outline"),
        Leak("victim's address", "XMP metadata"),
    ]


def test_item_entirely_in_allowed_text_cannot_be_checked() -> None:
    with pytest.raises(RedactionError, match="'sibling'"):
        find_leaks({"page 1 text": ""}, {"sibling": "Town Hall"}, ALLOWED)


def test_item_without_letters_or_digits_is_skipped() -> None:
    assert find_leaks({"page 1 text": "— …"}, {"nothing": " — … "}, ALLOWED) == []


def test_label_carrying_withheld_text_is_replaced_by_its_position() -> None:
    withheld = {"Kayleigh's school": "Harrowgate Hill Primary", "other": "Kayleigh Dobson"}
    assert find_leaks({"outline": "Harrowgate Hill"}, withheld, ALLOWED) == [
        Leak("withheld item #1", "outline")
    ]


def test_leak_reads_as_label_and_part() -> None:
    leak = Leak("victim's address", "page 2 text")
    assert str(leak) == "withheld item \"victim's address\" found in page 2 text"


# --- properties --------------------------------------------------------------------------------

WORDY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Co", "Cn")), max_size=40
)
ASCII_WORDS = st.text(alphabet=string.ascii_letters + string.digits + " ,.'-", max_size=40)


def _whole_is_a_fragment(withheld: str, allowed: str) -> bool:
    """Whether the withheld text as a whole is not in the allowed text, so must be found."""
    whole = " ".join(disclosure_text._tokens(withheld))
    return bool(whole) and whole in distinctive_fragments(withheld, allowed)


@settings(max_examples=300, deadline=None)
@given(withheld=WORDY, allowed=WORDY, before=WORDY, after=WORDY)
def test_withheld_text_in_any_surroundings_is_found(
    withheld: str, allowed: str, before: str, after: str
) -> None:
    assume(_whole_is_a_fragment(withheld, allowed))
    check = LeakCheck({"item": withheld}, allowed)
    # The label is shown as "withheld item #1" when the label itself holds withheld text.
    assert [leak.part for leak in check.find({"part": f"{before} {withheld} {after}"})] == ["part"]


@settings(max_examples=200, deadline=None)
@given(withheld=ASCII_WORDS, allowed=ASCII_WORDS, before=ASCII_WORDS, after=ASCII_WORDS)
def test_case_and_spacing_variants_are_found(
    withheld: str, allowed: str, before: str, after: str
) -> None:
    assume(_whole_is_a_fragment(withheld, allowed))
    check = LeakCheck({"item": withheld}, allowed)
    variant = "\n ".join(withheld.upper().split())
    assert [leak.part for leak in check.find({"part": f"{before}\t{variant}\r\n{after}"})] == ["part"]


@settings(max_examples=200, deadline=None)
@given(withheld=WORDY, before=WORDY, after=WORDY)
def test_item_without_any_fragment_is_refused_outright(withheld: str, before: str, after: str) -> None:
    allowed = f"{before} {withheld} {after}"
    assume(disclosure_text._tokens(withheld) and distinctive_fragments(withheld, allowed) == [])
    with pytest.raises(RedactionError, match="allowed to see"):
        LeakCheck({"item": withheld}, allowed)


@settings(max_examples=300, deadline=None)
@given(withheld=st.lists(WORDY, min_size=1, max_size=3), allowed=WORDY)
def test_allowed_text_alone_never_triggers(withheld: list[str], allowed: str) -> None:
    items = {f"item {n}": text for n, text in enumerate(withheld)}
    try:
        check = LeakCheck(items, allowed)
    except RedactionError:
        assume(False)
        raise
    assert check.find({"as given": allowed, "normalised": normalise(allowed)}) == []


# --- the gate on real copies -------------------------------------------------------------------

PNG_URL = "data:image/png;base64," + base64.b64encode(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)).decode()


def render_copy(*, title: str = "Conference record", author: str = "Chair", bookmark: str = "Decisions",
                href: str = "https://example.org/plans", alt: str = "Council logo", extra: str = "",
                attachment_name: str | None = None) -> bytes:
    """A family copy as WeasyPrint makes it, with any of its hiding places filled in."""
    html = f"""<html><head><title>{title}</title><meta name="author" content="{author}">
    <style>h2 {{ bookmark-label: attr(data-label) }}</style></head><body>
    <p>Darlington Borough Council, Town Hall, Darlington DL1 5QT.</p>
    <p>Record of the initial child protection conference for Jamie Keane.</p>
    <h2 data-label="{bookmark}">Present</h2>
    <p>Present: the chair, the social worker, Ms Keane, Mr Keane, the health visitor.</p>
    <p>The police attended the conference. {extra}</p>
    <p><img alt="{alt}" src="{PNG_URL}" width="8" height="8">
       The plan was agreed by everyone present.</p>
    <p><a href="{href}">More</a></p></body></html>"""
    attachments = []
    if attachment_name is not None:
        attachments.append(weasyprint.Attachment(string="minutes", name=attachment_name))
    fetcher = URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        pdf_variant="pdf/ua-1", attachments=attachments)


# The copy's own fixed wording that is not in ALLOWED: title, author, bookmark, alt text, link.
ALLOWED_FOR_COPY = (
    ALLOWED + " Conference record. Chair. Decisions. Present. Council logo. More. "
    "https://example.org/plans"
)

LEAKING_COPIES = [
    pytest.param({"extra": "Rowan Close"}, "victim's address", "page 1 text", id="page-text"),
    pytest.param({"title": "Move to DL3 7QP"}, "victim's address", "document info /Title", id="title"),
    pytest.param({"title": "Move to DL3 7QP"}, "victim's address", "XMP metadata", id="title-in-xmp"),
    pytest.param({"author": "Harrowgate Hill Primary"}, "half-sibling", "document info /Author",
                 id="author"),
    pytest.param({"bookmark": "Kayleigh"}, "half-sibling", "outline", id="bookmark"),
    pytest.param({"href": "https://maps.example/14-Rowan-Close"}, "victim's address", "link target",
                 id="link"),
    pytest.param({"alt": "photo of the neighbour"}, "police information", "alt text", id="alt-text"),
    pytest.param({"attachment_name": "Dobson-Kayleigh.txt"}, "half-sibling", "embedded file names",
                 id="attachment-name"),
]


@pytest.fixture(scope="module")
def clean_copy() -> bytes:
    return render_copy()


def gate(data: bytes, fmt: str, withheld: dict[str, str], allowed: str, *, marking: tuple[str, ...] = (),
         pages: int | None = None) -> Verdict:
    """The leak gate on ``data`` as a copy of the record whose reader may see ``allowed``."""
    copy = RenderedCopy(CopySpec(KINDS["conference_record"], PROFESSIONALS), fmt, data, pages, "Conference record")
    return check_copy(copy, ReaderView(withheld, allowed, marking))


def test_clean_copy_is_accepted_and_read_back(clean_copy: bytes) -> None:
    verdict = gate(clean_copy, "pdf", WITHHELD, ALLOWED_FOR_COPY)
    assert verdict.passed and verdict.leaks == ()
    verdict.enforce()
    read_back = read_back_pdf(clean_copy)
    assert isinstance(read_back, ReadBack)
    assert len(read_back.pages) == 1
    assert "Darlington Borough Council" in read_back.pages[0]


@pytest.mark.parametrize(("hide", "label", "part"), LEAKING_COPIES)
def test_copy_with_a_leak_is_refused_naming_item_and_part(hide: dict, label: str, part: str) -> None:
    verdict = gate(render_copy(**hide), "pdf", WITHHELD, ALLOWED_FOR_COPY)
    assert not verdict.passed and label in [leak.label for leak in verdict.leaks]
    with pytest.raises(RedactionError) as refused:
        verdict.enforce()
    assert f"withheld item {label!r} found in {part}" in str(refused.value)
    assert str(refused.value).startswith("conference_record--professional.pdf was refused and not written: "
                                         "the PDF copy was refused: withheld content is recoverable from it in ")
    _assert_no_withheld_text(str(refused.value))


def _assert_no_withheld_text(message: str) -> None:
    """Neither a withheld string nor any distinctive fragment of one is in ``message``."""
    words = " " + " ".join(disclosure_text._tokens(message)) + " "
    for text in WITHHELD.values():
        for fragment in distinctive_fragments(text, ALLOWED_FOR_COPY):
            assert f" {fragment} " not in words, fragment


def _docx(*paragraphs: str, comment_xml: str | None = None) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    if comment_xml is None:
        return out.getvalue()
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/comments.xml", comment_xml)
    return rebuilt.getvalue()


DOCX_TEXT = [
    "Darlington Borough Council, Town Hall, Darlington DL1 5QT.",
    "Record of the initial child protection conference for Jamie Keane.",
    "The police attended the conference.",
]


def test_clean_docx_is_accepted() -> None:
    data = _docx(*DOCX_TEXT)
    assert gate(data, "docx", WITHHELD, ALLOWED).passed
    assert read_back_docx(data).body.splitlines() == DOCX_TEXT


def test_docx_with_a_leak_in_a_comment_is_refused() -> None:
    comment = ('<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
               '<w:comment w:id="0"><w:p><w:r><w:t>see DL3 </w:t></w:r><w:r><w:t>7QP</w:t></w:r>'
               "</w:p></w:comment></w:comments>")
    with pytest.raises(RedactionError) as refused:
        gate(_docx(*DOCX_TEXT, comment_xml=comment), "docx", WITHHELD, ALLOWED).enforce()
    expected = "withheld item \"victim's address\" found in docx word/comments.xml text"
    assert expected in str(refused.value)
    _assert_no_withheld_text(str(refused.value))


def test_docx_member_named_after_withheld_text_is_refused_without_repeating_it() -> None:
    data = _docx(*DOCX_TEXT)
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/media/Kayleigh-Dobson.png", b"\x89PNG")
    with pytest.raises(RedactionError) as refused:
        gate(rebuilt.getvalue(), "docx", WITHHELD, ALLOWED).enforce()
    assert "withheld item 'half-sibling' found in docx part names" in str(refused.value)
    assert re.search(r"kayleigh|dobson", str(refused.value), re.IGNORECASE) is None


def test_unknown_format_is_refused(clean_copy: bytes) -> None:
    with pytest.raises(RedactionError, match="format 'odt'"):
        gate(clean_copy, "odt", WITHHELD, ALLOWED).enforce()


def test_pdf_given_as_docx_is_refused(clean_copy: bytes) -> None:
    verdict = gate(clean_copy, "docx", WITHHELD, ALLOWED)
    assert not verdict.passed and verdict.leaks == ()
    with pytest.raises(RedactionError, match="docx was refused and not written: the DOCX is not a readable zip"):
        verdict.enforce()


def test_item_that_cannot_be_checked_refuses_the_copy(clean_copy: bytes) -> None:
    verdict = gate(clean_copy, "pdf", {"sibling": "Town Hall"}, ALLOWED)
    with pytest.raises(RedactionError, match=r"pdf was refused and not written: withheld item.s. 'sibling' appear"):
        verdict.enforce()


# --- the marking a family copy carries on every page ---------------------------------------------

MARKING = ("Darlington Borough Council", "Record of the initial child protection conference")


@pytest.mark.parametrize(
    ("places", "required", "missing"),
    [
        pytest.param([("page 1", "Family copy. Copy for: Zofia")], ["FAMILY COPY", "Copy for:\nZofia"], [],
                     id="case-and-line-breaks-do-not-count"),
        pytest.param([("page 1", "Family copy"), ("page 2", "")], ["Family copy"], ["page 2 lacks 'Family copy'"],
                     id="one-page-unmarked"),
        pytest.param([("body", "x")], ["A notice longer than forty characters, cut short"],
                     ["body lacks 'A notice longer than forty characters, c'"], id="phrase-shortened"),
    ],
)
def test_find_missing_marking(places: list[tuple[str, str]], required: list[str], missing: list[str]) -> None:
    assert find_missing_marking(places, required) == missing


def test_family_copy_marked_on_every_page_passes(clean_copy: bytes) -> None:
    assert gate(clean_copy, "pdf", WITHHELD, ALLOWED_FOR_COPY, marking=MARKING, pages=1).passed


def test_family_copy_without_its_marking_is_refused(clean_copy: bytes) -> None:
    verdict = gate(clean_copy, "pdf", WITHHELD, ALLOWED_FOR_COPY, marking=(*MARKING, "Copy for: Zofia"), pages=1)
    assert verdict.unmarked == ("page 1 lacks 'Copy for: Zofia'",)
    with pytest.raises(RedactionError) as refused:
        verdict.enforce()
    assert str(refused.value) == ("conference_record--professional.pdf was refused: the copy's marking is missing: "
                                  "page 1 lacks 'Copy for: Zofia'")


def test_family_copy_read_back_with_other_pages_than_rendered_is_refused(clean_copy: bytes) -> None:
    verdict = gate(clean_copy, "pdf", WITHHELD, ALLOWED_FOR_COPY, marking=MARKING, pages=2)
    with pytest.raises(RedactionError, match=r"\.pdf: 1 pages were read back but 2 were rendered"):
        verdict.enforce()
    # A professional's copy carries no marking, so its pages are not counted either.
    assert gate(clean_copy, "pdf", WITHHELD, ALLOWED_FOR_COPY, pages=2).passed


def test_family_copy_in_word_is_marked_in_its_body_and_headers() -> None:
    data = _docx(*DOCX_TEXT)
    assert gate(data, "docx", WITHHELD, ALLOWED, marking=MARKING).passed
    verdict = gate(data, "docx", WITHHELD, ALLOWED, marking=("Copy for: Zofia",))
    assert verdict.unmarked == ("body lacks 'Copy for: Zofia'",)


def test_a_verdict_with_findings_always_says_why() -> None:
    with pytest.raises(ValueError):
        Verdict("x.pdf", leaks=(Leak("item", "page 1 text"),))
    assert not Verdict.leaked("x.pdf", "pdf", [Leak("item", "page 1 text")]).passed
