"""Reading back real bytes: every place a PDF or DOCX can hide text gives that text back.

Each hiding place gets its own marker word, planted in a document made by the real tools
(WeasyPrint, python-docx, pikepdf, zipfile), so finding a marker in the part named after its
place proves that place was read. The gate itself (check_copy) is run on the same documents.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable

import docx
import pikepdf
import pytest
import weasyprint
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from weasyprint.urls import URLFetcher

from docgen.adapters import readback
from docgen.adapters.readback import ReadBack, read_back_docx, read_back_pdf
from docgen.domain.disclosure import Verdict
from docgen.domain.documents import KINDS, CopySpec
from docgen.domain.redaction import PROFESSIONALS
from docgen.errors import RedactionError
from docgen.services.leak_gate import ReaderView, RenderedCopy, check_copy

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def render(html: str, **options: object) -> bytes:
    """A PDF from WeasyPrint, fetching nothing but data: URLs."""
    fetcher = URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(**options)


def parts_with(read_back: ReadBack, marker: str) -> list[str]:
    """Names of the parts whose text contains ``marker``, ignoring case."""
    return [part for part, text in read_back.items() if marker.casefold() in text.casefold()]


def gate(data: bytes, withheld: dict[str, str]) -> Verdict:
    """The leak gate on a PDF copy whose reader may see nothing but its fixed wording."""
    copy = RenderedCopy(CopySpec(KINDS["conference_record"], PROFESSIONALS), "pdf", data, None, "Conference record")
    return check_copy(copy, ReaderView(withheld, ""))


def docx_bytes(build: Callable[[docx.document.Document], object] | None = None) -> bytes:
    document = docx.Document()
    document.add_paragraph("Record of the initial child protection conference.")
    if build is not None:
        build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rezip(data: bytes, *, add: dict[str, bytes] | None = None,
          edit: Callable[[str, bytes], bytes] | None = None, comment: bytes = b"") -> bytes:
    """The same zip with members edited or added, for parts python-docx cannot make."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info)
            target.writestr(info.filename, edit(info.filename, blob) if edit else blob)
        for name, blob in (add or {}).items():
            target.writestr(name, blob)
        target.comment = comment
    return out.getvalue()


# --- PDF made by WeasyPrint ----------------------------------------------------------------------

PLANTED_HTML = f"""<!doctype html>
<html lang="en"><head>
<title>QXTITLE</title>
<meta name="author" content="QXAUTHOR">
<meta name="description" content="QXDESCRIPTION">
<meta name="keywords" content="QXKEYWORDS, other">
<style>
  h1 {{ bookmark-label: attr(data-label) }}
  .away {{ position: absolute; left: -600px; top: 40px }}
  .white {{ color: white }}
  .spaced {{ letter-spacing: 0.6em }}
</style>
</head><body>
<h1 data-label="QXBOOKMARK">Conference record</h1>
<p>The chair opened the meeting. QXPAGETEXT was discussed.</p>
<p><a href="https://example.org/QXLINKTARGET">the council's website</a></p>
<p><img alt="QXALTTEXT" src="{PNG_URL}" width="10" height="10"></p>
<p class="away">QXOFFPAGE</p>
<p class="white">QXWHITETEXT</p>
<p>Split by styling: QX<b>SPLIT</b><i>STYLE</i></p>
</body></html>"""


@pytest.fixture(scope="module")
def planted_pdf() -> bytes:
    nested_pdf = render("<p>QXNESTEDPDF</p>")
    nested_docx = docx_bytes(lambda d: d.add_paragraph("QXNESTEDDOCX"))
    attachments = [
        weasyprint.Attachment(string="QXATTACHCONTENT", name="QXATTACHNAME.txt",
                              description="QXATTACHDESC"),
        weasyprint.Attachment(file_obj=io.BytesIO(nested_pdf), name="inner.pdf"),
        weasyprint.Attachment(file_obj=io.BytesIO(nested_docx), name="inner.docx"),
    ]
    return render(PLANTED_HTML, pdf_variant="pdf/ua-1", attachments=attachments)


