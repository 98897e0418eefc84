"""Read back every piece of text a reader or a tool could get out of a copy's PDF or DOCX bytes:
the adapter half of the leak gate (:mod:`docgen.domain.disclosure` is the pure half).

A copy that cannot be read completely cannot be verified, so it is refused with
:class:`~docgen.errors.RedactionError` (fail closed); messages name the problem, never the content.
"""

from __future__ import annotations

from docgen.adapters.readback.docx import read_zip
from docgen.adapters.readback.pdf import read_pdf
from docgen.adapters.readback.text import Parts, ReadBack, file_text
from docgen.errors import RedactionError

__all__ = ["MAX_DEPTH", "ReadBack", "read_back_docx", "read_back_pdf"]

MAX_DEPTH = 3
"""How deep files may nest inside files inside the copy."""


def read_back_pdf(data: bytes, *, earlier: bytes | None = None) -> ReadBack:
    """Every text a reader or a tool could get from a PDF's bytes. ``earlier``: the bytes of the
    one earlier revision ``data`` may update (a copy before its recipient's stamp), which the
    caller has read back and checked itself."""
    return read_pdf(data, 0, _nested, earlier=earlier).freeze()


def read_back_docx(data: bytes) -> ReadBack:
    """Every text a reader or a tool could get from a DOCX's bytes."""
    return read_zip(data, 0, _nested).freeze()


def _nested(data: bytes, depth: int, what: str) -> Parts:
    """Read a file found inside the copy: PDF or OOXML zip recursively, anything else as text."""
    if depth > MAX_DEPTH:
        raise RedactionError(f"{what} nests files more than {MAX_DEPTH} deep; cannot be checked")
    if b"%PDF-" in data[:1024]:
        return read_pdf(data, depth, _nested)
    if data.startswith(b"PK\x03\x04"):
        return read_zip(data, depth, _nested)
    parts = Parts()
    parts.add("content", file_text(data))
    return parts
