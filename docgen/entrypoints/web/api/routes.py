"""The JSON API for case management systems, under /api/v1: import a conference, send a new version
of it, read its newest version, and the OpenAPI description of all of this (openapi.json here).

Every view is declared ``@api_key``: the caller is a system authenticated by ``Authorization: Bearer
<key>``, never a session cookie, so the API is exempt from CSRF (create_app exempts the blueprint).
Every answer is JSON, errors included: a message, and for a case with problems each problem's field
path, the same paths as the CLI's, never the values found there.
"""

from __future__ import annotations

import json
import logging
import re
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from docgen.adapters.casefile.loader import MAX_CASE_FILE_BYTES
from docgen.entrypoints.web.security import api_key, api_system
from docgen.errors import ApiKeyError, CaseFileError, ConflictError, DocgenError, NotFoundError
from docgen.services.api_keys import ApiKeyThrottled
from docgen.services.conference_api import import_conference, update_conference
from docgen.services.importing import stored_version
from docgen.services.runtime import Runtime

api = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger("docgen.web.api")


class BadRequest(DocgenError):
    """The request's body or headers cannot be read as the API expects (400)."""


class PreconditionRequired(DocgenError):
    """A change was sent without the version it was made to (428)."""


class TooLarge(DocgenError):
    """The body is over the size limit (413)."""


def _runtime() -> Runtime:
    return current_app.extensions["docgen.runtime"]  # type: ignore[no-any-return]


def _json(body: dict[str, Any], status: int, **headers: str) -> Response:
    response = current_app.response_class(json.dumps(body, ensure_ascii=False, indent=1) + "\n", status=status,
                                          mimetype="application/json")
    response.headers.update(headers)
    return response


# -- reading the body -------------------------------------------------------------------------------

def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise BadRequest(f"the key {key[:60]!r} appears twice in the same object; each key may appear once")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> None:
    raise BadRequest(f"{name} is not a JSON number; the body must be standard JSON")