@pytest.fixture(scope="module")
def read_back_planted(planted_pdf: bytes) -> ReadBack:
    return read_back_pdf(planted_pdf)


WEASYPRINT_HIDING_PLACES = [
    pytest.param("QXPAGETEXT", "page 1 text", id="page-text"),
    pytest.param("QXBOOKMARK", "outline", id="bookmark-label"),
    pytest.param("QXLINKTARGET", "link target", id="link-href"),
    pytest.param("QXTITLE", "document info /Title", id="title-in-info"),
    pytest.param("QXTITLE", "XMP metadata", id="title-in-xmp"),
    pytest.param("QXAUTHOR", "document info /Author", id="meta-author"),
    pytest.param("QXAUTHOR", "XMP metadata", id="meta-author-in-xmp"),
    pytest.param("QXDESCRIPTION", "document info /Subject", id="meta-description"),
    pytest.param("QXKEYWORDS", "document info /Keywords", id="meta-keywords"),
    pytest.param("QXALTTEXT", "alt text", id="image-alt-pdf-ua"),
    pytest.param("QXATTACHNAME", "embedded file names", id="attachment-file-name"),
    pytest.param("QXATTACHDESC", "embedded file (object", id="attachment-description"),
    pytest.param("QXATTACHCONTENT", "embedded file (object", id="attachment-content"),
    pytest.param("QXNESTEDPDF", "embedded file (object", id="attached-pdf-page-text"),
    pytest.param("QXNESTEDDOCX", "embedded file (object", id="attached-docx-text"),
    pytest.param("QXOFFPAGE", "page 1 text", id="text-off-the-page"),
    pytest.param("QXWHITETEXT", "page 1 text", id="white-text"),
    pytest.param("QXSPLITSTYLE", "page 1 text", id="word-split-across-glyph-runs"),
]


@pytest.mark.parametrize(("marker", "part"), WEASYPRINT_HIDING_PLACES)
def test_weasyprint_hiding_place_is_read_back(
    read_back_planted: ReadBack, marker: str, part: str
) -> None:
    found = parts_with(read_back_planted, marker)
    assert any(name.startswith(part) for name in found), found


@pytest.mark.parametrize(("marker", "part"), WEASYPRINT_HIDING_PLACES)
def test_gate_refuses_each_weasyprint_hiding_place(
    planted_pdf: bytes, marker: str, part: str
) -> None:
    with pytest.raises(RedactionError) as refused:
        gate(planted_pdf, {"planted item": marker}).enforce()
    message = str(refused.value)
    assert re.search(rf"'planted item' found in {re.escape(part)}", message), message
    assert marker.casefold() not in message.casefold()


def test_gate_accepts_a_copy_without_any_marker(clean_pdf: bytes) -> None:
    markers = {f"item {n}": str(case.values[0]) for n, case in enumerate(WEASYPRINT_HIDING_PLACES)}
    assert gate(clean_pdf, markers).passed
    assert read_back_pdf(clean_pdf).pages != []


def test_page_text_and_body_are_listed_for_marking_checks(read_back_planted: ReadBack) -> None:
    assert len(read_back_planted.pages) == 1
    assert "QXPAGETEXT" in read_back_planted.pages[0]
    assert read_back_planted.body == read_back_planted.pages[0]
    assert read_back_planted.headers == [] and read_back_planted.footers == []


def test_part_names_never_repeat_document_text(read_back_planted: ReadBack) -> None:
    assert [name for name in read_back_planted if "QX" in name.upper()] == []


def test_letter_spaced_text_comes_back_as_spaced_letters() -> None:
    read_back = read_back_pdf(render('<p style="letter-spacing: 0.6em">Rowan</p>'))
    assert re.sub(r"\s", "", read_back.pages[0]) == "Rowan"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_page_text_agrees_with_pdftotext(tmp_path) -> None:
    paragraphs = "".join(
        f"<p>Paragraph {n}: the social worker visited the family home and agreed the plan.</p>"
        for n in range(60)
    )
    data = render(f"<html><body><h1>Review conference</h1>{paragraphs}</body></html>")
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    read_back = read_back_pdf(data)
    assert len(read_back.pages) >= 2
    for number, text in enumerate(read_back.pages, 1):
        poppler = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        assert text.split() == poppler.split(), f"page {number}"


