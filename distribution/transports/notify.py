"""GOV.UK Notify backend: email, text messages and precompiled letters through the official client.

Three transports share one :class:`NotifyClient` (one API key, one base URL, one HTTP session):
:class:`NotifyEmailTransport` takes an RFC 5322 message with a plain-text body and no attachment
(Notify sends none) and fills an email template's ``((subject))`` and ``((body))``;
:class:`NotifySmsTransport` takes the UTF-8 text of a text message and fills a text template's
``((body))``; :class:`NotifyLetterTransport` takes a PDF laid out to Notify's precompiled letter
specification, the address in its window. The API key comes from an environment variable.

Every notification carries ``reference=idempotency_key`` (random, says nothing of the family), and
a send first asks Notify for a notification with that reference: a send repeated after a crash, or
after an answer that was lost, gets the first notification back instead of a second text or letter.
Nothing is retried here; the dispatcher retries. Failures are classified for it: no connection, a
timeout, 429 and 5xx are transient; 400 and 403 (and any other refusal) are not. An error message
names Notify's error and message, never the recipient's number, address or the content.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from io import BytesIO
from typing import Any, Literal

import requests
from notifications_python_client.errors import APIError, HTTPError, InvalidResponse
from notifications_python_client.notifications import NotificationsAPIClient

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import Clock, check_letter, message_id_of, one_phone_number, sms_text, utc_now
from docgen.errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
Postage = Literal["first", "second", "economy"]
POSTAGES: tuple[Postage, ...] = ("first", "second", "economy")
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
API_KEY = re.compile(rf"(?P<name>.+)-(?P<service_id>{_UUID})-(?P<secret>{_UUID})")
UUID = re.compile(_UUID)
_DIGITS = re.compile(r"\+?\d[\d ()-]{5,}\d")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_LIBRARY_LOGGER = "notifications_python_client.base"


def _quiet_library_log(record: logging.LogRecord) -> bool:
    """The client logs Notify's error message, which can quote a phone number; keep only the status."""
    if record.levelno < logging.WARNING:
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    if len(args) == 4:  # method, URL, status, Notify's message
        record.msg, record.args = "GOV.UK Notify API %s request failed with status %s", (args[0], args[2])
    else:  # a line this filter does not know: nothing of it is kept
        record.msg, record.args = "GOV.UK Notify API request failed", ()
    return True


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without ``secrets`` (a number, an address, the content), phone numbers or email addresses."""
    for secret in sorted((s.strip() for s in secrets if s and s.strip()), key=len, reverse=True):
        text = text.replace(secret, "[removed]")
    text = _EMAIL.sub("[removed]", _DIGITS.sub("[removed]", text))
    return text if len(text) <= 300 else text[:297] + "..."


class NotifyClient:
    """The GOV.UK Notify API client the three transports share, with the API key from ``api_key_env``.

    The key is read, and its form checked, when the client is made, so a scheduler without one
    does not start. The official client is not thread-safe: calls are made one at a time.
    """

    def __init__(self, *, api_key_env: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 30.0,
                 environ: Mapping[str, str] | None = None) -> None:
        if timeout <= 0:
            raise ConfigurationError("The GOV.UK Notify timeout must be a positive number of seconds.")
        key = (os.environ if environ is None else environ).get(api_key_env, "").strip()
        if not key:
            raise ConfigurationError(f"The GOV.UK Notify API key is not set: put it in the environment variable "
                                     f"{api_key_env} (transport.notify.api_key_env names it).")
        if not API_KEY.fullmatch(key):
            # Never repeat the value: it is a secret, or something pasted in its place.
            raise ConfigurationError(f"The environment variable {api_key_env} does not hold a GOV.UK Notify API key: "
                                     "a key is its name, the service id and the secret, joined by '-', both ids "
                                     "being UUIDs. Copy it again from Notify's API integration page.")
        self.api_key_env = api_key_env
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._api = NotificationsAPIClient(key, base_url=self.base_url, timeout=timeout)
        self._lock = threading.Lock()
        library_log = logging.getLogger(_LIBRARY_LOGGER)
        if _quiet_library_log not in library_log.filters:
            library_log.addFilter(_quiet_library_log)

    def __repr__(self) -> str:
        return f"NotifyClient(base_url={self.base_url!r}, api_key_env={self.api_key_env!r})"

    def call(self, what: str, request: Callable[[NotificationsAPIClient], Any], *,
             secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """Make one request; what Notify or the network says is turned into a :class:`TransportError`.

        ``what`` names the request in messages ("the text message"); ``secrets`` are removed from
        anything Notify's answer quotes.
        """
        try:
            with self._lock:
                answer = request(self._api)
        except APIError as exc:
            raise self._classify(exc, what, secrets) from None
        if not isinstance(answer, dict):
            raise TransportError(f"GOV.UK Notify at {self.base_url} answered {what} with something that is not a "
                                 "JSON object; whether it was sent is not known: check Notify before retrying.",
                                 transient=False)
        return answer

    def earlier(self, kind: str, reference: str) -> dict[str, Any] | None:
        """The notification of type ``kind`` already sent with ``reference``, if there is one."""
        answer = self.call(f"the search for an earlier {kind}",
                           lambda api: api.get_all_notifications(template_type=kind, reference=reference))
        found = [n for n in answer.get("notifications") or [] if isinstance(n, dict) and n.get("reference") == reference]
        return found[0] if found else None

    def _classify(self, exc: APIError, what: str, secrets: tuple[str, ...]) -> TransportError:
        where = f"GOV.UK Notify at {self.base_url}"
        if isinstance(exc, HTTPError) and exc.response is None:
            cause = exc.__cause__
            if isinstance(cause, requests.Timeout):
                return TransportError(f"{where} did not answer {what} within {self.timeout:g} seconds.",
                                      transient=True)
            return TransportError(f"Cannot connect to {where} to send {what} ({type(cause).__name__}).",
                                  transient=True)
        if isinstance(exc, InvalidResponse):
            return TransportError(f"{where} answered {what} with something that is not JSON (status "
                                  f"{exc.status_code}); whether it was sent is not known: check Notify before retrying.",
                                  transient=False)
        status = exc.status_code
        said = scrub(_errors_of(exc), secrets)
        if status == 429 or status >= 500:
            return TransportError(f"{where} is busy or unavailable ({status} {said}); {what} was not accepted.",
                                  transient=True)
        advice = ""
        if status in (401, 403):
            advice = (f" Check the API key in the environment variable {self.api_key_env} and the system clock "
                      "(tokens are refused when the clock is more than 30 seconds out).")
        return TransportError(f"{where} refused {what} ({status} {said}).{advice}", transient=False)


def _errors_of(exc: APIError) -> str:
    """Notify's errors as ``Name: message; ...`` (the body is ``{"status_code", "errors": [...]}``)."""
    message = exc.message
    if isinstance(message, list):
        parts = [f"{e.get('error', 'Error')}: {e.get('message', '')}" for e in message if isinstance(e, dict)]
        return "; ".join(parts) or "no error given"
    return str(message)


