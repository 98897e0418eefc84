"""S/MIME output checked the way recipients open it: with the real ``openssl cms`` command line.

The session's demo PKI (the ``pki`` fixture) is valid from the real current time, which these tests
need: ``openssl cms -verify`` checks certificates against the system clock.
"""

from __future__ import annotations

import base64
import email
import hashlib
import shutil
import subprocess
from datetime import UTC, datetime
from email import policy as email_policy
from pathlib import Path

import pytest
import weasyprint  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from distribution import demo_pki
from distribution.cms import SecureMessage, encrypt_for_archive, sign_and_encrypt
from distribution.errors import CertificateError, EncryptionError
from distribution.keys import SigningIdentity, load_signing_identity
from tests.support.pki import AUTHORITY_EMAIL, HEALTH, POLICE, SIGNING_PASSPHRASE

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = SIGNING_PASSPHRASE
SENDER = AUTHORITY_EMAIL
SENT_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MESSAGE_ID = "<conference-1234-item-7@northmoor.gov.uk>"

# The recipient-side commands exactly as docs/recipients.md gives them.
DECRYPT = "openssl cms -decrypt -in message.eml -recip cert.pem -inkey key.pem -out signed.eml"
VERIFY = "openssl cms -verify -in signed.eml -CAfile authority-ca.pem -out document.mime"
EXTRACT = "awk 'body{print} /^\\r?$/{body=1}' document.mime | openssl base64 -d -out document.pdf"
EXTRACT_PYTHON = (
    "python3 -c 'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],\"rb\")); "
    "n=m.get_filename(); open(n,\"wb\").write(m.get_payload(decode=True)); print(n)' document.mime"
)


@pytest.fixture(scope="session")
def signer(pki: demo_pki.DemoPki) -> SigningIdentity:
    return load_signing_identity(
        pki.signing_p12_path, passphrase_env="DOCGEN_TEST_UNSET_VARIABLE", prompt=lambda _: PASSPHRASE
    )


@pytest.fixture(scope="session")
def pdf() -> bytes:
    return bytes(weasyprint.HTML(string="<h1>Review child protection conference</h1><p>Record</p>").write_pdf())


@pytest.fixture(scope="session")
def secure(pki: demo_pki.DemoPki, signer: SigningIdentity, pdf: bytes) -> SecureMessage:
    return sign_and_encrypt(
        pdf,
        filename="conference-record.pdf",
        content_type="application/pdf",
        signer=signer,
        recipients=[pki.recipients[POLICE].certificate, pki.recipients[HEALTH].certificate],
        subject="Conference documents (ref 1234)",
        sender=SENDER,
        to=[POLICE, HEALTH],
        at=SENT_AT,
        message_id=MESSAGE_ID,
    )


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=60)


def _recipient_folder(tmp_path: Path, pki: demo_pki.DemoPki, message: bytes, issued: demo_pki.IssuedCertificate) -> Path:
    assert issued.key_path is not None
    shutil.copy(issued.cert_path, tmp_path / "cert.pem")
    shutil.copy(issued.key_path, tmp_path / "key.pem")
    shutil.copy(pki.ca.cert_path, tmp_path / "authority-ca.pem")
    (tmp_path / "message.eml").write_bytes(message)
    return tmp_path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_documented_commands_are_the_ones_tested() -> None:
    doc = (ROOT / "docs" / "recipients.md").read_text(encoding="utf-8")
    for command in (DECRYPT, VERIFY, EXTRACT, EXTRACT_PYTHON):
        assert command in doc


@pytest.mark.parametrize("who", [POLICE, HEALTH])
def test_each_recipient_decrypts_verifies_and_extracts_with_openssl(
    who: str, secure: SecureMessage, pki: demo_pki.DemoPki, pdf: bytes, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[who])
    decrypted = _run(DECRYPT, folder)
    assert decrypted.returncode == 0, decrypted.stderr
    verified = _run(VERIFY, folder)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    extracted = _run(EXTRACT, folder)
    assert extracted.returncode == 0, extracted.stderr
    document = (folder / "document.pdf").read_bytes()
    assert _sha256(document) == _sha256(pdf) == secure.plaintext_sha256


def test_python_extraction_uses_the_attachment_name(
    secure: SecureMessage, pki: demo_pki.DemoPki, pdf: bytes, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[POLICE])
    for command in (DECRYPT, VERIFY, EXTRACT_PYTHON):
        result = _run(command, folder)
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "conference-record.pdf"
    assert (folder / "conference-record.pdf").read_bytes() == pdf


