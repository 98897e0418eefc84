"""Read back every text a reader or a tool could get out of a PDF: page text through pdfium (which
maps glyphs back to characters through each font's ToUnicode table), and every string, name,
stream, XMP packet and embedded file qpdf finds in its objects."""

from __future__ import annotations

import io
import re
import threading
import zlib
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

import pikepdf
import pypdfium2 as pdfium
from lxml import etree

from docgen.adapters.readback.text import NestedReader, Parts, check_size, printable_runs, xml_parser
from docgen.errors import RedactionError

# pdfium is not thread-safe: every use of it in this process goes through this lock.
_PDFIUM_LOCK = threading.Lock()

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


def _check_single_revision(data: bytes, earlier: bytes | None = None) -> None:
    """Refuse incremental updates: earlier revisions stay in the bytes, and tools read them.

    ``earlier``: the bytes of a revision that was read back and checked on its own; ``data`` may
    be exactly those bytes followed by one update (a recipient's stamp), and nothing else."""
    revisions = data.count(b"startxref") - (b"/Linearized" in data[:1024])
    if earlier is not None:
        if not data.startswith(earlier) or len(data) == len(earlier):
            raise RedactionError("the PDF does not begin with the revision it was said to update")
        earlier_revisions = earlier.count(b"startxref") - (b"/Linearized" in earlier[:1024])
        if earlier_revisions != 1:
            raise RedactionError("the copy a stamp was added to is not a single revision; render it again")
        revisions -= earlier_revisions
    if revisions > 1:
        raise RedactionError(
            f"the PDF has {revisions} revisions (incremental updates); text replaced in a later "
            "revision is still in the file. Render the copy again as a single revision"
        )


def read_pdf(data: bytes, depth: int, nested: NestedReader, *, earlier: bytes | None = None) -> Parts:
    """Every text of a PDF by part name; files embedded in it are read with ``nested``.
    ``earlier``: see :func:`_check_single_revision`."""
    check_size(data, "PDF")
    if b"%PDF-" not in data[:1024]:
        raise RedactionError("the copy is not a PDF (no %PDF- header)")
    _check_single_revision(data, earlier)
    # Not in two threads: the pdfium thread waits for the GIL after every call into pdfium
    # while this one walks objects, and under load that made the whole slower, not quicker.
    pages = _page_texts(data)
    objects, page_count = _pdf_objects(data, depth, nested)
    if page_count != len(pages):
        raise RedactionError(
            f"pdfium reads {len(pages)} pages but qpdf reads {page_count}: the PDF is ambiguous"
        )
    parts = Parts()
    parts.pages = pages
    for number, text in enumerate(pages, 1):
        parts.add(f"page {number} text", text)
    parts.nest("", objects)
    parts.add("raw file bytes", printable_runs(data))
    return parts


def _pdf_objects(data: bytes, depth: int, nested: NestedReader) -> tuple[Parts, int]:
    """Strings and stream text of every object qpdf reads, and qpdf's page count."""
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except (pikepdf.PdfError, pikepdf.PasswordError):
        raise RedactionError("qpdf cannot open the PDF without repairing it") from None
    parts = Parts()
    with pdf:
        try:
            _PdfObjects(pdf, parts, depth, nested).collect()
        except (pikepdf.PdfError, zlib.error, ValueError):
            raise RedactionError("part of the PDF cannot be decoded") from None
        return parts, len(pdf.pages)


class _PdfObjects:
    """Walks every object of an open PDF, naming each string after where it was found."""

    def __init__(self, pdf: pikepdf.Pdf, parts: Parts, depth: int, nested: NestedReader) -> None:
        self.pdf = pdf
        self.parts = parts
        self.depth = depth
        self.nested = nested
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
            self.parts.add(f"image data (object {number})", printable_runs(raw))
            return
        data = stream.read_bytes()
        if b"/Type /Metadata" in syntax or b"/Subtype /XML" in syntax:
            self.parts.add("XMP metadata", _xmp_text(data))
        elif b"/Type /EmbeddedFile" in syntax:
            prefix = f"embedded file (object {number})"
            self.parts.nest(prefix, self.nested(data, self.depth + 1, prefix))
        elif objgen in self.content_streams or b"/Subtype /Form" in syntax:
            where = self.content_streams.get(objgen) or f"form XObject (object {number})"
            self.parts.add(f"content stream strings on {where}", _content_strings(data))
        else:
            self.parts.add(f"stream data (object {number})", printable_runs(data))


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
        tree = etree.parse(io.BytesIO(data), xml_parser())
    except etree.XMLSyntaxError:
        return printable_runs(data)
    return "\n".join(str(text) for text in tree.xpath("//text() | //@*"))