# --- PDF places WeasyPrint does not write, planted with pikepdf ---------------------------------


def _annotation(pdf: pikepdf.Pdf) -> None:
    annotation = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10],
        Contents=pikepdf.String("QXANNOTATION"), T=pikepdf.String("QXANNOTAUTHOR")))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([annotation]))


def _form_field(pdf: pikepdf.Pdf) -> None:
    field = pdf.make_indirect(pikepdf.Dictionary(
        FT=pikepdf.Name.Tx, T=pikepdf.String("QXFIELDNAME"), V=pikepdf.String("QXFIELDVALUE")))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))


def _page_label(pdf: pikepdf.Pdf) -> None:
    label = pikepdf.Dictionary(S=pikepdf.Name.D, P=pikepdf.String("QXPAGELABEL-"))
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([0, label]))


def _named_destination(pdf: pikepdf.Pdf) -> None:
    destination = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])
    names = pikepdf.Array([pikepdf.String("QXDEST"), destination])
    tree = pdf.make_indirect(pikepdf.Dictionary(Names=names))
    pdf.Root.Names = pikepdf.Dictionary(Dests=tree)


def _custom_info(pdf: pikepdf.Pdf) -> None:
    pdf.docinfo["/CaseNote"] = pikepdf.String("QXCUSTOMINFO")


def _utf16_info(pdf: pikepdf.Pdf) -> None:
    pdf.docinfo["/Subject"] = pikepdf.String("QXZOË Wiśniewska")  # not PDFDocEncoding: UTF-16BE


def _inline_actual_text(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pikepdf.Stream(
        pdf, b"/Span <</ActualText (QXACTUAL \\(inline\\))>> BDC EMC "
             b"/Span <</Alt <FEFF005100580049004E004C0049004E00450041004C0054>>> BDC EMC"))


def _structure_text(pdf: pikepdf.Pdf) -> None:
    element = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.StructElem, S=pikepdf.Name.Span, P=pdf.Root.StructTreeRoot,
        ActualText=pikepdf.String("QXSTRUCTACTUAL"), E=pikepdf.String("QXEXPANSION"),
        T=pikepdf.String("QXSTRUCTTITLE")))
    pdf.Root.StructTreeRoot.K = pikepdf.Array([element])


def _undrawn_form_xobject(pdf: pikepdf.Pdf) -> None:
    form = pikepdf.Stream(pdf, b"BT /F1 12 Tf (QXUNDRAWN (nested) text) Tj ET",
                          Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 9, 9])
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Fm9=form)


def _javascript(pdf: pikepdf.Pdf) -> None:
    script = pikepdf.String("app.alert('QXSCRIPT')")
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=script)


PIKEPDF_HIDING_PLACES = [
    pytest.param(_annotation, "QXANNOTATION", "annotation on page 1", id="annotation-contents"),
    pytest.param(_annotation, "QXANNOTAUTHOR", "annotation on page 1", id="annotation-author"),
    pytest.param(_form_field, "QXFIELDNAME", "form field", id="form-field-name"),
    pytest.param(_form_field, "QXFIELDVALUE", "form field", id="form-field-value"),
    pytest.param(_page_label, "QXPAGELABEL", "page labels", id="page-label-prefix"),
    pytest.param(_named_destination, "QXDEST", "named destination", id="named-destination"),
    pytest.param(_custom_info, "QXCUSTOMINFO", "document info (other entry)", id="custom-info-key"),
    pytest.param(_custom_info, "CaseNote", "PDF names", id="custom-info-key-name"),
    pytest.param(_utf16_info, "QXZOË Wiśniewska", "document info /Subject", id="utf16-info"),
    pytest.param(_inline_actual_text, "QXACTUAL (inline)", "content stream strings on page 1",
                 id="inline-actualtext-literal"),
    pytest.param(_inline_actual_text, "QXINLINEALT", "content stream strings on page 1",
                 id="inline-alt-hex"),
    pytest.param(_structure_text, "QXSTRUCTACTUAL", "ActualText", id="structure-actualtext"),
    pytest.param(_structure_text, "QXEXPANSION", "expansion text", id="structure-expansion"),
    pytest.param(_structure_text, "QXSTRUCTTITLE", "structure title", id="structure-title"),
    pytest.param(_undrawn_form_xobject, "QXUNDRAWN (nested) text", "content stream strings on form",
                 id="form-xobject-no-page-draws"),
    pytest.param(_javascript, "QXSCRIPT", "document catalog", id="javascript-open-action"),
]


