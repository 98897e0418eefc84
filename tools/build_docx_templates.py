"""Builds the Word templates of the pack (templates/<family>/<kind>.docx) with python-docx.

    .venv/bin/python tools/build_docx_templates.py

Each template holds docxtpl tags ({{ }}, {%p %}, {%tr %}, {%tc %}) over the same context as the
HTML templates (docgen.domain.documents.build_context). The blocks every template shares (marking in
every header and footer and at the top of the body, letterhead, redaction-aware sections, items,
tables, decisions and plan) are functions here, so each document's function lays out only its
own content. Run it after changing this file and commit the .docx files it writes.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from docgen.domain.documents import KINDS  # noqa: E402

TEMPLATES_DIR = PROJECT_ROOT / "templates"
FONT = "Arial"
ACCENT = RGBColor(0x0B, 0x4F, 0x6C)
TEXT_WIDTH_MM = 174  # A4 less 18 mm margins either side
FIXED_TIME = datetime(2026, 1, 1)

# A run is plain text, or (text, format) where format holds "b" (bold) and/or "i" (italic).
Run = str | tuple[str, str]
# A table cell is one run, or a list of runs in one paragraph.
CellSpec = Run | list[Run]


# -- The writer: a python-docx document with the house styles, page set-up and helpers ----------

class Writer:
    """One Word template being written: page, styles, marked headers and footers, and helpers."""

    def __init__(self) -> None:
        self.doc: DocumentObject = Document()
        self._page()
        self._styles()
        self._headers_and_footers()
        self._blank_properties()

    # Page, styles, properties --------------------------------------------------------------------

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(18)
        section.top_margin, section.bottom_margin = Mm(30), Mm(25)
        section.header_distance, section.footer_distance = Mm(10), Mm(10)

    def _styles(self) -> None:
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name, normal.font.size = FONT, Pt(11)
        _set_east_asian_font(normal.element, FONT)
        normal.paragraph_format.space_after = Pt(6)
        normal.paragraph_format.line_spacing = 1.15
        _set_language(self.doc)
        for level, size in ((1, 17), (2, 13.5), (3, 11.5)):
            heading = styles[f"Heading {level}"]
            heading.font.name, heading.font.size, heading.font.bold = FONT, Pt(size), True
            heading.font.color.rgb = ACCENT
            heading.font.italic = False
            _set_east_asian_font(heading.element, FONT)
            heading.paragraph_format.space_before = Pt(14 if level < 3 else 10)
            heading.paragraph_format.space_after = Pt(6 if level < 3 else 4)
            heading.paragraph_format.keep_with_next = True
        for name in ("List Bullet", "List Number"):
            styles[name].font.name = FONT
            styles[name].paragraph_format.space_after = Pt(3)
        self._paragraph_style("Marking", size=10, box=("000000", "FFF7DC", 12))
        self._paragraph_style("Withheld", size=10, italic=True, box=("4D4D4D", "ECECEC", 6), left_only=True)
        self._paragraph_style("Opinion Heading", size=10.5, bold=True, box=(_hex(ACCENT), "F1F6F8", 12),
                              left_only=True, after=0, keep_next=True)
        self._paragraph_style("Opinion", size=10.5, box=(_hex(ACCENT), "F1F6F8", 12), left_only=True)
        self._paragraph_style("Callout", size=11, box=(_hex(ACCENT), "EEF4F7", 8))
        self._paragraph_style("Guidance", size=9.5, color=RGBColor(0x33, 0x33, 0x33), keep_next=True)
        self._paragraph_style("Address", size=11, after=0)
        self._paragraph_style("Letterhead", size=9.5, after=0, align=WD_ALIGN_PARAGRAPH.RIGHT)
        self._paragraph_style("Authority Name", size=14, bold=True, color=ACCENT, after=2,
                              align=WD_ALIGN_PARAGRAPH.RIGHT)
        self._paragraph_style("Table Text", size=10, after=2)
        self._paragraph_style("Answer Space", size=11, after=0)
        self._paragraph_style("Header Marking", size=9, bold=True, after=0, base="Header")
        self._paragraph_style("Header Notice", size=8, after=0, base="Header")
        self._paragraph_style("Footer Marking", size=9, after=0, base="Footer")

    def _paragraph_style(self, name: str, *, size: float, bold: bool = False, italic: bool = False,
                         color: RGBColor | None = None, after: float = 6, keep_next: bool = False,
                         align: WD_ALIGN_PARAGRAPH | None = None, base: str = "Normal",
                         box: tuple[str, str, int] | None = None, left_only: bool = False) -> None:
        style = self.doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = self.doc.styles[base]
        style.font.name, style.font.size, style.font.bold, style.font.italic = FONT, Pt(size), bold, italic
        _set_east_asian_font(style.element, FONT)
        if color is not None:
            style.font.color.rgb = color
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = keep_next
        if align is not None:
            style.paragraph_format.alignment = align
        if base in ("Header", "Footer"):
            # Tabs of the default header and footer styles are for US Letter; use the A4 text width.
            stops = style.paragraph_format.tab_stops
            for inherited in (Inches(3.25), Inches(6.5)):
                stops.add_tab_stop(inherited, WD_TAB_ALIGNMENT.CLEAR)
            stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
        if box is not None:
            border, fill, width = box
            _box(style.element.get_or_add_pPr(), border, fill, width, left_only=left_only)
            # Keep the text clear of the border (python-docx puts w:ind in its schema place).
            style.paragraph_format.left_indent = Mm(2)
            if not left_only:
                style.paragraph_format.right_indent = Mm(2)

    def _blank_properties(self) -> None:
        """Nothing about who made the template, or when, goes into it (the adapter scrubs outputs too)."""
        props = self.doc.core_properties
        for name in ("author", "title", "subject", "keywords", "comments", "category", "last_modified_by",
                     "content_status", "identifier", "version", "language"):
            setattr(props, name, "")
        props.revision = 1
        props.created = props.modified = FIXED_TIME
        package = self.doc.part.package
        for rel_id, rel in list(package.rels.items()):
            if rel.reltype.endswith("/thumbnail"):
                package.rels.pop(rel_id)
        for rel_id, rel in list(self.doc.part.rels.items()):
            if rel.reltype.endswith("/customXml"):
                self.doc.part.rels.pop(rel_id)
        settings = self.doc.settings.element
        for tag in ("w:rsids", "w:savePreviewPicture", "w:attachedTemplate"):
            for element in settings.findall(qn(tag)):
                settings.remove(element)
        for element in settings.findall(qn("w:themeFontLang")):
            element.set(qn("w:val"), "en-GB")

    # Headers and footers: the marking on every page, whatever the page --------------------------

    def _headers_and_footers(self) -> None:
        section = self.doc.sections[0]
        section.different_first_page_header_footer = True
        self.doc.settings.odd_and_even_pages_header_footer = True
        for header in (section.first_page_header, section.header, section.even_page_header):
            header.is_linked_to_previous = False
            _marking_header(header.paragraphs[0], header.add_paragraph)
        for footer in (section.first_page_footer, section.footer, section.even_page_footer):
            footer.is_linked_to_previous = False
            _marking_footer(footer.paragraphs[0])

    # Paragraphs ------------------------------------------------------------------------------------

    def p(self, *runs: Run, style: str = "Normal", align: WD_ALIGN_PARAGRAPH | None = None,
          keep_next: bool = False) -> Paragraph:
        paragraph = self.doc.add_paragraph(style=style)
        _add_runs(paragraph, runs)
        if align is not None:
            paragraph.alignment = align
        if keep_next:
            paragraph.paragraph_format.keep_with_next = True
        return paragraph

    def tag(self, text: str) -> None:
        """A paragraph holding only a {%p %} tag: docxtpl removes the paragraph when rendering."""
        self.doc.add_paragraph(text)

    def h(self, text: str, level: int) -> None:
        self.doc.add_paragraph(text, style=f"Heading {level}")

    def bullet(self, *runs: Run) -> None:
        self.p(*runs, style="List Bullet")

    def number(self, *runs: Run) -> None:
        self.p(*runs, style="List Number")

    def withheld(self) -> None:
        """The neutral placeholder, and nothing else, where a node was withheld."""
        self.tag("{%p if placeholder %}")
        self.p("{{ placeholder }}", style="Withheld")
        self.tag("{%p endif %}")

    def spacer(self) -> None:
        """An empty paragraph after a table, so that two tables in a row never merge in Word."""
        paragraph = self.doc.add_paragraph(style="Table Text")
        paragraph.paragraph_format.space_after = Pt(4)

    # Tables ----------------------------------------------------------------------------------------

    def table(self, widths_mm: Sequence[float], *, fixed: bool = True) -> Table:
        table = self.doc.add_table(rows=0, cols=len(widths_mm))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        width = table._tbl.tblPr.find(qn("w:tblW"))  # python-docx always writes one
        width.set(qn("w:w"), "5000")
        width.set(qn("w:type"), "pct")
        for grid_col, mm in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm):
            grid_col.set(qn("w:w"), str(int(mm * 56.7)))
        table._fixed_widths = [Mm(mm) for mm in widths_mm] if fixed else None  # type: ignore[attr-defined]
        return table

    def header_row(self, table: Table, labels: Sequence[CellSpec]) -> None:
        row = table.add_row()
        _repeat_as_header(row)
        for cell, label in zip(row.cells, labels):
            _fill(cell, label, bold=True)
            _shade(cell, "DCE9EF")
        _apply_widths(table, row)

    def row(self, table: Table, cells: Sequence[CellSpec], *, header_first: bool = False) -> None:
        row = table.add_row()
        for index, (cell, spec) in enumerate(zip(row.cells, cells)):
            _fill(cell, spec, bold=header_first and index == 0)
            if header_first and index == 0:
                _shade(cell, "EEF4F7")
        _apply_widths(table, row)

    def tag_row(self, table: Table, text: str) -> None:
        """A row holding only a {%tr %} tag: docxtpl replaces the whole row by the tag."""
        row = table.add_row()
        row.cells[0].paragraphs[0].add_run(text)
        _apply_widths(table, row)

    def span_row(self, table: Table, runs: CellSpec, *, style: str = "Table Text") -> _Cell:
        """A row of one cell spanning the table (for the placeholder of a withheld row)."""
        row = table.add_row()
        _apply_widths(table, row)
        cell = row.cells[0].merge(row.cells[-1]) if len(row.cells) > 1 else row.cells[0]
        _fill(cell, runs, style=style)
        return cell

    def save(self, path: Path) -> None:
        """Write the template with fixed zip timestamps, so an unchanged template rebuilds byte for byte."""
        buffer = io.BytesIO()
        self.doc.save(buffer)
        out = io.BytesIO()
        with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)),
                                source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(out.getvalue())


# -- Low-level XML helpers --------------------------------------------------------------------------

def _hex(color: RGBColor) -> str:
    return str(color)


def _set_east_asian_font(style_element: OxmlElement, font: str) -> None:
    r_pr = style_element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), font)
    # Theme fonts win over named ones; the headings of the default template use them.
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attribute), None)


def _set_language(doc: DocumentObject) -> None:
    """British English for spelling, grammar and screen readers."""
    styles = doc.styles.element
    doc_defaults = styles.find(qn("w:docDefaults"))
    r_pr = doc_defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in r_pr.findall(qn("w:lang")):
        r_pr.remove(old)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-GB")
    lang.set(qn("w:eastAsia"), "en-GB")
    lang.set(qn("w:bidi"), "ar-SA")
    r_pr.append(lang)


def _box(p_pr: OxmlElement, border: str, fill: str, width_eighths: int, *, left_only: bool) -> None:
    borders = OxmlElement("w:pBdr")
    for side in (("left",) if left_only else ("top", "left", "bottom", "right")):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(width_eighths if not left_only else 24))
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), border)
        borders.append(edge)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    # Schema order in pPr: ... pBdr, shd, tabs, ... spacing, ind, jc ...
    anchor = next((child for child in p_pr if child.tag in {qn("w:tabs"), qn("w:spacing"), qn("w:ind"),
                                                          qn("w:jc"), qn("w:rPr")}), None)
    for element in (borders, shading):
        if anchor is not None:
            anchor.addprevious(element)
        else:
            p_pr.append(element)


def _add_runs(paragraph: Paragraph, runs: Sequence[Run]) -> None:
    for spec in runs:
        text, fmt = (spec, "") if isinstance(spec, str) else spec
        run = paragraph.add_run(text)
        if "b" in fmt:
            run.bold = True
        if "i" in fmt:
            run.italic = True


def _fill(cell: _Cell, spec: CellSpec, *, bold: bool = False, style: str = "Table Text") -> None:
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    runs = spec if isinstance(spec, list) else [spec]
    if bold:
        runs = [(r, "b") if isinstance(r, str) else (r[0], r[1] + "b") for r in runs]
    _add_runs(paragraph, runs)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_as_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _apply_widths(table: Table, row: object) -> None:
    widths = getattr(table, "_fixed_widths", None)
    for index, cell in enumerate(row.cells):  # type: ignore[attr-defined]
        tc_pr = cell._tc.get_or_add_tcPr()
        if widths is None:
            # Columns made by {%tc for %}: let Word share the width out from the grid.
            for old in tc_pr.findall(qn("w:tcW")):
                tc_pr.remove(old)
        else:
            cell.width = widths[index]


def _field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """A complex field (PAGE, NUMPAGES) that Word and LibreOffice update as they lay out pages."""
    def run_with(element: OxmlElement) -> None:
        run = paragraph.add_run()
        run._r.append(element)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _marking_header(first: Paragraph, add_paragraph: Callable[..., Paragraph]) -> None:
    """Every header variant: the protective marking, and for family copies the copy marking and notice."""
    first.style = "Header Marking"
    first.add_run("{{ document.protective_marking }}")
    add_paragraph("{%p if copy.is_family_copy %}", style="Header Notice")
    add_paragraph("{{ copy.label }}. Copy for: {{ copy.copy_for }}", style="Header Marking")
    add_paragraph("{{ copy.notice }}", style="Header Notice")
    add_paragraph("{%p endif %}", style="Header Notice")


def _marking_footer(paragraph: Paragraph) -> None:
    """Every footer variant: the protective marking (and the recipient line of a copy sent to one
    recipient), and Page X of Y."""
    paragraph.style = "Footer Marking"
    paragraph.add_run("{{ document.protective_marking }}")
    paragraph.add_run("{% if copy.get('recipient_line') %}   {{ copy.recipient_line }}{% endif %}")
    paragraph.add_run("\t")
    paragraph.add_run("Page ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES", "1")


# -- Shared blocks: what the HTML templates take from base.html and _macros.html ---------------------

def marking_box(w: Writer) -> None:
    """The marking once at the top of the body, as normal paragraphs a screen reader will meet."""
    w.p(("{{ document.protective_marking }}", "b"), style="Marking")
    w.tag("{%p if copy.is_family_copy %}")
    w.p(("{{ copy.label }}", "b"), style="Marking")
    w.p(("Copy for: {{ copy.copy_for }}", "b"), style="Marking")
    w.p("{{ copy.notice }}", style="Marking")
    w.tag("{%p endif %}")
    w.tag("{%p if copy.get('recipient_line') %}")
    w.p("{{ copy.recipient_line }}", style="Marking")
    w.tag("{%p endif %}")


def letterhead(w: Writer) -> None:
    w.p("{{ authority.name }}", style="Authority Name")
    w.p("{{ authority.service }}", style="Letterhead")
    w.p('{{ authority.address|join(", ") }}', style="Letterhead")
    w.p("Phone {{ authority.phone }}", style="Letterhead")
    w.p("{{ authority.email }}", style="Letterhead")
    w.spacer()


def start(w: Writer) -> None:
    """What every document opens with: the marking box, then the letterhead."""
    marking_box(w)
    letterhead(w)


def address_lines(w: Writer, expr: str) -> None:
    w.tag(f"{{%p if {expr}.withheld %}}")
    w.withheld()
    w.tag("{%p else %}")
    w.tag(f"{{%p for line in {expr}.lines %}}")
    w.p("{{ line }}", style="Address")
    w.tag("{%p endfor %}")
    w.tag(f"{{%p if {expr}.get('postcode') %}}")
    w.p(f"{{{{ {expr}.postcode }}}}", style="Address")
    w.tag("{%p endif %}")
    w.tag("{%p endif %}")


def address_cell(expr: str) -> list[Run]:
    """An address in a table cell: its text, 'Not recorded', or the placeholder (in italics)."""
    return [f"{{% if {expr} is none %}}Not recorded{{% elif not {expr}.withheld %}}{{{{ {expr}.text }}}}{{% endif %}}",
            (f"{{% if {expr} is not none and {expr}.withheld %}}{{{{ placeholder }}}}{{% endif %}}", "i")]


def addressee(w: Writer) -> None:
    """The addressee of a letter, then the date and our reference."""
    w.p(("{{ recipient.name }}", "b"), style="Address")
    w.tag("{%p if recipient.get('role') %}")
    w.p("{{ recipient.role }}", style="Address")
    w.p("{{ recipient.agency_name }}", style="Address")
    w.tag("{%p for agency in case.agencies if not agency.withheld and agency.id == recipient.agency "
          "and agency.get('address') %}")
    w.p("{{ agency.address }}", style="Address")
    w.tag("{%p endfor %}")
    w.tag("{%p elif recipient.get('address') %}")
    address_lines(w, "recipient.address")
    w.tag("{%p endif %}")
    w.p("", style="Address")
    w.p("Date: {{ document.generated_on_text }}", style="Address")
    w.p("Our reference: {{ document.reference }}")


def start_letter(w: Writer) -> None:
    start(w)
    addressee(w)


def facts(w: Writer, rows: Sequence[tuple[CellSpec, CellSpec] | tuple[CellSpec, CellSpec, str]]) -> None:
    """A two-column table of facts, label first; a third element is a condition for the row."""
    table = w.table((60, TEXT_WIDTH_MM - 60))
    for entry in rows:
        if len(entry) == 3:
            w.tag_row(table, f"{{%tr if {entry[2]} %}}")
        w.row(table, entry[:2], header_first=True)
        if len(entry) == 3:
            w.tag_row(table, "{%tr endif %}")
    w.spacer()


def conference_facts(w: Writer, *, with_place: bool = True) -> None:
    rows: list = [("Meeting", "{{ case.conference.kind_name }}"), ("Date", "{{ case.conference.date_text }}")]
    if with_place:
        rows += [
            ("Time", "{{ case.conference.time_text }}{% if case.conference.end_time_text %} to "
                     "{{ case.conference.end_time_text }}{% endif %}"),
            ("Place", "{{ case.conference.venue }}", "case.conference.get('venue')"),
            ("Online", "{{ case.conference.virtual_link }}", "case.conference.get('virtual_link')"),
        ]
    rows += [("Chair", "{{ case.conference.chair_name }}"), ("Reference", "{{ document.reference }}")]
    facts(w, rows)


def loop_table(w: Writer, headers: Sequence[str], widths: Sequence[float], loop: str, var: str,
               cells: Sequence[CellSpec], *, may_be_withheld: bool = True) -> None:
    """A table with a header row and one row per item of `loop`; a withheld item shows the placeholder."""
    table = w.table(widths)
    w.header_row(table, headers)
    w.tag_row(table, f"{{%tr for {var} in {loop} %}}")
    if may_be_withheld:
        w.tag_row(table, f"{{%tr if {var}.withheld and placeholder %}}")
        w.span_row(table, [("{{ placeholder }}", "i")])
        w.tag_row(table, f"{{%tr elif not {var}.withheld %}}")
    w.row(table, cells)
    if may_be_withheld:
        w.tag_row(table, "{%tr endif %}")
    w.tag_row(table, "{%tr endfor %}")
    w.spacer()


def children_table(w: Writer, expr: str, *, with_address: bool = True) -> None:
    born = "{{ child.born_text }}{% if child.age is not none %} (age {{ child.age }}){% endif %}"
    if with_address:
        loop_table(w, ("Name", "Date of birth", "Address"), (55, 45, TEXT_WIDTH_MM - 100), expr, "child",
                   ("{{ child.name }}", born, address_cell("child.get('address')")), may_be_withheld=False)
    else:
        loop_table(w, ("Name", "Date of birth"), (90, TEXT_WIDTH_MM - 90), expr, "child",
                   ("{{ child.name }}", born), may_be_withheld=False)


def data_table(w: Writer, expr: str) -> None:
    """A table from the case data, its columns made by {%tc for %}; rows may be withheld."""
    w.tag(f"{{%p if {expr}.withheld %}}")
    w.withheld()
    w.tag("{%p else %}")
    table = w.table((TEXT_WIDTH_MM / 3,) * 3, fixed=False)
    w.header_row(table, (f"{{%tc for column in {expr}.columns %}}", "{{ column }}", "{%tc endfor %}"))
    w.tag_row(table, f"{{%tr for row in {expr}.rows %}}")
    w.tag_row(table, "{%tr if row.withheld and placeholder %}")
    cell = w.span_row(table, [("{{ placeholder }}", "i")])
    # Span however many columns the data has; written in place rather than with docxtpl's
    # {% colspan %}, which puts w:gridSpan before w:tcW, out of schema order.
    cell._tc.tcPr.find(qn("w:gridSpan")).set(qn("w:val"), f"{{{{ {expr}.columns|length }}}}")
    w.tag_row(table, "{%tr elif not row.withheld %}")
    w.row(table, ("{%tc for cell in row.cells %}", "{{ cell }}", "{%tc endfor %}"))
    w.tag_row(table, "{%tr endif %}")
    w.tag_row(table, "{%tr endfor %}")
    w.spacer()
    w.tag("{%p endif %}")


def items(w: Writer, expr: str) -> None:
    """The items of a section: text, opinion (marked as an opinion, with who gave it) or table."""
    w.tag(f"{{%p for entry in {expr} %}}")
    w.tag("{%p if entry.withheld %}")
    w.withheld()
    w.tag("{%p elif 'text' in entry %}")
    w.p("{{ entry.text }}")
    w.tag("{%p elif 'opinion' in entry %}")
    w.tag("{%p if entry.opinion.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    w.p("Opinion of {{ entry.opinion.by_name }}", style="Opinion Heading")
    w.p("{{ entry.opinion.text }}", style="Opinion")
    w.tag("{%p endif %}")
    w.tag("{%p elif 'table' in entry %}")
    data_table(w, "entry.table")
    w.tag("{%p endif %}")
    w.tag("{%p else %}")
    w.p("Nothing was recorded under this heading.")
    w.tag("{%p endfor %}")


def sections(w: Writer, expr: str, level: int) -> None:
    """Sections of a report or of the record; a withheld section shows only the placeholder."""
    w.tag(f"{{%p for node in {expr} %}}")
    w.tag("{%p if node.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    w.h("{{ node.title }}", level)
    items(w, "node['items']")
    w.tag("{%p endif %}")
    w.tag("{%p endfor %}")


def contact_list(w: Writer, expr: str) -> None:
    w.tag(f"{{%p for entry in {expr} %}}")
    w.bullet(("{{ entry.name }}", "b"),
             "{% if entry.description %}: {{ entry.description }}{% endif %}"
             "{% if entry.phone %} Phone {{ entry.phone }}.{% endif %}"
             "{% if entry.website %} {{ entry.website }}{% endif %}")
    w.tag("{%p endfor %}")


def service_contact() -> str:
    return "phone {{ authority.phone }} or email {{ authority.email }}"


def service_signature(w: Writer) -> None:
    w.p("Yours sincerely,", keep_next=True)
    w.p("", keep_next=True)
    w.p(("{{ authority.service }}", "b"), style="Address", keep_next=True)
    w.p("{{ authority.name }}")


def decisions(w: Writer) -> None:
    """Each child's decision: plan or not, category, other concerns, reasons, dissenting views."""
    w.tag("{%p for node in case.decisions %}")
    w.tag("{%p if node.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    w.h("{{ node.child_name }}", 3)
    facts(w, [
        ("Child protection plan", [("{% if node.plan %}Yes{% else %}No{% endif %}", "b"),
                                   "{% if node.plan %}: {{ node.child_name }} is to be the subject of a child "
                                   "protection plan{% else %}: {{ node.child_name }} does not need a child "
                                   "protection plan{% endif %}"]),
        ("Category", "{{ node.category_name }}", "node.plan"),
        ("Other significant concerns", "{{ node.other_concerns }}", "node.get('other_concerns')"),
    ])
    w.p(("Reasons: ", "b"), "{{ node.reasons }}")
    w.tag("{%p if node.get('dissent') %}")
    w.p(("Dissenting views", "b"), " (people who disagreed with the decision):")
    w.tag("{%p for view in node.dissent %}")
    w.bullet("{% if view.withheld %}{{ placeholder }}{% else %}{{ view.name }}: {{ view.view }}{% endif %}")
    w.tag("{%p endfor %}")
    w.tag("{%p else %}")
    w.p("No dissenting views were recorded.")
    w.tag("{%p endif %}")
    w.tag("{%p endif %}")
    w.tag("{%p else %}")
    w.p("No decisions were recorded.")
    w.tag("{%p endfor %}")


def plan_outcomes(w: Writer) -> None:
    w.tag("{%p for outcome in plan.get('outcomes', []) %}")
    w.bullet("{{ outcome }}")
    w.tag("{%p else %}")
    w.p("No outcomes were recorded.")
    w.tag("{%p endfor %}")


def plan_actions(w: Writer) -> None:
    w.tag("{%p if plan['actions'] %}")
    loop_table(w, ("What needs to happen", "Who", "By when", "How progress is checked", "Child"),
               (54, 30, 24, 40, TEXT_WIDTH_MM - 148), "plan['actions']", "action",
               ("{{ action.what }}", "{{ action.who }}", "{{ action.by_when_text }}",
                "{{ action.progress_check }}", "{{ action.child_name }}"))
    w.tag("{%p else %}")
    w.p("No actions were recorded.")
    w.tag("{%p endif %}")


def core_group(w: Writer) -> None:
    w.tag("{%p if copy.is_family_copy %}")
    w.p("The ", ("core group", "b"), " is a small group of professionals and family members who meet regularly "
        "to turn the outline plan into a detailed plan, put it into action, and check that it is working.")
    w.tag("{%p endif %}")
    w.p("First meeting: ", ("{{ plan.core_group.first_meeting_text }}", "b"))
    w.p("Members:")
    w.tag("{%p for member in plan.core_group.member_entries if not member.withheld %}")
    w.bullet("{{ member.text }}")
    w.tag("{%p endfor %}")


def lead_social_worker(w: Writer) -> None:
    w.p(("{{ plan.lead_social_worker_name }}", "b"),
        "{% if plan.lead_social_worker_contact %}, phone {{ plan.lead_social_worker_contact }}{% endif %}")
    w.tag("{%p if copy.is_family_copy %}")
    w.p("The lead social worker makes sure the plan is carried out and is the person to contact about it.")
    w.tag("{%p endif %}")


def subject_names() -> str:
    return ("{% for child in case.subject_children %}{{ child.name }}{% if not loop.last %}"
            "{% if loop.revindex == 2 %} and {% else %}, {% endif %}{% endif %}{% endfor %}")


NEEDS_INTERPRETER = ("recipient.get('interpreter_needed') or "
                     "((recipient.get('preferred_language') or 'English')|trim|lower) != 'english'")
OTHER_LANGUAGE = ("{% if (recipient.get('preferred_language') or 'English')|trim|lower != 'english' %} who speaks "
                  "{{ recipient.preferred_language }}{% endif %}")


# -- The documents ----------------------------------------------------------------------------------

def parent_invitation(w: Writer) -> None:
    start_letter(w)
    w.tag("{%p set invitation = recipient.invitation %}")
    w.p("Dear {{ recipient.name }},")
    w.h("{{ document.title }}", 1)
    w.tag(f"{{%p if {NEEDS_INTERPRETER} %}}")
    w.p(("An interpreter for you", "b"), style="Callout")
    w.tag("{%p if recipient.get('interpreter_needed') %}")
    w.p(f"We will book an interpreter{OTHER_LANGUAGE} for the meeting, and for your meeting with the chair before "
        "it. You do not need to bring anyone to interpret for you. Please tell us if this is not right.",
        style="Callout")
    w.tag("{%p else %}")
    w.p(f"You can have an interpreter{OTHER_LANGUAGE} at the meeting, free of charge. You do not need to bring "
        "anyone to interpret for you.", style="Callout")
    w.tag("{%p endif %}")
    w.p("{{ contacts.interpreter }}", style="Callout")
    w.tag("{%p endif %}")
    w.p(f"We are inviting you to a meeting about {subject_names()}. The meeting is called a child protection "
        "conference. You are an important part of it, and we hope you can come.")

    w.h("When and where", 2)
    conference_facts(w)
    w.tag("{%p if invitation.get('invited_separately') %}")
    w.p("The chair has arranged for you to take part at a different time from some other people, so that everyone "
        "can speak freely. Your social worker will explain how this will work.")
    w.tag("{%p endif %}")
    w.tag("{%p if invitation.get('supporter') %}")
    w.p("You have told us that {{ invitation.supporter }} will come with you to support you.")
    w.tag("{%p endif %}")
    w.p(f"Please tell us if you can come: {service_contact()}. If you need help with childcare or travel, or help to "
        "take part (for example a hearing loop, large print or step-free access), tell us and we will try to "
        "arrange it.")

    w.h("Why we are holding this meeting", 2)
    w.tag("{%p if case.conference.get('purpose') %}")
    w.p("{{ case.conference.purpose }}")
    w.tag("{%p endif %}")
    w.tag("{%p if case.conference.is_review %}")
    w.p("This is a review conference. It looks at how the child protection plan is working, what has changed, and "
        "whether a plan is still needed.")
    w.tag("{%p else %}")
    w.p("Children's social care has been looking into worries about the children's safety. This is called a "
        "section 47 enquiry. At the conference, you and the professionals who know your family share what you "
        "know, talk about what is going well and what the worries are, and decide together what needs to happen "
        "next.")
    w.tag("{%p endif %}")
    w.p("The conference decides, for each child, whether they need a ", ("child protection plan", "b"),
        ". A child protection plan is a written plan that says what you, your family and the professionals will do "
        "to keep the children safe and well.")

    w.h("Who will be there", 2)
    w.p("The meeting is led by a ", ("chair", "b"), ", {{ case.conference.chair_name }}. The chair is independent: "
        "they do not manage your social worker or make day-to-day decisions about your family. The chair will meet "
        "you before the meeting to explain how it will work and to answer your questions.")
    w.p("We have also invited people who work with your family:")
    w.tag("{%p for person in case.invitations if not person.withheld and person.invitee_kind == 'professional' "
          "and person.invitee != case.conference.chair %}")
    w.bullet("{{ person.name }}, {{ person.role }}")
    w.tag("{%p endfor %}")
    w.tag("{%p if case.conference.get('minute_taker') %}")
    w.p("{{ case.conference.minute_taker }} will take notes and write the record of the meeting.")
    w.tag("{%p endif %}")

    w.h("What happens at the meeting", 2)
    w.number("The chair says why we are meeting and how the meeting will run. Everything said is kept confidential.")
    w.number("Your social worker and the other professionals share what they know. You can say what you think, and "
             "you can say if you disagree.")
    w.number("Everyone talks about what is going well for the children and what the worries are.")
    w.number("The conference decides, for each child, whether they need a child protection plan. The chair makes the "
             "final decision and writes down if anyone disagrees.")
    w.number("If a child needs a plan, the conference agrees the first part of the plan. It names a ",
             ("lead social worker", "b"), " and sets up a ", ("core group", "b"), ": a small group of professionals "
             "and family members, including you, who meet regularly to put the plan into action.")
    w.p("After the meeting we will send you the decisions in writing within 2 working days. You will also get a "
        "written record of the meeting.")

    w.h("Reports before the meeting", 2)
    w.p("Your social worker will give you a copy of their report at least 2 working days before the meeting and go "
        "through it with you. Reports from other professionals are usually shared with you too. If anything in a "
        "report is wrong, or you disagree with it, tell your social worker or the chair before the meeting.")

    w.h("Bringing someone with you", 2)
    w.p("You can bring a friend, a supporter or an advocate to the meeting. Their role is to help you say what you "
        "think. They cannot answer for you or question other people.")
    w.p("You can bring a solicitor, but only as a supporter. At the conference a solicitor cannot act as they would "
        "in court: they cannot question people or argue your case.")
    w.p("Please tell us before the meeting who you are bringing.")

    w.h("If you cannot come", 2)
    w.p("Please let us know as soon as you can. Your views still matter. You can:")
    w.bullet("write down what you think and send it to us or give it to your social worker;")
    w.bullet("ask a supporter or advocate to come and speak for you;")
    w.bullet("ask your social worker to tell the meeting what you think.")

    w.h("Help and advice", 2)
    w.p("These services are free and independent of the council. They can help you get ready for the meeting and "
        "come with you:")
    contact_list(w, "contacts.advocacy")
    w.tag(f"{{%p if not ({NEEDS_INTERPRETER}) %}}")
    w.h("Interpreters and other formats", 2)
    w.p("{{ contacts.interpreter }}")
    w.tag("{%p endif %}")
    w.h("If you are unhappy", 2)
    w.p("{{ contacts.complaints }}")
    w.p(f"If you have any questions about this letter, please {service_contact()}.")
    service_signature(w)


def professional_invitation(w: Writer) -> None:
    """One page: the guidance every professional needs is professional_guidance, sent with it."""
    start_letter(w)
    w.tag("{%p set invitation = recipient.invitation %}")
    w.p("Dear {{ recipient.name }},")
    w.h("{{ document.title }}", 1)
    w.p("You are invited to an {{ case.conference.kind_name|lower }} about the children named below. Please attend "
        "in person or online or, if you cannot, send a well-briefed colleague.")
    w.h("Conference details", 2)
    facts(w, [
        ("Meeting", "{{ case.conference.kind_name }}"),
        ("When", "{{ case.conference.date_text }}, {{ case.conference.time_text }}{% if case.conference.end_time_text %}"
                 " to {{ case.conference.end_time_text }}{% endif %}"),
        ("Place", "{{ case.conference.venue }}", "case.conference.get('venue')"),
        ("Online", "{{ case.conference.virtual_link }}", "case.conference.get('virtual_link')"),
        ("Chair", "{{ case.conference.chair_name }}"),
        ("Purpose", "{{ case.conference.purpose }}", "case.conference.get('purpose')"),
    ])

    w.tag("{%p if case.other_children %}")
    w.h("The children", 2)
    w.h("Children who are the subject of the conference", 3)
    children_table(w, "case.subject_children")
    w.h("Other children in the household", 3)
    w.p("All children in the household are considered at the conference, including those who are not its subject.")
    children_table(w, "case.other_children")
    w.tag("{%p else %}")
    w.h("The children who are the subject of the conference", 2)
    children_table(w, "case.subject_children")
    w.tag("{%p endif %}")

    w.h("Your written report", 2)
    sharing = ("Reports are shared with the family at least 2 working days before the conference, except what you mark "
               "as not to be shared and the chair agrees to withhold; the guidance sent with this letter explains this, "
               "and the threshold and categories of significant harm.")
    w.tag("{%p if invitation.get('report_due_text') %}")
    w.p(("Report due: {{ invitation.report_due_text }}.", "b"), " Please send your agency's written report to the "
        "conference service by this date, using the agency report form sent with this invitation.", style="Callout")
    w.p(sharing)
    w.tag("{%p else %}")
    w.p("If your agency holds information relevant to the children's safety, please send a written report; the "
        "conference service can send you the agency report form. " + sharing)
    w.tag("{%p endif %}")
    w.p(f"Please confirm whether you will attend, and ask any questions: {service_contact()}.")
    service_signature(w)


def professional_guidance(w: Writer) -> None:
    """The same for every professional invited, so made once per conference and sent with each invitation."""
    start(w)
    w.h("{{ document.title }}", 1)
    w.p("This guidance goes with every invitation to a professional. It is the same for every conference: please read "
        "it with your invitation to the {{ case.conference.kind_name|lower }} on {{ case.conference.date_text }} "
        "(reference {{ document.reference }}).")
    w.h("Threshold guidance: significant harm", 2)
    w.p("The conference follows enquiries made under section 47 of the Children Act 1989, which requires the local "
        "authority to make enquiries where it has reasonable cause to suspect that a child is suffering, or is likely "
        "to suffer, significant harm.")
    w.p("The conference must decide, separately for each child, whether the child is likely to suffer significant "
        "harm and therefore needs a child protection plan. That is the case when either:")
    w.bullet("the child has suffered ill-treatment or impairment of health or development as a result of physical, "
             "emotional or sexual abuse or neglect, and professional judgement is that further ill-treatment or "
             "impairment is likely; or")
    w.bullet("professional judgement, based on the findings of the enquiries in this case or on research evidence, is "
             "that the child is likely to suffer such ill-treatment or impairment.")
    w.p("The chair makes the decision after hearing the views of every agency represented and taking account of "
        "written contributions. The chair aims for consensus, and any dissenting views are recorded.")

    w.h("Categories of harm", 2)
    w.p("Where a child needs a plan, the chair determines the category under which the child has suffered, or is "
        "likely to suffer, significant harm:")
    table = w.table((40, TEXT_WIDTH_MM - 40))
    w.header_row(table, ("Category", "What it covers"))
    for name, text in CATEGORIES:
        w.row(table, (name, text))
    w.spacer()
    w.p("Each child has ", ("one primary category", "b"), ", the main concern at the time the plan is made. "
        "Categories are not combined to cover every possibility: other concerns are recorded as ",
        ("other significant concerns", "b"), ".")

    w.h("Your written report and what the family sees", 2)
    w.p("Your report should be shared with the parents, and with older children where appropriate, at least 2 working "
        "days before the conference, so that factual errors can be corrected and disagreements noted. The exception "
        "is information that must not be shared with the family: third-party confidential information, information "
        "that could prejudice a police investigation, or information that could put a child at risk. If your report "
        "contains such information, mark it clearly and tell the chair before the report is due; the chair decides, "
        "with the police where relevant, what the family sees.")
    w.p("If you are unable to attend, your written report must still reach the conference through the chair. Reports "
        "of those invited who do not attend are sent out with the conference record.")

    w.h("Confidentiality", 2)
    w.p("Information shared at the conference, and its record, are confidential. They are shared only for the purpose "
        "of safeguarding the children and are not passed to anyone else without the chair's consent or a court "
        "order.")
    w.p(f"If you have any questions, please {service_contact()}.")


CATEGORIES = (
    ("Physical abuse", "Causing physical harm to a child, for example by hitting, shaking, throwing, burning, "
                       "poisoning or suffocating, including fabricating or inducing illness."),
    ("Emotional abuse", "Persistent emotional ill-treatment that seriously affects a child's emotional development, "
                        "including making a child feel worthless, unloved or afraid, expectations beyond the child's "
                        "age, and seeing or hearing the ill-treatment of another person, such as domestic abuse."),
    ("Sexual abuse", "Forcing or enticing a child to take part in sexual activity, whether or not the child is aware "
                     "of what is happening, including non-contact and online abuse and sexual exploitation."),
    ("Neglect", "Persistent failure to meet a child's basic physical or psychological needs, likely to seriously "
                "impair the child's health or development, such as adequate food, clothing, shelter, supervision, "
                "medical care or emotional warmth."),
)


def child_invitation(w: Writer) -> None:
    w.doc.styles["Normal"].font.size = Pt(13)  # bigger, roomier text for a child
    start_letter(w)
    w.p("Dear {{ recipient.name.split()[0] }},")
    w.h("{{ document.title }}", 1)
    w.p("Some grown-ups who help your family are going to have a meeting. The meeting is about you"
        "{% for child in case.subject_children if child.id != recipient.id %}{% if loop.last %} and {% else %}, "
        "{% endif %}{{ child.name.split()[0] }}{% endfor %}. We want to know what you think and how you feel. "
        "What you say matters.")
    w.h("What is the meeting for?", 2)
    w.p("The meeting is to help keep you safe and well.")
    w.p("People will talk about what is going well in your family. They will talk about what they are worried about. "
        "Then they will decide what needs to happen to help.")
    w.h("When and where is it?", 2)
    facts(w, [("Day", "{{ case.conference.date_text }}"), ("Time", "{{ case.conference.time_text }}"),
              ("Place", "{{ case.conference.venue }}", "case.conference.get('venue')")])
    w.h("Who will be there?", 2)
    w.p("{{ case.conference.chair_name }} is in charge of the meeting. This person is called the ", ("chair", "b"), ".")
    w.p("Your social worker will be there. So will other people who help your family, like people from school or "
        "health. Your mum, dad or carers may be there too.")
    w.h("How can you take part?", 2)
    w.p("You can choose. Here are some ways:")
    w.bullet("You can come to part of the meeting. Someone will help you get ready.")
    w.bullet("You can meet the chair before the meeting.")
    w.bullet("You can draw a picture or write a letter. We will share it at the meeting.")
    w.bullet("You can tell your social worker what you think. They will tell the meeting.")
    w.bullet("You can talk to an ", ("advocate", "b"), ". An advocate is a person whose job is to help children say "
             "what they think. They can come to the meeting for you.")
    w.p("You do not have to come. Nobody will be cross with you. Just tell your social worker what you would like "
        "to do.")
    w.h("People who can help you", 2)
    contact_list(w, "contacts.children")
    w.h("For the grown-up reading this with you", 2)
    w.p("{{ contacts.interpreter }}")
    w.p("{{ contacts.complaints }}")
    w.p(f"To ask about the meeting, {service_contact()}.")
    w.p("From", keep_next=True)
    w.p(("{{ authority.service }}", "b"), style="Address", keep_next=True)
    w.p("{{ authority.name }}")


def exclusion_letter(w: Writer) -> None:
    start_letter(w)
    w.p("Dear {{ recipient.name }},")
    w.h("{{ document.title }}", 1)
    w.tag(f"{{%p if {NEEDS_INTERPRETER} %}}")
    w.p(("An interpreter for you", "b"), style="Callout")
    w.p(f"You can have an interpreter{OTHER_LANGUAGE}, free of charge, to help you with this letter and to give your "
        "views.", style="Callout")
    w.p("{{ contacts.interpreter }}", style="Callout")
    w.tag("{%p endif %}")
    w.p(f"A child protection conference about {subject_names()} will be held on {{{{ case.conference.date_text }}}}. "
        "We are writing to tell you that the chair of the conference has decided that you should not attend it, "
        "and why.")
    w.h("The chair's decision", 2)
    w.p("The conference is led by an independent chair, {{ case.conference.chair_name }}. The chair decides who takes "
        "part. The chair has decided that you will not attend this conference, for these reasons:")
    w.p("{{ recipient.invitation.exclusion_reason }}", style="Callout")
    w.p("The chair's decision about who attends is final for this conference. It does not mean that you will be kept "
        "out of any later conference: that will be decided again each time.")
    w.h("How your views will be heard", 2)
    w.p("Your views matter, and the conference will hear them. You can:")
    w.bullet(("write to the chair", "b"), ": put what you want the conference to know in a letter or email and send "
             "it to us before the meeting. The chair will make sure the conference hears it, and it will be recorded;")
    w.bullet(("ask someone to attend for you", "b"), ": a supporter, an advocate or a solicitor can come to the "
             "conference on your behalf and put your views. A solicitor takes part only as a supporter;")
    w.bullet(("ask your social worker for help", "b"), ": they can help you write down your views, or tell the "
             "conference what you think.")
    w.p("Please send anything you want the conference to read as soon as you can, so that it can be shared before the "
        "meeting. Write to {{ authority.service }}, {{ authority.address|join(\", \") }}, or "
        f"{service_contact()}.")
    w.h("The social worker's report", 2)
    w.p("You will be sent a copy of the social worker's report to the conference before the meeting: at least "
        "{% if case.conference.is_review %}5{% else %}3{% endif %} working days before it. Please read it and tell "
        "us if anything in it is wrong, or if you disagree with it. Your comments will be given to the chair.")
    w.h("How you will find out what was decided", 2)
    w.p("We will send you the decisions of the conference in writing within 2 working days of the meeting. This will "
        "say whether each child needs a child protection plan and, if so, what happens next. You will also receive "
        "a written record of the conference, with anything that cannot be shared with you taken out. Your social "
        "worker will contact you after the conference to explain the decisions and answer your questions.")
    w.h("Help and advice", 2)
    w.p("These services are free and independent of the council. They can help you prepare your views or attend for "
        "you:")
    contact_list(w, "contacts.advocacy")
    w.tag(f"{{%p if not ({NEEDS_INTERPRETER}) %}}")
    w.h("Interpreters and other formats", 2)
    w.p("{{ contacts.interpreter }}")
    w.tag("{%p endif %}")
    w.h("If you are unhappy with this decision", 2)
    w.p("{{ contacts.complaints }}")
    w.p(f"If you would like someone to go through this letter with you, please {service_contact()}.")
    w.p("Yours sincerely,", keep_next=True)
    w.p("", keep_next=True)
    w.p(("{{ case.conference.chair_name }}", "b"), style="Address", keep_next=True)
    w.p("Chair of the child protection conference", style="Address", keep_next=True)
    w.p("{{ authority.service }}, {{ authority.name }}")


def report_facts(w: Writer) -> None:
    facts(w, [
        ("Conference", "{{ case.conference.kind_name }}, {{ case.conference.date_text }}"),
        ("Reference", "{{ document.reference }}"),
        ("Author", "{{ report.author_name }}, {{ report.author_role }}"),
        ("Agency", "{{ report.agency_name }}"),
        ("Date received", '{{ report.received_text or "Not yet received" }}'),
        ("Shared with parents", "{{ report.shared_text }}{% if report.get('sharing_note') %}. "
                                "{{ report.sharing_note }}{% endif %}", "not copy.is_family_copy"),
    ])


def social_worker_report(w: Writer) -> None:
    start(w)
    w.tag('{%p import "_report_topics.html" as t %}')
    w.h("{{ document.title }}", 1)
    w.tag("{%p if report.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    report_facts(w)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("This report is shared with you before the conference so that you can check it. If anything in it is wrong, "
        "or you disagree with it, please tell your social worker or the chair before the meeting. Your comments will "
        "be noted.")
    w.tag("{%p endif %}")
    w.h("The children", 2)
    w.h("Children who are the subject of the conference", 3)
    children_table(w, "case.subject_children")
    w.h("Other children in the household", 3)
    w.tag("{%p if case.other_children %}")
    children_table(w, "case.other_children")
    w.tag("{%p else %}")
    w.p("There are no other children in the household.")
    w.tag("{%p endif %}")
    # The headings of 004 "Information for a Conference"; each section of the report goes under one.
    w.tag("{%p for topic in t.topics %}")
    w.h("{{ loop.index }}. {{ topic.heading }}", 2)
    w.tag("{%p set matched = namespace(count=0) %}")
    w.tag("{%p for node in report.sections if t.topic_of(node)|trim == topic.key %}")
    w.tag("{%p set matched.count = matched.count + 1 %}")
    w.tag("{%p if node.title|trim|lower != topic.heading|lower %}")
    w.h("{{ node.title }}", 3)
    w.tag("{%p endif %}")
    items(w, "node['items']")
    w.tag("{%p endfor %}")
    w.tag("{%p if matched.count == 0 %}")
    w.p("Nothing under this heading in this report.", style="Guidance")
    w.tag("{%p endif %}")
    w.tag("{%p endfor %}")
    w.tag("{%p set others = namespace(any=false) %}")
    w.tag("{%p for node in report.sections if t.topic_of(node)|trim == 'other' %}")
    w.tag("{%p set others.any = true %}")
    w.tag("{%p endfor %}")
    w.tag("{%p if others.any %}")
    w.h("{{ t.topics|length + 1 }}. Other information", 2)
    sections(w, "report.sections if t.topic_of(node)|trim == 'other'", 3)
    w.tag("{%p endif %}")
    w.p(("{{ report.author_name }}", "b"), ", {{ report.author_role }}, {{ report.agency_name }}")
    w.tag("{%p endif %}")


def agency_report(w: Writer) -> None:
    start(w)
    w.h("{{ document.title }}", 1)
    w.tag("{%p if report.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    report_facts(w)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("This report is shared with you before the conference so that you can check it. If anything in it is wrong, "
        "or you disagree with it, please tell your social worker or the chair before the meeting.")
    w.tag("{%p endif %}")
    w.h("The children", 2)
    children_table(w, "case.subject_children", with_address=False)
    sections(w, "report.sections", 2)
    w.tag("{%p if not report.sections %}")
    w.p("This report has no content yet.")
    w.tag("{%p endif %}")
    w.p(("{{ report.author_name }}", "b"), ", {{ report.author_role }}, {{ report.agency_name }}")
    w.tag("{%p endif %}")


def answer_space(w: Writer, lines: int = 6) -> None:
    """A bordered, empty box to write in (a one-cell table, so that it grows as the writer types)."""
    table = w.table((TEXT_WIDTH_MM,))
    row = table.add_row()
    _apply_widths(table, row)
    cant_split = OxmlElement("w:cantSplit")
    cant_split.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(cant_split)
    cell = row.cells[0]
    cell.paragraphs[0].style = "Answer Space"
    for _ in range(lines - 1):
        cell.add_paragraph(style="Answer Space")
    w.spacer()


def agency_report_form(w: Writer) -> None:
    start(w)
    w.h("{{ document.title }}", 1)
    facts(w, [
        ("Conference", "{{ case.conference.kind_name }}"),
        ("Date and time", "{{ case.conference.date_text }}, {{ case.conference.time_text }}"),
        ("Reference", "{{ document.reference }}"),
        ("Report due", [("{{ recipient.invitation.get('report_due_text') or "
                         "'As soon as possible before the conference' }}", "b")]),
        ("Agency", "{{ recipient.agency_name }}"),
        ("Completed by", "{{ recipient.name }}, {{ recipient.role }}"),
    ])
    w.p("Please complete every section and return the form to the conference service ({{ authority.email }}) by the "
        "date above. Write for the family as well as for professionals: the report will be shared with the parents, "
        "and with older children where appropriate, at least 2 working days before the conference, unless it "
        "contains information that must not be shared with them (see section 7). Where you give an opinion, say "
        "that it is your opinion.")
    w.h("The children", 2)
    w.h("Children who are the subject of the conference", 3)
    children_table(w, "case.subject_children", with_address=False)
    w.tag("{%p if case.other_children %}")
    w.h("Other children in the household", 3)
    children_table(w, "case.other_children", with_address=False)
    w.tag("{%p endif %}")
    for heading, guidance in FORM_SECTIONS[:1]:
        w.h(heading, 2)
        w.p(guidance, style="Guidance")
        answer_space(w)
    w.h("2. Information about each child", 2)
    w.p("For each child: health, development, education, behaviour, presentation and anything that has changed. "
        "Include what you know about other children in the household.", style="Guidance")
    w.tag("{%p for child in case.subject_children + case.other_children %}")
    w.h("{{ child.name }}, born {{ child.born_text }}", 3)
    answer_space(w)
    w.tag("{%p endfor %}")
    for heading, guidance in FORM_SECTIONS[1:]:
        w.h(heading, 2)
        w.p(guidance, style="Guidance")
        answer_space(w)
    w.h("7. Sharing this report with the family", 2)
    table = w.table((100, TEXT_WIDTH_MM - 100))
    w.header_row(table, ("Question", "Answer"))
    w.row(table, ("Has this report been shared with the family?", "\u2610 Yes    \u2610 No"))
    w.row(table, ("If yes: with whom, and on what date?", ""))
    w.row(table, ("If not: why not? (for example third-party information, a police investigation, or a risk to a "
                  "child). Tell the chair before the report is due.", ""))
    w.spacer()
    w.h("Signed", 2)
    table = w.table((50, 50, 40, TEXT_WIDTH_MM - 140))
    w.header_row(table, ("Name", "Role", "Signature", "Date"))
    w.row(table, ("{{ recipient.name }}", "{{ recipient.role }}", "", ""))
    w.spacer()


FORM_SECTIONS = (
    ("1. Your agency's involvement with the child and family",
     "How long and why your agency has known the family, and the dates and nature of contact."),
    ("3. Parenting capacity",
     "How well the parents and carers meet the children's needs and keep them safe, and anything that affects this."),
    ("4. Strengths", "What is going well: strengths and protective factors in the family and around the children."),
    ("5. Worries",
     "What you are worried about, the evidence for it, and how likely and serious the harm to each child could be."),
    ("6. Views of the child and family",
     "What each child, and each parent or carer, has told you about their wishes, feelings and views, and when."),
)


def conference_record(w: Writer) -> None:
    start(w)
    w.tag("{%p set plan = case.get('plan') %}")
    w.h("{{ document.title }}", 1)
    facts(w, [
        ("Conference", "{{ case.conference.kind_name }}"),
        ("Date and time", "{{ case.conference.date_text }}, {{ case.conference.time_text }}"
                          "{% if case.conference.end_time_text %} to {{ case.conference.end_time_text }}{% endif %}"),
        ("Place", "{{ case.conference.venue }}", "case.conference.get('venue')"),
        ("Chair", "{{ case.conference.chair_name }}"),
        ("Minute taker", "{{ case.conference.minute_taker }}", "case.conference.get('minute_taker')"),
        ("Previous conference", "{{ case.conference.previous_conference_on|long_date }}",
         "case.conference.get('previous_conference_on')"),
        ("Quorate", '{{ "Yes" if case.conference.quorate else "No" }}',
         "case.conference.get('quorate') is not none"),
        ("Reference", "{{ document.reference }}"),
    ])
    w.tag("{%p if copy.is_family_copy %}")
    w.p("This is the written record of the conference. If you think anything in it is wrong, please write to the "
        "chair within 10 working days of receiving it. Some information may have been left out of your copy; where "
        "it has, this is shown.")
    w.tag("{%p else %}")
    w.p("This record is confidential. Corrections to its accuracy must reach the chair in writing within 10 working "
        "days of receipt.")
    w.tag("{%p endif %}")

    w.h("1. Purpose of the conference", 2)
    w.tag("{%p if case.conference.get('purpose') %}")
    w.p("{{ case.conference.purpose }}")
    w.tag("{%p else %}")
    w.p("To share information about the children, decide whether each child is likely to suffer significant harm and "
        "needs a child protection plan and, if so, to agree an outline plan.")
    w.tag("{%p endif %}")
    w.tag("{%p if case.conference.get('booking_delay_reason') %}")
    w.p(("Why the conference was not held within the usual timescale: ", "b"),
        "{{ case.conference.booking_delay_reason }}")
    w.tag("{%p endif %}")

    w.h("2. The children and family", 2)
    w.h("Children who are the subject of the conference", 3)
    children_table(w, "case.subject_children")
    w.h("Other children in the household", 3)
    w.tag("{%p if case.other_children %}")
    children_table(w, "case.other_children")
    w.tag("{%p else %}")
    w.p("There are no other children in the household.")
    w.tag("{%p endif %}")
    w.h("Parents, carers and other adults in the household", 3)
    loop_table(w, ("Name", "Relationship", "Parental responsibility", "Lives with the children", "Address"),
               (38, 26, 28, 26, TEXT_WIDTH_MM - 118), "case.family", "member",
               ("{{ member.name }}", "{{ member.relationship|capitalize }}",
                '{{ "Yes" if member.parental_responsibility else "No" }}',
                '{{ "Yes" if member.lives_with_child else "No" }}', address_cell("member.get('address')")))

    w.h("3. Who was invited and who attended", 2)
    loop_table(w, ("Name", "Role", "Attendance", "Notes"), (38, 52, 26, TEXT_WIDTH_MM - 116), "case.invitations",
               "invitation",
               ("{{ invitation.name }}", "{{ invitation.role }}", "{{ invitation.attendance_text }}",
                "{% if invitation.get('supporter') %}Supported by {{ invitation.supporter }}. {% endif %}"
                "{% if invitation.get('invited_separately') %}Invited separately from other family members. "
                "{% endif %}{{ invitation.get('note', '') }}"))
    w.h("Exclusions", 3)
    w.tag("{%p set excluded = case.invitations|rejectattr('withheld')|selectattr('attendance', 'equalto', "
          "'excluded')|list %}")
    w.tag("{%p for invitation in excluded %}")
    w.bullet(("{{ invitation.name }}", "b"), " ({{ invitation.role }}) was excluded from the conference by the chair. "
             "Reasons: {{ invitation.exclusion_reason }}")
    w.tag("{%p else %}")
    w.p("No one was excluded from the conference.")
    w.tag("{%p endfor %}")

    w.h("4. Reports to the conference", 2)
    w.tag("{%p if case.reports %}")
    loop_table(w, ("Report", "Author", "Received", "Available to parents"), (50, 62, 28, TEXT_WIDTH_MM - 140),
               "case.reports", "report",
               ("{{ report.title }}", "{{ report.author_name }}, {{ report.author_role }}, {{ report.agency_name }}",
                '{{ report.received_text or "Not received" }}',
                "{{ report.shared_text }}{% if not copy.is_family_copy and report.get('sharing_note') %}. "
                "{{ report.sharing_note }}{% endif %}"))
    w.tag("{%p else %}")
    w.p("No written reports were presented to the conference.")
    w.tag("{%p endif %}")

    w.h("5. Views of the children", 2)
    w.tag("{%p for child in case.subject_children + case.other_children %}")
    w.h("{{ child.name }}", 3)
    w.p('{{ child.get("views") or "No views were recorded for this child." }}')
    w.tag("{%p endfor %}")

    w.h("6. Record of the discussion", 2)
    w.p("Opinions of conference members are shown in shaded boxes, marked as opinions, with the name of the person who "
        "gave them.", style="Guidance")
    sections(w, "case.record.sections", 3)
    w.tag("{%p if not case.record.sections %}")
    w.p("No discussion was recorded.")
    w.tag("{%p endif %}")

    w.h("7. Decisions", 2)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("The conference decided separately for each child whether they need a child protection plan. If a child needs "
        "a plan, the ", ("category", "b"), " is the main kind of harm the conference is worried about.")
    w.tag("{%p endif %}")
    decisions(w)

    w.h("8. Outline child protection plan", 2)
    w.tag("{%p if plan %}")
    w.h("What the plan aims to achieve", 3)
    plan_outcomes(w)
    w.h("Actions", 3)
    plan_actions(w)
    w.h("Contingency plan", 3)
    w.p("{{ plan.contingency }}")
    w.h("9. Lead social worker", 2)
    lead_social_worker(w)
    w.h("10. Core group", 2)
    core_group(w)
    w.tag("{%p else %}")
    w.p("No child is to be the subject of a child protection plan, so there is no outline plan, lead social worker or "
        "core group.")
    w.tag("{%p endif %}")

    w.h('{{ "11" if plan else "9" }}. Next conference', 2)
    w.tag("{%p if case.conference.next_conference_text %}")
    w.p("The next conference will be held on ", ("{{ case.conference.next_conference_text }}", "b"), ".")
    w.tag("{%p else %}")
    w.p("No further conference has been arranged.")
    w.tag("{%p endif %}")
    w.p("Chair: ", ("{{ case.conference.chair_name }}", "b"),
        "{% if case.conference.get('minute_taker') %}. Minutes taken by {{ case.conference.minute_taker }}{% endif %}.")


def decisions_notice(w: Writer) -> None:
    start(w)
    w.tag("{%p set plan = case.get('plan') %}")
    w.h("{{ document.title }}", 1)
    facts(w, [("Conference", "{{ case.conference.kind_name }}"), ("Held on", "{{ case.conference.date_text }}"),
              ("Chair", "{{ case.conference.chair_name }}"), ("Reference", "{{ document.reference }}")])
    w.tag("{%p if copy.is_family_copy %}")
    w.p("This letter tells you what the conference decided. We send it to everyone who was invited within 2 working "
        "days of the conference. The full written record of the conference will follow. If you have questions, "
        "please contact {% if plan %}the lead social worker, {{ plan.lead_social_worker_name }}"
        "{% if plan.lead_social_worker_contact %} (phone {{ plan.lead_social_worker_contact }}){% endif %}, or "
        f"{{% endif %}}the conference service: {service_contact()}.")
    w.tag("{%p else %}")
    w.p("The decisions of the conference, sent to all those invited within 2 working days of the conference. The "
        "conference record follows separately.")
    w.tag("{%p endif %}")
    w.h("Decisions for each child", 2)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("The conference decided separately for each child whether they need a ", ("child protection plan", "b"),
        ": a written plan of what everyone will do to keep the child safe. If a child needs a plan, the ",
        ("category", "b"), " is the main kind of harm the conference is worried about.")
    w.tag("{%p endif %}")
    decisions(w)
    w.tag("{%p if plan %}")
    w.h("Lead social worker", 2)
    lead_social_worker(w)
    w.h("Core group", 2)
    core_group(w)
    w.h("Outline child protection plan", 2)
    w.h("What the plan aims to achieve", 3)
    plan_outcomes(w)
    w.h("Actions", 3)
    plan_actions(w)
    w.h("If things do not go to plan", 3)
    w.p("{{ plan.contingency }}")
    w.tag("{%p endif %}")
    w.h("Next conference", 2)
    w.tag("{%p if case.conference.next_conference_text %}")
    w.p("The next conference will be held on ", ("{{ case.conference.next_conference_text }}", "b"),
        ".{% if copy.is_family_copy %} You will be invited to it.{% endif %}")
    w.tag("{%p else %}")
    w.p("No further conference has been arranged.")
    w.tag("{%p endif %}")
    w.tag("{%p if copy.is_family_copy %}")
    w.h("If you disagree", 2)
    w.p("{{ contacts.complaints }}")
    w.tag("{%p endif %}")


def outline_plan(w: Writer) -> None:
    start(w)
    w.tag("{%p set plan = case.plan %}")
    w.h("{{ document.title }}", 1)
    facts(w, [
        ("Agreed at", "{{ case.conference.kind_name }}, {{ case.conference.date_text }}"),
        ("Lead social worker", "{{ plan.lead_social_worker_name }}{% if plan.lead_social_worker_contact %}, phone "
                               "{{ plan.lead_social_worker_contact }}{% endif %}"),
        ("First core group meeting", "{{ plan.core_group.first_meeting_text }}"),
        ("Review conference", '{{ case.conference.next_conference_text or "To be arranged" }}'),
        ("Reference", "{{ document.reference }}"),
    ])
    w.tag("{%p if copy.is_family_copy %}")
    w.p("This is the outline of the plan to keep the children safe, agreed at the conference. The ", ("core group", "b"),
        " will turn it into a more detailed plan at its first meeting. Everyone named in the plan, including you, is "
        "expected to do their part. If you do not understand something, or you think something is wrong, talk to the "
        "lead social worker.")
    w.tag("{%p else %}")
    w.p("The outline child protection plan agreed at the conference. The core group develops it into the detailed plan "
        "at its first meeting; the detailed plan is distributed within 5 working days of that meeting.")
    w.tag("{%p endif %}")
    w.h("Children subject to the plan", 2)
    loop_table(w, ("Child", "Date of birth", "Category"), (60, 40, TEXT_WIDTH_MM - 100),
               "case.decisions if node.withheld or node.plan", "node",
               ("{{ node.child_name }}",
                "{% for child in case.children if child.id == node.child %}{{ child.born_text }}{% endfor %}",
                "{{ node.category_name }}{% if node.get('other_concerns') %}. Other significant concerns: "
                "{{ node.other_concerns }}{% endif %}"))
    w.h("What the plan aims to achieve", 2)
    plan_outcomes(w)
    w.h("Actions", 2)
    w.p("What needs to happen, who will do it, by when, and how the core group will check progress.")
    plan_actions(w)
    w.h("Contingency plan", 2)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("What will happen if the plan is not followed or things change:")
    w.tag("{%p endif %}")
    w.p("{{ plan.contingency }}")
    w.h("Core group", 2)
    core_group(w)
    w.h("Lead social worker", 2)
    lead_social_worker(w)
    w.h("Review", 2)
    w.tag("{%p if case.conference.next_conference_text %}")
    w.p("The plan will be reviewed at a review conference on ", ("{{ case.conference.next_conference_text }}", "b"),
        ".{% if copy.is_family_copy %} You will be invited.{% endif %}")
    w.tag("{%p else %}")
    w.p("The date of the review conference is to be arranged.")
    w.tag("{%p endif %}")


def discharge_notification(w: Writer) -> None:
    start(w)
    w.h("{{ document.title }}", 1)
    facts(w, [
        ("Reference", "{{ document.reference }}"),
        ("Date of this notice", "{{ document.generated_on_text }}"),
        ("To", "{% if copy.is_family_copy %}{{ copy.copy_for }}{% else %}All agencies invited to the initial child "
               "protection conference that led to the plan, and the family{% endif %}"),
    ])
    w.tag("{%p if copy.is_family_copy %}")
    w.p("We are writing to tell you that the child protection plan has ended for the "
        "{{ 'child' if case.discharge|length == 1 else 'children' }} named below.")
    w.tag("{%p else %}")
    w.p("Notification that the {{ 'child named below is' if case.discharge|length == 1 else 'children named below "
        "are' }} no longer the subject of a child protection plan. Please update your agency's records.")
    w.tag("{%p endif %}")
    w.tag("{%p for entry in case.discharge %}")
    w.tag("{%p if entry.withheld %}")
    w.withheld()
    w.tag("{%p else %}")
    w.h("{{ entry.child_name }}", 2)
    facts(w, [
        ("Child", "{{ entry.child_name }}{% for child in case.children if child.id == entry.child %}, born "
                  "{{ child.born_text }}{% endfor %}"),
        ("Plan ended on", "{{ entry.date_text }}"),
        ("Reason", "{{ entry.reason_text }}"),
    ])
    w.tag("{%p if entry.get('details') %}")
    w.h("Details", 3)
    w.p("{{ entry.details }}")
    w.tag("{%p endif %}")
    w.h("Continuing support", 3)
    w.p('{{ entry.get("continuing_support") or "No continuing support was recorded." }}')
    w.tag("{%p endif %}")
    w.tag("{%p endfor %}")
    w.h("What happens now", 2)
    w.tag("{%p if copy.is_family_copy %}")
    w.p("The end of the plan does not mean that help stops. Your social worker will talk with you about what support "
        f"you and the children want and need. If you have any questions, please {service_contact()}.")
    w.h("If you are unhappy", 2)
    w.p("{{ contacts.complaints }}")
    w.tag("{%p else %}")
    w.p("Ending the plan does not mean help is withdrawn. Agencies continuing to work with the family should follow "
        f"the continuing support arrangements above. Questions to the conference service: {service_contact()}.")
    w.tag("{%p endif %}")


BUILDERS: dict[str, Callable[[Writer], None]] = {
    "parent_invitation": parent_invitation,
    "professional_invitation": professional_invitation,
    "professional_guidance": professional_guidance,
    "child_invitation": child_invitation,
    "exclusion_letter": exclusion_letter,
    "social_worker_report": social_worker_report,
    "agency_report_form": agency_report_form,
    "agency_report": agency_report,
    "conference_record": conference_record,
    "decisions_notice": decisions_notice,
    "outline_plan": outline_plan,
    "discharge_notification": discharge_notification,
}


def build_all(templates_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every document kind's Word template; returns the files written."""
    missing = set(KINDS) - set(BUILDERS)
    if missing:
        raise SystemExit(f"no Word template builder for: {', '.join(sorted(missing))}")
    written = []
    for key, kind in KINDS.items():
        writer = Writer()
        BUILDERS[key](writer)
        path = templates_dir / kind.docx_template
        writer.save(path)
        written.append(path)
    return written


def main() -> int:
    for path in build_all():
        print(path.relative_to(PROJECT_ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
