"""Recipient certificate checks: each way a certificate can be unusable is refused, and says why."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from distribution import demo_pki
from distribution.certificates import (
    CertificateSummary,
    certificate_emails,
    check_recipient_certificate,
    load_certificate,
    load_certificates,
)
from distribution.errors import CertificateError
from tests.support.pki import JANE_OFFICER

# The session's demo PKI (the ``pki`` fixture) is made at ``pki_at``, and its certificates are checked
# then. Certificates these tests make for themselves are made and checked at this fixed moment
# instead, so that the dates their refusals name are known in advance.
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EMAIL = JANE_OFFICER


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory, pki_at: datetime) -> demo_pki.DemoCertificateAuthority:
    return demo_pki.create_certificate_authority(
        tmp_path_factory.mktemp("unrelated-ca"), at=pki_at, name="Unrelated CA"
    )


def _custom_certificate(
    ca: demo_pki.DemoCertificateAuthority,
    *,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    key_usage: x509.KeyUsage | None,
    eku: list[x509.ObjectIdentifier] | None,
    san_email: str | None,
    subject_email: str | None = None,
) -> x509.Certificate:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, "Custom")]
    if subject_email is not None:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, subject_email))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(AT - timedelta(days=1))
        .not_valid_after(AT + timedelta(days=30))
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san_email is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(san_email)]), critical=False
        )
    return builder.sign(ca.private_key, hashes.SHA256())


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- accepted -------------------------------------------------------------------------------


def test_good_certificate_is_accepted_and_summarised(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    cert = pki.recipients[EMAIL].certificate
    summary = check_recipient_certificate(cert, email=EMAIL, at=pki_at)
    assert summary.emails == (EMAIL,)
    assert summary.subject == "CN=Jane Officer,C=GB"
    assert summary.issuer == "CN=Docgen Demo CA,O=Docgen Demo Authority,C=GB"
    assert summary.serial == format(cert.serial_number, "X")
    assert summary.not_before == pki_at - timedelta(hours=1)
    assert summary.not_after == pki_at + timedelta(days=365)
    assert summary.sha256_fingerprint.replace(":", "") == cert.fingerprint(hashes.SHA256()).hex().upper()
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", summary.sha256_fingerprint)


def test_email_comparison_ignores_case(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    cert = pki.recipients[EMAIL].certificate
    summary = check_recipient_certificate(cert, email=EMAIL.upper(), at=pki_at)
    assert summary.emails == (EMAIL,)


def test_subject_email_address_is_accepted_without_san(pki: demo_pki.DemoPki) -> None:
    cert = _custom_certificate(
        pki.ca,
        key=_rsa(),
        key_usage=demo_pki.RECIPIENT_USAGE.extension(),
        eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
        san_email=None,
        subject_email=EMAIL,
    )
    assert certificate_emails(cert) == [EMAIL]
    assert check_recipient_certificate(cert, email=EMAIL, at=AT).emails == (EMAIL,)


def test_certificate_without_extended_key_usage_is_accepted(pki: demo_pki.DemoPki) -> None:
    cert = _custom_certificate(
        pki.ca, key=_rsa(), key_usage=demo_pki.RECIPIENT_USAGE.extension(), eku=None, san_email=EMAIL
    )
    assert check_recipient_certificate(cert, email=EMAIL, at=AT).emails == (EMAIL,)


def test_validity_boundaries_are_inclusive(pki: demo_pki.DemoPki) -> None:
    cert = pki.recipients[EMAIL].certificate
    check_recipient_certificate(cert, email=EMAIL, at=cert.not_valid_before_utc)
    check_recipient_certificate(cert, email=EMAIL, at=cert.not_valid_after_utc)
    with pytest.raises(CertificateError, match="expired"):
        check_recipient_certificate(cert, email=EMAIL, at=cert.not_valid_after_utc + timedelta(seconds=1))


# --- refused, one case per reason -----------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    make: Callable[[demo_pki.DemoPki, Path], x509.Certificate]
    expected: list[str]


REFUSALS = {
    "expired": Refusal(
        lambda pki, folder: demo_pki.make_expired_certificate(
            pki.ca, folder, name="Jane Officer", email=EMAIL, at=AT
        ).certificate,
        [f"The certificate for {EMAIL}", "expired on 2026-03-01", "Ask the agency for a current"],
    ),
    "not yet valid": Refusal(
        lambda pki, folder: demo_pki.make_not_yet_valid_certificate(
            pki.ca, folder, name="Jane Officer", email=EMAIL, at=AT
        ).certificate,
        [f"The certificate for {EMAIL}", "is not yet valid", "valid from 2026-03-12 09:30 UTC"],
    ),
    "no key encipherment": Refusal(
        lambda pki, folder: demo_pki.make_wrong_key_usage_certificate(
            pki.ca, folder, name="Jane Officer", email=EMAIL, at=AT
        ).certificate,
        [f"The certificate for {EMAIL}", "does not allow key encipherment"],
    ),
    "wrong email": Refusal(
        lambda pki, folder: demo_pki.make_wrong_email_certificate(
            pki.ca, folder, name="Jane Officer", email=EMAIL, wrong_email="someone.else@police.example.gov.uk", at=AT
        ).certificate,
        [
            f"does not match the recipient's address {EMAIL}",
            "it names someone.else@police.example.gov.uk",
        ],
    ),
    "no key usage extension": Refusal(
        lambda pki, folder: _custom_certificate(
            pki.ca, key=_rsa(), key_usage=None, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION], san_email=EMAIL
        ),
        ["has no key usage extension"],
    ),
    "server-only extended key usage": Refusal(
        lambda pki, folder: _custom_certificate(
            pki.ca,
            key=_rsa(),
            key_usage=demo_pki.RECIPIENT_USAGE.extension(),
            eku=[ExtendedKeyUsageOID.SERVER_AUTH],
            san_email=EMAIL,
        ),
        ["is not issued for email protection"],
    ),
    "EC key": Refusal(
        lambda pki, folder: _custom_certificate(
            pki.ca,
            key=ec.generate_private_key(ec.SECP256R1()),
            key_usage=x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
            san_email=EMAIL,
        ),
        ["does not have an RSA key", "EC key agreement is not"],
    ),
    "short RSA key": Refusal(
        lambda pki, folder: _custom_certificate(
            pki.ca,
            key=rsa.generate_private_key(public_exponent=65537, key_size=1024),
            key_usage=demo_pki.RECIPIENT_USAGE.extension(),
            eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
            san_email=EMAIL,
        ),
        ["has a 1024-bit RSA key", "at least 2048 bits"],
    ),
    "no email at all": Refusal(
        lambda pki, folder: _custom_certificate(
            pki.ca, key=_rsa(), key_usage=demo_pki.RECIPIENT_USAGE.extension(), eku=None, san_email=None
        ),
        [f"does not match the recipient's address {EMAIL}", "it names no email address"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS.values()), ids=list(REFUSALS))
def test_unusable_certificate_is_refused_with_reason(
    case: Refusal, pki: demo_pki.DemoPki, tmp_path: Path
) -> None:
    cert = case.make(pki, tmp_path)
    with pytest.raises(CertificateError) as caught:
        check_recipient_certificate(cert, email=EMAIL, at=AT)
    message = str(caught.value)
    for fragment in case.expected:
        assert fragment in message
    assert message.startswith(f"The certificate for {EMAIL}, {CertificateSummary.of(cert).describe()},")


def test_naive_clock_is_a_programming_error(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_recipient_certificate(pki.recipients[EMAIL].certificate, email=EMAIL, at=pki_at.replace(tzinfo=None))


# --- chains ---------------------------------------------------------------------------------


def test_chain_to_the_demo_ca_is_accepted(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    summary = check_recipient_certificate(
        pki.recipients[EMAIL].certificate, email=EMAIL, at=pki_at, ca_certificates=[pki.ca.certificate]
    )
    assert summary.issuer == pki.ca.certificate.subject.rfc4514_string()


def test_chain_to_an_unrelated_ca_is_refused(
    pki: demo_pki.DemoPki, pki_at: datetime, other_ca: demo_pki.DemoCertificateAuthority
) -> None:
    with pytest.raises(CertificateError) as caught:
        check_recipient_certificate(
            pki.recipients[EMAIL].certificate, email=EMAIL, at=pki_at, ca_certificates=[other_ca.certificate]
        )
    assert "does not chain to a trusted CA" in str(caught.value)
    assert EMAIL in str(caught.value)


def test_chain_check_with_empty_ca_list_is_refused(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    with pytest.raises(CertificateError, match="No CA certificates are configured"):
        check_recipient_certificate(pki.recipients[EMAIL].certificate, email=EMAIL, at=pki_at, ca_certificates=[])


def test_certificate_signed_by_an_impostor_with_the_same_ca_name_is_refused(
    pki: demo_pki.DemoPki, pki_at: datetime, tmp_path: Path
) -> None:
    # Checked when the real CA is valid, so that only the impostor's key can be what is refused.
    impostor = demo_pki.create_certificate_authority(tmp_path, at=pki_at)  # same subject, different key
    assert impostor.certificate.subject == pki.ca.certificate.subject
    forged = demo_pki.issue_email_certificate(impostor, tmp_path, name="Jane Officer", email=EMAIL, at=pki_at)
    with pytest.raises(CertificateError, match="does not chain to a trusted CA"):
        check_recipient_certificate(forged.certificate, email=EMAIL, at=pki_at, ca_certificates=[pki.ca.certificate])


# --- loading --------------------------------------------------------------------------------


def test_load_certificate_reads_pem_and_der(pki: demo_pki.DemoPki) -> None:
    cert = pki.recipients[EMAIL].certificate
    pem = cert.public_bytes(serialization.Encoding.PEM)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert load_certificate(pem, source="jane.pem") == cert
    assert load_certificate(der, source="jane.cer") == cert
    assert load_certificates(pem + pki.ca.cert_path.read_bytes(), source="bundle.pem") == [
        cert,
        pki.ca.certificate,
    ]


def test_unreadable_certificate_names_its_source() -> None:
    with pytest.raises(CertificateError) as caught:
        load_certificate(b"not a certificate", source="uploads/jane-officer.cer")
    assert str(caught.value).startswith("uploads/jane-officer.cer is not a readable X.509 certificate")


def test_summary_of_ca_has_no_emails(pki: demo_pki.DemoPki) -> None:
    summary = CertificateSummary.of(pki.ca.certificate)
    assert summary.emails == ()
    assert summary.subject == summary.issuer
    assert summary.describe().startswith("CN=Docgen Demo CA,O=Docgen Demo Authority,C=GB (serial ")
