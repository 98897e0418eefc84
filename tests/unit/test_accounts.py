"""Roles and permissions (a named case each), and the web application's settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.configuration.web import WebSettings, load_web_settings
from docgen.domain.accounts import Permission, Role, may, sees_every_conference
from docgen.errors import ConfigurationError

CASES = [
    ("business support edits conferences", Role.BUSINESS_SUPPORT, Permission.EDIT_CONFERENCES, True),
    ("business support generates packs", Role.BUSINESS_SUPPORT, Permission.GENERATE_PACKS, True),
    ("business support manages no accounts", Role.BUSINESS_SUPPORT, Permission.MANAGE_ACCOUNTS, False),
    ("a chair views conferences", Role.CHAIR, Permission.VIEW_CONFERENCES, True),
    ("a chair does not edit them", Role.CHAIR, Permission.EDIT_CONFERENCES, False),
    ("a chair does not resend or cancel", Role.CHAIR, Permission.MANAGE_OUTBOX, False),
    ("a chair reviews family copies", Role.CHAIR, Permission.REVIEW_FAMILY_COPIES, True),
    ("business support does not review family copies", Role.BUSINESS_SUPPORT, Permission.REVIEW_FAMILY_COPIES, False),
    ("a manager does not review family copies", Role.MANAGER, Permission.REVIEW_FAMILY_COPIES, False),
    ("business support answers a returned copy", Role.BUSINESS_SUPPORT, Permission.ANSWER_RETURNS, True),
    ("a chair does not answer their own return", Role.CHAIR, Permission.ANSWER_RETURNS, False),
    ("a manager reassigns a conference's chair", Role.MANAGER, Permission.REASSIGN_CHAIR, True),
    ("business support does not reassign the chair", Role.BUSINESS_SUPPORT, Permission.REASSIGN_CHAIR, False),
    ("a chair does not reassign the chair", Role.CHAIR, Permission.REASSIGN_CHAIR, False),
    ("a manager resends and cancels", Role.MANAGER, Permission.MANAGE_OUTBOX, True),
    ("a manager does not edit", Role.MANAGER, Permission.EDIT_CONFERENCES, False),
    ("an administrator manages accounts", Role.ADMINISTRATOR, Permission.MANAGE_ACCOUNTS, True),
    ("an administrator manages API keys", Role.ADMINISTRATOR, Permission.MANAGE_API_KEYS, True),
    ("an administrator sees no case content", Role.ADMINISTRATOR, Permission.VIEW_CONFERENCES, False),
    ("an unknown role holds nothing", "superuser", Permission.VIEW_CONFERENCES, False),
]


@pytest.mark.parametrize(("role", "permission", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_may(role: Role | str, permission: Permission, expected: bool) -> None:
    assert may(role, permission) is expected


def test_only_chairs_are_limited_to_their_own_conferences() -> None:
    assert [role for role in Role if not sees_every_conference(role)] == [Role.CHAIR, Role.ADMINISTRATOR]


def test_the_shipped_web_settings_are_the_defaults() -> None:
    assert load_web_settings() == WebSettings()


def test_the_web_settings_file_is_strict(tmp_path: Path) -> None:
    (tmp_path / "web.toml").write_text("idle_timeout_minutes = 0\nidle_timout = 5\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_web_settings(tmp_path)
    message = str(refused.value)
    assert "idle_timeout_minutes" in message and "idle_timout: unknown key" in message
