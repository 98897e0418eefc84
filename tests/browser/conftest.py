"""Browser journeys: the application served on loopback on every backend, Debian's Chromium, axe-core."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from docgen.configuration.web import WebSettings
from docgen.entrypoints.demo_notify import FakeNotify
from docgen.services.runtime import Runtime
from tests.support.browser import (
    AXE,
    CHROMIUM,
    AccessibilityLog,
    LiveServer,
    check_accessibility,
    launch_browser,
    start_server,
)
from tests.support.portal import CapturedCodes, NotifyCodes
from tests.support.web import add_accounts


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev test installs Debian's chromium package")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: ./dev test installs the npm packages (npm ci)")
    yield from launch_browser()


@dataclass
class Site:
    """The served application, its runtime, the accounts' passwords and the accessibility log."""

    url: str
    runtime: Runtime
    passwords: dict[str, str]
    accessibility: AccessibilityLog
    browser: Browser
    codes: CapturedCodes  # the recipient portal's one-time codes as sent (through GOV.UK Notify's stand-in)

    def page(self) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900}, base_url=self.url)
        context.set_default_timeout(20_000)
        return context.new_page()

    def sign_in(self, page: Page, username: str) -> None:
        page.goto("/sign-in")
        self.check(page)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(self.passwords[username])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    def check(self, page: Page) -> None:
        check_accessibility(page, self.accessibility)


@pytest.fixture
def site(runtime: Runtime, account_hashes: dict[str, tuple[str, str]], browser: Browser, tmp_path: Path,
         fake_notify: FakeNotify, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The application on the ``runtime`` fixture's database (every backend) with one pack worker beside it,
    and the portal's codes sent through GOV.UK Notify's stand-in (``Site.codes`` reads them)."""
    settings = WebSettings(data_folder=tmp_path / "web", workers_beside_server=1, job_lease_seconds=30)
    passwords = add_accounts(runtime, account_hashes)
    codes = NotifyCodes(fake_notify, tmp_path, monkeypatch)
    server: LiveServer = start_server(runtime, settings, secret_key=secrets.token_urlsafe(48),
                                      portal_code_sender=codes)
    try:
        yield Site(server.url, runtime, passwords, AccessibilityLog(), browser, codes)
    finally:
        server.stop.set()
        server.thread.join(timeout=30)
