"""Adding a recipient's line ("Copy for: NAME, ORGANISATION, DATE") to a copy already rendered,
without laying the document out again, and checking that a stamped copy is the rendered copy
plus the line and nothing else.

A PDF is stamped by an *incremental update*: the rendered file's bytes are kept exactly as they
are, and a short section appended after them draws the line on every page as a pagination
artifact in the page's header (so the tagged structure, and with it PDF/UA, is untouched: a
screen reader is not made to read a running header). The line itself is laid out once by
WeasyPrint as a one-line page (so any script is shaped and its font embedded and mapped back to
text, as in the documents), turned into a form XObject drawn on each page. A Word file is stamped
by adding one paragraph to each of its headers (to the top of the body if it has none).

:func:`check_stamp` is what the approval relies on: the stamped bytes begin with the approved
copy's bytes, byte for byte, and what follows only adds the stamp.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise

import pikepdf

from docgen.adapters.pdf import render_pdf
from docgen.errors import RenderError

STAMP_NAME = "/DocgenStamp"
_MM = Decimal(72) / Decimal("25.4")
_LEFT_MM, _TOP_MM, _WIDTH_MM = 18, Decimal("3.5"), 174
_LINE_MM = 3  # the height each line of a stamp takes in the page's top margin
_OPEN = b"q\n"
_MARKED = {"BDC", "BMC", "EMC", "DP", "MP"}
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
_MAX_LINE = 200


class StampError(RenderError):
    """A copy could not be stamped, or a stamped copy is not its copy plus the stamp alone."""


def _stamp_operators(x: Decimal, y: Decimal) -> bytes:
    """What each page's stamp stream holds: the stamp drawn as a header artifact at (x, y), after
    the page's own content, whose graphics state is closed first (``Q`` for the ``q`` before it)."""
    return (f"\nQ\nq\n/Artifact <</Type /Pagination /Subtype /Header>> BDC\n1 0 0 1 {x:.4f} {y:.4f} cm\n"
            f"{STAMP_NAME} Do\nEMC\nQ\n").encode("ascii")


# -- PDF ------------------------------------------------------------------------------------------

def _height_mm(line: str) -> int:
    return _LINE_MM * (line.count("\n") + 2)


def _stamp_html(line: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(part)}</p>" for part in line.split("\n"))
    return ('<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Copy for</title><style>'
            f"@page {{ size: {_WIDTH_MM}mm {_height_mm(line)}mm; margin: 0 }}"
            'body { margin: 0; font: 7pt/1.15 "DejaVu Sans", sans-serif; color: #000; overflow-wrap: break-word }'
            f"p {{ margin: 0 }}</style></head><body>{paragraphs}</body></html>")


def _check_line(line: str) -> None:
    parts = line.split("\n")
    if len(parts) > 2 or any(not part.strip() or len(part) > _MAX_LINE for part in parts):
        raise StampError(f"a stamp is one line, or two, of 1 to {_MAX_LINE} characters each")


def _line_page(line: str) -> pikepdf.Pdf:
    _check_line(line)
    data, pages = _laid_out_line(line)
    if pages != 1:
        raise StampError("the recipient line is too long to fit in the page header; shorten the organisation's name")
    return pikepdf.open(io.BytesIO(data))


@lru_cache(maxsize=64)
def _laid_out_line(line: str) -> tuple[bytes, int]:
    """The line laid out as a one-line page: once per line and process, as a recipient is sent
    several copies in a row (a delivery run, a pack's forms)."""
    return render_pdf(_stamp_html(line), source="the recipient line")


def stamp_pdf(data: bytes, line: str) -> bytes:
    """``data`` (a PDF) with ``line`` (one line, or two separated by a line break) in the header
    of every page, added as an incremental update."""
    try:
        base = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError:
        raise StampError("the copy to stamp is not a readable PDF") from None
    found = _STARTXREF.search(data[-64:])
    if found is None:
        raise StampError("the copy to stamp does not end with a cross-reference offset")
    size = int(base.trailer.Size)
    with _line_page(line) as line_pdf:
        form = _form_xobject(base, line_pdf)
        changed: dict[tuple[int, int], pikepdf.Object] = {}
        for page in base.pages:
            _stamp_page(base, page.obj, form, changed, _height_mm(line))
        return data + _update(base, data, size, changed, int(found[1]), line)


