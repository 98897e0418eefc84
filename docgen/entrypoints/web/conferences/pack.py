"""Generating a conference's pack: request a generation (done in the background by a worker), follow
its progress, download the files its manifest lists, and see which family copies wait for the chair."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.services.approval_status import chair_decisions
from docgen.services.pack_jobs import FORMATS, pack_file, pack_files, pack_generations, pack_job, request_pack


def _data_folder() -> Path:
    return current_app.extensions["docgen.web_settings"].data_folder  # type: ignore[no-any-return]


@conferences.route("/<reference>/pack")
@requires(Permission.GENERATE_PACKS)
def pack(reference: str) -> str:
    version = visible_conference(reference)
    content_version, decisions = chair_decisions(runtime(), reference)
    return render_template("conferences/pack.html", reference=reference, version=version,
                           generations=pack_generations(runtime(), reference), decisions=decisions,
                           content_version=content_version)


@conferences.route("/<reference>/pack", methods=["POST"])
@requires(Permission.GENERATE_PACKS)
def request_pack_job(reference: str) -> Response:
    visible_conference(reference)
    formats = tuple(f for f in FORMATS if f in request.form.getlist("formats")) or FORMATS
    job = request_pack(runtime(), reference, actor=account().actor, formats=formats)
    return redirect(url_for("conferences.pack_job_page", reference=reference, job_id=job.id))


@conferences.route("/<reference>/pack/<int:job_id>")
@requires(Permission.GENERATE_PACKS)
def pack_job_page(reference: str, job_id: int) -> str:
    visible_conference(reference)
    job = pack_job(runtime(), reference, job_id)
    return render_template("conferences/pack_job.html", reference=reference, job=job,
                           files=pack_files(_data_folder(), job))


@conferences.route("/<reference>/pack/<int:job_id>/files/<int:index>")
@requires(Permission.GENERATE_PACKS)
def pack_download(reference: str, job_id: int, index: int) -> Response:
    visible_conference(reference)
    wanted, data = pack_file(runtime(), _data_folder(), reference, job_id, index, actor=account().actor)
    mimetypes = {"pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    response = Response(data, mimetype=mimetypes.get(wanted.format, "application/octet-stream"))
    response.headers.set("Content-Disposition", "attachment", filename=wanted.name)
    response.headers["Cache-Control"] = "no-store"
    return response