def _check_key(idempotency_key: str) -> None:
    # Notify keeps the reference and shows it on its dashboard: a short, random token only.
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", idempotency_key):
        raise TransportError("The idempotency key cannot be a GOV.UK Notify reference (1-128 letters, digits, "
                             "'.', '_' or '-'); nothing was sent.", transient=False)


def _accepted_at(notification: Mapping[str, Any], clock: Clock) -> datetime:
    created = notification.get("created_at")
    if isinstance(created, str):
        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            return clock()
        return when if when.tzinfo is not None else when.replace(tzinfo=clock().tzinfo)
    return clock()


def _notification_id(answer: Mapping[str, Any], what: str) -> str:
    identifier = answer.get("id")
    if not isinstance(identifier, str) or not UUID.fullmatch(identifier):
        raise TransportError(f"GOV.UK Notify accepted {what} but gave no notification id; check Notify before "
                             "retrying.", transient=False)
    return identifier


@dataclass(frozen=True)
class _Email:
    to: str
    subject: str
    body: str


def parse_email(message: bytes, recipients: list[str]) -> _Email:
    """The one recipient, subject and plain-text body of ``message``; anything Notify cannot send is refused."""
    parsed = message_from_bytes(message, policy=email_policy.default)
    assert isinstance(parsed, EmailMessage)
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename() or \
                part.get_content_type() not in ("text/plain", "text/html"):
            raise TransportError("GOV.UK Notify sends no attachments and no encrypted (S/MIME) messages, and this "
                                 f"message has a {part.get_content_type()} part; nothing was sent. Send it by "
                                 "another transport.", transient=False)
    addresses = list(parsed["To"].addresses) if parsed["To"] is not None else []
    if len(recipients) != 1 or len(addresses) != 1:
        raise TransportError("GOV.UK Notify sends an email to one recipient: the message needs one To address "
                             "and one envelope recipient; nothing was sent.", transient=False)
    to = addresses[0].addr_spec if isinstance(addresses[0], Address) else ""
    if to.casefold() != recipients[0].strip().casefold():
        raise TransportError("The message's To address is not its envelope recipient; nothing was sent.",
                             transient=False)
    body = parsed.get_body(preferencelist=("plain",))
    if body is None:
        raise TransportError("The message has no plain-text body for GOV.UK Notify; nothing was sent.",
                             transient=False)
    subject = str(parsed["Subject"] or "").strip()
    if not subject:
        raise TransportError("The message has no Subject for GOV.UK Notify; nothing was sent.", transient=False)
    return _Email(to=to, subject=subject, body=body.get_content())


