"""The recipient portal's keys: one secret from the environment, and what is derived from it.

``DOCGEN_PORTAL_SECRET`` (at least 32 random bytes, written in hex or base64) is stretched with HKDF
into three independent keys: one encrypts documents at rest (AES-256-GCM), one makes each link's
token from the link's random seed (HMAC-SHA256), one hashes one-time codes (HMAC-SHA256). The
database alone therefore opens no document, gives no link and reveals no code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from docgen.errors import PortalError, PortalUnavailable

SECRET_VARIABLE = "DOCGEN_PORTAL_SECRET"
MINIMUM_SECRET_BYTES = 32
_NONCE_BYTES = 12
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})+$")
_HOW_TO_SET = (f"set {SECRET_VARIABLE} to at least {MINIMUM_SECRET_BYTES} random bytes written in hex or base64, "
               "for example the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'")


def parse_secret(text: str) -> bytes:
    """The secret's bytes: hex if the text is hex, else base64 (standard or URL-safe, padding optional).
    Raises PortalUnavailable when it is missing, unreadable or shorter than 32 bytes."""
    text = text.strip()
    if not text:
        raise PortalUnavailable(f"the recipient portal has no key: {_HOW_TO_SET}")
    if _HEX.match(text):
        secret = bytes.fromhex(text)
    else:
        try:
            secret = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                                      validate=True)
        except (binascii.Error, ValueError):
            raise PortalUnavailable(f"{SECRET_VARIABLE} is neither hex nor base64: {_HOW_TO_SET}") from None
    if len(secret) < MINIMUM_SECRET_BYTES:
        raise PortalUnavailable(f"{SECRET_VARIABLE} holds {len(secret)} bytes, fewer than {MINIMUM_SECRET_BYTES}: "
                                f"{_HOW_TO_SET}")
    return secret


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"docgen portal " + purpose).derive(secret)


@dataclass(frozen=True)
class PortalKeys:
    """The keys derived from the portal's secret; never logged, never stored."""

    documents: bytes
    links: bytes
    codes: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> PortalKeys:
        return cls(_derive(secret, b"documents"), _derive(secret, b"links"), _derive(secret, b"codes"))

    @classmethod
    def from_environment(cls) -> PortalKeys:
        """Read when needed (never at import time), so the variable can be set without restarting tests."""
        return cls.from_secret(parse_secret(os.environ.get(SECRET_VARIABLE, "")))

    # -- documents at rest ----------------------------------------------------------------------

    def seal(self, plaintext: bytes, *, bound_to: str) -> bytes:
        """AES-256-GCM: a random nonce, then the ciphertext with its tag. ``bound_to`` (the document's
        token) is authenticated with it, so a document's bytes cannot be swapped into another row."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + AESGCM(self.documents).encrypt(nonce, plaintext, bound_to.encode("utf-8"))

    def open(self, sealed: bytes, *, bound_to: str) -> bytes:
        try:
            return AESGCM(self.documents).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:],
                                                  bound_to.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise PortalError("a stored portal document does not decrypt with the portal's key: it was changed, "
                              f"or {SECRET_VARIABLE} is not the key it was stored with") from None

    # -- link tokens and codes ------------------------------------------------------------------

    def link_token(self, seed: str) -> str:
        """The token in a link's address (256 bits, URL-safe), made again from the link's stored seed."""
        digest = hmac.new(self.links, b"link:" + seed.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def code_hash(self, code: str, *, salt: str) -> str:
        return hmac.new(self.codes, f"{salt}:{code}".encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def code_matches(self, code: str, *, salt: str, stored: str) -> bool:
        return hmac.compare_digest(self.code_hash(code, salt=salt), stored)


def token_sha256(token: str) -> str:
    """How a link or a portal session is looked up: the SHA-256 of its token, never the token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_seed() -> str:
    return secrets.token_hex(32)


def new_code() -> str:
    """Six digits from the operating system's random source."""
    return f"{secrets.randbelow(1_000_000):06d}"
