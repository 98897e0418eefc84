"""The secure-email carrier: through the loopback relay that requires STARTTLS, and only ever to
accredited domains, whatever asked for it."""

from __future__ import annotations

from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from distribution.errors import TransportError
from distribution.transports.accredited import AccreditedDomainsOnly
from docgen.bootstrap import build_transport
from docgen.configuration.transports import load_transport
from docgen.domain.routes import DEFAULT_ACCREDITED_DOMAINS


def _message(to: str, message_id: str) -> bytes:
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = "cp.conferences@northmoor.gov.uk"
    message["To"] = to
    message["Subject"] = "OFFICIAL-SENSITIVE: Child protection conference: record"
    message["Message-ID"] = message_id
    message.set_content("The record is attached.\n")
    message.add_attachment(b"%PDF-1.7 test", maintype="application", subtype="pdf", filename="record.pdf")
    return message.as_bytes()


@pytest.fixture
def carrier(smtp_server: Any) -> tuple[Any, AccreditedDomainsOnly]:
    store, config = smtp_server
    return store, AccreditedDomainsOnly(build_transport(load_transport(Path(config))), DEFAULT_ACCREDITED_DOMAINS)


@pytest.mark.parametrize("address", ["claire.dunn@nhs.net", "rachel.moore@thames.police.uk", "a.b@northmoor.gov.uk",
                                     "c.d@cjsm.net"])
def test_an_accredited_address_is_sent_over_starttls(carrier: Any, address: str) -> None:
    store, transport = carrier
    delivery = transport.send(_message(address, "<a1@docgen.invalid>"), envelope_from="cp.conferences@northmoor.gov.uk",
                              recipients=[address], idempotency_key="a1")
    assert delivery.transport == "smtp"
    assert store.envelopes["<a1@docgen.invalid>"] == [address]


@pytest.mark.parametrize("address", ["someone@example.org", "x@evil-nhs.net", "x@nhs.net.example.com",
                                     "x@gov.uk.example.org"])
def test_an_address_outside_the_list_is_never_sent_this_way(carrier: Any, address: str) -> None:
    store, transport = carrier
    with pytest.raises(TransportError, match="not at an accredited domain") as refused:
        transport.send(_message(address, "<b1@docgen.invalid>"), envelope_from="cp.conferences@northmoor.gov.uk",
                       recipients=[address], idempotency_key="b1")
    assert refused.value.transient is False
    assert store.transactions == []


def test_one_outside_address_stops_the_whole_message(carrier: Any) -> None:
    store, transport = carrier
    with pytest.raises(TransportError):
        transport.send(_message("a@nhs.net", "<c1@docgen.invalid>"), envelope_from="cp.conferences@northmoor.gov.uk",
                       recipients=["a@nhs.net", "b@example.org"], idempotency_key="c1")
    assert store.transactions == []
