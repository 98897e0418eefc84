"""How each recipient's documents travel: the authority's route policy as one pure function.

UK public bodies rarely hold S/MIME certificates. What they use is TLS between mail servers to
accredited domains (gov.uk, NHSmail and DCB1596-accredited health and care domains, police.uk,
cjsm.net), and for everyone else a portal with a one-time code. So each copy goes by the first
route that serves its recipient:

- **S/MIME**: a professional with a valid certificate on file gets the document signed and
  encrypted to that certificate;
- **secure email**: a professional whose address is at an accredited domain (or a subdomain of
  one) gets the document attached to a normal email, through the authority's relay with TLS
  required, marked in the subject and a header;
- **portal**: anyone else with an email address or a mobile number, family members included,
  gets one link per conference to the recipient portal, and a one-time code by a second channel;
- **by hand**: a child, or a family member with neither email nor phone, gets the passphrase-
  protected PDF through their social worker, and the passphrase by post.

A family copy never goes as an attachment (S/MIME or secure email): a parent's work address at
an accredited domain is still a parent's. A recipient no route serves is held with the reason;
nothing is ever sent in a weaker form.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Channel = Literal["email", "sms"]

#: The accredited domains a new authority starts with; the authority edits the list in config/delivery.toml.
DEFAULT_ACCREDITED_DOMAINS: tuple[str, ...] = ("gov.uk", "nhs.net", "police.uk", "cjsm.net")


class Route(StrEnum):
    SMIME = "smime"
    SECURE_EMAIL = "secure_email"
    PORTAL = "portal"
    HAND = "hand"

    @property
    def words(self) -> str:
        """The route as business support reads it in the outbox."""
        return _WORDS[self]


_WORDS = {
    Route.SMIME: "encrypted email (S/MIME)",
    Route.SECURE_EMAIL: "secure email (accredited domain)",
    Route.PORTAL: "portal link",
    Route.HAND: "by hand, passphrase by post",
}


@dataclass(frozen=True)
class RoutePolicy:
    """The authority's choices (``[routes]`` in config/delivery.toml)."""

    accredited_domains: tuple[str, ...] = DEFAULT_ACCREDITED_DOMAINS
    portal: bool = True
    """False: no portal links; recipients it would serve are held."""
    portal_unavailable: str | None = None
    """Why the portal cannot take documents now (it is not set up), when that is so."""


@dataclass(frozen=True)
class RecipientFacts:
    """What the route depends on, read at the moment of sending."""

    family_copy: bool
    email: str | None
    phone: str | None
    valid_certificate: bool
    """A certificate on file that passes its checks now (dates, address, use, chain)."""
    certificate_problem: str | None = None
    """Why a certificate on file does not pass, to say when nothing else serves."""
    prefers: Channel | None = None
    """The channel a family member asked to be contacted by, if any."""
    child: bool = False


@dataclass(frozen=True)
class RouteChoice:
    """The route for one copy to one recipient, or ``None`` with the reason nothing serves them."""

    route: Route | None
    reason: str
    announce_by: Channel | None = None
    """Portal: the channel the link goes by."""
    code_by: Channel | None = None
    """Portal: the channel the one-time code goes by (the other one where both are known)."""


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().rstrip(".").lower()


def is_accredited(address: str | None, domains: tuple[str, ...]) -> bool:
    """``address`` is at one of ``domains`` or a subdomain of one (``x@nhs.net``, ``x@thames.police.uk``).

    Only whole labels match: ``evil-nhs.net`` and ``nhs.net.example.com`` are not ``nhs.net``.
    """
    if not address or "@" not in address:
        return False
    domain = domain_of(address)
    if not domain or any(not label for label in domain.split(".")):
        return False
    return any(domain == d or domain.endswith("." + d) for d in (d.strip(".").lower() for d in domains) if d)


def choose_route(facts: RecipientFacts, policy: RoutePolicy) -> RouteChoice:
    """The first route in the policy's order that serves this recipient (see the module docstring)."""
    if facts.child:
        return RouteChoice(Route.HAND, "a child's copy is handed over by their social worker")
    if not facts.family_copy:
        if facts.valid_certificate:
            return RouteChoice(Route.SMIME, "their certificate is on file and valid")
        if is_accredited(facts.email, policy.accredited_domains):
            return RouteChoice(Route.SECURE_EMAIL, f"their address is at an accredited domain ({domain_of(facts.email or '')})")
    portal = _portal(facts, policy)
    if portal is not None:
        return portal
    if facts.family_copy and not facts.email and not facts.phone:
        return RouteChoice(Route.HAND, "no email address or phone number is known")
    return RouteChoice(None, _nothing_serves(facts, policy))


def _portal(facts: RecipientFacts, policy: RoutePolicy) -> RouteChoice | None:
    if not policy.portal or policy.portal_unavailable or not (facts.email or facts.phone):
        return None
    both = bool(facts.email and facts.phone)
    announce: Channel = "email" if facts.email else "sms"
    if both and facts.prefers == "sms":
        announce = "sms"
    code: Channel = ("sms" if announce == "email" else "email") if both else announce
    return RouteChoice(Route.PORTAL, f"a portal link by {_channel_words(announce)}, the code by {_channel_words(code)}",
                       announce_by=announce, code_by=code)


def _nothing_serves(facts: RecipientFacts, policy: RoutePolicy) -> str:
    why = []
    if not facts.family_copy:
        why.append(f"no valid certificate ({facts.certificate_problem})" if facts.certificate_problem
                   else "no certificate on file")
        why.append("the address is not at an accredited domain" if facts.email else "no email address")
    if not policy.portal:
        why.append("the portal is turned off in config/delivery.toml")
    elif policy.portal_unavailable:
        why.append(policy.portal_unavailable)
    elif not (facts.email or facts.phone):
        why.append("no email address or phone number for a portal link")
    return ("no delivery route serves this recipient: " + "; ".join(why)
            + ". Add a certificate, an address or a phone number, or send the copy another way and cancel this item")


def _channel_words(channel: Channel) -> str:
    return "text message" if channel == "sms" else "email"
