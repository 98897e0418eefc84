"""The GOV.UK Notify transports against a stand-in for Notify on loopback (tests/support/fake_notify.py):
an email, a text and a letter sent and read back; a repeated send is one notification; failures
classified for the dispatcher; and no error message or log line carries the phone number or the text."""

from __future__ import annotations

import io
import logging
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from distribution.abc import Transport
from distribution.errors import TransportError
from distribution.transports.notify import (
    NotifyClient,
    NotifyEmailTransport,
    NotifyLetterTransport,
    NotifySmsTransport,
    scrub,
)
from docgen.bootstrap import build_transport, build_transports
from docgen.configuration.transports import NotifySettings, TransportSettings, parse_transport
from docgen.errors import ConfigurationError
from tests.support.fake_notify import FakeNotify

KEY_ENV = "DOCGEN_TEST_NOTIFY_API_KEY"
NUMBER = "07700 900461"
TEXT = "Northmoor Borough Council: your passphrase is k7fq-2mzd-p9wx-c4hn-t6rb . Keep it private."
ADDRESS = "zofia.w@example.org"
ACCEPTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def clock() -> datetime:
    return ACCEPTED_AT


def client_for(fake: FakeNotify, key: str | None = None, *, base_url: str | None = None) -> NotifyClient:
    return NotifyClient(api_key_env=KEY_ENV, base_url=base_url or fake.base_url, timeout=5,
                        environ={KEY_ENV: key or fake.api_key})


def email_message(*, attachment: bytes | None = None, to: str = ADDRESS) -> bytes:
    message = EmailMessage()
    message["From"] = "cp.conferences@northmoor.gov.uk"
    message["To"] = to
    message["Subject"] = "OFFICIAL-SENSITIVE: Child protection conference: your portal link"
    message["Message-ID"] = "<3f9a7c1e2b4d4e6f8a0b1c2d3e4f5a6b@northmoor.gov.uk>"
    message.set_content("Your documents are ready.\n\nSign in with the code we have texted you.\n")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="record.pdf")
    return message.as_bytes()


def letter_pdf() -> bytes:
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595, 842))
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def transports(fake: FakeNotify, key: str | None = None) -> dict[str, Transport]:
    client = client_for(fake, key)
    return {"email": NotifyEmailTransport(client, template_id=fake.email_template.id, clock=clock),
            "sms": NotifySmsTransport(client, template_id=fake.sms_template.id, clock=clock),
            "letter": NotifyLetterTransport(client, postage="first", clock=clock)}


def send(transport: Transport, channel: str, key: str = "3f9a7c1e2b4d4e6f8a0b1c2d3e4f5a6b") -> Any:
    message, recipients = {"email": (email_message(), [ADDRESS]), "sms": (TEXT.encode(), [NUMBER]),
                           "letter": (letter_pdf(), [])}[channel]
    return transport.send(message, envelope_from="cp.conferences@northmoor.gov.uk", recipients=recipients,
                          idempotency_key=key)


# -- sent and read back ---------------------------------------------------------------------------

def test_a_text_message_reaches_the_phone(fake_notify: FakeNotify) -> None:
    delivery = send(transports(fake_notify)["sms"], "sms")
    assert fake_notify.texts_to("+44 7700 900461") == [TEXT]  # the phone's inbox
    [sent] = fake_notify.sent("sms")
    assert (delivery.reference, delivery.transport, delivery.idempotency_key) == (sent.id, "notify", sent.reference)
    assert sent.reference == "3f9a7c1e2b4d4e6f8a0b1c2d3e4f5a6b" and sent.template_id == fake_notify.sms_template.id
    # Notify's own record of it, as its API gives it back.
    looked_up = client_for(fake_notify).call("a look-up", lambda api: api.get_notification_by_id(delivery.reference))
    assert (looked_up["type"], looked_up["phone_number"], looked_up["body"]) == ("sms", NUMBER, TEXT)


