"""An authority's templates folder, named in authority.toml, overrides the shipped templates by
name: an edited Word template (a changed sentence and another logo) and an edited HTML template
with another logo are what the pack's copies are made from."""

from __future__ import annotations

import copy
import io
import json
import shutil
import struct
import subprocess
import zipfile
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document

from docgen.adapters.casefile import validate_case
from docgen.configuration.authority import load_settings
from docgen.configuration.folder import DEFAULT_CONFIG_DIR, TEMPLATES_DIR
from docgen.services.pack import build_pack

SHIPPED_SENTENCE = "The conference record follows separately."
EDITED_SENTENCE = "The Northmoor conference record will reach you within 20 working days."
LOGO_WORDS = "Edited Northmoor crest"


def another_logo_png() -> bytes:
    """A 40 by 40 red square, as a PNG file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xc8\x1e\x3c" * 40 for _ in range(40))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 40, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def authority_folder(tmp_path: Path) -> Path:
    """A configuration folder whose authority.toml names a templates folder holding the edits."""
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    toml = (config / "authority.toml").read_text(encoding="utf-8")
    (config / "authority.toml").write_text(toml.replace('# folder = "templates"', 'folder = "../our-templates"'),
                                           encoding="utf-8")
    folder = tmp_path / "our-templates"
    (folder / "records").mkdir(parents=True)
    (folder / "assets").mkdir()
    html = (TEMPLATES_DIR / "records" / "decisions_notice.html").read_text(encoding="utf-8")
    assert SHIPPED_SENTENCE in html
    (folder / "records" / "decisions_notice.html").write_text(html.replace(SHIPPED_SENTENCE, EDITED_SENTENCE), encoding="utf-8")
    (folder / "assets" / "northmoor-logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">'
        f'<rect width="80" height="80" fill="#c81e3c"/><text x="4" y="40" font-size="8">{LOGO_WORDS}</text></svg>',
        encoding="utf-8")
    # The Word template as an editor leaves it: the sentence changed and a picture inserted.
    document = Document(str(TEMPLATES_DIR / "records" / "decisions_notice.docx"))
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            if SHIPPED_SENTENCE in run.text:
                run.text = run.text.replace(SHIPPED_SENTENCE, EDITED_SENTENCE)
    document.paragraphs[0].insert_paragraph_before().add_run().add_picture(io.BytesIO(another_logo_png()))
    document.save(str(folder / "records" / "decisions_notice.docx"))
    return config


def test_the_pack_uses_the_authority_s_templates(tmp_path: Path, example_data: dict[str, Any]) -> None:
    settings = load_settings(authority_folder(tmp_path))
    assert settings.templates.folder == str((tmp_path / "our-templates").resolve())
    case = validate_case(copy.deepcopy(example_data), source="example")
    out = tmp_path / "pack"
    build_pack(case, settings, out, generated_on=date(2026, 11, 20), workers=1)

    notices = sorted(out.glob("records/decisions_notice--*"))
    assert {path.suffix for path in notices} == {".pdf", ".docx"}
    for path in notices:
        if path.suffix == ".docx":
            package = zipfile.ZipFile(path)
            text = " ".join(p.text for p in Document(str(path)).paragraphs)
            images = [package.read(name) for name in package.namelist() if name.startswith("word/media/")]
            assert another_logo_png() in images, path.name
        else:
            text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
            assert LOGO_WORDS in text, path.name
        text = " ".join(text.split())
        if "professional" in path.name:
            assert EDITED_SENTENCE in text and SHIPPED_SENTENCE not in text, path.name

    # Documents the folder does not override are the shipped ones, with the authority's logo file.
    record = subprocess.run(["pdftotext", str(out / "records" / "conference_record--professional.pdf"), "-"],
                            check=True, capture_output=True, text=True).stdout
    assert LOGO_WORDS in record
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("our-templates/records/decisions_notice.docx" in name for name in manifest["templates"])


def test_a_templates_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    import pytest

    from docgen.errors import ConfigurationError

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    toml = (config / "authority.toml").read_text(encoding="utf-8")
    (config / "authority.toml").write_text(toml.replace('# folder = "templates"', 'folder = "nowhere"'), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"authority\.toml: templates\.folder: the templates folder .*nowhere.* does not exist"):
        load_settings(config)