def test_wrong_recipient_key_cannot_decrypt(
    secure: SecureMessage, pki: demo_pki.DemoPki, pdf: bytes, tmp_path: Path
) -> None:
    outsider = demo_pki.issue_email_certificate(
        pki.ca, tmp_path / "outsider", name="Not A Recipient", email="someone@school.example.sch.uk",
        at=datetime.now(UTC),
    )
    folder = _recipient_folder(tmp_path, pki, secure.message, outsider)
    result = _run(DECRYPT, folder)
    assert result.returncode != 0
    assert "no recipient" in result.stderr.lower() or "decrypt" in result.stderr.lower()
    signed = folder / "signed.eml"
    assert not signed.exists() or base64.b64encode(pdf[:48]) not in signed.read_bytes()


def test_recipient_with_certificate_but_another_key_cannot_decrypt(
    secure: SecureMessage, pki: demo_pki.DemoPki, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[POLICE])
    assert pki.archive.key_path is not None
    shutil.copy(pki.archive.key_path, folder / "key.pem")
    result = _run(DECRYPT, folder)
    assert result.returncode != 0


def test_content_is_encrypted_with_aes_256(secure: SecureMessage, tmp_path: Path) -> None:
    (tmp_path / "message.eml").write_bytes(secure.message)
    printed = _run("openssl cms -cmsout -print -in message.eml", tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "contentType: pkcs7-envelopedData" in printed.stdout
    assert "algorithm: aes-256-cbc" in printed.stdout
    assert "aes-128" not in printed.stdout
    assert printed.stdout.count("algorithm: rsaEncryption") == 2  # one key transport per recipient


def test_signature_fails_against_an_unrelated_ca(
    secure: SecureMessage, pki: demo_pki.DemoPki, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[POLICE])
    other = demo_pki.create_certificate_authority(tmp_path / "other", at=datetime.now(UTC))
    shutil.copy(other.cert_path, folder / "authority-ca.pem")
    assert _run(DECRYPT, folder).returncode == 0
    verified = _run(VERIFY, folder)
    assert verified.returncode != 0
    assert "Verification failure" in verified.stderr


def test_tampered_signed_content_fails_verification(
    secure: SecureMessage, pki: demo_pki.DemoPki, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[POLICE])
    assert _run(DECRYPT, folder).returncode == 0
    signed = (folder / "signed.eml").read_bytes()
    marker = b"Content-Disposition: attachment"
    start = signed.index(b"\r\n\r\n", signed.index(marker)) + 4
    flipped = b"A" if signed[start + 10 : start + 11] != b"A" else b"B"
    (folder / "signed.eml").write_bytes(signed[: start + 10] + flipped + signed[start + 11 :])
    verified = _run(VERIFY, folder)
    assert verified.returncode != 0
    assert "Verification failure" in verified.stderr


def test_message_headers_and_body(secure: SecureMessage, pdf: bytes) -> None:
    message = email.message_from_bytes(secure.message, policy=email_policy.default)
    assert message["From"] == SENDER
    assert message["To"] == f"{POLICE}, {HEALTH}"
    assert message["Subject"] == "Conference documents (ref 1234)"
    assert message["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert message["Message-ID"] == MESSAGE_ID == secure.message_id
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "application/pkcs7-mime"
    assert message.get_param("smime-type") == "enveloped-data"
    assert message.get_param("name") == "smime.p7m"
    assert message.get_filename() == "smime.p7m"
    assert message.get_payload(decode=True) == secure.p7m
    assert secure.ciphertext_sha256 == _sha256(secure.p7m)
    assert secure.plaintext_sha256 == _sha256(pdf)
    assert b"\r\n" in secure.message and b"\n" not in secure.message.replace(b"\r\n", b"")
    assert secure.message.isascii()
    for probe in (pdf[:32], base64.b64encode(pdf[:48]), b"conference-record.pdf", b"%PDF"):
        assert probe not in secure.message
        assert probe not in secure.p7m


def test_raw_p7m_decrypts_as_der(
    secure: SecureMessage, pki: demo_pki.DemoPki, pdf: bytes, tmp_path: Path
) -> None:
    folder = _recipient_folder(tmp_path, pki, secure.message, pki.recipients[HEALTH])
    (folder / "smime.p7m").write_bytes(secure.p7m)
    command = "openssl cms -decrypt -inform DER -in smime.p7m -recip cert.pem -inkey key.pem -out signed.eml"
    assert command in (ROOT / "docs" / "recipients.md").read_text(encoding="utf-8")
    for step in (command, VERIFY, EXTRACT):
        result = _run(step, folder)
        assert result.returncode == 0, result.stderr
    assert (folder / "document.pdf").read_bytes() == pdf


def test_archive_copy_decrypts_to_the_document(pki: demo_pki.DemoPki, pdf: bytes, tmp_path: Path) -> None:
    archived = encrypt_for_archive(pdf, pki.archive.certificate)
    assert pdf[:32] not in archived
    (tmp_path / "copy.p7m").write_bytes(archived)
    assert pki.archive.key_path is not None
    result = _run(
        f"openssl cms -decrypt -binary -inform DER -in copy.p7m -recip {pki.archive.cert_path} "
        f"-inkey {pki.archive.key_path} -out document.pdf",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "document.pdf").read_bytes() == pdf
    printed = _run("openssl cms -cmsout -print -inform DER -in copy.p7m", tmp_path)
    assert "algorithm: aes-256-cbc" in printed.stdout


def test_default_message_id_is_in_the_sender_domain(
    pki: demo_pki.DemoPki, signer: SigningIdentity, pdf: bytes
) -> None:
    first, second = (
        sign_and_encrypt(
            pdf, filename="a.pdf", content_type="application/pdf", signer=signer,
            recipients=[pki.recipients[POLICE].certificate], subject="Documents", sender=SENDER, to=POLICE,
        )
        for _ in range(2)
    )
    assert first.message_id.endswith("@northmoor.gov.uk>") and first.message_id.startswith("<")
    assert first.message_id != second.message_id
    assert first.plaintext_sha256 == second.plaintext_sha256
    assert first.ciphertext_sha256 != second.ciphertext_sha256  # fresh content key each time


def _ec_certificate(pki: demo_pki.DemoPki) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC Recipient")]))
        .issuer_name(pki.ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(pki.ca.certificate.not_valid_before_utc)
        .not_valid_after(pki.ca.certificate.not_valid_after_utc)
        .sign(pki.ca.private_key, hashes.SHA256())
    )


REFUSED = {
    "sender not in signing certificate": ({"sender": "someone.else@northmoor.gov.uk"}, CertificateError, "is not in the authority's signing certificate"),
    "no recipients": ({"recipients": []}, EncryptionError, "no recipient certificate"),
    "EC recipient": ("ec", CertificateError, "does not have an RSA key"),
    "header injection in subject": ({"subject": "Documents\r\nBcc: leak@example.com"}, EncryptionError, "header is not valid"),
    "folder in file name": ({"filename": "../../etc/record.pdf"}, EncryptionError, "is not a plain file name"),
    "parameter in content type": ({"content_type": "application/pdf; name=x"}, EncryptionError, "not a plain type/subtype"),
    "no To address": ({"to": []}, EncryptionError, "no To address"),
}


@pytest.mark.parametrize("case", list(REFUSED.values()), ids=list(REFUSED))
def test_refusals(case: tuple[object, type[Exception], str], pki: demo_pki.DemoPki, signer: SigningIdentity, pdf: bytes) -> None:
    change, error, fragment = case
    arguments: dict[str, object] = {
        "filename": "record.pdf", "content_type": "application/pdf", "signer": signer,
        "recipients": [pki.recipients[POLICE].certificate], "subject": "Documents", "sender": SENDER, "to": POLICE,
    }
    if change == "ec":
        arguments["recipients"] = [_ec_certificate(pki)]
    else:
        assert isinstance(change, dict)
        arguments.update(change)
    with pytest.raises(error) as caught:
        sign_and_encrypt(pdf, **arguments)  # type: ignore[arg-type]
    assert fragment in str(caught.value)
    shown = str(caught.value) + repr(caught.value)
    key_lines = pki.signing.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode().splitlines()[1:-1]
    assert PASSPHRASE not in shown
    assert not [line for line in key_lines if line in shown]


def test_sender_may_carry_a_display_name(pki: demo_pki.DemoPki, signer: SigningIdentity, pdf: bytes) -> None:
    secure = sign_and_encrypt(
        pdf, filename="a.pdf", content_type="application/pdf", signer=signer,
        recipients=[pki.recipients[POLICE].certificate], subject="Documents",
        sender=f"Conference Service <{SENDER}>", to=POLICE,
    )
    message = email.message_from_bytes(secure.message, policy=email_policy.default)
    assert message["From"] == f"Conference Service <{SENDER}>"
    assert secure.message_id.endswith("@northmoor.gov.uk>")
