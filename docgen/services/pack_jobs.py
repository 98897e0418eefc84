"""Generating a conference's pack as a background job: the version asked for, into a new folder of its
own under the web application's data folder, with progress reported copy by copy and the
generation audited in the name of the person who asked for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docgen.adapters.files import sha256
from docgen.errors import DocgenError
from docgen.services.approval import record_event
from docgen.services.importing import stored_version
from docgen.services.jobs import Handler, JobView, Progress
from docgen.services.pack import build_pack
from docgen.services.report_sharing import reports_shared
from docgen.services.runtime import Runtime

PACK = "pack"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def pack_folder(data_folder: Path, reference: str, job_id: int) -> Path:
    """Where job ``job_id`` writes the pack of ``reference``: a new folder for each generation."""
    if not _SAFE.match(reference):
        raise DocgenError("the conference reference cannot be used as a folder name")
    return data_folder / "packs" / reference / f"job-{job_id}"


def pack_handler(data_folder: Path, *, workers: int | None = None) -> Handler:
    def generate(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        version = stored_version(runtime, job.reference, job.content_version)
        folder = pack_folder(data_folder, job.reference, job.id)
        formats = tuple(job.parameters.get("formats") or ("pdf", "docx"))
        artifacts = build_pack(version.case, runtime.settings, folder, generated_on=runtime.clock().date(),
                               formats=formats, approved_reports=reports_shared(runtime, version.case, actor=job.requested_by),
                               workers=workers, on_progress=progress)
        manifest = sha256((folder / "manifest.json").read_bytes())
        record_event(runtime, "generated", actor=job.requested_by, reference=job.reference, subject=f"job {job.id}",
                     details={"files": len(artifacts), "manifest_sha256": manifest, "content_version": version.version})
        return {"folder": str(folder), "files": len(artifacts), "manifest_sha256": manifest,
                "family_copies": sorted({a.path.rsplit(".", 1)[0] for a in artifacts if a.family_copy})}
    return generate
