"""Who a recipient is and which route their documents take now: the domain's route policy
(``docgen.domain.routes``) applied to the conference's newest version and the certificates on file.

The scheduler asks it for each copy it sends (``services/delivery.py``); the outbox page asks it for
each copy not yet sent, so business support sees the route before anything goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509

from distribution.errors import CertificateError
from docgen.adapters.database import unit_of_work
from docgen.domain.routes import RecipientFacts, RouteChoice, RoutePolicy, choose_route
from docgen.errors import DocgenError
from docgen.services.directory import certificate_for
from docgen.services.runtime import Runtime

PORTAL_SECRET_VARIABLE = "DOCGEN_PORTAL_SECRET"
PORTAL_NOT_SET_UP = ("the portal is not set up for sending (public_url in web.toml, and DOCGEN_PORTAL_SECRET in the "
                     "environment)")


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    organisation: str
    address: str | None  # email
    phone: str | None = None
    postal: tuple[str, ...] = ()  # the postal address's lines, postcode last
    family: bool = False  # a family member or child: never sent an attachment that leaves the portal or their hands
    child: bool = False


def recipient_of(case: dict[str, Any], key: str) -> Recipient:
    """The person ``key`` of the conference, as a recipient of its documents."""
    agencies = {a["id"]: a["name"] for a in case["agencies"]}
    for person in case["professionals"]:
        if person["id"] == key:
            return Recipient(key, person["name"], agencies[person["agency"]], person["email"], _phone(person))
    for person in case["family"]:
        if person["id"] == key:
            return Recipient(key, person["name"], "Family", person.get("email"), _phone(person), _postal(person),
                             family=True)
    for child in case["children"]:
        if child["id"] == key:
            return Recipient(key, child["name"], "Family", None, family=True, child=True)
    raise DocgenError(f"conference {case['reference']} has no one called {key!r} any more; schedule it again "
                      "(`docgen schedule`) so the outbox follows the case")


def _phone(person: dict[str, Any]) -> str | None:
    number = "".join(str(person.get("phone") or "").split())
    return number or None


def _postal(person: dict[str, Any]) -> tuple[str, ...]:
    address = person.get("address") or {}
    return (*[str(line) for line in address.get("lines", [])], *([address["postcode"]] if address.get("postcode") else []))


def route_for(runtime: Runtime, recipient: Recipient, *, family_copy: bool, policy: RoutePolicy, sms: bool,
              portal_unavailable: str | None, ca_certificates: list[x509.Certificate] | None,
              ) -> tuple[RouteChoice, x509.Certificate | None]:
    """The route ``policy`` gives ``recipient`` now, with their certificate when it is S/MIME.

    ``sms``: a text-message carrier is configured, so a mobile number counts. ``portal_unavailable``:
    why the portal cannot take documents, when it cannot.
    """
    certificate, problem = None, None
    family = family_copy or recipient.family
    if not family and recipient.address:
        try:
            with unit_of_work(runtime.sessions) as session:
                certificate = certificate_for(session, recipient.key, at=runtime.clock(), ca_certificates=ca_certificates)
        except CertificateError as exc:
            problem = str(exc)
    if portal_unavailable and policy.portal:
        policy = replace(policy, portal_unavailable=portal_unavailable)
    facts = RecipientFacts(family_copy=family, email=recipient.address, phone=recipient.phone if sms else None,
                           valid_certificate=certificate is not None, certificate_problem=problem,
                           child=recipient.child)
    return choose_route(facts, policy), certificate


def portal_unavailable() -> str | None:
    """Why the portal cannot take documents in this process, or ``None`` when it can."""
    return None if os.environ.get(PORTAL_SECRET_VARIABLE) else PORTAL_NOT_SET_UP
