"""Generating a conference's pack as a background job: the version asked for, into a new folder of its
own under the web application's data folder, with progress reported copy by copy and the
generation audited in the name of the person who asked for it. Also what the web pages ask of a
generation: request one, list its files, and hand over one file that its manifest lists."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.adapters.files import sha256
from docgen.domain.documents import documents_date
from docgen.errors import DocgenError, NotFoundError
from docgen.services.audit_trail import record_event
from docgen.services.importing import stored_version
from docgen.services.jobs import Handler, JobView, Progress, get_job, jobs_for, request_job
from docgen.services.pack import build_pack
from docgen.services.report_sharing import reports_shared
from docgen.services.runtime import Runtime

PACK = "pack"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FORMATS = ("pdf", "docx")


def pack_folder(data_folder: Path, reference: str, job_id: int) -> Path:
    """Where job ``job_id`` writes the pack of ``reference``: a new folder for each generation."""
    if not _SAFE.match(reference):
        raise DocgenError("the conference reference cannot be used as a folder name")
    return data_folder / "packs" / reference / f"job-{job_id}"


def pack_handler(data_folder: Path, *, workers: int | None = None) -> Handler:
    def generate(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        version = stored_version(runtime, job.reference, job.content_version)
        folder = pack_folder(data_folder, job.reference, job.id)
        if folder.exists():
            # Left by an earlier attempt whose worker stopped (its lease ran out): this attempt starts afresh.
            shutil.rmtree(folder)
        formats = tuple(job.parameters.get("formats") or FORMATS)
        artifacts = build_pack(version.case, runtime.settings, folder, generated_on=documents_date(version.saved_at),
                               formats=formats, approved_reports=reports_shared(runtime, version.case, actor=job.requested_by),
                               workers=workers, on_progress=progress, store=runtime.copies)
        manifest = sha256((folder / "manifest.json").read_bytes())
        record_event(runtime, "generated", actor=job.requested_by, reference=job.reference, subject=f"job {job.id}",
                     details={"files": len(artifacts), "manifest_sha256": manifest, "content_version": version.version})
        return {"folder": str(folder), "files": len(artifacts), "manifest_sha256": manifest,
                "family_copies": sorted({a.path.rsplit(".", 1)[0] for a in artifacts if a.family_copy})}
    return generate


# -- what the web pages ask of a generation ------------------------------------------------------

def request_pack(runtime: Runtime, reference: str, *, actor: str, formats: tuple[str, ...] = FORMATS) -> JobView:
    """Queue the generation of the conference's pack from its newest content version."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise DocgenError(f"unknown format {fmt!r}; use pdf or docx")
    version = stored_version(runtime, reference)
    return request_job(runtime, PACK, reference, content_version=version.version,
                       parameters={"formats": list(formats)}, actor=actor)


def pack_generations(runtime: Runtime, reference: str, *, limit: int = 20) -> list[JobView]:
    """The conference's pack generations, newest first."""
    return jobs_for(runtime, reference, kind=PACK, limit=limit)


def pack_job(runtime: Runtime, reference: str, job_id: int) -> JobView:
    """One generation of this conference's pack; NotFoundError for another conference's job or another kind."""
    job = get_job(runtime, job_id)
    if job.kind != PACK or job.reference != reference:
        raise NotFoundError(f"conference {reference} has no pack generation {job_id}")
    return job


@dataclass(frozen=True)
class PackFile:
    """One file of a generated pack, as its manifest lists it; ``index`` is its place in the manifest."""

    index: int
    path: str
    title: str
    kind: str
    format: str
    family_copy: bool
    pages: int | None
    sha256: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def pack_files(data_folder: Path, job: JobView) -> list[PackFile]:
    """The files a finished generation's manifest lists; none before it is done."""
    if job.state != "done":
        return []
    manifest_path = pack_folder(data_folder, job.reference, job.id) / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        artifacts = manifest["artifacts"]
    except (OSError, ValueError, KeyError, TypeError):
        raise NotFoundError(f"the files of pack generation {job.id} are no longer on the server; "
                            "generate the pack again") from None
    return [PackFile(index, str(a["path"]), str(a.get("title") or a["path"]), str(a.get("kind", "")),
                     str(a.get("format", "")), bool(a.get("family_copy")), a.get("pages"), str(a["sha256"]))
            for index, a in enumerate(artifacts)]


def pack_file(runtime: Runtime, data_folder: Path, reference: str, job_id: int, index: int, *,
              actor: str) -> tuple[PackFile, bytes]:
    """File ``index`` of the manifest of generation ``job_id``, checked against the manifest's SHA-256,
    and audited as downloaded by ``actor``. Nothing outside the manifest of that job's folder is served."""
    job = pack_job(runtime, reference, job_id)
    files = pack_files(data_folder, job)
    if not 0 <= index < len(files):
        raise NotFoundError(f"pack generation {job_id} has no file {index}")
    wanted = files[index]
    folder = pack_folder(data_folder, reference, job_id).resolve()
    path = (folder / wanted.path).resolve()
    if not path.is_relative_to(folder):
        raise NotFoundError(f"pack generation {job_id} has no file {index}")
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFoundError(f"file {index} of pack generation {job_id} is no longer on the server") from None
    if sha256(data) != wanted.sha256:
        raise DocgenError(f"file {index} of pack generation {job_id} is not the file its manifest lists (its "
                          "SHA-256 differs); it was not handed over. Generate the pack again")
    record_event(runtime, "downloaded", actor=actor, reference=reference, subject=f"job {job_id}",
                 details={"file": wanted.path, "sha256": wanted.sha256})
    return wanted, data
