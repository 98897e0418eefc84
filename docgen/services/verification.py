"""The gate every rendered copy passes before it is written: no withheld content, marked on
every page. It reads only the output bytes, independently of how they were made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from docgen.domain.documents import CopySpec
from docgen.errors import RedactionError
from docgen.domain.leakcheck import AllowedText, normalise, verify_copy


def verify_output(data: bytes, fmt: str, *, copy_spec: CopySpec, withheld: Mapping[str, str], allowed_text: str | AllowedText,
                  marking: Mapping[str, Any], expected_pages: int | None) -> None:
    """Refuse the copy (RedactionError) if anything withheld can be recovered from it, or if a
    family copy is not marked on every page. ``allowed_text`` may be given already cut into words
    (:class:`~docgen.domain.leakcheck.AllowedText`) when many copies share most of it."""
    where = f"{copy_spec.stem}.{fmt}"
    try:
        recovered = verify_copy(data, cast(Literal["pdf", "docx"], fmt), withheld, allowed_text)
    except RedactionError as exc:
        raise RedactionError(f"{where} was refused and not written: {exc}") from None
    if not marking.get("is_family_copy"):
        return
    required = [marking["label"], f"Copy for: {marking['copy_for']}", marking["notice"]]
    if fmt == "pdf":
        places = list(recovered.pages)
        if expected_pages is not None and len(places) != expected_pages:
            raise RedactionError(f"{where}: {len(places)} pages were read back but {expected_pages} were rendered")
        names = [f"page {n}" for n in range(1, len(places) + 1)]
    else:
        places = list(recovered.headers) + [recovered.body]
        names = [f"header {n}" for n in range(1, len(recovered.headers) + 1)] + ["body"]
    if not places:
        raise RedactionError(f"{where}: no pages or headers could be read back to check the copy's marking")
    missing = []
    for name, text in zip(names, places):
        flat = normalise(text)
        for phrase in required:
            if normalise(phrase) not in flat:
                missing.append(f"{name} lacks {phrase[:40]!r}")
    if missing:
        raise RedactionError(f"{where} was refused: the copy's marking is missing: " + "; ".join(missing))
