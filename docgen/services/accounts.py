"""Staff accounts, sign-in and signed-in sessions.

Identity is behind :class:`IdentityProvider`: this module's password sign-in is one provider; an
authority's single sign-on (OpenID Connect, for example Entra ID) is another, which verifies the
person its own way and then calls :func:`start_session` with the username it found. Roles, the
session and every page stay the same whichever provider signed the person in.

Every sign-in, refusal, sign-out and account change is recorded in the audit trail, with no
password and no session token in it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import append_event
from docgen.adapters.orm_web import SignInAttempt, StaffSession, StaffUser
from docgen.adapters.passwords import hash_password, needs_rehash, verify_password
from docgen.configuration.web import WebSettings
from docgen.domain.accounts import MINIMUM_PASSWORD_LENGTH, USERNAME_PATTERN, Role
from docgen.errors import AccountError, NotFoundError, SignInRefused
from docgen.services.runtime import Runtime

__all__ = ["Account", "IdentityProvider", "PasswordSignIn", "add_account", "change_account", "list_accounts",
           "session_account", "sign_out", "start_session"]


@dataclass(frozen=True)
class Account:
    """A staff account as the application sees it: never its password hash."""

    id: int
    username: str
    display_name: str
    role: Role
    professional: str | None
    active: bool

    @property
    def actor(self) -> str:
        """How the audit trail names this person."""
        return self.username


def _account(row: StaffUser) -> Account:
    return Account(row.id, row.username, row.display_name, Role(row.role), row.professional, row.active)


def _check_password(password: str) -> None:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MINIMUM_PASSWORD_LENGTH} characters long")
    if len(password) > 256:
        raise AccountError("the password must be at most 256 characters long")


def add_account(runtime: Runtime, username: str, *, display_name: str, role: Role | str, password: str,
                professional: str | None = None, actor: str) -> Account:
    """Create an account; AccountError says what is wrong with the request."""
    username = username.strip().lower()
    if not re.match(USERNAME_PATTERN, username):
        raise AccountError("the username must be 2 to 63 lower-case letters, digits, dots, hyphens or underscores, "
                           "starting with a letter or digit")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"the role must be one of: {', '.join(r.value for r in Role)}") from None
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise AccountError("the name must be given, and at most 200 characters long")
    if role is Role.CHAIR and not (professional or "").strip():
        raise AccountError("a chair's account needs their professional id, as case files name the chair")
    _check_password(password)
    with unit_of_work(runtime.sessions) as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
            raise AccountError(f"there is already an account with the username {username!r}")
        row = StaffUser(username=username, display_name=display_name, role=role.value,
                        professional=(professional or "").strip() or None, password_hash=hash_password(password),
                        active=True, created_at=runtime.clock(), created_by=actor)
        session.add(row)
        session.flush()
        append_event(session, at=runtime.clock(), actor=actor, action="account_added", subject=username,
                     details={"role": role.value, "professional": row.professional})
        return _account(row)


def list_accounts(runtime: Runtime) -> list[Account]:
    with unit_of_work(runtime.sessions) as session:
        return [_account(row) for row in session.scalars(select(StaffUser).order_by(StaffUser.username))]


def get_account(runtime: Runtime, account_id: int) -> Account:
    with unit_of_work(runtime.sessions) as session:
        row = session.get(StaffUser, account_id)
        if row is None:
            raise NotFoundError(f"there is no account {account_id}")
        return _account(row)


def change_account(runtime: Runtime, account_id: int, *, actor: str, role: Role | str | None = None,
                   active: bool | None = None, password: str | None = None, professional: str | None = None) -> Account:
    """Change an account's role, whether it may sign in, or its password; disabling it or changing its
    password ends its sessions. An administrator cannot disable their own account or take away their own role."""
    with unit_of_work(runtime.sessions) as session:
        row = session.get(StaffUser, account_id)
        if row is None:
            raise NotFoundError(f"there is no account {account_id}")
        changes: dict[str, object] = {}
        if role is not None:
            try:
                new_role = Role(role)
            except ValueError:
                raise AccountError(f"the role must be one of: {', '.join(r.value for r in Role)}") from None
            if row.username == actor and new_role is not Role(row.role):
                raise AccountError("you cannot change your own role; ask another administrator")
            if new_role is Role.CHAIR and not (professional or row.professional):
                raise AccountError("a chair's account needs their professional id, as case files name the chair")
            row.role, changes["role"] = new_role.value, new_role.value
        if professional is not None:
            row.professional, changes["professional"] = professional.strip() or None, professional.strip() or None
        if active is not None and active != row.active:
            if row.username == actor and not active:
                raise AccountError("you cannot disable your own account")
            row.active, changes["active"] = active, active
        if password is not None:
            _check_password(password)
            row.password_hash, changes["password"] = hash_password(password), "changed"
        if not changes:
            return _account(row)
        if "password" in changes or changes.get("active") is False:
            session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        append_event(session, at=runtime.clock(), actor=actor, action="account_changed", subject=row.username,
                     details=changes)
        return _account(row)


# -- sign-in ---------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(runtime: Runtime, username: str, *, address: str, how: str) -> tuple[str, Account]:
    """Start a session for an account an identity provider has verified; returns the token for the
    cookie (only its SHA-256 is stored) and the account. Refused for an unknown or disabled account."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        row = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if row is None or not row.active:
            raise SignInRefused("the account cannot sign in")
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(token_sha256=_token_hash(token), user_id=row.id, started_at=now, last_seen_at=now))
        append_event(session, at=now, actor=row.username, action="signed_in", subject=row.username,
                     details={"how": how, "address": address[:64]})
        return token, _account(row)