def _body() -> tuple[object, bytes]:
    """The request's body as parsed JSON and as the bytes that came: at most the size limit, UTF-8,
    standard JSON with no key twice in one object."""
    limit = min(MAX_CASE_FILE_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_CASE_FILE_BYTES)
    if (request.content_length or 0) > limit:
        raise TooLarge(f"the body is {request.content_length} bytes; the most a conference may be is {limit} bytes")
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise TooLarge(f"the body is {len(raw)} bytes; the most a conference may be is {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"byte {exc.start}: the body is not UTF-8 text; send the conference as UTF-8 JSON") from None
    if not text.strip():
        raise BadRequest("the body is empty; send the conference as JSON, in the case file format")
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant), raw
    except json.JSONDecodeError as exc:
        raise BadRequest(f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise BadRequest("the JSON is nested too deeply") from None


_VERSION_TAG = re.compile(r'^(?:W/)?"?([1-9][0-9]{0,8})"?$')


def _based_on() -> int:
    """The version a change was made to, from the If-Match header (the ETag a GET gave)."""
    given = request.headers.get("If-Match", "").strip()
    if not given:
        raise PreconditionRequired('give the version the change was made to in the If-Match header, as the ETag '
                                   'of the version read, for example If-Match: "3"')
    matched = _VERSION_TAG.match(given)
    if matched is None:
        raise BadRequest('If-Match must be one version number in quotes, as the ETag a GET gave, for example "3"')
    return int(matched.group(1))


def _version_tag(version: int) -> str:
    return f'"{version}"'


# -- the views --------------------------------------------------------------------------------------

@api.route("/conferences", methods=["POST"])
@api_key
def import_new() -> Response:
    data, raw = _body()
    saved = import_conference(_runtime(), data, raw, system=api_system())
    return _json({"reference": saved.reference, "version": saved.version}, 201,
                 Location=url_for("api.conference", reference=saved.reference), ETag=_version_tag(saved.version))


@api.route("/conferences/<reference>", methods=["PUT"])
@api_key
def update(reference: str) -> Response:
    based_on = _based_on()
    data, raw = _body()
    saved = update_conference(_runtime(), reference, data, raw, based_on=based_on, system=api_system())
    return _json({"reference": saved.reference, "version": saved.version}, 200, ETag=_version_tag(saved.version))


@api.route("/conferences/<reference>", methods=["GET"])
@api_key
def conference(reference: str) -> Response:
    stored = stored_version(_runtime(), reference)
    return _json({"reference": stored.reference, "version": stored.version, "saved_by": stored.saved_by,
                  "saved_at": stored.saved_at.isoformat(), "conference": dict(stored.case)}, 200,
                 ETag=_version_tag(stored.version))


@api.route("/openapi.json", methods=["GET"])
@api_key
def openapi() -> Response:
    return _json(openapi_document(), 200)


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, with the case file schema it refers to."""
    document: dict[str, Any] = json.loads(files("docgen.entrypoints.web.api").joinpath("openapi.json").read_text("utf-8"))
    schema = json.loads(files("docgen.adapters.casefile").joinpath("case-file.schema.json").read_text("utf-8"))
    # Placed inside this document, the schema's own references ("#/$defs/date") are made to point at
    # where it now is, and its $id goes, so that every reader resolves them alike.
    schema.pop("$id", None)
    document["components"]["schemas"]["CaseFile"] = _rebased(schema, "#/components/schemas/CaseFile")
    return document


def _rebased(node: Any, base: str) -> Any:
    if isinstance(node, dict):
        return {key: (base + value[1:] if key == "$ref" and isinstance(value, str) and value.startswith("#/")
                      else _rebased(value, base)) for key, value in node.items()}
    if isinstance(node, list):
        return [_rebased(value, base) for value in node]
    return node


@api.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# -- errors: JSON, never a page, never a traceback, never case content --------------------------------

_LEADING_VALUE = re.compile(r"""^(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(?:\.\.\.)? """)
_VALUE_STARTS = re.compile(r"\.? ?The value starts .*$")
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_THE_ID = re.compile(r"\bthe id " + _QUOTED + " ")


def problem_entry(problem: str) -> dict[str, str]:
    """One case-file problem ("PATH: message") as the API gives it: its field path, and the message
    without the excerpt of the value the CLI quotes (a case management system has the value; an
    answer that may be logged along the way should not)."""
    path, separator, message = problem.partition(": ")
    if not separator:
        return {"path": "(top level)", "message": problem}
    message = _VALUE_STARTS.sub("", message)
    message = _LEADING_VALUE.sub("the value ", message)
    message = _THE_ID.sub("an id ", message)
    return {"path": path, "message": message}


def error_response(error: Exception) -> Response:
    """Any error in an API call as a JSON answer; used by the blueprint and, for addresses under /api/
    that match no view, by the application's own handler."""
    if isinstance(error, CaseFileError):
        entries = [problem_entry(problem) for problem in error.problems]
        noun = "problem" if len(entries) == 1 else "problems"
        return _json({"message": f"the conference has {len(entries)} {noun}; nothing was saved", "errors": entries},
                     422)
    if isinstance(error, ApiKeyThrottled):
        window = current_app.extensions["docgen.web_settings"].sign_in_window_minutes
        return _json({"message": str(error)}, 429, **{"Retry-After": str(window * 60)})
    if isinstance(error, ApiKeyError):
        return _json({"message": "give a valid API key: Authorization: Bearer <key>"}, 401,
                     **{"WWW-Authenticate": 'Bearer realm="docgen", error="invalid_token"'})
    statuses: list[tuple[type[DocgenError], int]] = [(NotFoundError, 404), (ConflictError, 409), (TooLarge, 413),
                                                     (PreconditionRequired, 428)]
    if isinstance(error, DocgenError):
        status = next((code for cls, code in statuses if isinstance(error, cls)), 400)
        return _json({"message": str(error)}, status)
    if isinstance(error, HTTPException):
        messages = {404: "there is nothing at this address in the API; see /api/v1/openapi.json",
                    405: "this address does not take that method; see /api/v1/openapi.json",
                    413: f"the body is too large; the most a conference may be is {MAX_CASE_FILE_BYTES} bytes"}
        code = error.code or 500
        return _json({"message": messages.get(code, error.description or "the request cannot be answered")}, code)
    # The type only: an exception's message may quote case content, and logs must not hold it.
    log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.path)
    return _json({"message": "the service could not answer; nothing was changed. Try again later"}, 500)


api.register_error_handler(Exception, error_response)
