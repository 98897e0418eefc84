"""Who is in the session's demo PKI (the ``pki`` fixture in tests/conftest.py): the authority's
signing identity, its passphrase, and the recipients the tests encrypt to."""

from __future__ import annotations

SIGNING_PASSPHRASE = "Correct-Horse-Battery-Staple-7731"
# The address config/authority.toml gives the authority, so that this signing identity may send what
# the product, with its shipped settings, addresses from the authority.
AUTHORITY_EMAIL = "cp.conferences@northmoor.gov.uk"

JANE_OFFICER = "jane.officer@police.example.gov.uk"
POLICE = "duty.officer@police.example.gov.uk"
SCHOOL = "dsl@school.example.sch.uk"
HEALTH = "safeguarding.nurse@health.example.nhs.uk"

RECIPIENTS: tuple[tuple[str, str], ...] = (
    ("Jane Officer", JANE_OFFICER),
    ("Duty Officer", POLICE),
    ("Designated Safeguarding Lead", SCHOOL),
    ("Safeguarding Nurse", HEALTH),
)
"""``(name, email)`` of every recipient certificate the PKI holds."""