def test_an_email_goes_with_its_subject_and_plain_text_body(fake_notify: FakeNotify) -> None:
    delivery = send(transports(fake_notify)["email"], "email")
    [sent] = fake_notify.emails()
    assert sent.recipient == ADDRESS and sent.id == delivery.reference
    assert sent.subject == "OFFICIAL-SENSITIVE: Child protection conference: your portal link"
    assert sent.body == "Your documents are ready.\n\nSign in with the code we have texted you.\n"
    assert delivery.message_id == "<3f9a7c1e2b4d4e6f8a0b1c2d3e4f5a6b@northmoor.gov.uk>"


def test_a_precompiled_letter_goes_with_its_postage(fake_notify: FakeNotify) -> None:
    pdf = letter_pdf()
    delivery = transports(fake_notify)["letter"].send(pdf, envelope_from="x@northmoor.gov.uk", recipients=[],
                                                      idempotency_key="key-1")
    assert fake_notify.letters() == [pdf]
    [sent] = fake_notify.sent("letter")
    assert (sent.postage, sent.reference, delivery.reference) == ("first", "key-1", sent.id)


@pytest.mark.parametrize("channel", ["email", "sms", "letter"])
def test_sending_the_same_item_again_sends_nothing_more(fake_notify: FakeNotify, channel: str) -> None:
    transport = transports(fake_notify)[channel]
    first = send(transport, channel)
    again = send(transport, channel)
    assert again.reference == first.reference and len(fake_notify.sent(channel)) == 1


def test_a_text_whose_answer_was_lost_is_not_sent_twice(fake_notify: FakeNotify) -> None:
    transport = transports(fake_notify)["sms"]
    fake_notify.lose_next_answer()
    with pytest.raises(TransportError) as caught:
        send(transport, "sms")
    assert caught.value.transient  # the dispatcher tries again ...
    delivery = send(transport, "sms")
    assert fake_notify.texts_to(NUMBER) == [TEXT]  # ... and the phone has one text
    assert delivery.reference == fake_notify.sent("sms")[0].id


# -- refused before anything is sent --------------------------------------------------------------

def test_an_email_with_an_attachment_is_refused(fake_notify: FakeNotify) -> None:
    with pytest.raises(TransportError, match="sends no attachments") as caught:
        transports(fake_notify)["email"].send(email_message(attachment=letter_pdf()), envelope_from="x@y.gov.uk",
                                              recipients=[ADDRESS], idempotency_key="key-2")
    assert not caught.value.transient and fake_notify.requests == []


def test_an_smime_message_is_refused(fake_notify: FakeNotify) -> None:
    message = (b"To: zofia.w@example.org\r\nSubject: Documents\r\nMessage-ID: <a@b>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n")
    with pytest.raises(TransportError, match="application/pkcs7-mime") as caught:
        transports(fake_notify)["email"].send(message, envelope_from="x@y.gov.uk", recipients=[ADDRESS],
                                              idempotency_key="key-3")
    assert not caught.value.transient and fake_notify.requests == []


def test_an_email_whose_to_is_not_its_recipient_is_refused(fake_notify: FakeNotify) -> None:
    with pytest.raises(TransportError, match="not its envelope recipient") as caught:
        transports(fake_notify)["email"].send(email_message(to="someone.else@example.org"),
                                              envelope_from="x@y.gov.uk", recipients=[ADDRESS], idempotency_key="k")
    assert ADDRESS not in str(caught.value) and fake_notify.requests == []


@pytest.mark.parametrize(("message", "recipients", "problem"), [
    pytest.param(b"\xff\xfe\x00binary", [NUMBER], "not UTF-8 text", id="not-text"),
    pytest.param(TEXT.encode(), [NUMBER, "07700 900733"], "one phone number, not 2", id="two-numbers"),
    pytest.param(TEXT.encode(), ["zofia.w@example.org"], "not a phone number", id="an-email-address"),
    pytest.param(b"  ", [NUMBER], "empty", id="empty"),
])
def test_a_text_that_cannot_be_a_text_is_refused(fake_notify: FakeNotify, message: bytes, recipients: list[str],
                                                 problem: str) -> None:
    with pytest.raises(TransportError) as caught:
        transports(fake_notify)["sms"].send(message, envelope_from="x@y.gov.uk", recipients=recipients,
                                            idempotency_key="k")
    assert not caught.value.transient and fake_notify.requests == []
    assert problem in str(caught.value)