def _form_xobject(base: pikepdf.Pdf, line_pdf: pikepdf.Pdf) -> pikepdf.Object:
    """The line's page as a form XObject of ``base``, its marked-content tags removed (the
    stamp is an artifact as a whole, outside the document's structure)."""
    page = line_pdf.pages[0]
    operators = [instruction for instruction in pikepdf.parse_content_stream(page)
                 if str(instruction.operator) not in _MARKED]
    box = page.obj.MediaBox
    form = pikepdf.Stream(base, pikepdf.unparse_content_stream(operators))
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = pikepdf.Array([box[0], box[1], box[2], box[3]])
    form.Resources = base.copy_foreign(page.obj.Resources)
    return base.make_indirect(form)


def _stamp_page(base: pikepdf.Pdf, page: pikepdf.Object, form: pikepdf.Object,
                changed: dict[tuple[int, int], pikepdf.Object], height_mm: int) -> None:
    box = [Decimal(str(value)) for value in page.MediaBox]
    x = box[0] + _LEFT_MM * _MM
    y = box[3] - (_TOP_MM + height_mm) * _MM
    contents = page.get("/Contents")
    old = list(contents) if isinstance(contents, pikepdf.Array) else [] if contents is None else [contents]
    opening = base.make_indirect(pikepdf.Stream(base, _OPEN))
    stamp = base.make_indirect(pikepdf.Stream(base, _stamp_operators(x, y)))
    page.Contents = pikepdf.Array([opening, *old, stamp])
    resources = page.get("/Resources")
    if resources is None:
        page.Resources = resources = pikepdf.Dictionary()
    elif resources.is_indirect:
        changed[resources.objgen] = resources
    xobjects = resources.get("/XObject")
    if xobjects is None:
        resources.XObject = xobjects = pikepdf.Dictionary()
    elif xobjects.is_indirect:
        changed[xobjects.objgen] = xobjects
    if STAMP_NAME in xobjects and xobjects[STAMP_NAME].objgen != form.objgen:
        raise StampError("the copy is already stamped")
    xobjects[STAMP_NAME] = form
    changed[page.objgen] = page


def _serialise(number: int, generation: int, obj: pikepdf.Object) -> bytes:
    head = f"{number} {generation} obj\n".encode("ascii")
    if isinstance(obj, pikepdf.Stream):
        raw = obj.read_raw_bytes()
        obj.stream_dict.Length = len(raw)
        return head + obj.stream_dict.unparse() + b"\nstream\n" + raw + b"\nendstream\nendobj\n"
    return head + obj.unparse(resolved=True) + b"\nendobj\n"


def _update(base: pikepdf.Pdf, data: bytes, size: int, changed: dict[tuple[int, int], pikepdf.Object],
            previous: int, line: str) -> bytes:
    """The incremental update: the changed objects, the new ones, and a cross-reference stream."""
    new = {obj.objgen: obj for obj in base.objects if obj.objgen[0] >= size}
    written = sorted({**changed, **new}.items())
    out = bytearray(b"\n")
    offsets: dict[int, tuple[int, int]] = {}
    for (number, generation), obj in written:
        offsets[number] = (len(data) + len(out), generation)
        out += _serialise(number, generation, obj)
    xref_number = max([size - 1, *offsets]) + 1
    offsets[xref_number] = (len(data) + len(out), 0)
    numbers = sorted(offsets)
    rows = b"".join(b"\x01" + offsets[n][0].to_bytes(4, "big") + offsets[n][1].to_bytes(2, "big") for n in numbers)
    index = " ".join(f"{start} {count}" for start, count in _runs(numbers))
    first_id = bytes(base.trailer.ID[0]) if "/ID" in base.trailer else hashlib.md5(data).digest()
    second_id = hashlib.md5(data[-64:] + line.encode("utf-8")).digest()
    root = base.trailer.Root.objgen
    info = f" /Info {base.trailer.Info.objgen[0]} {base.trailer.Info.objgen[1]} R" if "/Info" in base.trailer else ""
    head = (f"{xref_number} 0 obj\n<</Type /XRef /Size {xref_number + 1} /Index [{index}] /W [1 4 2]"
            f" /Root {root[0]} {root[1]} R{info} /ID [<{first_id.hex()}> <{second_id.hex()}>] /Prev {previous}"
            f" /Length {len(rows)}>>\nstream\n").encode("ascii")
    out += head + rows + b"\nendstream\nendobj\n" + f"startxref\n{offsets[xref_number][0]}\n%%EOF\n".encode("ascii")
    return bytes(out)


