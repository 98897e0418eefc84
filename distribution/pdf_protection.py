"""Family copies: AES-256 password-protected PDFs, and passphrases a person can type from a letter.

A protected PDF uses the PDF 2.0 standard security handler, revision 6 (AES-256), which every
current PDF reader opens. The user password is the family's passphrase; the owner password is a
fresh random secret that nobody keeps, so the permissions (print yes, copy or change no, screen
readers yes) cannot be lifted with a known password.

Passphrases are 5 groups of 4 characters from a 31-symbol alphabet of small letters and digits
without 0/o, 1/i/l, e.g. ``k7qm-r2xd-9htb-wpe4-n6cu``: 20 symbols give 20 x log2(31) = 99.08 bits
of entropy. Small letters only, because a PDF password is exact: a person types what the letter
shows, and a keyboard gives small letters unless asked otherwise; there is no capital letter to get
wrong (the letter says so). Only a scrypt verifier of a passphrase is stored with the delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import re
import secrets

import pikepdf

from distribution.errors import EncryptionError

PASSPHRASE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSPHRASE_GROUPS = 5
PASSPHRASE_GROUP_LENGTH = 4
PASSPHRASE_SEPARATOR = "-"
PASSPHRASE_ENTROPY_BITS = 99.0
"""``PASSPHRASE_GROUPS * PASSPHRASE_GROUP_LENGTH * log2(len(PASSPHRASE_ALPHABET))`` = 99.08, rounded down."""
MINIMUM_PASSPHRASE_LENGTH = 12
_MAX_R6_PASSWORD_BYTES = 127

_SCRYPT_LOG2_N = 15
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_SALT_BYTES = 16
_SCRYPT_KEY_BYTES = 32
_SCRYPT_MAXMEM = 256 * 1024 * 1024
_VERIFIER = re.compile(
    r"scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,2}),p=(?P<p>\d{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/=]+)\$(?P<hash>[A-Za-z0-9+/=]+)"
)

FAMILY_PERMISSIONS = pikepdf.Permissions(
    accessibility=True,
    extract=False,
    modify_annotation=False,
    modify_assembly=False,
    modify_form=False,
    modify_other=False,
    print_lowres=True,
    print_highres=True,
)


def new_passphrase() -> str:
    """A new random passphrase, e.g. ``k7qm-r2xd-9htb-wpe4-n6cu`` (99 bits)."""
    groups = (
        "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(PASSPHRASE_GROUP_LENGTH))
        for _ in range(PASSPHRASE_GROUPS)
    )
    return PASSPHRASE_SEPARATOR.join(groups)


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MINIMUM_PASSPHRASE_LENGTH:
        raise EncryptionError(
            f"The passphrase is too short (at least {MINIMUM_PASSPHRASE_LENGTH} characters); "
            "use new_passphrase(). Nothing was protected."
        )
    if len(passphrase.encode("utf-8")) > _MAX_R6_PASSWORD_BYTES:
        raise EncryptionError(
            f"The passphrase is longer than the {_MAX_R6_PASSWORD_BYTES} bytes a PDF password "
            "can hold. Nothing was protected."
        )


def _open(pdf: bytes, password: str = "") -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf), password=password)


def _verify_protected(protected: bytes, original_pages: int, passphrase: str) -> None:
    """Fail closed unless ``protected`` is R6 AES-256 and opens only with the passphrase."""
    try:
        with _open(protected):
            pass
    except pikepdf.PasswordError:
        pass
    else:
        raise EncryptionError("The protected PDF opened without a password; it was not sent.")
    try:
        with _open(protected, passphrase) as check:
            encryption = check.encryption
            if not check.is_encrypted or encryption.R != 6:
                raise EncryptionError(
                    f"The protected PDF uses security handler R={encryption.R}, not 6; "
                    "it was not sent."
                )
            methods = {encryption.stream_method.name, encryption.string_method.name}
            if methods != {"aesv3"} or encryption.bits != 256:
                raise EncryptionError("The protected PDF is not AES-256 throughout; it was not sent.")
            if len(check.pages) != original_pages:
                raise EncryptionError("The protected PDF lost pages; it was not sent.")
            if check.allow.extract or check.allow.modify_other:
                raise EncryptionError("The protected PDF allows copying or changes; it was not sent.")
    except pikepdf.PasswordError:
        raise EncryptionError(
            "The protected PDF does not open with its passphrase; it was not sent."
        ) from None


def protect_pdf(pdf: bytes, passphrase: str) -> bytes:
    """Encrypt ``pdf`` with AES-256 (R6) so that it opens only with ``passphrase``.

    Printing and accessibility are allowed; copying text and changing the document are not.
    The result is reopened and checked before it is returned; any doubt raises
    :class:`EncryptionError` and nothing is returned.
    """
    _check_passphrase(passphrase)
    try:
        source = _open(pdf)
    except pikepdf.PasswordError:
        raise EncryptionError("The PDF is already password protected; protect the original.") from None
    except pikepdf.PdfError as exc:
        raise EncryptionError(f"The document is not a readable PDF ({exc}); nothing was protected.") from None
    owner = secrets.token_urlsafe(32)
    if owner == passphrase:  # pragma: no cover - 256 random bits
        raise EncryptionError("The owner and user passwords collided; nothing was protected.")
    out = io.BytesIO()
    with source:
        pages = len(source.pages)
        source.save(
            out,
            encryption=pikepdf.Encryption(
                owner=owner, user=passphrase, R=6, aes=True, metadata=True, allow=FAMILY_PERMISSIONS
            ),
        )
    protected = out.getvalue()
    _verify_protected(protected, pages, passphrase)
    return protected


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def passphrase_verifier(passphrase: str) -> str:
    """A self-describing scrypt verifier of ``passphrase``, safe to store.

    Format: ``scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>`` (N = 2**ln, 32 MiB).
    """
    salt = secrets.token_bytes(_SCRYPT_SALT_BYTES)
    digest = hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=2**_SCRYPT_LOG2_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=_SCRYPT_KEY_BYTES,
    )
    return f"scrypt$ln={_SCRYPT_LOG2_N},r={_SCRYPT_R},p={_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_passphrase(passphrase: str, verifier: str) -> bool:
    """Whether ``passphrase`` is the one ``verifier`` was made from (constant-time comparison).

    A verifier that is not in the format above, or asks for unreasonable work, raises
    :class:`EncryptionError` rather than answering ``False``.
    """
    match = _VERIFIER.fullmatch(verifier)
    if match is None:
        raise EncryptionError("The stored passphrase verifier is not in the scrypt format.")
    ln, r, p = int(match["ln"]), int(match["r"]), int(match["p"])
    if not (10 <= ln <= 20 and 1 <= r <= 16 and p == 1):
        raise EncryptionError("The stored passphrase verifier has out-of-range scrypt parameters.")
    try:
        salt = base64.b64decode(match["salt"], validate=True)
        expected = base64.b64decode(match["hash"], validate=True)
    except binascii.Error:
        raise EncryptionError("The stored passphrase verifier is not valid base64.") from None
    if len(expected) < 16:
        raise EncryptionError("The stored passphrase verifier's hash is too short.")
    actual = hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=2**ln,
        r=r,
        p=p,
        maxmem=_SCRYPT_MAXMEM,
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)