def test_a_letter_that_is_not_a_pdf_or_has_recipients_is_refused(fake_notify: FakeNotify) -> None:
    letter = transports(fake_notify)["letter"]
    with pytest.raises(TransportError, match="not a PDF"):
        letter.send(b"Dear Zofia", envelope_from="x@y.gov.uk", recipients=[], idempotency_key="k")
    with pytest.raises(TransportError, match="takes no recipients"):
        letter.send(letter_pdf(), envelope_from="x@y.gov.uk", recipients=["Flat 3"], idempotency_key="k")
    assert fake_notify.requests == []


# -- failures classified for the dispatcher --------------------------------------------------------

@pytest.mark.parametrize("status", [500, 429])
@pytest.mark.parametrize("channel", ["email", "sms", "letter"])
def test_a_busy_or_failing_notify_is_transient(fake_notify: FakeNotify, channel: str, status: int) -> None:
    transport = transports(fake_notify)[channel]
    fake_notify.fail_next(1, status)
    with pytest.raises(TransportError, match=f"busy or unavailable \\({status} ") as caught:
        send(transport, channel)
    assert caught.value.transient and fake_notify.sent() == []
    send(transport, channel)  # the dispatcher's next try
    assert len(fake_notify.sent(channel)) == 1


def test_the_wrong_api_key_is_not_transient_and_says_what_to_check(fake_notify: FakeNotify) -> None:
    wrong = fake_notify.other_key()
    with pytest.raises(TransportError) as caught:
        send(transports(fake_notify, wrong)["sms"], "sms")
    message = str(caught.value)
    assert not caught.value.transient
    assert "403 AuthError: Invalid token: API key not found" in message and KEY_ENV in message
    assert wrong.rsplit("-", 5)[-1] not in message and NUMBER not in message and fake_notify.sent() == []


def test_a_clock_more_than_30_seconds_out_is_refused(fake_notify: FakeNotify, monkeypatch: pytest.MonkeyPatch) -> None:
    import notifications_python_client.authentication as authentication

    real = authentication.epoch_seconds
    monkeypatch.setattr(authentication, "epoch_seconds", lambda: real() - 90)
    with pytest.raises(TransportError, match="Your system clock must be accurate to within 30 seconds") as caught:
        send(transports(fake_notify)["letter"], "letter")
    assert not caught.value.transient and "system clock" in str(caught.value)


@pytest.mark.parametrize(("number", "notify_says"), [
    pytest.param("07700 90046", "phone_number Not enough digits", id="too-short"),
    pytest.param("01632 960000", "phone_number Not a UK mobile number", id="a-landline"),
])
def test_notify_refusing_a_number_is_not_transient_and_does_not_repeat_it(
        fake_notify: FakeNotify, caplog: pytest.LogCaptureFixture, number: str, notify_says: str) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(TransportError) as caught:
        transports(fake_notify)["sms"].send(TEXT.encode(), envelope_from="x@y.gov.uk", recipients=[number],
                                            idempotency_key="key-4")
    message = str(caught.value)
    assert not caught.value.transient and f"400 ValidationError: {notify_says}" in message
    for secret in (number, number.replace(" ", ""), TEXT, "k7fq"):
        assert secret not in message and secret not in caplog.text
    assert notify_says not in caplog.text  # the client's own log line keeps only the status


def test_a_missing_template_is_not_transient(fake_notify: FakeNotify) -> None:
    transport = NotifyEmailTransport(client_for(fake_notify), template_id="f33517ff-2a88-4f6e-b855-c550268ce08a")
    with pytest.raises(TransportError, match=r"400 BadRequestError: Template not found") as caught:
        send(transport, "email")
    assert not caught.value.transient and ADDRESS not in str(caught.value)


def test_no_connection_is_transient(fake_notify: FakeNotify) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = client_for(fake_notify, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError, match=f"Cannot connect to GOV.UK Notify at http://127.0.0.1:{port}") as caught:
        NotifySmsTransport(client, template_id=fake_notify.sms_template.id).send(
            TEXT.encode(), envelope_from="x@y.gov.uk", recipients=[NUMBER], idempotency_key="k")
    assert caught.value.transient and NUMBER not in str(caught.value)