def session_account(runtime: Runtime, token: str, settings: WebSettings) -> Account | None:
    """The account a session token belongs to, or None if it is unknown, idle too long, too old or its
    account disabled (an expired session is removed). Each use moves its idle time on."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        row = session.get(StaffSession, _token_hash(token))
        if row is None:
            return None
        user = session.get(StaffUser, row.user_id)
        expired = (now - row.last_seen_at > timedelta(minutes=settings.idle_timeout_minutes)
                   or now - row.started_at > timedelta(hours=settings.session_lifetime_hours))
        if user is None or not user.active or expired:
            session.delete(row)
            return None
        if now - row.last_seen_at > timedelta(seconds=30):  # fewer writes; idle time is measured in minutes
            row.last_seen_at = now
        return _account(user)


def sign_out(runtime: Runtime, token: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        row = session.get(StaffSession, _token_hash(token))
        if row is None:
            return
        user = session.get(StaffUser, row.user_id)
        session.delete(row)
        append_event(session, at=runtime.clock(), actor=user.username if user else "unknown", action="signed_out",
                     subject=user.username if user else None)


class IdentityProvider(ABC):
    """Verifies who someone is; the application then starts a session for the account it names."""

    name: str

    @abstractmethod
    def sign_in(self, runtime: Runtime, credentials: dict[str, str], *, address: str) -> tuple[str, Account]:
        """Verify ``credentials`` and start a session; SignInRefused otherwise."""


class PasswordSignIn(IdentityProvider):
    """Username and password, checked against the Argon2id hash, throttled per account and per address."""

    name = "password"

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings

    def sign_in(self, runtime: Runtime, credentials: dict[str, str], *, address: str) -> tuple[str, Account]:
        username = credentials.get("username", "").strip().lower()[:64]
        password = credentials.get("password", "")
        now = runtime.clock()
        with unit_of_work(runtime.sessions) as session:
            self._refuse_if_throttled(session, username, address, now)
            row = session.scalar(select(StaffUser).where(StaffUser.username == username)) if username else None
            matched = verify_password(row.password_hash if row else None, password[:256])
            if not matched or row is None or not row.active:
                session.add(SignInAttempt(account=username or "-", address=address[:64], at=now))
                append_event(session, at=now, actor=username or "-", action="sign_in_refused", subject=username or None,
                             details={"address": address[:64]})
                refused = True
            else:
                refused = False
                if row.password_hash and needs_rehash(row.password_hash):
                    row.password_hash = hash_password(password)
        if refused:
            # Committed above before raising, so the failure counts towards the throttle.
            raise SignInRefused("The username or password is not right, or the account is disabled. "
                                "Check them and try again, or ask an administrator.")
        return start_session(runtime, username, address=address, how=self.name)

    def _refuse_if_throttled(self, session: Session, username: str, address: str, now: datetime) -> None:
        since = now - timedelta(minutes=self.settings.sign_in_window_minutes)
        by_account = session.scalar(select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.account == (username or "-"), SignInAttempt.at > since)) or 0
        by_address = session.scalar(select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.address == address[:64], SignInAttempt.at > since)) or 0
        if by_account >= self.settings.failures_per_account or by_address >= self.settings.failures_per_address:
            raise SignInRefused(f"Too many attempts to sign in. Wait {self.settings.sign_in_window_minutes} minutes "
                                "and try again, or ask an administrator to reset your password.")
