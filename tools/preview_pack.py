"""Render every copy of the example conference's pack to PDF and DOCX, for looking at the templates.

    .venv/bin/python tools/preview_pack.py [OUT_DIR] [--case CASE_FILE]

Loads examples/haddad-wisniewska.yaml (or CASE_FILE), adds a made-up discharge entry when the case
has none so the discharge notification has something to show, and writes ``<stem>.pdf`` and
``<stem>.docx`` for every copy the pack plans.
This is a developer's tool: it goes through the same steps as the pack builder (view, redact,
context, render) but writes the files straight to a folder, with no approval, leak check or
encryption.
"""

from __future__ import annotations

import argparse
import copy
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from docgen.adapters.casefile import load_case_file, validate_case  # noqa: E402
from docgen.adapters.docx import render_docx  # noqa: E402
from docgen.adapters.pdf import render_pdf  # noqa: E402
from docgen.adapters.templating import render_html  # noqa: E402
from docgen.configuration.authority import load_settings  # noqa: E402
from docgen.domain.documents import build_context, plan_copies  # noqa: E402
from docgen.domain.redaction import redact  # noqa: E402
from docgen.domain.views import build_case_view  # noqa: E402
from docgen.errors import DocgenError  # noqa: E402

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


def load_example(path: Path = EXAMPLE) -> dict[str, Any]:
    """The case, validated; without discharge entries of its own it gets the synthetic one."""
    case = copy.deepcopy(validate_case(load_case_file(path), source=str(path)))
    if not case["discharge"]:
        case["discharge"] = copy.deepcopy(SYNTHETIC_DISCHARGE)
    return case


def render_pack(out_dir: Path, case_path: Path = EXAMPLE) -> list[Path]:
    """Render every copy of the pack into ``out_dir``; returns the files written."""
    settings = load_settings()
    case = load_example(case_path)
    view = build_case_view(case)
    created = datetime(GENERATED_ON.year, GENERATED_ON.month, GENERATED_ON.day, 9, 0, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for copy_spec in plan_copies(case):
        redacted = redact(view, copy_spec.audience).view
        context = build_context(copy_spec, redacted, settings, generated_on=GENERATED_ON)
        html = render_html(copy_spec.kind.html_template, context)
        pdf_path = out_dir / f"{copy_spec.stem}.pdf"
        pdf, _pages = render_pdf(html, source=copy_spec.kind.html_template)
        pdf_path.write_bytes(pdf)
        docx_path = out_dir / f"{copy_spec.stem}.docx"
        docx_path.write_bytes(render_docx(copy_spec.kind.docx_template, context, title=context["document"]["title"],
                                          created=created))
        written.extend([pdf_path, docx_path])
        print(f"{copy_spec.stem}: pdf, docx")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render every copy of a conference's pack to PDF and DOCX.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("/tmp/docgen-preview"),
                        help="folder to write into (default /tmp/docgen-preview)")
    parser.add_argument("--case", type=Path, default=EXAMPLE, help=f"case file (default {EXAMPLE.name})")
    args = parser.parse_args(argv)
    try:
        written = render_pack(args.out_dir, args.case)
    except DocgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} files written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