def test_no_answer_in_time_is_transient(fake_notify: FakeNotify) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        base_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = NotifyClient(api_key_env=KEY_ENV, base_url=base_url, timeout=0.3,
                              environ={KEY_ENV: fake_notify.api_key})
        with pytest.raises(TransportError, match=r"did not answer .* within 0.3 seconds") as caught:
            NotifyLetterTransport(client).send(letter_pdf(), envelope_from="x@y.gov.uk", recipients=[],
                                               idempotency_key="k")
    assert caught.value.transient


@pytest.mark.parametrize(("said", "secrets", "kept"), [
    pytest.param("phone_number 07700900461 is not of type string", (), "phone_number [removed] is not",
                 id="a-number-notify-quotes"),
    pytest.param("email_address zofia.w@example.org is wrong", (), "email_address [removed] is wrong", id="an-address"),
    pytest.param("Missing personalisation: body for Zofia", ("Zofia",), "body for [removed]", id="given-secrets"),
    pytest.param("Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds", (),
                 "of 3000 requests per 60 seconds", id="numbers-that-are-not-phone-numbers-stay"),
])
def test_what_notify_says_is_scrubbed_of_numbers_addresses_and_content(said: str, secrets: tuple[str, ...],
                                                                       kept: str) -> None:
    assert kept in scrub(said, secrets)


# -- the API key and the wiring --------------------------------------------------------------------

@pytest.mark.parametrize(("environ", "problem"), [
    pytest.param({}, f"is not set: put it in the environment variable {KEY_ENV}", id="unset"),
    pytest.param({KEY_ENV: "not-a-key-at-all-secret-value"}, f"{KEY_ENV} does not hold a GOV.UK Notify API key",
                 id="malformed"),
])
def test_the_api_key_comes_from_the_environment(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        NotifyClient(api_key_env=KEY_ENV, environ=environ)
    assert "secret-value" not in str(caught.value)


def _settings(fake: FakeNotify, **changes: Any) -> TransportSettings:
    notify = NotifySettings(api_key_env=KEY_ENV, base_url=fake.base_url, email_template_id=fake.email_template.id,
                            sms_template_id=fake.sms_template.id, letter_postage="economy")
    values = {**notify.__dict__, **changes}
    return TransportSettings(backend="notify", notify=NotifySettings(**values))


def test_bootstrap_builds_the_three_transports_on_one_client(fake_notify: FakeNotify,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, fake_notify.api_key)
    built = build_transports(_settings(fake_notify))
    assert isinstance(built["email"], NotifyEmailTransport) and isinstance(built["sms"], NotifySmsTransport)
    assert isinstance(built["letter"], NotifyLetterTransport) and built["letter"].postage == "economy"
    assert built["email"].client is built["sms"].client is built["letter"].client
    for channel, transport in built.items():
        send(transport, channel)
    assert [n.type for n in fake_notify.sent()] == ["email", "sms", "letter"]
    assert isinstance(build_transport(_settings(fake_notify), channel="sms"), NotifySmsTransport)


def test_a_channel_without_its_template_is_named(fake_notify: FakeNotify, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, fake_notify.api_key)
    settings = _settings(fake_notify, sms_template_id=None)
    with pytest.raises(ConfigurationError, match=r"transport\.notify\.sms_template_id is needed"):
        build_transport(settings, channel="sms")
    assert set(build_transports(settings)) == {"email", "letter"}


def test_a_scheduler_without_the_key_does_not_start(fake_notify: FakeNotify, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigurationError, match=KEY_ENV):
        build_transport(_settings(fake_notify))


def test_the_example_configuration_builds(fake_notify: FakeNotify, monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "config" / "notify.toml").read_text(encoding="utf-8"))
    settings = parse_transport(data, source="config/notify.toml")
    assert settings.notify is not None
    monkeypatch.setenv(settings.notify.api_key_env, fake_notify.api_key)
    assert set(build_transports(settings)) == {"email", "sms", "letter"}
