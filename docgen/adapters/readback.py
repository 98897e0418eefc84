"""Recover every piece of text a reader or a tool could get out of a copy's PDF or DOCX bytes.

The adapter half of the leak check (:mod:`docgen.domain.leakcheck` is the pure half). It reads far more
than a reader sees: page text through pdfium (which maps glyphs back to characters through each
font's ToUnicode table), every string and name in every PDF object, XMP metadata, marked-content
properties, embedded files (recursively); and every member of a DOCX zip: names, XML text nodes
(and each paragraph's runs joined), comments, attribute values, relationship targets, printable
runs in binary members. Part names are made of fixed words, numbers and well-known OOXML part
names, never of the document's own text, so naming a part in an error message cannot repeat
withheld text.

Anything that cannot be read completely is refused with :class:`RedactionError` (fail closed): a
copy we cannot read is a copy we cannot verify. Messages name the problem, not the content, and
do not chain the underlying exception, whose message may quote the document.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import zipfile
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate

import pikepdf
import pypdfium2 as pdfium
from lxml import etree

from docgen.errors import RedactionError

MAX_INPUT_BYTES = 100 * 2**20
"""Largest copy, or file embedded in one, accepted for checking."""

MAX_MEMBER_BYTES = 64 * 2**20
"""Largest uncompressed size of one member of a DOCX zip."""

MAX_TOTAL_BYTES = 256 * 2**20
"""Largest uncompressed size of all members of one DOCX zip together."""

MAX_MEMBERS = 5_000
"""Most members one DOCX zip may have."""

MAX_RATIO = 100
"""Highest compression ratio accepted for a zip member over one mebibyte uncompressed."""

MAX_DEPTH = 3
"""How deep files may nest inside files inside the copy."""

# pdfium is not thread-safe: every use of it in this process goes through this lock.
_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class Recovered(Mapping[str, str]):
    """Everything recovered from a copy: a mapping of part name to the text found there.

    For checking page markings: ``pages`` holds each PDF page's text (empty for a DOCX);
    ``headers`` and ``footers`` hold the text of each DOCX header and footer part in part-number
    order (empty for a PDF); ``body`` is the main text (a DOCX's document part, a PDF's pages).
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


class _Parts:
    """Collects text by part name while recovering; frozen into a :class:`Recovered` at the end."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self.pages: list[str] = []
        self.headers: dict[int, str] = {}  # by the number in the part name: header3.xml -> 3
        self.footers: dict[int, str] = {}
        self.body = ""

    def add(self, part: str, text: str) -> None:
        if text and not text.isspace():
            self.texts.setdefault(part, []).append(text)

    def nest(self, prefix: str, inner: _Parts) -> None:
        for part, texts in inner.texts.items():
            self.texts.setdefault(f"{prefix}: {part}" if prefix else part, []).extend(texts)

    def freeze(self) -> Recovered:
        return Recovered(
            {part: "\n".join(texts) for part, texts in self.texts.items()},
            self.pages,
            [self.headers[number] for number in sorted(self.headers)],
            [self.footers[number] for number in sorted(self.footers)],
            self.body or "\n".join(self.pages),
        )


def recover_pdf(data: bytes) -> Recovered:
    """Recover every text a reader or a tool could get from a PDF's bytes."""
    return _recover_pdf(data, depth=0).freeze()


def recover_docx(data: bytes) -> Recovered:
    """Recover every text a reader or a tool could get from a DOCX's bytes."""
    return _recover_zip(data, depth=0).freeze()


# --- shared ------------------------------------------------------------------------------------

