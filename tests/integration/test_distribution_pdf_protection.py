"""Family copies: protected PDFs checked with the real ``qpdf``, passphrases and their verifiers."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pypdfium2  # type: ignore[import-untyped]
import pytest
import weasyprint  # type: ignore[import-untyped]

from distribution.errors import EncryptionError
from distribution.pdf_protection import (
    PASSPHRASE_ALPHABET,
    PASSPHRASE_ENTROPY_BITS,
    new_passphrase,
    passphrase_verifier,
    protect_pdf,
    verify_passphrase,
)

needs_qpdf = pytest.mark.skipif(shutil.which("qpdf") is None, reason="needs the qpdf command")
PASSPHRASE = "K7QM-R2XD-9HTB-WPE4-N6CU"


@pytest.fixture(scope="session")
def pdf() -> bytes:
    html = (
        "<h1>Child protection conference</h1><p>Family copy, page one.</p>"
        "<p style='page-break-before: always'>Page two: decisions.</p>"
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


@pytest.fixture(scope="session")
def protected(pdf: bytes) -> bytes:
    return protect_pdf(pdf, PASSPHRASE)


def _qpdf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qpdf", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _page_texts(data: bytes, password: str | None = None) -> list[str]:
    document = pypdfium2.PdfDocument(data, password=password)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def _page_streams(data: bytes) -> list[bytes]:
    with pikepdf.open(io.BytesIO(data)) as document:
        return [b"".join(s.read_bytes() for s in _contents(page)) for page in document.pages]


def _contents(page: pikepdf.Page) -> list[pikepdf.Stream]:
    contents = page.obj.Contents
    parts = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    return [part for part in parts if isinstance(part, pikepdf.Stream)]


# --- qpdf, as a family's PDF reader would see it ----------------------------------------------


@needs_qpdf
def test_qpdf_decrypts_with_the_passphrase_to_the_same_pages(
    pdf: bytes, protected: bytes, tmp_path: Path
) -> None:
    (tmp_path / "in.pdf").write_bytes(protected)
    result = _qpdf(f"--password={PASSPHRASE}", "--decrypt", "in.pdf", "out.pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    decrypted = (tmp_path / "out.pdf").read_bytes()
    assert _page_streams(decrypted) == _page_streams(pdf)
    assert _page_texts(decrypted) == _page_texts(pdf)
    assert "Family copy, page one." in _page_texts(decrypted)[0]
    assert len(_page_texts(decrypted)) == 2


@needs_qpdf
def test_qpdf_cannot_decrypt_without_the_passphrase(protected: bytes, tmp_path: Path) -> None:
    (tmp_path / "in.pdf").write_bytes(protected)
    for password_args in ([], ["--password=K7QM-R2XD-9HTB-WPE4-N6CV"], [f"--password={PASSPHRASE.lower()}"]):
        result = _qpdf(*password_args, "--decrypt", "in.pdf", "out.pdf", cwd=tmp_path)
        assert result.returncode == 2
        assert "invalid password" in result.stderr
        assert not (tmp_path / "out.pdf").exists()


@needs_qpdf
def test_qpdf_reports_aes_256_revision_6_and_restrictions(protected: bytes, tmp_path: Path) -> None:
    (tmp_path / "in.pdf").write_bytes(protected)
    result = _qpdf("--show-encryption", f"--password={PASSPHRASE}", "in.pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    for line in (
        "R = 6",
        "Supplied password is user password",  # so the owner password is a different one
        "stream encryption method: AESv3",
        "string encryption method: AESv3",
        "file encryption method: AESv3",
        "extract for accessibility: allowed",
        "extract for any purpose: not allowed",
        "print low resolution: allowed",
        "print high resolution: allowed",
        "modify document assembly: not allowed",
        "modify forms: not allowed",
        "modify annotations: not allowed",
        "modify other: not allowed",
    ):
        assert line in report.splitlines(), line


def test_text_is_not_readable_in_the_protected_bytes(pdf: bytes, protected: bytes) -> None:
    with pytest.raises(pypdfium2.PdfiumError):
        _page_texts(protected)
    assert _page_texts(protected, PASSPHRASE) == _page_texts(pdf)
    for stream in _page_streams(pdf):
        assert stream[:40] not in protected


def test_each_protection_uses_a_fresh_owner_password(pdf: bytes, protected: bytes) -> None:
    again = protect_pdf(pdf, PASSPHRASE)
    with pikepdf.open(io.BytesIO(protected), password=PASSPHRASE) as first, pikepdf.open(
        io.BytesIO(again), password=PASSPHRASE
    ) as second:
        assert first.trailer.Encrypt.O != second.trailer.Encrypt.O
        assert first.encryption.user_password == second.encryption.user_password == PASSPHRASE.encode()


# --- failing closed ---------------------------------------------------------------------------


def test_already_encrypted_input_is_refused(protected: bytes) -> None:
    with pytest.raises(EncryptionError, match="already password protected"):
        protect_pdf(protected, PASSPHRASE)


def test_not_a_pdf_is_refused() -> None:
    with pytest.raises(EncryptionError, match="not a readable PDF"):
        protect_pdf(b"<html>not a pdf</html>", PASSPHRASE)


@pytest.mark.parametrize(
    ("passphrase", "fragment"),
    [("", "too short"), ("ABCD-EFGH", "too short"), ("A" * 128, "longer than the 127 bytes")],
    ids=["empty", "short", "too long for R6"],
)
def test_weak_or_impossible_passphrases_are_refused(pdf: bytes, passphrase: str, fragment: str) -> None:
    with pytest.raises(EncryptionError, match=fragment):
        protect_pdf(pdf, passphrase)


def test_weaker_encryption_is_caught_by_the_check_after_saving(
    pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pikepdf.Encryption

    def downgraded(**settings: object) -> pikepdf.Encryption:
        return real(**{**settings, "R": 4})  # type: ignore[arg-type]

    monkeypatch.setattr(pikepdf, "Encryption", downgraded)
    with pytest.raises(EncryptionError, match="R=4, not 6"):
        protect_pdf(pdf, PASSPHRASE)


def test_missing_encryption_is_caught_by_the_check_after_saving(
    pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pikepdf, "Encryption", lambda **settings: False)
    with pytest.raises(EncryptionError, match="opened without a password"):
        protect_pdf(pdf, PASSPHRASE)


# --- passphrases ------------------------------------------------------------------------------


def test_passphrase_shape_and_alphabet() -> None:
    for _ in range(200):
        passphrase = new_passphrase()
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){4}", passphrase), passphrase
        assert not set("0o1il") & set(passphrase)
        assert passphrase == passphrase.lower()  # nothing a person could type in the wrong case


def test_alphabet_and_entropy_figure() -> None:
    assert len(PASSPHRASE_ALPHABET) == len(set(PASSPHRASE_ALPHABET)) == 31
    assert not set("0o1ilABCDEFGHIJKLMNOPQRSTUVWXYZ") & set(PASSPHRASE_ALPHABET)
    bits = 20 * math.log2(len(PASSPHRASE_ALPHABET))
    assert bits >= 96
    assert math.floor(bits) == PASSPHRASE_ENTROPY_BITS == 99


def test_passphrases_are_random_and_use_the_whole_alphabet() -> None:
    samples = [new_passphrase() for _ in range(1000)]
    assert len(set(samples)) == 1000
    counts = Counter("".join(samples).replace("-", ""))
    assert set(counts) == set(PASSPHRASE_ALPHABET)
    expected = 20_000 / 31
    assert all(0.7 * expected < n < 1.3 * expected for n in counts.values())


def test_verifier_accepts_only_the_same_passphrase() -> None:
    verifier = passphrase_verifier(PASSPHRASE)
    assert verify_passphrase(PASSPHRASE, verifier) is True
    assert verify_passphrase(PASSPHRASE.lower(), verifier) is False
    assert verify_passphrase(PASSPHRASE.replace("-", ""), verifier) is False
    assert verify_passphrase("", verifier) is False


def test_verifier_is_self_describing_salted_and_hides_the_passphrase() -> None:
    first, second = passphrase_verifier(PASSPHRASE), passphrase_verifier(PASSPHRASE)
    assert first != second
    pattern = r"scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}="
    assert re.fullmatch(pattern, first)
    assert PASSPHRASE not in first and PASSPHRASE.replace("-", "") not in first
    assert verify_passphrase(PASSPHRASE, second)


@pytest.mark.parametrize(
    ("verifier", "fragment"),
    [
        ("plain:K7QM-R2XD-9HTB-WPE4-N6CU", "not in the scrypt format"),
        ("scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "out-of-range"),
        ("scrypt$ln=15,r=8,p=1$AAAA$AAAA", "too short"),
        ("scrypt$ln=15,r=8,p=1$A$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "not valid base64"),
    ],
    ids=["not scrypt", "too much work", "short hash", "bad base64"],
)
def test_malformed_verifiers_are_errors_not_answers(verifier: str, fragment: str) -> None:
    with pytest.raises(EncryptionError, match=fragment):
        verify_passphrase(PASSPHRASE, verifier)
