"""The passphrase letter puts the recipient's address where a window envelope shows it: every word of
the address inside the box GOV.UK Notify's precompiled letter specification reserves for it, nothing
else there, and nothing on page 1 outside the areas the specification allows (nor in the left margin,
where Notify prints its tag). Measured on the PDF with poppler's ``pdftotext -bbox``."""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from distribution.demo_pki import DemoPki
from distribution.keys import load_signing_identity
from distribution.passphrases import LETTER_TEMPLATES
from docgen.adapters.case_store import save_case
from docgen.adapters.casefile import validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.pdf import render_pdf
from docgen.adapters.templating import make_environment
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.importing import import_case_file, stored_case
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference
from tests.support.chair import review_and_approve
from tests.support.pki import SIGNING_PASSPHRASE

MM = 72 / 25.4  # points in a millimetre


@dataclass(frozen=True)
class Box:
    """A rectangle on the page in millimetres from the top left corner."""

    left: float
    top: float
    right: float
    bottom: float

    def holds(self, word: Word) -> bool:
        return self.left <= word.left and self.top <= word.top and word.right <= self.right and word.bottom <= self.bottom

    def touches(self, word: Word) -> bool:
        return word.left < self.right and self.left < word.right and word.top < self.bottom and self.top < word.bottom


@dataclass(frozen=True)
class Word(Box):
    text: str = ""


# GOV.UK Notify's precompiled letter specification (A4 portrait), page 1: the areas content may be in.
WINDOW = Box(24.6, 40.0, 120.0, 66.2)
PAGE_ONE_AREAS = {"logo": Box(15.0, 5.0, 125.0, 30.0), "sender's address": Box(125.0, 5.0, 195.0, 95.0),
                  "window": WINDOW, "letter": Box(15.0, 95.0, 195.0, 292.0)}
LATER_PAGES = Box(15.0, 5.0, 195.0, 292.0)
NOTIFY_TAG_MARGIN = Box(0.0, 0.0, 15.0, 297.0)


def words_by_page(pdf: Path) -> list[list[Word]]:
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True).stdout
    root = etree.fromstring(html, etree.HTMLParser(encoding="utf-8"))
    return [[Word(float(w.get("xmin")) / MM, float(w.get("ymin")) / MM, float(w.get("xmax")) / MM,
                  float(w.get("ymax")) / MM, w.text or "") for w in page.iter("word")] for page in root.iter("page")]


def render_letter(settings: Any, tmp_path: Path, **context: Any) -> Path:
    values = {"authority": settings.authority, "recipient_name": "Zofia Wiśniewska",
              "passphrase": "k7fq-2mzd-p9wx-c4hn-t6rb", "date_text": "2 March 2026", "by_email": True,
              "documents": ["conference record", "outline child protection plan"],
              "address_lines": ["Flat 3", "27 Linden Court", "Northmoor", "NM4 6QT"]}
    values.update(context)
    html = make_environment(LETTER_TEMPLATES).get_template("passphrase_letter.html").render(values)
    pdf, _ = render_pdf(html, source="distribution/letters/passphrase_letter.html")
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return path


def address_words(name: str, lines: list[str]) -> list[str]:
    return [word for line in [name, *lines] for word in line.split()]


def check_layout(pdf: Path, name: str, lines: list[str]) -> None:
    pages = words_by_page(pdf)
    first = pages[0]
    in_window = [w.text for w in first if WINDOW.touches(w)]
    assert in_window == address_words(name, lines), "the window shows the address and nothing else"
    assert all(WINDOW.holds(w) for w in first if WINDOW.touches(w)), "a word of the address is cut by the window"
    outside = [(w.text, round(w.left), round(w.top)) for w in first
               if not any(area.holds(w) for area in PAGE_ONE_AREAS.values())]
    assert outside == [], "words on page 1 outside the areas Notify allows"
    later = [(number, w.text) for number, page in enumerate(pages[1:], 2) for w in page if not LATER_PAGES.holds(w)]
    assert later == [], "words outside the printable area of a later page"
    assert [w.text for page in pages for w in page if NOTIFY_TAG_MARGIN.touches(w)] == []


