"""DOCX rendering with docxtpl in the same sandbox, and scrubbing of everything the template
file carried that is not the document (author, company, comments, revision history)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import jinja2
from docx.document import Document
from docx.opc.packuri import PACKAGE_URI
from docx.opc.pkgwriter import _ContentTypesItem  # python-docx's own [Content_Types].xml builder
from docxtpl import DocxTemplate

from docgen.adapters.readback import read_back_docx
from docgen.adapters.templating import CompilingOnceEnvironment, folder_state, make_environment
from docgen.configuration.folder import find_template
from docgen.errors import RedactionError, RenderError, TemplateError

# Parts a template may carry that must never reach an output: reviewers' comments, people,
# custom properties, macros, embedded printer settings.
_DROPPED_PARTS = ("word/comments", "word/commentsExtended", "word/commentsIds", "word/commentsExtensible",
                  "word/people.xml", "docProps/custom.xml", "word/vbaProject", "word/printerSettings")

_APP_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            b"<Application>docgen</Application></Properties>")


class _Template(DocxTemplate):
    """A docxtpl template whose cleaning of tag-split XML is done once per distinct part.

    ``patch_xml`` rewrites the template's own XML (tags Word split across runs) with a dozen
    regular expressions; its result depends only on that XML, which is the same on every render.
    """

    def patch_xml(self, src_xml: str) -> str:
        return _patched_xml(src_xml)


@lru_cache(maxsize=64)
def _patched_xml(src_xml: str) -> str:
    return DocxTemplate.patch_xml(None, src_xml)  # an instance method that uses no instance state


@cache
def _environment() -> jinja2.Environment:
    return make_environment(environment_class=CompilingOnceEnvironment)


def _template_bytes(path: Path) -> bytes:
    """The template file's bytes, read again when the file has changed (an authority may replace
    a template while a scheduler process runs)."""
    status = path.stat()
    return _read(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=64)
def _read(path: Path, modified: int, size: int) -> bytes:
    return path.read_bytes()


_TAGS = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.DOTALL)


def docx_fixed_wording(template_name: str, override: str = "") -> str:
    """The Word template's own words (tags removed), which every reader of the document may see."""
    return _docx_fixed_wording(template_name, override, folder_state(override))


@lru_cache(maxsize=64)
def _docx_fixed_wording(template_name: str, override: str, state: tuple[tuple[str, int], ...]) -> str:
    try:
        package = zipfile.ZipFile(io.BytesIO(_template_bytes(find_template(template_name, override))))
    except (FileNotFoundError, zipfile.BadZipFile):
        return ""
    texts = []
    for name in package.namelist():
        if name.startswith("word/") and name.endswith(".xml"):
            xml = package.read(name).decode("utf-8", "replace")
            texts.append(" ".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)))
    return _TAGS.sub(" ", "\n".join(texts))


def docx_package_text(template_name: str, override: str = "") -> str:
    """See :func:`_docx_package_text`; read again when the authority's templates change."""
    return _docx_package_text(template_name, override, folder_state(override))


@lru_cache(maxsize=64)
def _docx_package_text(template_name: str, override: str, state: tuple[tuple[str, int], ...]) -> str:
    """Everything the leak check reads from the Word template's package, tags removed: content
    types such as "application/vnd.openxmlformats-...", relationship types, part and style names,
    settings. Every copy made from the template holds it whatever the case says, so its *words*
    are allowed text: a withheld sentence that happens to use them is not taken for a leak.

    It is kept apart from :func:`docx_fixed_wording` on purpose. Fixed wording is also matched as
    a substring to decide which withheld items need looking for at all, and the package's run-on
    identifiers and font names ("Calibri" holds "ali") must never excuse a withheld name."""
    try:
        read_back = read_back_docx(_template_bytes(find_template(template_name, override)))
    except (FileNotFoundError, RedactionError):
        return ""  # nothing to allow: copies of a template the check cannot read are refused anyway
    return _TAGS.sub(" ", "\n".join(text for part, text in read_back.items() if part != "raw file bytes"))


def render_docx(template_name: str, context: dict[str, object], *, title: str, created: datetime,
                override: str = "", environment: jinja2.Environment | None = None) -> bytes:
    """Render a DOCX template (the authority's, ``override``, if it has one); the output's
    properties hold the title and nothing of the template's."""
    path = find_template(template_name, override)
    try:
        template = _Template(io.BytesIO(_template_bytes(path)))
    except FileNotFoundError:
        raise TemplateError(f"template {template_name!r} was not found at {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateError(f"{template_name}: not a usable Word template ({exc})") from None
    try:
        template.render(context, jinja_env=environment or _environment())
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{template_name}, line {exc.lineno} of its document XML: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{template_name}: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{template_name}: the template tried something the sandbox forbids: {exc}") from None
    properties = template.docx.core_properties
    properties.title = title
    properties.author = ""
    properties.last_modified_by = ""
    properties.comments = ""
    properties.keywords = ""
    properties.subject = ""
    properties.category = ""
    properties.content_status = ""
    properties.identifier = ""
    properties.version = ""
    properties.revision = 1
    properties.created = created
    properties.modified = created
    for printed in properties._element.findall("{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastPrinted"):
        properties._element.remove(printed)
    try:
        return _scrub(_package_members(template.docx))
    except Exception as exc:
        raise RenderError(f"{template_name}: the DOCX could not be written: {exc}") from exc


def _package_members(document: Document) -> list[tuple[str, bytes]]:
    """The zip members python-docx would save, in the order it saves them, without zipping them:
    the package is zipped once, by :func:`_scrub`, instead of zipped, unzipped and zipped again."""
    package = document.part.package
    parts = list(package.iter_parts())
    for part in parts:
        part.before_marshal()
    members = [("[Content_Types].xml", _ContentTypesItem.from_parts(parts).blob),
               (PACKAGE_URI.rels_uri.membername, package.rels.xml)]
    for part in parts:
        members.append((part.partname.membername, part.blob))
        if len(part.rels):
            members.append((part.partname.rels_uri.membername, part.rels.xml))
    return members


def _scrub(members: list[tuple[str, bytes]]) -> bytes:
    """Zip the package without the parts a template must not pass on."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in members:
            if name.startswith(_DROPPED_PARTS):
                continue
            if name == "docProps/app.xml":
                content = _APP_XML
            elif name == "[Content_Types].xml" or name.endswith(".rels"):
                content = _drop_references(content)
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _drop_references(xml: bytes) -> bytes:
    """Remove relationship and content-type entries that point at dropped parts."""
    from lxml import etree

    root = etree.fromstring(xml)
    for element in list(root):
        target = (element.get("Target") or element.get("PartName") or "").lstrip("/")
        if target.startswith(_DROPPED_PARTS) or target.startswith(tuple(p.split("/", 1)[1] for p in _DROPPED_PARTS)):
            root.remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