def _runs(numbers: list[int]) -> Iterable[tuple[int, int]]:
    start = previous = numbers[0]
    for number in numbers[1:]:
        if number != previous + 1:
            yield start, previous - start + 1
            start = number
        previous = number
    yield start, previous - start + 1


def check_pdf_stamp(base_data: bytes, stamped_data: bytes) -> None:
    """Raise StampError unless ``stamped_data`` is ``base_data`` followed by an update that only
    draws one stamp (a form XObject with no structure of its own) on each page as an artifact."""
    if not stamped_data.startswith(base_data) or len(stamped_data) == len(base_data):
        raise StampError("the stamped copy does not begin with the rendered copy's exact bytes")
    try:
        base = pikepdf.open(io.BytesIO(base_data))
        stamped = pikepdf.open(io.BytesIO(stamped_data))
    except pikepdf.PdfError:
        raise StampError("the stamped copy cannot be read") from None
    with base, stamped:
        updated = _updated_objects(stamped_data, len(base_data))
        size = int(base.trailer.Size)
        if len(base.pages) != len(stamped.pages):
            raise StampError("the stamped copy has another number of pages")
        if base.trailer.Root.objgen != stamped.trailer.Root.objgen:
            raise StampError("the stamped copy has another document catalog")
        _check_trailer(base, stamped)
        allowed = _check_pages(base, stamped, updated, size)
        extra = sorted(set(updated) - allowed)
        if extra:
            raise StampError(f"the stamped copy's update changes {len(extra)} objects besides the stamp")


# What an update's cross-reference stream says of itself and of the revision before; everything
# else in the trailer (the catalog, the document information, encryption) must be the base's.
_UPDATE_OWN = frozenset({"/Size", "/Prev", "/ID", "/Type", "/Index", "/W", "/Length", "/Filter", "/DecodeParms",
                         "/XRefStm"})


def _check_trailer(base: pikepdf.Pdf, stamped: pikepdf.Pdf) -> None:
    def kept(pdf: pikepdf.Pdf) -> dict[str, bytes]:
        return {key: _text(pdf.trailer[key]) for key in pdf.trailer.keys() if key not in _UPDATE_OWN}  # noqa: SIM118

    if kept(base) != kept(stamped):
        raise StampError("the stamped copy's trailer is not the rendered copy's")
    if "/ID" in base.trailer and ("/ID" not in stamped.trailer
                                  or bytes(stamped.trailer.ID[0]) != bytes(base.trailer.ID[0])):
        raise StampError("the stamped copy's identifier is not the rendered copy's")


def _check_pages(base: pikepdf.Pdf, stamped: pikepdf.Pdf, updated: set[int], size: int) -> set[int]:
    """Check each page against its rendered page; returns the object numbers the stamp may own."""
    allowed: set[int] = set()
    form_number: int | None = None
    for old, new in zip(base.pages, stamped.pages, strict=True):
        old_page, new_page = old.obj, new.obj
        if old_page.objgen != new_page.objgen or set(old_page.keys()) | {"/Contents"} != set(new_page.keys()) | {"/Contents"}:
            raise StampError("a page of the stamped copy is not the rendered page")
        allowed.add(new_page.objgen[0])
        for key in old_page.keys():  # noqa: SIM118 - a PDF dictionary's keys
            if key not in ("/Contents", "/Resources") and _text(old_page[key]) != _text(new_page[key]):
                raise StampError(f"a page of the stamped copy changes its {key[1:]}")
        old_contents = old_page.get("/Contents")
        old_list = (list(old_contents) if isinstance(old_contents, pikepdf.Array)
                    else [] if old_contents is None else [old_contents])
        new_list = list(new_page.Contents)
        if [o.objgen for o in old_list] != [o.objgen for o in new_list[1:-1]]:
            raise StampError("a page of the stamped copy does not keep its own content")
        opening, stamp = new_list[0], new_list[-1]
        if opening.objgen[0] < size or stamp.objgen[0] < size or opening.read_bytes() != _OPEN:
            raise StampError("a page of the stamped copy has content besides the stamp")
        if not re.fullmatch(rb"\nQ\nq\n/Artifact <</Type /Pagination /Subtype /Header>> BDC\n1 0 0 1 [0-9.]+ [0-9.]+ cm\n"
                            + re.escape(STAMP_NAME.encode()) + rb" Do\nEMC\nQ\n", stamp.read_bytes()):
            raise StampError("a page's stamp draws something besides the stamp")
        allowed |= {opening.objgen[0], stamp.objgen[0]}
        form = _check_resources(old_page.Resources, new_page.Resources, allowed)
        if form_number is None:
            form_number = form.objgen[0]
            allowed |= _owned_by_form(form, size)
        elif form.objgen[0] != form_number:
            raise StampError("the pages of the stamped copy carry different stamps")
    return allowed


