"""Read back every text a reader or a tool could get out of a DOCX (any OOXML zip): member names,
XML text nodes with each paragraph's runs joined, comments, attribute values, relationship
targets, and printable runs in binary members; refusing zip bombs and macros outright."""

from __future__ import annotations

import functools
import io
import re
import zipfile
import zlib

from lxml import etree

from docgen.adapters.readback.text import NestedReader, Parts, check_size, printable_runs, xml_parser
from docgen.errors import RedactionError

MAX_MEMBER_BYTES = 64 * 2**20
"""Largest uncompressed size of one member of a DOCX zip."""

MAX_TOTAL_BYTES = 256 * 2**20
"""Largest uncompressed size of all members of one DOCX zip together."""

MAX_MEMBERS = 5_000
"""Most members one DOCX zip may have."""

MAX_RATIO = 100
"""Highest compression ratio accepted for a zip member over one mebibyte uncompressed."""

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_SPACING = (f"{_W}tab", f"{_W}ptab", f"{_W}br", f"{_W}cr", f"{_A}br", f"{_A}tab")
_PARAGRAPHS = (f"{_W}p", f"{_A}p")
_SAFE_FOLDERS = frozenset(
    ["word", "docProps", "customXml", "_rels", "media", "theme", "embeddings", "glossary", "fonts", "charts", "diagrams", "drawings", "printerSettings", "activeX", "xl", "worksheets", "ppt", "slides"]
)
_SAFE_STEMS = frozenset(
    ["document", "styles", "stylesWithEffects", "settings", "webSettings", "fontTable", "numbering", "comments", "commentsExtended", "commentsIds", "commentsExtensible", "people", "footnotes", "endnotes", "header", "footer", "theme", "core", "app", "custom", "item", "itemProps", "image", "oleObject", "package", "Microsoft_Excel_Worksheet", "Microsoft_Word_Document", "Microsoft_PowerPoint_Presentation", "font", "chart", "colors", "style", "drawing", "data", "layout", "quickStyle", "thumbnail", "workbook", "sheet", "sharedStrings", "activeX"]
) | {"", "[Content_Types]"}
_SAFE_EXTENSIONS = frozenset(
    ["xml", "rels", "png", "jpeg", "jpg", "gif", "bmp", "tif", "tiff", "emf", "wmf", "svg", "bin", "docx", "xlsx", "pptx", "pdf", "odttf", "vml"]
)
_SAFE_FILE = re.compile(r"(\[Content_Types\]|[A-Za-z_]*?)\d*\.([a-z]+)(?:\.rels)?")
_NUMBERED = re.compile(r"word/(header|footer)(\d*)\.xml")
_MACRO_NAMES = ("vbaproject.bin", "vbadata.xml")
# What reading a damaged, encrypted or oddly compressed member raises.
_ZIP_READ_ERRORS = (
    zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, zlib.error
)
# Members that come from the template unchanged, so the same bytes recur in every copy (the
# styles alone are 800 kB in python-docx's default template): their texts are kept by content.
_BOILERPLATE = re.compile(
    r"word/(styles|stylesWithEffects|fontTable|numbering|settings|webSettings|theme/theme\d*)\.xml"
)


def _member_label(name: str, index: int) -> str:
    """The member's name if it is a well-known OOXML part name, else its position.

    Other names are read back as text but never used as labels: they could hold withheld text,
    and labels are shown in error messages.
    """
    *folders, file = name.split("/")
    match = _SAFE_FILE.fullmatch(file)
    if (
        match is not None
        and match[1] in _SAFE_STEMS
        and match[2] in _SAFE_EXTENSIONS
        and all(folder in _SAFE_FOLDERS for folder in folders)
    ):
        return f"docx {name}"
    return f"docx part #{index + 1}"


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RedactionError("the DOCX is not a readable zip file") from None
    members = archive.infolist()
    total = sum(member.file_size for member in members)
    if len(members) > MAX_MEMBERS or total > MAX_TOTAL_BYTES:
        raise RedactionError(
            f"the DOCX has {len(members)} members and {total} bytes uncompressed, over the limits "
            f"({MAX_MEMBERS} members, {MAX_TOTAL_BYTES} bytes); refused as a possible zip bomb"
        )
    for index, member in enumerate(members):
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MAX_MEMBER_BYTES or (member.file_size > 2**20 and ratio > MAX_RATIO):
            raise RedactionError(
                f"member #{index + 1} of the DOCX is {member.file_size} bytes uncompressed "
                f"(ratio {ratio:.0f}:1); refused as a possible zip bomb"
            )
        if member.filename.rsplit("/", 1)[-1].lower() in _MACRO_NAMES:
            raise RedactionError("the DOCX contains a macro project (vbaProject); refused outright")
    return archive, members


