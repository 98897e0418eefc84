"""A stand-in for GOV.UK Notify on loopback, following its published API, for the demo and the tests
(which cannot reach the real service: every message stays on this machine).

It answers the endpoints docgen calls (``POST /v2/notifications/{email,sms,letter}``, ``GET
/v2/notifications/{id}`` and ``GET /v2/notifications?reference=``) with Notify's bodies and
errors (``{"status_code": ..., "errors": [{"error": ..., "message": ...}]}``). Every request must
carry a JWT signed (HS256) with the secret of the fake's API key, issued by its service id within
30 seconds; anything else is refused with Notify's ``AuthError``. What is accepted is kept, so a test
reads a phone's inbox (``texts_to``), the emails (``emails``) and the letters (``letters``).
``fail_next`` makes the next requests fail with 500 or 429; ``lose_next_answer`` accepts the next
notification but answers 500, as when an answer is lost on the way back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

TOKEN_LEEWAY_SECONDS = 30
POSTAGES = ("first", "second", "economy")
_GENERAL_TOKEN_ERROR = ("Invalid token: make sure your API token matches the example at "
                        "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMAIL = re.compile(r"[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+")
_FAILURES = {
    500: ("Exception", "Internal server error"),
    429: ("RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
}


class NotifyError(Exception):
    """An answer in Notify's error shape."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def body(self) -> dict[str, Any]:
        return {"status_code": self.status, "errors": [{"error": self.error, "message": self.message}]}


def _invalid(message: str) -> NotifyError:
    return NotifyError(400, "ValidationError", message)


def _bad(message: str) -> NotifyError:
    return NotifyError(400, "BadRequestError", message)


def uk_mobile(number: str) -> str:
    """Notify's check of a UK mobile number; the number as ``07...``, or a ValidationError."""
    stripped = re.sub(r"[\s()\-]", "", number)
    if not re.fullmatch(r"\+?[0-9]+", stripped):
        raise _invalid("phone_number Must not contain letters or symbols")
    digits = stripped.lstrip("+")
    for prefix in ("0044", "44"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix):]
            break
    if not digits.startswith("0"):
        digits = "0" + digits
    if len(digits) > 11:
        raise _invalid("phone_number Too many digits")
    if len(digits) < 11:
        raise _invalid("phone_number Not enough digits")
    if not digits.startswith("07"):
        raise _invalid("phone_number Not a UK mobile number")
    return digits


@dataclass
class Notification:
    """One notification Notify accepted."""

    id: str
    type: str  # email, sms or letter
    reference: str | None
    created_at: str
    recipient: str = ""  # the email address or the phone number, as sent
    template_id: str | None = None
    personalisation: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    body: str = ""
    pdf: bytes = b""
    postage: str | None = None

    def as_json(self, base_url: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id, "reference": self.reference, "type": self.type, "created_at": self.created_at,
            "status": "pending-virus-check" if self.type == "letter" else "created", "body": self.body,
            "subject": self.subject or None, "sent_at": None, "completed_at": None, "created_by_name": None,
            "template": {"id": self.template_id, "version": 1, "uri": f"{base_url}/v2/template/{self.template_id}"},
            "email_address": self.recipient if self.type == "email" else None,
            "phone_number": self.recipient if self.type == "sms" else None,
            "postage": self.postage,
        }
        return record


@dataclass
class Template:
    id: str
    type: str
    subject: str
    content: str

    def render(self, personalisation: dict[str, Any]) -> tuple[str, str]:
        """The subject and body with ``((name))`` filled in; a missing value is a BadRequestError."""
        missing = [name for name in re.findall(r"\(\(([^)]+)\)\)", self.subject + self.content)
                   if name not in personalisation]
        if missing:
            raise _bad(f"Missing personalisation: {', '.join(dict.fromkeys(missing))}")

        def fill(text: str) -> str:
            return re.sub(r"\(\(([^)]+)\)\)", lambda m: str(personalisation[m[1]]), text)

        return fill(self.subject), fill(self.content)