@pytest.fixture(scope="module")
def clean_pdf() -> bytes:
    return render("<h1>Review</h1><p>The plan was agreed.</p>", pdf_variant="pdf/ua-1")


@pytest.mark.parametrize(("plant", "marker", "part"), PIKEPDF_HIDING_PLACES)
def test_pdf_object_hiding_place_is_read_back(
    clean_pdf: bytes, plant: Callable[[pikepdf.Pdf], None], marker: str, part: str
) -> None:
    with pikepdf.open(io.BytesIO(clean_pdf)) as pdf:
        plant(pdf)
        out = io.BytesIO()
        pdf.save(out)
    found = parts_with(read_back_pdf(out.getvalue()), marker)
    assert any(name.startswith(part) for name in found), found


def test_text_after_end_of_file_is_read_back(clean_pdf: bytes) -> None:
    read_back = read_back_pdf(clean_pdf + b"\n% QXAFTEREOF comment\n")
    assert parts_with(read_back, "QXAFTEREOF") == ["raw file bytes"]


def _incremental_update(data: bytes, title: str) -> bytes:
    """Append a revision that replaces the document info, as an editor saving in place would."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size, root = int(pdf.trailer.Size), pdf.Root.objgen[0]
    prev = int(data.rsplit(b"startxref", 1)[1].split()[0])
    body = f"\n{size} 0 obj\n<< /Title ({title}) >>\nendobj\n".encode()
    xref_at = len(data) + len(body)
    offset = len(data) + 1
    xref = (f"xref\n0 1\n0000000000 65535 f \n{size} 1\n{offset:010d} 00000 n \n"
            f"trailer\n<< /Size {size + 1} /Root {root} 0 R /Info {size} 0 R /Prev {prev} >>\n"
            f"startxref\n{xref_at}\n%%EOF\n").encode()
    return data + body + xref


PDF_REFUSALS = [
    pytest.param(lambda clean: b"GIF89a not a pdf", "not a PDF", id="not-a-pdf"),
    pytest.param(lambda clean: clean[: len(clean) // 2], "cannot open", id="truncated"),
    pytest.param(lambda clean: _incremental_update(clean, "QXREVISED"), "revisions",
                 id="incremental-update"),
    pytest.param(lambda clean: _encrypted(clean), "cannot open", id="encrypted-with-user-password"),
]


def _encrypted(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="family", owner="council"))
    return out.getvalue()


@pytest.mark.parametrize(("make", "says"), PDF_REFUSALS)
def test_unreadable_or_ambiguous_pdf_is_refused(clean_pdf: bytes, make, says: str) -> None:
    with pytest.raises(RedactionError, match=says):
        read_back_pdf(make(clean_pdf))


def test_incremental_update_is_a_real_second_revision(clean_pdf: bytes) -> None:
    """The refusal above is not about a malformed file: qpdf reads the update fine."""
    with pikepdf.open(io.BytesIO(_incremental_update(clean_pdf, "QXREVISED"))) as pdf:
        assert str(pdf.docinfo["/Title"]) == "QXREVISED"


def test_attachments_nested_too_deep_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = weasyprint.Attachment(file_obj=io.BytesIO(render("<p>inner</p>")), name="inner.pdf")
    monkeypatch.setattr(readback, "MAX_DEPTH", 0)
    with pytest.raises(RedactionError, match="nests files"):
        read_back_pdf(render("<p>outer</p>", attachments=[inner]))


# --- DOCX ----------------------------------------------------------------------------------------


def _body(document) -> None:
    document.add_paragraph("QXBODYTEXT in the body")


def _split_runs(document) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run("QXSPL")
    paragraph.add_run("IT").bold = True
    paragraph.add_run("RUNS and more")


def _header_footer(document) -> None:
    document.sections[0].header.paragraphs[0].text = "QXHEADER official-sensitive"
    document.sections[0].footer.paragraphs[0].text = "QXFOOTER page"


def _tracked_deletion(document) -> None:
    paragraph = document.add_paragraph("Kept text. ")
    paragraph._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="7" w:author="QXREVIEWER" w:date="2024-01-01T00:00:00Z">'
        "<w:r><w:delText>QXDELETED words</w:delText></w:r></w:del>"))


def _tracked_insertion(document) -> None:
    paragraph = document.add_paragraph()
    paragraph._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="8" w:author="A" w:date="2024-01-01T00:00:00Z">'
        "<w:r><w:t>QXINSERTED</w:t></w:r></w:ins>"))


def _alt_text(document) -> None:
    shape = document.add_picture(io.BytesIO(PNG))
    shape._inline.docPr.set("descr", "QXALTDESCR photo")
    shape._inline.docPr.set("title", "QXALTTITLE")


def _hyperlink(document) -> None:
    document.part.relate_to("https://example.org/QXHYPERLINK", RT.HYPERLINK, is_external=True)


def _core_properties(document) -> None:
    document.core_properties.author = "QXCOREAUTHOR"
    document.core_properties.title = "QXCORETITLE"
    document.core_properties.comments = "QXCORECOMMENTS"


def _tab_between_words(document) -> None:
    paragraph = document.add_paragraph()
    run = paragraph.add_run("QXBEFORE")
    run.add_tab()
    run.add_text("AFTER")


BODY = "docx word/document.xml text"
DOCX_BUILT_PLACES = [
    pytest.param(_body, "QXBODYTEXT", BODY, id="body"),
    pytest.param(_split_runs, "QXSPLITRUNS", BODY, id="word-split-across-runs"),
    pytest.param(_header_footer, "QXHEADER", "docx word/header1.xml text", id="header"),
    pytest.param(_header_footer, "QXFOOTER", "docx word/footer1.xml text", id="footer"),
    pytest.param(_tracked_deletion, "QXDELETED words", BODY, id="tracked-deletion"),
    pytest.param(_tracked_deletion, "QXREVIEWER", "docx word/document.xml attribute values",
                 id="tracked-change-author"),
    pytest.param(_tracked_insertion, "QXINSERTED", BODY, id="tracked-insertion"),
    pytest.param(_alt_text, "QXALTDESCR photo", "alt text in docx word/document.xml",
                 id="alt-text-descr"),
    pytest.param(_alt_text, "QXALTTITLE", "alt text in docx word/document.xml", id="alt-text-title"),
    pytest.param(_hyperlink, "QXHYPERLINK", "relationship targets in docx word/_rels/document.xml.rels",
                 id="hyperlink-target"),
    pytest.param(_core_properties, "QXCOREAUTHOR", "docx docProps/core.xml text", id="core-author"),
    pytest.param(_core_properties, "QXCORETITLE", "docx docProps/core.xml text", id="core-title"),
    pytest.param(_core_properties, "QXCORECOMMENTS", "docx docProps/core.xml text", id="core-comments"),
]


@pytest.mark.parametrize(("build", "marker", "part"), DOCX_BUILT_PLACES)
def test_docx_hiding_place_is_read_back(build, marker: str, part: str) -> None:
    assert part in parts_with(read_back_docx(docx_bytes(build)), marker)


def test_tab_keeps_words_apart() -> None:
    read_back = read_back_docx(docx_bytes(_tab_between_words))
    assert "QXBEFORE AFTER" in read_back.body


def test_headers_footers_and_body_are_listed_for_marking_checks() -> None:
    read_back = read_back_docx(docx_bytes(_header_footer))
    assert read_back.headers == ["QXHEADER official-sensitive"]
    assert read_back.footers == ["QXFOOTER page"]
    assert read_back.body.startswith("Record of the initial child protection conference.")
    assert read_back.pages == []


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
COMMENTS = (
    f'<?xml version="1.0"?><w:comments {W}><w:comment w:id="0" w:author="QXCOMMENTER">'
    "<w:p><w:r><w:t>QXCOMMENT text</w:t></w:r></w:p></w:comment></w:comments>"
)
FOOTNOTES = (
    f'<?xml version="1.0"?><w:footnotes {W}><w:footnote w:id="1">'
    "<w:p><w:r><w:t>QXFOOT</w:t></w:r><w:r><w:t>NOTE</w:t></w:r></w:p></w:footnote></w:footnotes>"
)
CUSTOM = (
    '<?xml version="1.0"?><Properties '
    'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="CaseReference">'
    "<vt:lpwstr>QXCUSTOMPROP</vt:lpwstr></property></Properties>"
)
CUSTOM_XML = '<?xml version="1.0"?><case><QXELEMENTNAME>QXCUSTOMXML value</QXELEMENTNAME></case>'
OLE_LIKE = b"\xd0\xcf\x11\xe0\x00\x01\x02" + "QXOLETEXT embedded".encode("utf-16-le") + b"\x00\xff"


def _with_xml_comment(name: str, blob: bytes) -> bytes:
    if name != "word/document.xml":
        return blob
    return blob.replace(b"<w:body>", b"<w:body><!-- QXXMLCOMMENT -->")


DOCX_RAW_PLACES = [
    pytest.param({"add": {"word/comments.xml": COMMENTS.encode()}}, "QXCOMMENT text",
                 "docx word/comments.xml text", id="comment"),
    pytest.param({"add": {"word/comments.xml": COMMENTS.encode()}}, "QXCOMMENTER",
                 "docx word/comments.xml attribute values", id="comment-author"),
    pytest.param({"add": {"word/footnotes.xml": FOOTNOTES.encode()}}, "QXFOOTNOTE",
                 "docx word/footnotes.xml text", id="footnote-split-across-runs"),
    pytest.param({"add": {"docProps/custom.xml": CUSTOM.encode()}}, "QXCUSTOMPROP",
                 "docx docProps/custom.xml text", id="custom-property"),
    pytest.param({"add": {"customXml/item9.xml": CUSTOM_XML.encode()}}, "QXCUSTOMXML value",
                 "docx customXml/item9.xml text", id="custom-xml"),
    pytest.param({"add": {"customXml/item9.xml": CUSTOM_XML.encode()}}, "QXELEMENTNAME",
                 "docx customXml/item9.xml element names", id="custom-xml-element-name"),
    pytest.param({"edit": _with_xml_comment}, "QXXMLCOMMENT", "docx word/document.xml text",
                 id="xml-comment"),
    pytest.param({"add": {"word/media/QXPARTNAME.png": PNG}}, "QXPARTNAME", "docx part names",
                 id="part-named-after-marker"),
    pytest.param({"add": {"word/embeddings/oleObject1.bin": OLE_LIKE}}, "QXOLETEXT embedded",
                 "docx word/embeddings/oleObject1.bin printable text", id="binary-member-utf16"),
    pytest.param({"add": {"word/embeddings/Microsoft_Word_Document1.docx":
                          docx_bytes(lambda d: d.add_paragraph("QXEMBEDDEDDOCX"))}},
                 "QXEMBEDDEDDOCX",
                 "docx word/embeddings/Microsoft_Word_Document1.docx: docx word/document.xml text",
                 id="embedded-docx"),
    pytest.param({"add": {"word/embeddings/report.pdf": render("<p>QXEMBEDDEDPDF</p>")}},
                 "QXEMBEDDEDPDF", "docx part #", id="embedded-pdf"),
    pytest.param({"comment": b"QXZIPCOMMENT"}, "QXZIPCOMMENT", "docx zip comment", id="zip-comment"),
    pytest.param({"add": {"notes.txt": b"QXSTOREDTEXT"}}, "QXSTOREDTEXT", "docx part #",
                 id="unknown-member"),
]


@pytest.mark.parametrize(("change", "marker", "part"), DOCX_RAW_PLACES)
def test_docx_member_hiding_place_is_read_back(change: dict, marker: str, part: str) -> None:
    found = parts_with(read_back_docx(rezip(docx_bytes(), **change)), marker)
    assert any(name.startswith(part) for name in found), found


def test_unknown_member_names_are_not_used_as_part_names() -> None:
    png_with_text = PNG + b"tEXtComment\0QXINPNG description"
    read_back = read_back_docx(rezip(docx_bytes(), add={"word/media/QXPARTNAME.png": png_with_text}))
    assert [name for name in read_back if "QX" in name.upper()] == []
    found = parts_with(read_back, "QXINPNG")
    assert [name for name in found if re.fullmatch(r"docx part #\d+ printable text", name)] != []


@pytest.mark.parametrize(
    ("name", "label"),
    [
        pytest.param("word/document.xml", "docx word/document.xml", id="main-part"),
        pytest.param("word/_rels/document.xml.rels", "docx word/_rels/document.xml.rels", id="rels"),
        pytest.param("[Content_Types].xml", "docx [Content_Types].xml", id="content-types"),
        pytest.param("word/media/image12.png", "docx word/media/image12.png", id="image"),
        pytest.param("word/media/RowanClose.png", "docx part #4", id="made-up-stem"),
        pytest.param("Rowan/document.xml", "docx part #4", id="made-up-folder"),
        pytest.param("word/document.xml.txt", "docx part #4", id="made-up-extension"),
    ],
)
def test_member_labels_only_use_well_known_names(name: str, label: str) -> None:
    assert readback.docx._member_label(name, 3) == label


ENTITY_XML = b'<!DOCTYPE r [<!ENTITY e "QXENTITY">]><r>&e;</r>'


def _bomb() -> dict:
    return {"add": {"word/media/image1.png": b"\0" * (3 * 2**20)}}


DOCX_REFUSALS = [
    pytest.param(lambda: b"%PDF-1.7 not a zip", "not a readable zip", id="not-a-zip"),
    pytest.param(lambda: rezip(docx_bytes(), add={"word/vbaProject.bin": b"macro"}), "macro",
                 id="vba-project"),
    pytest.param(lambda: rezip(docx_bytes(), edit=lambda n, b: b.replace(
        b"document.main+xml", b"document.macroEnabled.main+xml") if n == "[Content_Types].xml" else b),
        "macro", id="macro-enabled-content-type"),
    pytest.param(lambda: rezip(docx_bytes(), **_bomb()), "zip bomb", id="compression-ratio"),
    pytest.param(lambda: rezip(docx_bytes(), add={"word/broken.xml": b"<w:p>unclosed"}),
                 "not well-formed", id="malformed-xml"),
    pytest.param(lambda: rezip(docx_bytes(), add={"word/entity.xml": ENTITY_XML}), "document type",
                 id="dtd-with-entity"),
    pytest.param(lambda: docx_bytes()[:-40], "not a readable zip", id="truncated"),
]


@pytest.mark.parametrize(("make", "says"), DOCX_REFUSALS)
def test_unreadable_or_dangerous_docx_is_refused(make, says: str) -> None:
    with pytest.raises(RedactionError, match=says):
        read_back_docx(make())


def test_too_many_members_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = docx_bytes()
    monkeypatch.setattr(readback.docx, "MAX_MEMBERS", 3)
    with pytest.raises(RedactionError, match="zip bomb"):
        read_back_docx(data)


def test_refusal_messages_do_not_quote_the_document() -> None:
    data = rezip(docx_bytes(), add={"word/QXSECRETNAME.xml": b"<r>QXSECRETTEXT"})
    with pytest.raises(RedactionError) as refused:
        read_back_docx(data)
    assert "QX" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
