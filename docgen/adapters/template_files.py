"""The template files themselves: which files each document is made from (shipped or the
authority's), their hashes, and what a template file may not hold (macros, comments, tracked
changes, external images or links, fields that fetch content, embedded objects, scripts).

Every problem is a line "FILE, PLACE: what is wrong", the same wherever it is reported.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from lxml import etree

from docgen.configuration.folder import TEMPLATES_DIR, find_template, template_folders

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS_WITH_TEXT = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml")
_TRACKED = {"ins": "a tracked insertion", "del": "a tracked deletion", "moveFrom": "a tracked move",
            "moveTo": "a tracked move", "rPrChange": "a tracked formatting change",
            "pPrChange": "a tracked formatting change"}
_COMMENT_MARKS = ("commentRangeStart", "commentReference")
# Fields that fetch content from elsewhere when Word updates them.
_FETCHING_FIELD = re.compile(r"^\s*(INCLUDETEXT|INCLUDEPICTURE|DDEAUTO|DDE|LINK|IMPORT|INCLUDE)\b", re.I)
_HTML_INCLUDES = re.compile(r"{%-?\s*(?:extends|include|import|from)\s+[\"']([^\"']+)[\"']")
_HTML_FORBIDDEN = [
    (re.compile(r"<\s*(script|iframe|object|embed)\b", re.I), "a <{0}> element, which a document may not hold"),
    (re.compile(r"\bsrc\s*=\s*[\"'](?!asset:)([^\"']{0,40})", re.I), "an image or source not among the assets "
     "(src=\"{0}\"); put the file in the assets folder and write src=\"asset:NAME\""),
    (re.compile(r"<link\b[^>]*href\s*=\s*[\"'](?!asset:)([^\"']{0,40})", re.I), "a stylesheet not among the assets "
     "(href=\"{0}\"); put it in the assets folder and link asset:NAME"),
    (re.compile(r"url\(\s*[\"']?(?!asset:|#)([^)\"']{0,40})", re.I), "a CSS url() not among the assets ({0})"),
]


def html_files(template_name: str, override: str = "") -> list[Path]:
    """The HTML template and every template it extends, includes or imports, as found."""
    names, seen, files = [template_name], set(), []
    while names:
        name = names.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = find_template(name, override)
        if not path.is_file():
            continue
        files.append(path)
        names.extend(_HTML_INCLUDES.findall(path.read_text(encoding="utf-8", errors="replace")))
    return files


def asset_files(override: str = "") -> list[Path]:
    """Every asset in use: the shipped ones, each replaced by the authority's file of the same name."""
    found: dict[str, Path] = {}
    for folder in reversed(template_folders(override)):
        assets = folder / "assets"
        if assets.is_dir():
            found.update({path.name: path for path in sorted(assets.iterdir()) if path.is_file()})
    return [found[name] for name in sorted(found)]


def files_of(html_template: str, docx_template: str, override: str = "") -> list[Path]:
    """Every file a document's copies are made from, in PDF and Word."""
    docx = find_template(docx_template, override)
    return [*html_files(html_template, override), *asset_files(override), *([docx] if docx.is_file() else [])]


def display_name(path: Path, override: str = "") -> str:
    """A template file as messages name it: relative to its folder, marked as the authority's."""
    for folder in template_folders(override):
        if folder in path.parents:
            relative = path.relative_to(folder).as_posix()
            return relative if folder == TEMPLATES_DIR else f"{folder.name}/{relative} (the authority's)"
    return str(path)