def read_zip(data: bytes, depth: int, nested: NestedReader) -> Parts:
    """Every text of a DOCX (any OOXML zip) by part name; files inside it are read with ``nested``."""
    check_size(data, "DOCX")
    archive, members = _open_zip(data)
    parts = Parts()
    with archive:
        parts.add("docx part names", "\n".join(member.filename for member in members))
        parts.add("docx zip comment", archive.comment.decode("utf-8", "replace"))
        for index, member in enumerate(members):
            parts.add("docx zip member comments", member.comment.decode("utf-8", "replace"))
            if member.is_dir():
                continue
            try:
                blob = archive.read(member)
            except _ZIP_READ_ERRORS:
                raise RedactionError(
                    f"member #{index + 1} of the DOCX cannot be read (damaged, encrypted or "
                    "compressed in an unsupported way)"
                ) from None
            _member(parts, member.filename, _member_label(member.filename, index), blob, depth, nested)
    parts.add("raw file bytes", printable_runs(data))
    return parts


def _member(parts: Parts, name: str, label: str, blob: bytes, depth: int, nested: NestedReader) -> None:
    if name == "[Content_Types].xml" and (b"macroEnabled" in blob or b"vbaProject" in blob):
        raise RedactionError("the DOCX declares macro-enabled content; refused outright")
    if name.lower().endswith((".xml", ".rels", ".vml")) or blob[:64].lstrip().startswith(b"<?xml"):
        boilerplate = label == f"docx {name}" and _BOILERPLATE.fullmatch(name) is not None
        texts, paragraphs = (_xml_texts_kept if boilerplate else _xml_texts)(name, label, blob)
        for part, text in texts:
            parts.add(part, text)
        if name == "word/document.xml":
            parts.body = paragraphs
        if (numbered := _NUMBERED.fullmatch(name)) is not None:
            kind, number = numbered.groups()
            (parts.headers if kind == "header" else parts.footers)[int(number or 0)] = paragraphs
    elif blob.startswith(b"PK\x03\x04") or b"%PDF-" in blob[:1024]:
        parts.nest(label, nested(blob, depth + 1, label))
    else:
        parts.add(f"{label} printable text", printable_runs(blob))


def _xml_texts(name: str, label: str, blob: bytes) -> tuple[tuple[tuple[str, str], ...], str]:
    """The texts of one XML member by part name, and its paragraphs' text on its own."""
    try:
        tree = etree.parse(io.BytesIO(blob), xml_parser())
    except etree.XMLSyntaxError:
        raise RedactionError(f"{label} is not well-formed XML; it cannot be checked") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise RedactionError(f"{label} has a document type declaration; refused outright")
    root = tree.getroot()
    # Runs hold no spaces for tabs and breaks: give those elements one so words stay apart.
    for element in root.iter(*_SPACING):
        element.text = " "
    # Each paragraph's runs joined, so a word split across runs comes back whole; and every
    # text node, comment and processing instruction on its own as well.
    paragraphs = "\n".join("".join(p.itertext()) for p in root.iter(*_PARAGRAPHS))
    nodes = dict.fromkeys(
        node if isinstance(node, str) else f"{getattr(node, 'target', '')} {node.text or ''}"
        for node in tree.xpath("//text() | //comment() | //processing-instruction()")
    )
    texts = [
        (f"{label} text", "\n".join([paragraphs, *nodes])),
        # Repeated values (style names, sizes, ids) are kept once: it is the words that matter.
        (f"{label} attribute values", "\n".join(dict.fromkeys(tree.xpath("//@*")))),
        (f"alt text in {label}", "\n".join(tree.xpath("//@descr | //@title"))),
    ]
    if name.endswith(".rels"):
        texts.append((f"relationship targets in {label}", "\n".join(tree.xpath("//@Target"))))
    if label != f"docx {name}" or name.startswith("customXml/"):
        # Element names are fixed by the schema in well-known parts; elsewhere they may be data.
        tags = sorted({element.tag for element in root.iter(etree.Element)})
        texts.append((f"{label} element names", "\n".join(tags)))
    return tuple(texts), paragraphs


_xml_texts_kept = functools.lru_cache(maxsize=16)(_xml_texts)
