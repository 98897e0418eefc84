"""The signing identity: loading PKCS#12 and PEM, refusing unprotected keys, never showing secrets."""

from __future__ import annotations

import pickle
import stat
import subprocess
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from distribution import demo_pki
from distribution.errors import CertificateError
from distribution.keys import DEFAULT_PASSPHRASE_ENV, SigningIdentity, check_signing_identity, load_signing_identity
from docgen.errors import ConfigurationError, DocgenError
from tests.support.pki import SIGNING_PASSPHRASE

PASSPHRASE = SIGNING_PASSPHRASE  # the session demo PKI's (the ``pki`` fixture)
ENV = "DOCGEN_TEST_SIGNING_PASSPHRASE"


@pytest.fixture
def passphrase_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, PASSPHRASE)
    return ENV


def _key_pem(pki: demo_pki.DemoPki) -> bytes:
    return pki.signing.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _secret_fragments(pki: demo_pki.DemoPki) -> list[str]:
    """The passphrase and every line of the private key, in the encodings a leak could take."""
    key_pem = _key_pem(pki).decode("ascii")
    traditional = pki.signing.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")
    lines = [
        line
        for pem in (key_pem, traditional)
        for line in pem.splitlines()
        if line and not line.startswith("-----")
    ]
    numbers = pki.signing.private_key.private_numbers()
    return [PASSPHRASE, repr(PASSPHRASE.encode()), *lines, str(numbers.d), format(numbers.d, "x")]