class NotifyEmailTransport(Transport):
    """Sends a plain-text email through a Notify email template whose subject is ``((subject))`` and body ``((body))``."""

    name = "notify"

    def __init__(self, client: NotifyClient, *, template_id: str, clock: Clock = utc_now) -> None:
        if not UUID.fullmatch(template_id):
            raise ConfigurationError("The GOV.UK Notify email template id must be a UUID (from the template's page).")
        self.client = client
        self.template_id = template_id
        self._clock = clock

    def __repr__(self) -> str:
        return f"NotifyEmailTransport(base_url={self.client.base_url!r}, template_id={self.template_id!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        _check_key(idempotency_key)
        message_id = message_id_of(message)
        email = parse_email(message, recipients)
        secrets = (email.to, email.subject, email.body)
        earlier = self.client.earlier("email", idempotency_key)
        if earlier is None:
            earlier = self.client.call("the email", lambda api: api.send_email_notification(
                email_address=email.to, template_id=self.template_id,
                personalisation={"subject": email.subject, "body": email.body}, reference=idempotency_key),
                secrets=secrets)
        return Delivery(message_id=message_id, transport=self.name, accepted_at=_accepted_at(earlier, self._clock),
                        idempotency_key=idempotency_key, reference=_notification_id(earlier, "the email"))


class NotifySmsTransport(Transport):
    """Sends a text message through a Notify text template whose content is ``((body))``.

    The message is the UTF-8 text itself; ``recipients`` is the one phone number. A text has no
    Message-ID: the delivery's ``message_id`` is the idempotency key.
    """

    name = "notify"

    def __init__(self, client: NotifyClient, *, template_id: str, clock: Clock = utc_now) -> None:
        if not UUID.fullmatch(template_id):
            raise ConfigurationError("The GOV.UK Notify text message template id must be a UUID (from the template's "
                                     "page).")
        self.client = client
        self.template_id = template_id
        self._clock = clock

    def __repr__(self) -> str:
        return f"NotifySmsTransport(base_url={self.client.base_url!r}, template_id={self.template_id!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        _check_key(idempotency_key)
        text = sms_text(message)
        number = one_phone_number(recipients)
        earlier = self.client.earlier("sms", idempotency_key)
        if earlier is None:
            earlier = self.client.call("the text message", lambda api: api.send_sms_notification(
                phone_number=number, template_id=self.template_id, personalisation={"body": text},
                reference=idempotency_key), secrets=(number, number.replace(" ", ""), text))
        return Delivery(message_id=idempotency_key, transport=self.name,
                        accepted_at=_accepted_at(earlier, self._clock), idempotency_key=idempotency_key,
                        reference=_notification_id(earlier, "the text message"))


class NotifyLetterTransport(Transport):
    """Sends a precompiled letter: a PDF laid out to Notify's letter specification, the address in its window.

    ``recipients`` is empty (the address is printed in the letter). A letter has no Message-ID:
    the delivery's ``message_id`` is the idempotency key.
    """

    name = "notify"

    def __init__(self, client: NotifyClient, *, postage: Postage = "second", clock: Clock = utc_now) -> None:
        if postage not in POSTAGES:
            raise ConfigurationError(f"GOV.UK Notify postage must be one of {', '.join(POSTAGES)}, not {postage!r}.")
        self.client = client
        self.postage: Postage = postage
        self._clock = clock

    def __repr__(self) -> str:
        return f"NotifyLetterTransport(base_url={self.client.base_url!r}, postage={self.postage!r})"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        _check_key(idempotency_key)
        check_letter(message, recipients)
        earlier = self.client.earlier("letter", idempotency_key)
        if earlier is None:
            earlier = self.client.call("the letter", lambda api: api.send_precompiled_letter_notification(
                reference=idempotency_key, pdf_file=BytesIO(message), postage=self.postage))
        return Delivery(message_id=idempotency_key, transport=self.name,
                        accepted_at=_accepted_at(earlier, self._clock), idempotency_key=idempotency_key,
                        reference=_notification_id(earlier, "the letter"))
