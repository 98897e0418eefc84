"""The recipient portal's keys, tokens and codes, and its rules in plain words: table-driven, named cases."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from docgen.adapters.portal_crypto import PortalKeys, new_code, parse_secret, token_sha256
from docgen.configuration.web import load_web_settings
from docgen.domain.portal import (
    LinkState,
    code_message,
    corrections_sentence,
    document_words,
    link_state,
    where_the_code_goes,
)
from docgen.errors import ConfigurationError, PortalError, PortalUnavailable

RAW = bytes(range(32))


@pytest.mark.parametrize("text", [
    pytest.param(RAW.hex(), id="hex"),
    pytest.param(RAW.hex().upper(), id="hex upper case"),
    pytest.param(base64.b64encode(RAW).decode(), id="base64"),
    pytest.param(base64.urlsafe_b64encode(RAW).decode().rstrip("="), id="url-safe base64 without padding"),
    pytest.param(f"  {RAW.hex()}\n", id="spaces around"),
])
def test_the_secret_is_read_from_hex_or_base64(text: str) -> None:
    assert parse_secret(text) == RAW


@pytest.mark.parametrize("text, problem", [
    pytest.param("", "has no key", id="missing"),
    pytest.param("ab" * 31, "31 bytes", id="31 bytes of hex"),
    pytest.param(base64.b64encode(b"x" * 20).decode(), "20 bytes", id="20 bytes of base64"),
    pytest.param("not a secret at all!", "neither hex nor base64", id="neither"),
])
def test_a_missing_or_short_secret_is_refused_saying_how_to_set_it(text: str, problem: str) -> None:
    with pytest.raises(PortalUnavailable, match=problem) as refused:
        parse_secret(text)
    assert "DOCGEN_PORTAL_SECRET" in str(refused.value) and "secrets.token_hex(32)" in str(refused.value)


def test_link_tokens_are_256_bits_url_safe_and_made_again_from_the_seed() -> None:
    keys = PortalKeys.from_secret(RAW)
    seed = secrets.token_hex(32)
    token = keys.link_token(seed)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert keys.link_token(seed) == token
    assert keys.link_token(secrets.token_hex(32)) != token
    assert PortalKeys.from_secret(bytes(32)).link_token(seed) != token  # another secret, another address
    assert token_sha256(token) != token and len(token_sha256(token)) == 64


def test_the_three_keys_are_independent() -> None:
    keys = PortalKeys.from_secret(RAW)
    assert len({keys.documents, keys.links, keys.codes, RAW}) == 4


def test_documents_are_sealed_with_aes_gcm_and_bound_to_their_token() -> None:
    keys = PortalKeys.from_secret(RAW)
    sealed = keys.seal(b"%PDF-1.7 the record", bound_to="token-a")
    assert b"the record" not in sealed
    assert keys.open(sealed, bound_to="token-a") == b"%PDF-1.7 the record"
    assert keys.seal(b"%PDF-1.7 the record", bound_to="token-a") != sealed  # a new nonce each time
    with pytest.raises(PortalError, match="does not decrypt"):
        keys.open(sealed, bound_to="token-b")
    with pytest.raises(PortalError, match="does not decrypt"):
        keys.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), bound_to="token-a")
    with pytest.raises(PortalError, match="does not decrypt"):
        PortalKeys.from_secret(bytes(32)).open(sealed, bound_to="token-a")


def test_codes_are_six_digits_hashed_with_a_salt_and_compared() -> None:
    keys = PortalKeys.from_secret(RAW)
    codes = {new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes) and len(codes) > 190
    stored = keys.code_hash("123456", salt="s1")
    assert "123456" not in stored
    assert keys.code_matches("123456", salt="s1", stored=stored)
    assert not keys.code_matches("123457", salt="s1", stored=stored)
    assert not keys.code_matches("123456", salt="s2", stored=stored)
    assert not PortalKeys.from_secret(bytes(32)).code_matches("123456", salt="s1", stored=stored)


NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=28)


@pytest.mark.parametrize("recalled, locked, expires, expected", [
    pytest.param(None, None, LATER, LinkState.LIVE, id="live"),
    pytest.param(None, None, NOW, LinkState.EXPIRED, id="expires this moment"),
    pytest.param(NOW, None, LATER, LinkState.RECALLED, id="recalled"),
    pytest.param(None, NOW, LATER, LinkState.LOCKED, id="locked"),
    pytest.param(NOW, NOW, NOW, LinkState.RECALLED, id="recalled, locked and expired: recalled"),
    pytest.param(None, NOW, NOW, LinkState.LOCKED, id="locked and expired: locked"),
])
def test_link_state(recalled: datetime | None, locked: datetime | None, expires: datetime,
                    expected: LinkState) -> None:
    assert link_state(recalled_at=recalled, locked_at=locked, expires_at=expires, now=NOW) is expected


@pytest.mark.parametrize("channel, address, words", [
    pytest.param("sms", "07700 900733", "your phone ending 733", id="UK mobile"),
    pytest.param("sms", "+44 7700 900461", "your phone ending 461", id="international form"),
    pytest.param("sms", "12", "your phone", id="too short to show"),
    pytest.param("email", "k.haddad@example.net", "your email address that starts with k and ends with @example.net",
                 id="email"),
    pytest.param("email", "nonsense", "your email address", id="not an email address"),
])
def test_where_the_code_goes_gives_little_away(channel: str, address: str, words: str) -> None:
    assert where_the_code_goes(channel, address) == words


def test_the_code_message() -> None:
    assert code_message("Northmoor Borough Council", "123456", 10) == (
        "Your code for Northmoor Borough Council documents is 123456. It expires in 10 minutes.")


@pytest.mark.parametrize("kind, by, sentence", [
    pytest.param("conference_record", date(2026, 12, 4),
                 "If something in the record is wrong, write to the conference chair by Friday 4 December 2026.",
                 id="record with its deadline"),
    pytest.param("conference_record", None,
                 "If something in the record is wrong, write to the conference chair as soon as you can.",
                 id="record without a rule"),
    pytest.param("decisions_notice", date(2026, 12, 4), None, id="not the record"),
])
def test_corrections_sentence(kind: str, by: date | None, sentence: str | None) -> None:
    assert corrections_sentence(kind, by) == sentence


def test_every_document_has_plain_words_and_an_unknown_one_general_words() -> None:
    assert document_words("conference_record").title == "The record of the conference"
    assert document_words("no_such_kind").title == "A document about the conference"


@pytest.mark.parametrize("value", ['"ftp://docs.northmoor.gov.uk"', '"docs.northmoor.gov.uk"', '"https://"',
                                   '"https://docs.northmoor.gov.uk/?a=1"', "8000"])
def test_public_url_must_be_an_http_address(tmp_path: Path, value: str) -> None:
    (tmp_path / "web.toml").write_text(f"public_url = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="public_url"):
        load_web_settings(tmp_path)


def test_public_url_loses_its_trailing_slash(tmp_path: Path) -> None:
    (tmp_path / "web.toml").write_text('public_url = "https://docs.northmoor.gov.uk/"\nportal_link_days = 14\n',
                                       encoding="utf-8")
    settings = load_web_settings(tmp_path)
    assert (settings.public_url, settings.portal_link_days) == ("https://docs.northmoor.gov.uk", 14)
