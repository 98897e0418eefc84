"""The conference's recipients: each professional with the certificate on file for them, and the upload
of a professional's certificate, checked by its content with the result shown beside the field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from distribution.errors import CertificateError
from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.services.recipients import MAX_CERTIFICATE_BYTES, conference_recipients, trust_anchors, upload_certificate


def _page(reference: str, *, chosen: str = "", errors: dict[str, str] | None = None, status: int = 200
          ) -> tuple[str, int]:
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    return render_template("conferences/recipients.html", reference=reference,
                           recipients=conference_recipients(runtime(), reference), chosen=chosen,
                           field_errors=errors, errors=summary, max_kilobytes=MAX_CERTIFICATE_BYTES // 1024), status


@conferences.route("/<reference>/recipients")
@requires(Permission.MANAGE_RECIPIENTS)
def recipients(reference: str) -> tuple[str, int]:
    visible_conference(reference)
    return _page(reference)


@conferences.route("/<reference>/recipients", methods=["POST"])
@requires(Permission.MANAGE_RECIPIENTS)
def upload_recipient_certificate(reference: str) -> Response | tuple[str, int]:
    visible_conference(reference)
    chosen = request.form.get("professional", "")
    errors: dict[str, str] = {}
    if not chosen.isdigit():
        errors["professional"] = "Choose whose certificate this is"
    upload = request.files.get("certificate")
    if upload is None or not upload.filename:
        errors["certificate"] = "Choose the certificate file to upload"
    if errors or upload is None:
        return _page(reference, chosen=chosen, errors=errors, status=400)
    data = upload.read(MAX_CERTIFICATE_BYTES + 1)
    try:
        person, summary = upload_certificate(runtime(), reference, int(chosen), data, actor=account().actor,
                                             ca_certificates=trust_anchors())
    except CertificateError as error:
        return _page(reference, chosen=chosen, errors={"certificate": str(error)}, status=400)
    flash(f"The certificate for {person.name} was checked and added: {summary.subject}, valid until "
          f"{summary.not_after:%-d %b %Y}.")
    return redirect(url_for("conferences.recipients", reference=reference))