def _write_pem_identity(folder: Path, pki: demo_pki.DemoPki, *, traditional: bool = False) -> Path:
    key = pki.signing.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    path = folder / ("traditional.pem" if traditional else "identity.pem")
    path.write_bytes(
        key
        + pki.signing.certificate.public_bytes(serialization.Encoding.PEM)
        + pki.ca.certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path


# --- loading --------------------------------------------------------------------------------


def test_pkcs12_loads_with_passphrase_from_environment(pki: demo_pki.DemoPki, passphrase_env: str) -> None:
    identity = load_signing_identity(pki.signing_p12_path, passphrase_env=passphrase_env)
    assert identity.certificate == pki.signing.certificate
    assert identity.private_key.public_key() == pki.signing.certificate.public_key()
    assert identity.chain == (pki.ca.certificate,)
    assert identity.emails == ["cp.conferences@northmoor.gov.uk"]


def test_default_environment_variable_name() -> None:
    assert DEFAULT_PASSPHRASE_ENV == "DOCGEN_SIGNING_PASSPHRASE"


def test_pkcs12_file_is_written_owner_only(pki: demo_pki.DemoPki) -> None:
    assert stat.S_IMODE(pki.signing_p12_path.stat().st_mode) == 0o600
    assert not (pki.folder / "authority-signing.key.pem").exists()


def test_prompt_is_used_when_the_environment_has_no_passphrase(
    pki: demo_pki.DemoPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    questions: list[str] = []

    def prompt(question: str) -> str:
        questions.append(question)
        return PASSPHRASE

    identity = load_signing_identity(pki.signing_p12_path, passphrase_env=ENV, prompt=prompt)
    assert identity.certificate == pki.signing.certificate
    assert questions == [f"Passphrase for the signing identity {pki.signing_p12_path}: "]


def test_no_passphrase_anywhere_is_a_configuration_error(
    pki: demo_pki.DemoPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        load_signing_identity(pki.signing_p12_path, passphrase_env=ENV)
    assert f"set the environment variable {ENV}" in str(caught.value)


def test_encrypted_pem_with_certificate_in_one_file_loads(
    pki: demo_pki.DemoPki, passphrase_env: str, tmp_path: Path
) -> None:
    for traditional in (False, True):
        identity = load_signing_identity(
            _write_pem_identity(tmp_path, pki, traditional=traditional), passphrase_env=passphrase_env
        )
        assert identity.certificate == pki.signing.certificate
        assert identity.chain == (pki.ca.certificate,)


def test_check_signing_identity_accepts_in_date_and_refuses_expired(
    pki: demo_pki.DemoPki, pki_at: datetime, passphrase_env: str
) -> None:
    identity = load_signing_identity(pki.signing_p12_path, passphrase_env=passphrase_env)
    check_signing_identity(identity, at=pki_at)
    # The demo PKI's certificates are valid for a year from when it was made.
    with pytest.raises(CertificateError, match=f"expired on {pki_at + timedelta(days=365):%Y-%m-%d}"):
        check_signing_identity(identity, at=pki_at + timedelta(days=400))


# --- refusals, and no secret in any of them --------------------------------------------------


def _wrong_passphrase(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    mp.setenv(ENV, PASSPHRASE + "-wrong")
    load_signing_identity(pki.signing_p12_path, passphrase_env=ENV)


def _wrong_passphrase_pem(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = _write_pem_identity(tmp, pki)
    mp.setenv(ENV, PASSPHRASE[:-1])
    load_signing_identity(path, passphrase_env=ENV)


def _unencrypted_pkcs12(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "open.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"open", pki.signing.private_key, pki.signing.certificate, None, serialization.NoEncryption()
        )
    )
    load_signing_identity(path, passphrase_env=ENV)


def _empty_password_pkcs12(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    assert pki.archive.key_path is not None
    path = tmp / "empty.p12"
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-in", str(pki.archive.cert_path), "-inkey", str(pki.archive.key_path),
         "-passout", "pass:", "-out", str(path)],
        check=True, capture_output=True, timeout=60,
    )
    load_signing_identity(path, passphrase_env=ENV)


def _unencrypted_pem(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "open.pem"
    path.write_bytes(_key_pem(pki) + pki.signing.certificate.public_bytes(serialization.Encoding.PEM))
    load_signing_identity(path, passphrase_env=ENV)


def _certificate_of_another_key(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "mismatch.pem"
    key = pki.signing.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    path.write_bytes(key + pki.archive.certificate.public_bytes(serialization.Encoding.PEM))
    load_signing_identity(path, passphrase_env=ENV)


def _key_without_certificate(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "keyonly.pem"
    path.write_bytes(
        pki.signing.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    load_signing_identity(path, passphrase_env=ENV)


def _unsupported_suffix(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "identity.key"
    path.write_bytes(_key_pem(pki))
    load_signing_identity(path, passphrase_env=ENV)


def _missing_file(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    load_signing_identity(tmp / "absent.p12", passphrase_env=ENV)


def _garbage_pkcs12(pki: demo_pki.DemoPki, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    path = tmp / "garbage.pfx"
    path.write_bytes(_key_pem(pki))  # a key PEM renamed to .pfx
    load_signing_identity(path, passphrase_env=ENV)


FAILURES: dict[str, tuple[Callable[[demo_pki.DemoPki, Path, pytest.MonkeyPatch], None], type[DocgenError], str]] = {
    "wrong passphrase (p12)": (_wrong_passphrase, CertificateError, "the passphrase is wrong"),
    "wrong passphrase (pem)": (_wrong_passphrase_pem, CertificateError, "the passphrase is wrong"),
    "unencrypted p12": (_unencrypted_pkcs12, CertificateError, "is not protected by a passphrase"),
    "p12 with empty password": (_empty_password_pkcs12, CertificateError, "is not protected by a passphrase"),
    "unencrypted pem": (_unencrypted_pem, CertificateError, "is not encrypted"),
    "certificate of another key": (_certificate_of_another_key, CertificateError, "None of the certificates"),
    "key without certificate": (_key_without_certificate, CertificateError, "found 1 keys and 0 certificates"),
    "unsupported suffix": (_unsupported_suffix, CertificateError, "must be a .p12, .pfx or .pem file"),
    "missing file": (_missing_file, CertificateError, "Cannot read the signing identity"),
    "key renamed to pfx": (_garbage_pkcs12, CertificateError, "Cannot open the signing identity"),
}


@pytest.mark.parametrize("case", list(FAILURES.values()), ids=list(FAILURES))
def test_refusals_name_the_problem_and_never_carry_secrets(
    case: tuple[Callable[[demo_pki.DemoPki, Path, pytest.MonkeyPatch], None], type[DocgenError], str],
    pki: demo_pki.DemoPki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    action, error, fragment = case
    monkeypatch.setenv(ENV, PASSPHRASE)
    with pytest.raises(error) as caught:
        action(pki, tmp_path, monkeypatch)
    assert fragment in str(caught.value)
    shown = "\n".join(
        [str(caught.value), repr(caught.value), *traceback.format_exception(caught.value)]
    )
    for secret in _secret_fragments(pki):
        assert secret not in shown
    assert caught.value.__cause__ is None


def test_identity_repr_and_str_hide_the_key(pki: demo_pki.DemoPki, passphrase_env: str) -> None:
    identity = load_signing_identity(pki.signing_p12_path, passphrase_env=passphrase_env)
    for shown in (repr(identity), str(identity), f"{identity}", repr([identity]), repr(pki), repr(pki.signing)):
        assert "private_key=<hidden>" in shown or "private_key" not in shown
        for secret in _secret_fragments(pki):
            assert secret not in shown
        assert "RSAPrivateKey" not in shown
    assert repr(identity) == (
        "SigningIdentity(subject='CN=Child Protection Conference Service,C=GB', "
        f"source='{pki.signing_p12_path}', private_key=<hidden>)"
    )


def test_identity_cannot_be_pickled(pki: demo_pki.DemoPki, passphrase_env: str) -> None:
    identity = load_signing_identity(pki.signing_p12_path, passphrase_env=passphrase_env)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(identity)


def test_identity_type_is_frozen(pki: demo_pki.DemoPki, passphrase_env: str) -> None:
    identity: SigningIdentity = load_signing_identity(pki.signing_p12_path, passphrase_env=passphrase_env)
    with pytest.raises(AttributeError):
        identity.source = "elsewhere"  # type: ignore[misc]