CASES = [
    pytest.param("Zofia Wiśniewska", ["Flat 3", "27 Linden Court", "Northmoor", "NM4 6QT"], id="four-lines"),
    pytest.param("Kamal Haddad", ["14 Orchard Row", "NM7 3LD"], id="two-lines"),
    pytest.param("Maximilian Alexander Fotheringham-Montgomery",
                 ["Apartment 1204, The Riverside Tower", "Upper Wharfedale Business Quarter", "Canal Street",
                  "Little Hampton-on-the-Marsh", "Northmoorshire", "NM12 9ZZ"], id="six-long-lines"),
    pytest.param("Lena Haddad", [], id="no-address-given"),
]


@pytest.mark.parametrize(("name", "lines"), CASES)
def test_the_address_and_only_the_address_is_in_the_window(settings: Any, tmp_path: Path, name: str,
                                                           lines: list[str]) -> None:
    check_layout(render_letter(settings, tmp_path, recipient_name=name, address_lines=lines), name, lines)


def test_a_long_letter_keeps_to_the_printable_area_on_every_page(settings: Any, tmp_path: Path) -> None:
    documents = [f"report number {n} from the agency that wrote it" for n in range(40)]
    pdf = render_letter(settings, tmp_path, documents=documents)
    assert len(words_by_page(pdf)) >= 2
    check_layout(pdf, "Zofia Wiśniewska", ["Flat 3", "27 Linden Court", "Northmoor", "NM4 6QT"])


def test_a_long_authority_address_stays_out_of_the_window(settings: Any, tmp_path: Path) -> None:
    authority = replace(settings.authority, name="The Royal Borough of Northmoor and Eastfield Combined Authority",
                        address=("Children's Services Directorate", "Civic Centre, Level 4", "Market Place",
                                 "Northmoor", "Northmoorshire", "NM1 1AA"))
    check_layout(render_letter(settings, tmp_path, authority=authority), "Zofia Wiśniewska",
                 ["Flat 3", "27 Linden Court", "Northmoor", "NM4 6QT"])


def test_the_letter_built_for_a_parent_carries_her_address_from_the_case(
        runtime: Runtime, tmp_path: Path, example_pki: DemoPki) -> None:
    root = Path(__file__).resolve().parents[2]
    reference, _ = import_case_file(runtime, root / "examples" / "haddad-wisniewska.yaml", actor="test")
    # A parent with neither email nor phone: her copies go by hand and the passphrase by post.
    changed = copy.deepcopy(stored_case(runtime, reference))
    for member in changed["family"]:
        if member["id"] == "zofia":
            member.pop("email", None)
            member.pop("phone", None)
    with unit_of_work(runtime.sessions) as session:
        save_case(session, validate_case(changed, source="test"), saved_by="test", source_sha256="3" * 64,
                  now=runtime.clock().replace(tzinfo=None), replace=True)
    case = stored_case(runtime, reference)
    with unit_of_work(runtime.sessions) as session:
        items = schedule_conference(session, case, load_rules(DEFAULT_CONFIG_DIR / "circulation.toml"),
                                    now=runtime.clock(), envelope_from=runtime.settings.authority.email).items
    review_and_approve(runtime, reference, "zofia", chair=case["conference"]["chair"])
    messages = DocumentMessages(DeliveryContext(
        runtime=runtime, signer=load_signing_identity(example_pki.signing_p12_path, prompt=lambda _: SIGNING_PASSPHRASE),
        archive_certificate=example_pki.archive.certificate, ca_certificates=[example_pki.ca.certificate],
        folder=tmp_path / "delivery", sender_address=runtime.settings.authority.email))
    messages.build(next(i for i in items if i.recipient == "zofia" and i.family_copy))
    [letter] = list((tmp_path / "delivery" / "letters").glob("*.pdf"))
    zofia = next(p for p in case["family"] if p["id"] == "zofia")
    check_layout(letter, zofia["name"], [*zofia["address"]["lines"], zofia["address"]["postcode"]])