def _text(value: object) -> bytes:
    """A value as PDF syntax (an indirect object as its reference), to compare two values."""
    if isinstance(value, pikepdf.Object):
        return bytes(value.unparse())
    return repr(value).encode()


def _check_resources(old: pikepdf.Object, new: pikepdf.Object, allowed: set[int]) -> pikepdf.Object:
    if old.is_indirect != new.is_indirect or (old.is_indirect and old.objgen != new.objgen):
        raise StampError("a page of the stamped copy has other resources")
    if new.is_indirect:
        allowed.add(new.objgen[0])
    if set(old.keys()) | {"/XObject"} != set(new.keys()) | {"/XObject"}:
        raise StampError("a page of the stamped copy has other resources")
    for key in old.keys():  # noqa: SIM118 - a PDF dictionary's keys
        if key != "/XObject" and _text(old[key]) != _text(new[key]):
            raise StampError("a page of the stamped copy has other resources")
    old_x = old.get("/XObject", pikepdf.Dictionary())
    new_x = new.XObject
    if new_x.is_indirect:
        allowed.add(new_x.objgen[0])
    if set(new_x.keys()) != set(old_x.keys()) | {STAMP_NAME} or STAMP_NAME in old_x:
        raise StampError("a page of the stamped copy has other images or forms")
    for key in old_x.keys():  # noqa: SIM118 - a PDF dictionary's keys
        if _text(old_x[key]) != _text(new_x[key]):
            raise StampError("a page of the stamped copy has other images or forms")
    form = new_x[STAMP_NAME]
    if not isinstance(form, pikepdf.Stream) or form.get("/Subtype") != pikepdf.Name.Form:
        raise StampError("the stamp is not a form")
    operators = {str(instruction.operator) for instruction in pikepdf.parse_content_stream(form)}
    if operators & _MARKED or "Do" in operators or "BI" in operators or "INLINE IMAGE" in operators:
        raise StampError("the stamp holds more than text")
    return form


def _owned_by_form(form: pikepdf.Object, size: int) -> set[int]:
    """Every new object the form reaches (its own resources: fonts and graphics states)."""
    owned: set[int] = set()
    stack: list[object] = [form]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, pikepdf.Object):
            continue
        if obj.is_indirect:
            if obj.objgen[0] in owned:
                continue
            if obj.objgen[0] < size:
                raise StampError("the stamp refers to the rendered copy's own objects")
            owned.add(obj.objgen[0])
        if isinstance(obj, pikepdf.Stream):
            stack.extend(obj.stream_dict.values())
        elif isinstance(obj, pikepdf.Dictionary):
            stack.extend(obj.values())
        elif isinstance(obj, pikepdf.Array):
            stack.extend(obj)
    return owned


def _updated_objects(data: bytes, start: int) -> set[int]:
    """The object numbers the one update after ``start`` defines, from its cross-reference
    stream; the update must be those objects back to back, its cross-reference stream and its
    end, and nothing else."""
    found = _STARTXREF.search(data[-64:])
    if found is None or int(found[1]) < start:
        raise StampError("the stamped copy's update has no cross-reference stream of its own")
    xref_at = int(found[1])
    head = re.match(rb"(\d+) 0 obj\n<<(.*?)>>\nstream\n", data[xref_at:xref_at + 4096], re.S)
    before = _STARTXREF.search(data[max(0, start - 64):start])
    fields = dict(re.findall(rb"/(Type|W|Index|Prev|Length) (/XRef|\[[0-9 ]+\]|\d+)", head[2])) if head else {}
    if (head is None or before is None or fields.get(b"Type") != b"/XRef" or fields.get(b"W") != b"[1 4 2]"
            or fields.get(b"Prev") != before[1] or b"Index" not in fields or b"Length" not in fields):
        raise StampError("the stamped copy's update is not the stamp's")
    rows_at = xref_at + head.end()
    rows = data[rows_at:rows_at + int(fields[b"Length"])]
    ending = b"\nendstream\nendobj\n" + f"startxref\n{xref_at}\n%%EOF\n".encode("ascii")
    if data[rows_at + len(rows):] != ending:
        raise StampError("the stamped copy has more after its update")
    numbers = [int(value) for value in fields[b"Index"][1:-1].split()]
    listed = [number for first, count in zip(numbers[::2], numbers[1::2], strict=True)
              for number in range(first, first + count)]
    if len(rows) != 7 * len(listed):
        raise StampError("the stamped copy's update is not the stamp's")
    places = sorted((int.from_bytes(rows[7 * i + 1:7 * i + 5], "big"), number) for i, number in enumerate(listed)
                    if rows[7 * i] == 1)
    if len(places) != len(listed) or places[-1] != (xref_at, int(head[1])) or places[0][0] != start + 1:
        raise StampError("the stamped copy's update is not the stamp's")
    for (at, number), (following, _) in pairwise(places):
        if not data.startswith(f"{number} 0 obj\n".encode("ascii"), at) or not data[:following].endswith(b"endobj\n"):
            raise StampError("the stamped copy's update holds more than its objects")
    return set(listed) - {int(head[1])}


