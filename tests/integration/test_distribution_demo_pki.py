"""The demo PKI: what it writes, with which rights, and that OpenSSL reads it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from distribution import demo_pki
from tests.support.pki import HEALTH, JANE_OFFICER, POLICE, SCHOOL, SIGNING_PASSPHRASE

# The session's demo PKI (the ``pki`` fixture) is made at ``pki_at``; the bad certificates these
# tests issue from its CA are made at this fixed moment, whose dates the assertions name.
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_files_and_their_rights(pki: demo_pki.DemoPki) -> None:
    names = sorted(p.name for p in pki.folder.iterdir())
    assert names == [
        "archive.cert.pem",
        "archive.key.pem",
        "authority-ca.pem",
        "authority-signing.cert.pem",
        "authority-signing.p12",
        "dsl-school-example-sch-uk.cert.pem",
        "dsl-school-example-sch-uk.key.pem",
        "duty-officer-police-example-gov-uk.cert.pem",
        "duty-officer-police-example-gov-uk.key.pem",
        "jane-officer-police-example-gov-uk.cert.pem",
        "jane-officer-police-example-gov-uk.key.pem",
        "safeguarding-nurse-health-example-nhs-uk.cert.pem",
        "safeguarding-nurse-health-example-nhs-uk.key.pem",
    ]
    private = [name for name in names if name.endswith((".key.pem", ".p12"))]
    assert len(private) == 6
    for name in private:
        assert stat.S_IMODE((pki.folder / name).stat().st_mode) == 0o600, name
    assert pki.signing.key_path is None  # the signing key exists only inside the .p12


def test_recipient_certificates_are_for_encryption_to_their_address(pki: demo_pki.DemoPki, pki_at: datetime) -> None:
    assert set(pki.recipients) == {POLICE, SCHOOL, JANE_OFFICER, HEALTH}
    cert = pki.recipients[POLICE].certificate
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment and usage.digital_signature
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [POLICE]
    assert cert.issuer == pki.ca.certificate.subject
    assert cert.not_valid_before_utc == pki_at - timedelta(hours=1)


def test_signing_certificate_signs_but_does_not_encrypt(pki: demo_pki.DemoPki) -> None:
    usage = pki.signing.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_encipherment


def test_bad_certificate_helpers_are_bad_in_the_stated_way(pki: demo_pki.DemoPki, tmp_path: Path) -> None:
    expired = demo_pki.make_expired_certificate(pki.ca, tmp_path, name="A", email=POLICE, at=AT).certificate
    assert expired.not_valid_after_utc == AT - timedelta(days=1)
    future = demo_pki.make_not_yet_valid_certificate(pki.ca, tmp_path, name="A", email=POLICE, at=AT).certificate
    assert future.not_valid_before_utc == AT + timedelta(days=10)
    sign_only = demo_pki.make_wrong_key_usage_certificate(pki.ca, tmp_path, name="A", email=POLICE, at=AT).certificate
    assert not sign_only.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
    wrong = demo_pki.make_wrong_email_certificate(
        pki.ca, tmp_path, name="A", email=POLICE, wrong_email="other@police.example.gov.uk", at=AT
    ).certificate
    san = wrong.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["other@police.example.gov.uk"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_opens_the_pkcs12_only_with_the_passphrase(pki: demo_pki.DemoPki) -> None:
    environment = {**os.environ, "DEMO_P12_PASS": SIGNING_PASSPHRASE}
    opened = subprocess.run(
        ["openssl", "pkcs12", "-in", str(pki.signing_p12_path), "-passin", "env:DEMO_P12_PASS", "-nokeys"],
        capture_output=True, text=True, env=environment, timeout=60,
    )
    assert opened.returncode == 0, opened.stderr
    assert "subject=C = GB, CN = Child Protection Conference Service" in opened.stdout
    environment["DEMO_P12_PASS"] = "wrong"
    refused = subprocess.run(
        ["openssl", "pkcs12", "-in", str(pki.signing_p12_path), "-passin", "env:DEMO_P12_PASS", "-nokeys"],
        capture_output=True, text=True, env=environment, timeout=60,
    )
    assert refused.returncode != 0


def test_empty_pkcs12_passphrase_is_refused(pki: demo_pki.DemoPki, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-empty passphrase"):
        demo_pki.write_pkcs12(tmp_path / "x.p12", pki.archive, pki.ca, "")
    assert not (tmp_path / "x.p12").exists()