def files_sha256(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of each file, by its full path."""
    return {str(path): _sha256(path, *_stamp(path)) for path in paths}


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


@lru_cache(maxsize=256)
def _sha256(path: Path, modified: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- what a template file may not hold ---------------------------------------------------------

def html_problems(path: Path, name: str) -> list[str]:
    """Every forbidden thing in an HTML template or stylesheet, by line."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        for pattern, what in _HTML_FORBIDDEN:
            for match in pattern.finditer(line):
                if "{{" in match.group(0) or match.group(1).startswith("{{"):
                    continue  # a value from the context, checked by the renderer's URL fetcher
                problems.append(f"{name}, line {number}: {what.format(match.group(1))}")
    return problems


def docx_problems(path: Path, name: str) -> list[str]:
    """Every forbidden thing in a Word template, by part and paragraph."""
    try:
        package = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        members = package.namelist()
    except zipfile.BadZipFile:
        return [f"{name}: not a Word file (.docx); save it from Word or LibreOffice as Word Document (.docx)"]
    problems = []
    for member in members:
        lowered = member.lower()
        if "vbaproject" in lowered or "vbadata" in lowered:
            problems.append(f"{name}, {member}: a macro project; save the template as Word Document (.docx), "
                            "not macro-enabled (.docm)")
        elif lowered.startswith("word/comments"):
            problems.append(f"{name}, {member}: reviewers' comments; delete every comment in Word (Review, Delete all comments)")
        elif lowered.startswith(("word/embeddings/", "word/activex")):
            problems.append(f"{name}, {member}: an embedded object; remove it and paste its content as text or a picture")
    content_types = package.read("[Content_Types].xml").decode("utf-8", "replace") if "[Content_Types].xml" in members else ""
    if "macroEnabled" in content_types:
        problems.append(f"{name}, [Content_Types].xml: the file is macro-enabled; save it as Word Document (.docx)")
    for member in members:
        if member.endswith(".rels"):
            problems.extend(_external_relationships(package.read(member), name, member))
        if _PARTS_WITH_TEXT.fullmatch(member):
            problems.extend(_part_problems(package.read(member), name, member))
    return problems


def _external_relationships(xml: bytes, name: str, member: str) -> list[str]:
    problems = []
    for relationship in etree.fromstring(xml):
        if relationship.get("TargetMode") == "External":
            kind = (relationship.get("Type") or "").rsplit("/", 1)[-1]
            what = "an external image" if kind == "image" else f"an external {kind or 'link'}"
            problems.append(f"{name}, {member}: {what} ({(relationship.get('Target') or '')[:60]!r}); "
                            "insert pictures into the file and write addresses as plain text")
    return problems


def _part_problems(xml: bytes, name: str, member: str) -> list[str]:
    root = etree.fromstring(xml)
    part = member.removeprefix("word/").removesuffix(".xml")
    problems: list[str] = []
    for number, paragraph in enumerate(root.iter(f"{W}p"), 1):
        place = f"{name}, {part}, paragraph {number}"
        found: list[str] = []
        for element in paragraph.iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            local = tag.rsplit("}", 1)[-1]
            if tag.startswith(W) and local in _TRACKED:
                found.append(f"{_TRACKED[local]}; accept or reject every change (Review, Accept all changes)")
            elif tag.startswith(W) and local in _COMMENT_MARKS:
                found.append("a reviewer's comment; delete it")
            elif local in ("object", "OLEObject"):
                found.append("an embedded object; remove it")
            elif tag == f"{W}fldSimple" or tag == f"{W}instrText":
                instruction = element.get(f"{W}instr") if tag == f"{W}fldSimple" else element.text
                field = _FETCHING_FIELD.match(instruction or "")
                if field:
                    found.append(f"a {field.group(1).upper()} field, which fetches content from elsewhere; remove the field")
        problems.extend(f"{place}: {what}" for what in dict.fromkeys(found))
    return problems


def docx_paragraphs_using(path: Path, name: str) -> list[str]:
    """Where a Word template uses ``name`` in a tag: "part, paragraph N" for each paragraph."""
    places: list[str] = []
    word = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)|\.{re.escape(name)}(?!\w)")
    try:
        package = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    except zipfile.BadZipFile:
        return places
    for member in package.namelist():
        if not _PARTS_WITH_TEXT.fullmatch(member):
            continue
        part = member.removeprefix("word/").removesuffix(".xml")
        for number, paragraph in enumerate(etree.fromstring(package.read(member)).iter(f"{W}p"), 1):
            text = "".join(t.text or "" for t in paragraph.iter(f"{W}t"))
            if any(word.search(tag) for tag in re.findall(r"{[{%].*?[}%]}", text)):
                places.append(f"{part}, paragraph {number}")
    return places
