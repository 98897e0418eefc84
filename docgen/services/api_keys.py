"""API keys of case management systems: made, listed and revoked by administrators, and checked on
every API call.

A key is 256 random bits shown once, when it is made; the database keeps only its SHA-256 and a
short visible prefix by which people recognise it (in lists, in the audit trail, to revoke it).
Making and revoking a key are recorded in the audit trail; a system's API calls are recorded under
the actor ``api:<system>``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import append_event
from docgen.adapters.orm_web import ApiKey, SignInAttempt
from docgen.configuration.web import WebSettings
from docgen.errors import ApiKeyError
from docgen.services.runtime import Runtime

__all__ = ["ApiKeyInfo", "ApiKeyThrottled", "NewApiKey", "api_actor", "authenticate", "create_api_key", "list_api_keys",
           "revoke_api_key"]

#: Every key starts with this, so that a key pasted somewhere it should not be is recognisable (and
#: secret scanners can be taught to look for it).
KEY_START = "dgk_"
#: The visible part: the start and 8 random characters (48 bits, enough to tell a handful of keys apart).
PREFIX_LENGTH = len(KEY_START) + 8
#: A system's name: short, lower-case, safe in logs and in the audit actor ``api:<system>``.
SYSTEM_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,58}$")
#: How a failed API call is counted among sign-in failures (no staff username can take this form).
FAILED_KEY = "api-key:failed"


class ApiKeyThrottled(ApiKeyError):
    """Too many calls with a wrong key came from the address; refused until the window has passed."""


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as lists show it: never the key, never its hash."""

    id: int
    system: str
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: ``key`` is shown to the administrator once and kept nowhere."""

    info: ApiKeyInfo
    key: str


def api_actor(system: str) -> str:
    """How the audit trail and a saved version name a case management system's API calls."""
    return f"api:{system}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.system, row.prefix, row.created_at, row.created_by, row.revoked_at, row.revoked_by)


def create_api_key(runtime: Runtime, system: str, *, actor: str) -> NewApiKey:
    """Make a key for ``system``; ApiKeyError if the system's name is not acceptable."""
    system = system.strip().lower()
    if not SYSTEM_PATTERN.match(system):
        raise ApiKeyError("the system's name must be 2 to 59 lower-case letters, digits, dots, hyphens or "
                          "underscores, starting with a letter or digit (for example 'mosaic' or 'liquidlogic-lcs')")
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        while True:
            key = KEY_START + secrets.token_urlsafe(32)  # 32 bytes: 256 random bits
            prefix = key[:PREFIX_LENGTH]
            if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
                break
        row = ApiKey(system=system, prefix=prefix, key_sha256=_digest(key), created_at=now, created_by=actor)
        session.add(row)
        session.flush()
        append_event(session, at=now, actor=actor, action="api_key_created", subject=system, details={"prefix": prefix})
        return NewApiKey(_info(row), key)


def list_api_keys(runtime: Runtime) -> list[ApiKeyInfo]:
    """Every key ever made, the newest first, revoked ones included (they stay for the record)."""
    with unit_of_work(runtime.sessions) as session:
        return [_info(row) for row in session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))]


def revoke_api_key(runtime: Runtime, prefix: str, *, actor: str) -> ApiKeyInfo:
    """Revoke the key with the visible ``prefix``: from now on it is refused. ApiKeyError if there is
    no such key or it was revoked already."""
    prefix = prefix.strip()
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
        if row is None:
            raise ApiKeyError(f"there is no API key starting {prefix[:PREFIX_LENGTH]!r}; `docgen api-keys list` "
                              "shows the keys")
        if row.revoked_at is not None:
            raise ApiKeyError(f"the API key {row.prefix} of {row.system} was revoked already")
        row.revoked_at, row.revoked_by = now, actor
        append_event(session, at=now, actor=actor, action="api_key_revoked", subject=row.system,
                     details={"prefix": row.prefix})
        return _info(row)


def authenticate(runtime: Runtime, presented: str, *, address: str, settings: WebSettings) -> str:
    """The name of the system whose key ``presented`` is; ApiKeyError if it is not a key in use (the
    message says no more than that, whatever the reason). Failures are counted per address, with the
    staff sign-in failures, and an address with too many in the sign-in window is refused outright
    (ApiKeyThrottled) until the window has passed."""
    now = runtime.clock()
    address = address[:64]
    with unit_of_work(runtime.sessions) as session:
        since = now - timedelta(minutes=settings.sign_in_window_minutes)
        failures = session.scalar(select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.address == address, SignInAttempt.at > since)) or 0
        if failures >= settings.failures_per_address:
            raise ApiKeyThrottled(f"too many calls with a wrong API key from this address; wait "
                                  f"{settings.sign_in_window_minutes} minutes")
        if presented.startswith(KEY_START) and len(presented) <= 200:
            # Looked up by the key's SHA-256, which only someone holding the key can compute.
            row = session.scalar(select(ApiKey).where(ApiKey.key_sha256 == _digest(presented)))
            if row is not None and row.revoked_at is None:
                return row.system
        # Committed before raising, so that the failure counts towards the limit.
        session.add(SignInAttempt(account=FAILED_KEY, address=address, at=now))
    raise ApiKeyError("the API key is missing, unknown or revoked")
