"""The baseline a typical system would use: every document filled into DOCX with docxtpl (as the
pack's DOCX copies are), then converted to PDF by LibreOffice headless.

Two ways of converting are timed: one ``soffice --headless --convert-to pdf`` process per
document, as systems usually call it, and one process converting every document of the pack.
Each run has its own fresh LibreOffice user profile (``-env:UserInstallation``), so runs do not
share state; the profile is created by one untimed conversion first, as a server would already
have one, and the time that first start took is reported on its own. The baseline neither checks
the copies for withheld content nor encrypts them, so it does less than the pack it is compared
with.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pikepdf

from bench.timing import Timing
from docgen.adapters.docx import render_docx
from docgen.domain.authority import Settings
from docgen.domain.documents import build_context, plan_copies
from docgen.domain.redaction import redact
from docgen.domain.views import build_case_view

CONVERT_TIMEOUT_S = 600


@dataclass(frozen=True)
class BaselineFigures:
    documents: int
    fill: Timing  # docxtpl: every document of the pack filled into DOCX
    each: Timing  # one soffice process per document: the total for the pack, per run
    batch: Timing  # one soffice process for every document of the pack
    first_start_s: tuple[float, ...]  # the untimed conversion that created each run's fresh profile
    version: str
    record_pages: int | None  # LibreOffice's page count for the professional copy of the record

    def total_each(self) -> float:
        """Median fill plus median per-document conversion: the baseline's time for the pack."""
        return self.fill.median + self.each.median

    def total_batch(self) -> float:
        return self.fill.median + self.batch.median


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def version(program: str) -> str:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() or done.stderr.strip()


def fill_documents(case: dict[str, Any], settings: Settings, folder: Path, *, generated_on: date) -> list[Path]:
    """Write every copy of the pack as DOCX into ``folder`` the way the pack fills them, without
    the pack's checks of the output."""
    view = build_case_view(case)
    created = datetime.combine(generated_on, datetime.min.time())
    paths = []
    for copy_spec in plan_copies(case):
        context = build_context(copy_spec, redact(view, copy_spec.audience).view, settings, generated_on=generated_on)
        data = render_docx(copy_spec.kind.docx_template, context, title=context["document"]["title"], created=created)
        path = folder / f"{copy_spec.stem}.docx"
        path.write_bytes(data)
        paths.append(path)
    return paths


def convert(program: str, documents: list[Path], out_dir: Path, profile: Path) -> None:
    """Convert ``documents`` to PDF in one soffice process; raises unless every PDF was written."""
    command = [program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, documents)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
    missing = [d.name for d in documents if not (out_dir / f"{d.stem}.pdf").is_file()]
    if done.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice failed (exit {done.returncode}); not converted: {', '.join(missing[:5])}"
                           f"\n{done.stderr[-2000:]}")


def measure(program: str, case: dict[str, Any], settings: Settings, *, runs: int, generated_on: date,
            record_stem: str = "conference_record--professional") -> BaselineFigures:
    fills, each, batch, first_starts = [], [], [], []
    record_pages = None
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="docgen-bench-lo-") as scratch:
            folder = Path(scratch)
            (folder / "docx").mkdir()
            started = time.perf_counter()
            documents = fill_documents(case, settings, folder / "docx", generated_on=generated_on)
            fills.append(time.perf_counter() - started)

            profile = folder / "profile"
            started = time.perf_counter()
            convert(program, documents[:1], folder / "first", profile)
            first_starts.append(time.perf_counter() - started)

            total = 0.0
            for document in documents:
                started = time.perf_counter()
                convert(program, [document], folder / "each", profile)
                total += time.perf_counter() - started
            each.append(total)

            started = time.perf_counter()
            convert(program, documents, folder / "batch", profile)
            batch.append(time.perf_counter() - started)

            record = folder / "each" / f"{record_stem}.pdf"
            if record.is_file():
                with pikepdf.open(io.BytesIO(record.read_bytes())) as pdf:
                    record_pages = len(pdf.pages)
            count = len(documents)
    return BaselineFigures(count, Timing(tuple(fills)), Timing(tuple(each)), Timing(tuple(batch)),
                           tuple(first_starts), version(program), record_pages)
