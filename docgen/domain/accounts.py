"""Staff roles and what each may do: the one table every screen, API call and command is checked against.

A role is what a person does in the conference service, not a level: an administrator manages
accounts and sees no case content; a chair sees the conferences they chair; business support
books, edits, generates and sends; a manager oversees every conference and its outbox.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    BUSINESS_SUPPORT = "business_support"
    CHAIR = "chair"
    MANAGER = "manager"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.BUSINESS_SUPPORT: "Business support",
    Role.CHAIR: "Conference chair",
    Role.MANAGER: "Manager",
    Role.ADMINISTRATOR: "Administrator",
}


class Permission(StrEnum):
    VIEW_CONFERENCES = "view_conferences"
    EDIT_CONFERENCES = "edit_conferences"
    GENERATE_PACKS = "generate_packs"
    MANAGE_OUTBOX = "manage_outbox"
    MANAGE_RECIPIENTS = "manage_recipients"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_API_KEYS = "manage_api_keys"
    REVIEW_FAMILY_COPIES = "review_family_copies"  # the chair's review, approval, return, report sharing
    ANSWER_RETURNS = "answer_returns"  # business support answers a chair's comments on a returned copy
    REASSIGN_CHAIR = "reassign_chair"  # a manager gives a conference another chair


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.BUSINESS_SUPPORT: frozenset({
        Permission.VIEW_CONFERENCES, Permission.EDIT_CONFERENCES, Permission.GENERATE_PACKS,
        Permission.MANAGE_OUTBOX, Permission.MANAGE_RECIPIENTS, Permission.ANSWER_RETURNS}),
    Role.CHAIR: frozenset({Permission.VIEW_CONFERENCES, Permission.REVIEW_FAMILY_COPIES}),
    Role.MANAGER: frozenset({Permission.VIEW_CONFERENCES, Permission.MANAGE_OUTBOX, Permission.REASSIGN_CHAIR}),
    Role.ADMINISTRATOR: frozenset({Permission.MANAGE_ACCOUNTS, Permission.MANAGE_API_KEYS}),
}


def may(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``; an unknown role holds nothing."""
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False


def sees_every_conference(role: Role | str) -> bool:
    """A chair sees only the conferences they chair; business support and managers see them all."""
    return Role(role) in {Role.BUSINESS_SUPPORT, Role.MANAGER}


# Usernames are short, lower-case and safe to show and log: letters, digits, dot, hyphen, underscore.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,62}$"
MINIMUM_PASSWORD_LENGTH = 12  # NCSC and OWASP: length over composition rules