# ASCII runs only: a pattern for UTF-8 runs is several times slower, and text that matters is
# decoded properly where it is found (PDF strings, XML members); these runs are the last net.
_ASCII_RUN = re.compile(rb"[\t\x20-\x7e]{6,}")
_UTF16LE_RUN = re.compile(rb"[\t\x20-\x7e]\x00(?:[\t\x20-\x7e]\x00){3,}")
_UTF16BE_RUN = re.compile(rb"\x00[\t\x20-\x7e](?:\x00[\t\x20-\x7e]){3,}")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _printable_runs(data: bytes) -> str:
    """What ``strings`` would show: runs of readable ASCII and UTF-16 text in binary data."""
    runs = [run.decode("ascii") for run in _ASCII_RUN.findall(data)]
    runs += [run.decode("utf-16-le") for run in _UTF16LE_RUN.findall(data)]
    runs += [run.decode("utf-16-be") for run in _UTF16BE_RUN.findall(data)]
    return "\n".join(runs)


def _file_text(data: bytes) -> str:
    """A plain file's text: decoded if it is text, its printable runs otherwise."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _printable_runs(data)


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_INPUT_BYTES:
        raise RedactionError(
            f"the {what} is {len(data)} bytes, over the {MAX_INPUT_BYTES}-byte limit for checking"
        )


def _embedded(data: bytes, depth: int, what: str) -> _Parts:
    """Recover a file found inside the copy: PDF or OOXML zip recursively, anything else as text."""
    if depth > MAX_DEPTH:
        raise RedactionError(f"{what} nests files more than {MAX_DEPTH} deep; cannot be checked")
    if b"%PDF-" in data[:1024]:
        return _recover_pdf(data, depth)
    if data.startswith(b"PK\x03\x04"):
        return _recover_zip(data, depth)
    parts = _Parts()
    parts.add("content", _file_text(data))
    return parts


# --- PDF ---------------------------------------------------------------------------------------

# Strings and names in PDF syntax as qpdf writes it back out (``unparse``): literal strings have
# their parentheses escaped, binary strings are in hex, and there are no comments.
_PDF_STRING = re.compile(rb"\(([^\\()]*(?:\\.[^\\()]*)*)\)|<([0-9A-Fa-f]*)>", re.S)
_PDF_NAME = re.compile(rb"/[^\s/\[\]()<>{}%]+")
_KEY_BEFORE = re.compile(rb"(/[^\s/\[\]()<>{}%]+)\s*\Z")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_LITERAL_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_LITERAL_SPECIAL = re.compile(rb"[()\\]")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
# Streams holding only glyph programs or glyph-to-character maps: no document text; skipped.
_FONT_DATA_REF = re.compile(rb"/(?:FontFile[23]?|ToUnicode) (\d+) (\d+) R")
# Marked-content properties in content streams that carry replacement or alternative text.
_CONTENT_PROPERTY = re.compile(rb"/(?:ActualText|Alt|E|T|Lang)\s*<([0-9A-Fa-f\s]*)>")
_KEY_PARTS = {
    b"/Alt": "alt text",
    b"/ActualText": "ActualText",
    b"/E": "expansion text",
    b"/URI": "link target",
    b"/P": "page labels",  # the only string-valued /P is a page label's prefix
}
_INFO_KEYS = frozenset(
    b"/Title /Author /Subject /Keywords /Creator /Producer /CreationDate /ModDate /Trapped".split()
)


def _unescape_literal(body: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        escaped = match[1]
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8) & 0xFF])
        if escaped in (b"\r", b"\n"):
            return b""  # a backslash before a line break continues the string
        return _ESCAPES.get(escaped, escaped)

    return _LITERAL_ESCAPE.sub(replace, body)


def _unhex(digits: bytes) -> bytes:
    digits = re.sub(rb"\s+", b"", digits)
    return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())  # odd: a final 0 implied


def _pdf_text_string(raw: bytes) -> str:
    """Decode a PDF text string: UTF-16BE or UTF-8 with a byte order mark, else PDFDocEncoding.

    Strings with NUL bytes are also read as UTF-16 without a mark, as some tools would.
    """
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    text = raw.decode("pdfdoc", "replace")
    if b"\x00" in raw and len(raw) % 2 == 0:
        text += "".join("\n" + raw.decode(codec, "replace") for codec in ("utf-16-be", "utf-16-le"))
    return text


def _literal_strings(data: bytes) -> Iterator[bytes]:
    """Literal strings in raw PDF syntax, where parentheses may nest without escapes."""
    start = data.find(b"(")
    while start != -1:
        depth, position = 0, start
        while (special := _LITERAL_SPECIAL.search(data, position)) is not None:
            position = special.end() + (special[0] == b"\\")  # skip the escaped byte
            depth += {b"(": 1, b")": -1}.get(special[0], 0)
            if depth == 0:
                break
        else:
            position = len(data) + 1  # unterminated: the rest of the stream
        yield _unescape_literal(data[start + 1 : position - 1])
        start = data.find(b"(", position)


def _page_texts(data: bytes) -> list[str]:
    """Each page's text as pdfium extracts it: every character, on or off the visible page."""
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            raise RedactionError("pdfium cannot open the PDF (damaged or encrypted)") from None
        try:
            texts = []
            for index in range(len(document)):
                page = document[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        texts.append(textpage.get_text_range(errors="replace"))
                    finally:
                        textpage.close()
                finally:
                    page.close()
            return texts
        finally:
            document.close()


def _check_single_revision(data: bytes) -> None:
    """Refuse incremental updates: earlier revisions stay in the bytes, and tools read them."""
    revisions = data.count(b"startxref") - (b"/Linearized" in data[:1024])
    if revisions > 1:
        raise RedactionError(
            f"the PDF has {revisions} revisions (incremental updates); text replaced in a later "
            "revision is still in the file. Render the copy again as a single revision"
        )


def _recover_pdf(data: bytes, depth: int) -> _Parts:
    _check_size(data, "PDF")
    if b"%PDF-" not in data[:1024]:
        raise RedactionError("the copy is not a PDF (no %PDF- header)")
    _check_single_revision(data)
    # Not in two threads: the pdfium thread waits for the GIL after every call into pdfium
    # while this one walks objects, and under load that made the whole slower, not quicker.
    pages = _page_texts(data)
    objects, page_count = _pdf_objects(data, depth)
    if page_count != len(pages):
        raise RedactionError(
            f"pdfium reads {len(pages)} pages but qpdf reads {page_count}: the PDF is ambiguous"
        )
    parts = _Parts()
    parts.pages = pages
    for number, text in enumerate(pages, 1):
        parts.add(f"page {number} text", text)
    parts.nest("", objects)
    parts.add("raw file bytes", _printable_runs(data))
    return parts


def _pdf_objects(data: bytes, depth: int) -> tuple[_Parts, int]:
    """Strings and stream text of every object qpdf reads, and qpdf's page count."""
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except (pikepdf.PdfError, pikepdf.PasswordError):
        raise RedactionError("qpdf cannot open the PDF without repairing it") from None
    parts = _Parts()
    with pdf:
        try:
            _PdfObjects(pdf, parts, depth).collect()
        except (pikepdf.PdfError, zlib.error, ValueError):
            raise RedactionError("part of the PDF cannot be decoded") from None
        return parts, len(pdf.pages)


class _PdfObjects:
    """Walks every object of an open PDF, naming each string after where it was found."""

    def __init__(self, pdf: pikepdf.Pdf, parts: _Parts, depth: int) -> None:
        self.pdf = pdf
        self.parts = parts
        self.depth = depth
        self.context: dict[tuple[int, int], str] = {}
        self.content_streams: dict[tuple[int, int], str] = {}

    def collect(self) -> None:
        self._map_contexts()
        objects = list(self.pdf.objects)
        syntaxes = [
            (obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj).unparse(resolved=True)
            for obj in objects
        ]
        syntaxes.append(self.pdf.trailer.unparse(resolved=True))
        # One regex pass over all objects' syntax is far quicker than one pass per object.
        buffer = b"\n".join(syntaxes)
        starts = list(accumulate((len(syntax) + 1 for syntax in syntaxes[:-1]), initial=0))
        for match in _PDF_STRING.finditer(buffer):
            index = bisect_right(starts, match.start()) - 1
            if index == len(objects):
                context = "document trailer"
            else:
                context = self._context_of(objects[index].objgen, syntaxes[index])
            key = _KEY_BEFORE.search(buffer, max(starts[index], match.start() - 128), match.start())
            literal, digits = match.groups()
            raw = _unescape_literal(literal) if literal is not None else _unhex(digits)
            self.parts.add(self._part(context, key[1] if key else b""), _pdf_text_string(raw))
        skipped = {(int(num), int(gen)) for num, gen in _FONT_DATA_REF.findall(buffer)}
        for obj, syntax in zip(objects, syntaxes):
            if isinstance(obj, pikepdf.Stream) and obj.objgen not in skipped:
                self._stream(obj, obj.objgen, syntax)
        names = {
            _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), name[1:])
            for name in set(_PDF_NAME.findall(buffer))
        }
        self.parts.add("PDF names", "\n".join(sorted(n.decode("utf-8", "replace") for n in names)))

    def _map_contexts(self) -> None:
        """Name the objects whose role is known from the document's structure."""
        root = self.pdf.Root
        self.context[root.objgen] = "document catalog"
        info = self.pdf.trailer.get("/Info")
        if info is not None:
            self.context[info.objgen] = "document info"
        for number, page in enumerate(self.pdf.pages, 1):
            self.context[page.obj.objgen] = f"page {number} dictionary"
            contents = page.obj.get("/Contents")
            for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
                if stream is not None:
                    self.content_streams[stream.objgen] = f"page {number}"
            for annotation in page.obj.get("/Annots", []):
                self.context.setdefault(annotation.objgen, f"annotation on page {number}")
        self._tree(root.get("/Outlines"), "outline", ("/First", "/Next"))
        nothing = pikepdf.Dictionary()
        self._tree(root.get("/AcroForm", nothing).get("/Fields"), "form field", ("/Kids",))
        roles = {"/Dests": "named destination", "/EmbeddedFiles": "embedded file names"}
        for key, tree in root.get("/Names", nothing).items():
            self._tree(tree, roles.get(key, "name tree"), ("/Kids",))
        self._tree(root.get("/Dests"), "named destination", ())
        self._tree(root.get("/PageLabels"), "page labels", ("/Kids",))

    def _tree(self, node: object, role: str, links: tuple[str, ...]) -> None:
        pending, seen = [node], set()
        while pending:
            node = pending.pop()
            if isinstance(node, pikepdf.Array):
                pending.extend(node)
                continue
            if not isinstance(node, pikepdf.Dictionary) or node.objgen in seen:
                continue
            if node.is_indirect:  # a direct dictionary is named with the object holding it
                seen.add(node.objgen)
                self.context.setdefault(node.objgen, role)
            pending.extend(node[link] for link in links if link in node)

    def _context_of(self, objgen: tuple[int, int], syntax: bytes) -> str:
        known = self.context.get(objgen)
        if known is not None:
            return known
        if b"/Type /StructElem" in syntax:
            return "structure tree"
        if b"/Type /Filespec" in syntax or b"/EF " in syntax:
            return f"embedded file (object {objgen[0]})"
        if b"/Type /Annot" in syntax:
            return "annotation not on a page"
        return "other PDF object"

    @staticmethod
    def _part(context: str, key: bytes) -> str:
        if key in _KEY_PARTS:
            return _KEY_PARTS[key]
        if context == "document info":
            known = key in _INFO_KEYS
            return f"document info {key.decode()}" if known else "document info (other entry)"
        if context == "structure tree" and key == b"/T":
            return "structure title"
        return context

    def _stream(self, stream: pikepdf.Stream, objgen: tuple[int, int], syntax: bytes) -> None:
        number = objgen[0]
        if b"/Type /ObjStm" in syntax or b"/Type /XRef" in syntax:
            return  # the objects inside are listed by qpdf and walked on their own
        if b"/Subtype /Image" in syntax:
            # Pixels are compressed noise, but JPEG data passes through with its EXIF/XMP text.
            raw = stream.read_raw_bytes()
            self.parts.add(f"image data (object {number})", _printable_runs(raw))
            return
        data = stream.read_bytes()
        if b"/Type /Metadata" in syntax or b"/Subtype /XML" in syntax:
            self.parts.add("XMP metadata", _xmp_text(data))
        elif b"/Type /EmbeddedFile" in syntax:
            prefix = f"embedded file (object {number})"
            self.parts.nest(prefix, _embedded(data, self.depth + 1, prefix))
        elif objgen in self.content_streams or b"/Subtype /Form" in syntax:
            where = self.content_streams.get(objgen) or f"form XObject (object {number})"
            self.parts.add(f"content stream strings on {where}", _content_strings(data))
        else:
            self.parts.add(f"stream data (object {number})", _printable_runs(data))