# -- Word -----------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_HEADER_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"


def _paragraph(line: str) -> bytes:
    text = html.escape(line, quote=False)
    return (f'<w:p><w:pPr><w:pStyle w:val="HeaderNotice"/></w:pPr><w:r><w:t xml:space="preserve">{text}</w:t>'
            "</w:r></w:p>").encode()


def _stamped_members(members: dict[str, bytes], line: str) -> dict[str, bytes]:
    """Which members change and how: each header gets the paragraph before its end; with no
    header, the body gets it first."""
    paragraph = _paragraph(line)
    headers = sorted(name for name in members if re.fullmatch(r"word/header\d*\.xml", name))
    out: dict[str, bytes] = {}
    for name in headers:
        xml = members[name]
        end = xml.rfind(b"</w:hdr>")
        if end < 0:
            raise StampError(f"{name} of the Word copy has no end")
        out[name] = xml[:end] + paragraph + xml[end:]
    if not headers:
        xml = members["word/document.xml"]
        found = re.search(rb"<w:body>", xml)
        if found is None:
            raise StampError("the Word copy has no body")
        out["word/document.xml"] = xml[:found.end()] + paragraph + xml[found.end():]
    return out


def _members(data: bytes) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            return infos, {info.filename: package.read(info) for info in infos}
    except (zipfile.BadZipFile, KeyError):
        raise StampError("the Word copy cannot be read") from None


def stamp_docx(data: bytes, line: str) -> bytes:
    """``data`` (a DOCX) with ``line`` (one line, or two separated by a line break) added to each header."""
    _check_line(line)
    infos, members = _members(data)
    changed = _stamped_members(members, line)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            target.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time),
                            changed.get(info.filename, members[info.filename]), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def check_docx_stamp(base_data: bytes, stamped_data: bytes, line: str) -> None:
    """Raise StampError unless the stamped Word copy is the rendered one with only the line added."""
    base_infos, base_members = _members(base_data)
    stamped_infos, stamped_members = _members(stamped_data)
    if [i.filename for i in base_infos] != [i.filename for i in stamped_infos]:
        raise StampError("the stamped Word copy has other parts")
    expected = {**base_members, **_stamped_members(base_members, line)}
    if expected != stamped_members:
        raise StampError("the stamped Word copy differs from the rendered one by more than the line")


def single_revision(data: bytes) -> bytes:
    """A PDF with an update written out again as one revision (the same document, every object
    once), for a file kept in a pack rather than sent as the copy it updates."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
            return out.getvalue()
    except pikepdf.PdfError:
        raise StampError("the stamped copy cannot be written as one revision") from None


def stamp(data: bytes, fmt: str, line: str) -> bytes:
    """The copy ``data`` in format ``fmt`` with ``line`` added; see :func:`stamp_pdf`, :func:`stamp_docx`."""
    if fmt == "pdf":
        return stamp_pdf(data, line)
    if fmt == "docx":
        return stamp_docx(data, line)
    raise StampError(f"cannot stamp a copy in format {fmt!r}")


def check_stamp(base_data: bytes, stamped_data: bytes, fmt: str, line: str) -> None:
    """Raise StampError unless ``stamped_data`` is ``base_data`` plus the stamp of ``line`` alone."""
    if fmt == "pdf":
        check_pdf_stamp(base_data, stamped_data)
    elif fmt == "docx":
        check_docx_stamp(base_data, stamped_data, line)
    else:
        raise StampError(f"cannot check a copy in format {fmt!r}")