class FakeNotify:
    """The fake's state: its key, templates, what was sent, and the failures it has been told to make."""

    def __init__(self) -> None:
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())  # made at run time, as every key for tests is
        self.api_key = f"docgen_tests-{self.service_id}-{self.secret}"
        self.email_template = Template(str(uuid.uuid4()), "email", "((subject))", "((body))")
        self.sms_template = Template(str(uuid.uuid4()), "sms", "", "((body))")
        self.notifications: dict[str, Notification] = {}
        self.requests: list[tuple[str, str]] = []
        self._failures: list[int] = []
        self._lose_answers = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what tests read and say -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def other_key(self) -> str:
        """A well-formed key for this service that Notify does not know (a revoked or mistyped one)."""
        return f"docgen_tests-{self.service_id}-{uuid.uuid4()}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (500 or 429) and do nothing else."""
        assert status in _FAILURES
        with self._lock:
            self._failures.extend([status] * count)

    def lose_next_answer(self) -> None:
        """Accept the next notification, but answer 500 as if the answer had been lost."""
        with self._lock:
            self._lose_answers += 1

    def sent(self, kind: str | None = None) -> list[Notification]:
        """What Notify accepted, oldest first; only ``kind`` (email, sms, letter) if given."""
        with self._lock:
            return [n for n in self.notifications.values() if kind is None or n.type == kind]

    def texts_to(self, number: str) -> list[str]:
        """The phone's inbox: the text of every message sent to ``number``, oldest first."""
        wanted = uk_mobile(number)
        return [n.body for n in self.sent("sms") if uk_mobile(n.recipient) == wanted]

    def emails(self) -> list[Notification]:
        return self.sent("email")

    def letters(self) -> list[bytes]:
        return [n.pdf for n in self.sent("letter")]

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self, "GET")

            def do_POST(self) -> None:
                fake._answer(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- answering ------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        url = urlsplit(handler.path)
        with self._lock:
            self.requests.append((method, url.path))
            failure = self._failures.pop(0) if self._failures else None
        try:
            if failure is not None:
                raise NotifyError(failure, *_FAILURES[failure])
            self._authenticate(handler.headers.get("Authorization"))
            status, body = self._route(method, url.path, parse_qs(url.query), raw)
        except NotifyError as error:
            status, body = error.status, error.body()
        data = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _authenticate(self, header: str | None) -> None:
        if not header:
            raise NotifyError(401, "AuthError", "Unauthorized: authentication token must be provided")
        if header[:7].title() != "Bearer ":
            raise NotifyError(401, "AuthError", "Unauthorized: authentication bearer scheme must be used")
        token = header[7:]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise NotifyError(403, "AuthError", _GENERAL_TOKEN_ERROR) from None
        if "iss" not in unverified:
            raise NotifyError(403, "AuthError", "Invalid token: iss field not provided")
        if unverified["iss"] != self.service_id:
            raise NotifyError(403, "AuthError", "Invalid token: service not found")
        if algorithm != "HS256":
            raise NotifyError(403, "AuthError", "Invalid token: algorithm used is not HS256")
        try:
            claims = jwt.decode(token, key=self.secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.InvalidSignatureError:
            raise NotifyError(403, "AuthError", "Invalid token: API key not found") from None
        except jwt.PyJWTError:
            raise NotifyError(403, "AuthError", _GENERAL_TOKEN_ERROR) from None
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or abs(time.time() - issued) > TOKEN_LEEWAY_SECONDS:
            raise NotifyError(403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")

    def _route(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path in ("/v2/notifications/email", "/v2/notifications/sms",
                                         "/v2/notifications/letter"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                raise _bad("Invalid JSON supplied in POST data") from None
            if not isinstance(body, dict):
                raise _bad("Invalid JSON supplied in POST data")
            kind = path.rsplit("/", 1)[1]
            notification = {"email": self._email, "sms": self._sms, "letter": self._letter}[kind](body)
            with self._lock:
                self.notifications[notification.id] = notification
                lost = self._lose_answers > 0
                self._lose_answers -= 1 if lost else 0
            if lost:
                raise NotifyError(500, *_FAILURES[500])
            return 201, self._created(notification)
        if method == "GET" and path == "/v2/notifications":
            reference = (query.get("reference") or [""])[0] or None
            template_type = (query.get("template_type") or [""])[0] or None
            found = [n.as_json(self.base_url) for n in reversed(self.sent(template_type))
                     if reference is None or n.reference == reference]
            return 200, {"notifications": found, "links": {"current": f"{self.base_url}/v2/notifications"}}
        match = re.fullmatch(r"/v2/notifications/([^/]+)", path)
        if method == "GET" and match:
            if not _UUID.fullmatch(match[1]):
                raise _invalid("notification_id is not a valid UUID")
            with self._lock:
                found_one = self.notifications.get(match[1])
            if found_one is None:
                raise NotifyError(404, "NoResultFound", "No result found")
            return 200, found_one.as_json(self.base_url)
        raise NotifyError(404, "NotFound", "The requested URL was not found on the server.")

    def _created(self, notification: Notification) -> dict[str, Any]:
        if notification.type == "letter":
            return {"id": notification.id, "reference": notification.reference, "postage": notification.postage}
        content: dict[str, Any] = {"body": notification.body}
        if notification.type == "email":
            content.update(subject=notification.subject, from_email="docgen.tests@notifications.service.gov.uk")
        else:
            content.update(from_number="GOVUK")
        return {"id": notification.id, "reference": notification.reference, "content": content,
                "uri": f"{self.base_url}/v2/notifications/{notification.id}",
                "template": {"id": notification.template_id, "version": 1,
                             "uri": f"{self.base_url}/v2/template/{notification.template_id}"}}

    def _common(self, body: dict[str, Any], recipient_key: str, allowed: set[str],
                template: Template) -> tuple[str, dict[str, Any], str | None]:
        extra = sorted(set(body) - allowed)
        if extra:
            raise _invalid(f"Additional properties are not allowed ({', '.join(repr(e) for e in extra)} "
                           f"{'was' if len(extra) == 1 else 'were'} unexpected)")
        for key in (recipient_key, "template_id"):
            if key not in body:
                raise _invalid(f"{key} is a required property")
        if not isinstance(body[recipient_key], str):
            raise _invalid(f"{recipient_key} {body[recipient_key]!r} is not of type string")
        if not isinstance(body["template_id"], str) or not _UUID.fullmatch(body["template_id"]):
            raise _invalid("template_id is not a valid UUID")
        personalisation = body.get("personalisation", {})
        if not isinstance(personalisation, dict):
            raise _invalid(f"personalisation {personalisation!r} is not of type object")
        reference = body.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise _invalid(f"reference {reference!r} is not of type string")
        if body["template_id"] != template.id:
            raise _bad("Template not found")
        return body[recipient_key], personalisation, reference

    def _email(self, body: dict[str, Any]) -> Notification:
        address, personalisation, reference = self._common(
            body, "email_address", {"email_address", "template_id", "personalisation", "reference",
                                    "email_reply_to_id", "one_click_unsubscribe_url"}, self.email_template)
        if not _EMAIL.fullmatch(address):
            raise _invalid("email_address Not a valid email address")
        subject, text = self.email_template.render(personalisation)
        return Notification(id=str(uuid.uuid4()), type="email", reference=reference, created_at=_now(),
                            recipient=address, template_id=self.email_template.id, personalisation=personalisation,
                            subject=subject, body=text)

    def _sms(self, body: dict[str, Any]) -> Notification:
        number, personalisation, reference = self._common(
            body, "phone_number", {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id"},
            self.sms_template)
        uk_mobile(number)
        _, text = self.sms_template.render(personalisation)
        return Notification(id=str(uuid.uuid4()), type="sms", reference=reference, created_at=_now(),
                            recipient=number, template_id=self.sms_template.id, personalisation=personalisation,
                            body=text)

    def _letter(self, body: dict[str, Any]) -> Notification:
        if "template_id" in body:
            raise _bad("Template not found")  # the fake knows no letter templates: precompiled letters only
        extra = sorted(set(body) - {"reference", "content", "postage"})
        if extra:
            raise _invalid(f"Additional properties are not allowed ({', '.join(repr(e) for e in extra)} "
                           f"{'was' if len(extra) == 1 else 'were'} unexpected)")
        for key in ("reference", "content"):
            if key not in body:
                raise _invalid(f"{key} is a required property")
        if not isinstance(body["reference"], str) or not body["reference"]:
            raise _invalid("reference is a required property")
        postage = body.get("postage", "second")
        if postage not in POSTAGES:
            raise _invalid("postage invalid. It must be either first, second or economy.")
        try:
            pdf = base64.b64decode(str(body["content"]), validate=True)
        except (binascii.Error, ValueError):
            raise _bad("Cannot decode letter content (invalid base64 encoding)") from None
        if not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-1024:]:
            raise _bad("Letter content is not a valid PDF")
        return Notification(id=str(uuid.uuid4()), type="letter", reference=body["reference"], created_at=_now(),
                            pdf=pdf, postage=postage)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
