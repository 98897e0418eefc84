"""The route policy: each recipient's documents go by the first route that serves them, never a weaker one."""

from __future__ import annotations

import pytest

from docgen.domain.routes import RecipientFacts, Route, RoutePolicy, choose_route, is_accredited

POLICY = RoutePolicy()


def professional(email: str | None = "a.person@nhs.net", *, certificate: bool = False, phone: str | None = None,
                 problem: str | None = None) -> RecipientFacts:
    return RecipientFacts(family_copy=False, email=email, phone=phone, valid_certificate=certificate,
                          certificate_problem=problem)


def family(email: str | None = None, phone: str | None = None, prefers: str | None = None) -> RecipientFacts:
    return RecipientFacts(family_copy=True, email=email, phone=phone, valid_certificate=False,
                          prefers=prefers)  # type: ignore[arg-type]


@pytest.mark.parametrize(("address", "accredited"), [
    ("a@nhs.net", True), ("a@NHS.NET", True), ("a@thames.police.uk", True), ("a@northmoor.gov.uk", True),
    ("a@cjsm.net", True), ("a@nhs.net.", True),
    ("a@evil-nhs.net", False), ("a@nhs.net.example.com", False), ("a@gov.uk.attacker.org", False),
    ("a@example.org", False), ("nhs.net", False), ("", False), (None, False), ("a@.nhs.net", False),
    ("a@x..nhs.net", False),
])
def test_only_whole_domains_at_the_end_count_as_accredited(address: str | None, accredited: bool) -> None:
    assert is_accredited(address, POLICY.accredited_domains) is accredited


def test_a_valid_certificate_means_smime_even_at_an_accredited_domain() -> None:
    assert choose_route(professional("x@nhs.net", certificate=True), POLICY).route is Route.SMIME


def test_without_a_certificate_an_accredited_domain_gets_secure_email() -> None:
    choice = choose_route(professional("x@thames.police.uk", problem="expired"), POLICY)
    assert choice.route is Route.SECURE_EMAIL and "police.uk" in choice.reason


def test_a_professional_elsewhere_without_a_certificate_gets_a_portal_link() -> None:
    choice = choose_route(professional("x@advocacy.example.org", phone="07700900123"), POLICY)
    assert (choice.route, choice.announce_by, choice.code_by) == (Route.PORTAL, "email", "sms")


def test_the_authority_edits_the_list() -> None:
    policy = RoutePolicy(accredited_domains=("nhs.example.uk",))
    assert choose_route(professional("x@trust.nhs.example.uk"), policy).route is Route.SECURE_EMAIL
    assert choose_route(professional("x@nhs.net"), policy).route is Route.PORTAL


@pytest.mark.parametrize("email", ["parent@nhs.net", "parent@example.org"])
def test_a_family_copy_never_goes_as_an_attachment(email: str) -> None:
    """A parent's work address at an accredited domain is still a parent's: the portal, not an attachment."""
    choice = choose_route(RecipientFacts(family_copy=True, email=email, phone=None, valid_certificate=True), POLICY)
    assert choice.route is Route.PORTAL


def test_the_code_goes_by_the_other_channel_when_both_are_known() -> None:
    assert (choose_route(family("p@example.org", "07700900733"), POLICY).code_by) == "sms"
    sms_first = choose_route(family("p@example.org", "07700900733", prefers="sms"), POLICY)
    assert (sms_first.announce_by, sms_first.code_by) == ("sms", "email")
    only_phone = choose_route(family(None, "07700900733"), POLICY)
    assert (only_phone.announce_by, only_phone.code_by) == ("sms", "sms")
    only_email = choose_route(family("p@example.org"), POLICY)
    assert (only_email.announce_by, only_email.code_by) == ("email", "email")


def test_a_family_member_with_neither_email_nor_phone_gets_it_by_hand() -> None:
    assert choose_route(family(), POLICY).route is Route.HAND


def test_a_child_gets_it_by_hand() -> None:
    facts = RecipientFacts(family_copy=True, email=None, phone=None, valid_certificate=False, child=True)
    assert choose_route(facts, POLICY).route is Route.HAND


def test_nothing_serves_means_no_route_with_the_reason_never_a_weaker_one() -> None:
    off = RoutePolicy(portal=False)
    choice = choose_route(professional("x@example.org", problem="it expired on 1 May 2026"), off)
    assert choice.route is None
    assert "it expired on 1 May 2026" in choice.reason and "not at an accredited domain" in choice.reason
    assert "portal is turned off" in choice.reason
    unavailable = RoutePolicy(portal_unavailable="the portal is not set up")
    parent = choose_route(family("p@example.org"), unavailable)
    assert parent.route is None and "the portal is not set up" in parent.reason
