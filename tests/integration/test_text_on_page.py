"""Unusual but legal text stays on the page: a 5,000-character token in a paragraph and in a plan
action, a right-to-left override in a name, an emoji. Checked from what pdftotext recovers from the
PDF: every word's box against the page box, the template's own words in their order, and the fonts."""

from __future__ import annotations

import copy
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from docgen.adapters.casefile import validate_case
from docgen.domain.documents import plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import CaseFileError
from docgen.services.pack import render_copy

TOKEN = "Qx" * 2500  # 5,000 characters, no space, of letters no other word of the documents is made of
EMOJI = "\U0001F642"
OVERRIDE = "\u202e"
WANTED = {"conference_record--professional", "outline_plan--professional", "outline_plan--family", "child_invitation--child"}


def unusual_case(example_data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(example_data)
    data["record"]["sections"][0]["items"][0]["text"] += " " + TOKEN
    data["plan"]["actions"][0]["what"] = TOKEN
    data["record"]["sections"][3]["items"].append(
        {"opinion": {"by": "tom-richardson", "text": f"Lena drew a {EMOJI} for her mum."}})
    case = validate_case(data, source="unusual.yaml")
    # Import refuses bidirectional controls (next test); the renderer must still hold if one gets in.
    chair = next(p for p in case["professionals"] if p["id"] == case["conference"]["chair"])
    chair["name"] = f"David {OVERRIDE}Pryce"
    return case


def test_import_refuses_a_bidirectional_control_in_a_name(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    data["professionals"][0]["name"] = f"David {OVERRIDE}Pryce"
    with pytest.raises(CaseFileError, match=r"professionals\[0\]\.name: contains U\+202E"):
        validate_case(data, source="unusual.yaml")


def words_on_pages(path: Path) -> list[tuple[float, float, list[tuple[str, float, float, float, float]]]]:
    """Each page's width, height and words with their boxes, as pdftotext -bbox reads them."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True).stdout
    root = etree.fromstring(html, etree.HTMLParser())
    pages = []
    for page in root.iter("page"):
        found = [(w.text or "", float(w.get("xmin")), float(w.get("ymin")), float(w.get("xmax")), float(w.get("ymax")))
                 for w in page.iter("word")]
        pages.append((float(page.get("width")), float(page.get("height")), found))
    return pages


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, example_data: dict[str, Any], settings) -> dict[str, Path]:
    case = unusual_case(example_data)
    out = tmp_path_factory.mktemp("unusual")
    chosen = {}
    for copy_spec in plan_copies(case):
        key = f"{copy_spec.kind.key}--{copy_spec.audience.kind}"
        if key in WANTED and key not in chosen:
            pdf = render_copy(copy_spec, build_case_view(case), settings, generated_on=date(2026, 11, 20), fmt="pdf")
            chosen[key] = out / f"{copy_spec.stem}.pdf"
            chosen[key].write_bytes(pdf.data)
    return chosen


def test_every_word_is_inside_the_page_box(rendered: dict[str, Path]) -> None:
    assert set(rendered) == WANTED
    for name, path in rendered.items():
        outside = [(number, text[:20]) for number, (width, height, found) in enumerate(words_on_pages(path), 1)
                   for text, x0, y0, x1, y1 in found if x0 < 0 or y0 < 0 or x1 > width or y1 > height]
        assert outside == [], f"{name}: words outside the page: {outside[:5]}"


@pytest.mark.parametrize("name", ["conference_record--professional", "outline_plan--professional", "outline_plan--family"])
def test_the_long_token_is_there_in_full(rendered: dict[str, Path], name: str) -> None:
    # The token's pieces, in the order they are laid out: page, then line, then place on the line.
    pieces = sorted((page, y0, x0, word) for page, (_, _, found) in enumerate(words_on_pages(rendered[name]))
                    for word, x0, y0, _, _ in found if re.fullmatch("[Qx]+", word))
    text = "".join(word for *_, word in pieces)
    # The record holds the plan too, so the paragraph's token and the action's.
    assert text in (TOKEN, TOKEN * 2) and (text == TOKEN * 2) == name.startswith("conference_record")


def test_the_plan_keeps_every_column_on_every_copy(rendered: dict[str, Path]) -> None:
    for name in ("outline_plan--professional", "outline_plan--family"):
        text = " ".join(word for _, _, found in words_on_pages(rendered[name]) for word, *_ in found)
        for heading in ("What needs to happen", "Who", "By when", "How progress is checked", "Child"):
            assert heading in text, name
        assert "Hannah Okafor" in text and "27 November 2026" in text, name


def test_a_right_to_left_override_reorders_only_the_name(rendered: dict[str, Path]) -> None:
    text = subprocess.run(["pdftotext", str(rendered["child_invitation--child"]), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "is in charge of the meeting. This person is called the chair" in re.sub(r"\s+", " ", text)
    assert "gniteem eht fo egrahc" not in text


def test_an_emoji_is_drawn_by_a_fallback_font(rendered: dict[str, Path]) -> None:
    path = rendered["conference_record--professional"]
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert f"drew a {EMOJI} for her mum" in text
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Emoji.*\byes\s+yes\s+yes\b", fonts), fonts
