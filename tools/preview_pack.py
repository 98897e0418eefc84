"""Render every copy of the example conference's pack to PDF and DOCX, for looking at the templates.

    .venv/bin/python tools/preview_pack.py [OUT_DIR]

Loads examples/haddad-wisniewska.yaml, adds a made-up discharge entry so the discharge notification
has something to show, and writes ``<stem>.pdf`` and ``<stem>.docx`` for every job the pack plans.
This is a developer's tool: it goes through the same steps as the pack builder (view, redact,
context, render) but writes the files straight to a folder, with no approval, leak check or
encryption.
"""

from __future__ import annotations

import copy
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from docgen.adapters.docx import render_docx  # noqa: E402
from docgen.adapters.pdf import render_pdf  # noqa: E402
from docgen.adapters.templating import render_html  # noqa: E402
from docgen.casefile import load_case_file, validate_case  # noqa: E402
from docgen.config import load_settings  # noqa: E402
from docgen.documents import build_context, plan_jobs  # noqa: E402
from docgen.errors import DocgenError  # noqa: E402
from docgen.redaction import redact  # noqa: E402
from docgen.views import build_case_view  # noqa: E402

EXAMPLE = PROJECT_ROOT / "examples" / "haddad-wisniewska.yaml"
GENERATED_ON = date(2026, 11, 5)

# Not in the example (its conference has only just made the plan): a plan that ended at a later
# review, so that the discharge notification template is exercised.
SYNTHETIC_DISCHARGE: list[dict[str, Any]] = [{
    "child": "lena",
    "discharged_on": "2027-08-12",
    "reason": "no_longer_at_risk",
    "details": "The review conference heard that there has been no contact from Mr Haddad outside the agreed "
               "arrangements since the plan began, and that Lena is settled and doing well at school.",
    "continuing_support": "Lena will keep her weekly time with a trusted adult at school, and the family will be "
                          "offered support through an Early Help plan, reviewed in 3 months.",
}]


def _allow_clearing_last_printed() -> None:
    """Let ``core_properties.last_printed = None`` remove the property, as the DOCX adapter expects.

    python-docx 1.2 raises ValueError for None there, which stops every DOCX render in
    docgen.adapters.docx.render_docx. Until the adapter is changed, the preview applies this shim
    (only if the installed python-docx still refuses None) so the templates can be checked.
    """
    from docx.opc.coreprops import CoreProperties

    setter = CoreProperties.last_printed.fset
    assert setter is not None

    def last_printed(self: CoreProperties, value: datetime | None) -> None:
        if value is None:
            element = self._element.find(qn("cp:lastPrinted"))
            if element is not None:
                self._element.remove(element)
            return
        setter(self, value)

    from docx.oxml.ns import qn

    try:
        from docx import Document

        Document().core_properties.last_printed = None  # type: ignore[assignment]
    except ValueError:
        CoreProperties.last_printed = property(CoreProperties.last_printed.fget, last_printed)  # type: ignore[method-assign]


def load_example(path: Path = EXAMPLE) -> dict[str, Any]:
    """The example case, validated, with the synthetic discharge entry added."""
    case = validate_case(load_case_file(path), source=str(path))
    case = copy.deepcopy(case)
    case["discharge"] = copy.deepcopy(SYNTHETIC_DISCHARGE)
    return case


def _pdf_bytes(rendered: bytes | tuple[bytes, int]) -> bytes:
    # render_pdf returns the bytes, or (bytes, page count) since the pack service needs the count.
    return rendered[0] if isinstance(rendered, tuple) else rendered


def render_pack(out_dir: Path, case_path: Path = EXAMPLE) -> list[Path]:
    """Render every job of the pack into ``out_dir``; returns the files written."""
    _allow_clearing_last_printed()
    settings = load_settings()
    case = load_example(case_path)
    view = build_case_view(case)
    created = datetime(GENERATED_ON.year, GENERATED_ON.month, GENERATED_ON.day, 9, 0, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for job in plan_jobs(case):
        redacted = redact(view, job.audience).view
        context = build_context(job, redacted, settings, generated_on=GENERATED_ON)
        html = render_html(job.kind.html_template, context)
        pdf_path = out_dir / f"{job.stem}.pdf"
        pdf_path.write_bytes(_pdf_bytes(render_pdf(html, source=job.kind.html_template)))
        docx_path = out_dir / f"{job.stem}.docx"
        docx_path.write_bytes(render_docx(job.kind.docx_template, context, title=context["document"]["title"],
                                          created=created))
        written.extend([pdf_path, docx_path])
        print(f"{job.stem}: pdf, docx")
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path("/tmp/docgen-preview")
    try:
        written = render_pack(out_dir)
    except DocgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} files written to {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