def _content_strings(data: bytes) -> str:
    """Literal strings and hex marked-content properties (/ActualText, /Alt) in a content stream.

    Page text proper comes from pdfium; this catches what it does not show: replacement text
    given inline to marked content, and text in form XObjects no page draws.
    """
    texts = [_pdf_text_string(raw) for raw in _literal_strings(data)] if b"(" in data else []
    texts += [_pdf_text_string(_unhex(digits)) for digits in _CONTENT_PROPERTY.findall(data)]
    return "\n".join(texts)


def _xmp_text(data: bytes) -> str:
    """Text nodes and attribute values of XMP metadata, or its printable runs if not XML."""
    try:
        tree = etree.parse(io.BytesIO(data), _xml_parser())
    except etree.XMLSyntaxError:
        return _printable_runs(data)
    return "\n".join(str(text) for text in tree.xpath("//text() | //@*"))


# --- DOCX (any OOXML zip) ----------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_SPACING = (f"{_W}tab", f"{_W}ptab", f"{_W}br", f"{_W}cr", f"{_A}br", f"{_A}tab")
_PARAGRAPHS = (f"{_W}p", f"{_A}p")
_SAFE_FOLDERS = frozenset(
    "word docProps customXml _rels media theme embeddings glossary fonts charts diagrams "
    "drawings printerSettings activeX xl worksheets ppt slides".split()
)
_SAFE_STEMS = frozenset(
    "document styles stylesWithEffects settings webSettings fontTable numbering comments "
    "commentsExtended commentsIds commentsExtensible people footnotes endnotes header footer "
    "theme core app custom item itemProps image oleObject package Microsoft_Excel_Worksheet "
    "Microsoft_Word_Document Microsoft_PowerPoint_Presentation "
    "font chart colors style drawing data layout quickStyle thumbnail workbook sheet "
    "sharedStrings activeX".split()
) | {"", "[Content_Types]"}
_SAFE_EXTENSIONS = frozenset(
    "xml rels png jpeg jpg gif bmp tif tiff emf wmf svg bin docx xlsx pptx pdf odttf vml".split()
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


def _xml_parser() -> etree.XMLParser:
    """A parser that fetches nothing and expands no entities."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _member_label(name: str, index: int) -> str:
    """The member's name if it is a well-known OOXML part name, else its position.

    Other names are recovered as text but never used as labels: they could hold withheld text,
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


def _recover_zip(data: bytes, depth: int) -> _Parts:
    _check_size(data, "DOCX")
    archive, members = _open_zip(data)
    parts = _Parts()
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
            _member(parts, member.filename, _member_label(member.filename, index), blob, depth)
    parts.add("raw file bytes", _printable_runs(data))
    return parts


def _member(parts: _Parts, name: str, label: str, blob: bytes, depth: int) -> None:
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
        parts.nest(label, _embedded(blob, depth + 1, label))
    else:
        parts.add(f"{label} printable text", _printable_runs(blob))


def _xml_texts(name: str, label: str, blob: bytes) -> tuple[tuple[tuple[str, str], ...], str]:
    """The texts of one XML member by part name, and its paragraphs' text on its own."""
    try:
        tree = etree.parse(io.BytesIO(blob), _xml_parser())
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
