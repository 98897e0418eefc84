"""What reading a copy's bytes back gives (:class:`ReadBack`), and the helpers the PDF and DOCX
readers share: the size limit, decoding plain files, and the printable runs in binary data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

from docgen.errors import RedactionError

MAX_INPUT_BYTES = 100 * 2**20
"""Largest copy, or file embedded in one, accepted for checking."""


@dataclass(frozen=True)
class ReadBack(Mapping[str, str]):
    """Everything read back from a copy: a mapping of part name to the text found there.

    For checking page markings: ``pages`` holds each PDF page's text (empty for a DOCX);
    ``headers`` and ``footers`` hold the text of each DOCX header and footer part in part-number
    order (empty for a PDF); ``body`` is the main text (a DOCX's document part, a PDF's pages).

    Part names are made of fixed words, numbers and well-known OOXML part names, never of the
    document's own text, so naming a part in an error message cannot repeat withheld text. The
    readers do not chain the exceptions of the libraries they use either, whose messages may
    quote the document.
    """

    parts: dict[str, str] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    footers: list[str] = field(default_factory=list)
    body: str = ""

    def __getitem__(self, part: str) -> str:
        return self.parts[part]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parts)

    def __len__(self) -> int:
        return len(self.parts)


class Parts:
    """Collects text by part name while reading back; frozen into a :class:`ReadBack` at the end."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self.pages: list[str] = []
        self.headers: dict[int, str] = {}  # by the number in the part name: header3.xml -> 3
        self.footers: dict[int, str] = {}
        self.body = ""

    def add(self, part: str, text: str) -> None:
        if text and not text.isspace():
            self.texts.setdefault(part, []).append(text)

    def nest(self, prefix: str, inner: Parts) -> None:
        for part, texts in inner.texts.items():
            self.texts.setdefault(f"{prefix}: {part}" if prefix else part, []).extend(texts)

    def freeze(self) -> ReadBack:
        return ReadBack(
            {part: "\n".join(texts) for part, texts in self.texts.items()},
            self.pages,
            [self.headers[number] for number in sorted(self.headers)],
            [self.footers[number] for number in sorted(self.footers)],
            self.body or "\n".join(self.pages),
        )


NestedReader = Callable[[bytes, int, str], Parts]
"""Reads a file found inside the copy: ``(data, depth, what)``, ``what`` naming where it was found."""


# ASCII runs only: a pattern for UTF-8 runs is several times slower, and text that matters is
# decoded properly where it is found (PDF strings, XML members); these runs are the last net.
_ASCII_RUN = re.compile(rb"[\t\x20-\x7e]{6,}")
_UTF16LE_RUN = re.compile(rb"[\t\x20-\x7e]\x00(?:[\t\x20-\x7e]\x00){3,}")
_UTF16BE_RUN = re.compile(rb"\x00[\t\x20-\x7e](?:\x00[\t\x20-\x7e]){3,}")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def printable_runs(data: bytes) -> str:
    """What ``strings`` would show: runs of readable ASCII and UTF-16 text in binary data."""
    runs = [run.decode("ascii") for run in _ASCII_RUN.findall(data)]
    runs += [run.decode("utf-16-le") for run in _UTF16LE_RUN.findall(data)]
    runs += [run.decode("utf-16-be") for run in _UTF16BE_RUN.findall(data)]
    return "\n".join(runs)


def file_text(data: bytes) -> str:
    """A plain file's text: decoded if it is text, its printable runs otherwise."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return printable_runs(data)


def check_size(data: bytes, what: str) -> None:
    """Refuse a copy, or a file inside one, over :data:`MAX_INPUT_BYTES`."""
    if len(data) > MAX_INPUT_BYTES:
        raise RedactionError(
            f"the {what} is {len(data)} bytes, over the {MAX_INPUT_BYTES}-byte limit for checking"
        )


def xml_parser() -> etree.XMLParser:
    """A parser that fetches nothing and expands no entities."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
