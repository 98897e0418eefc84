"""The real application in a real browser: the server on loopback in a thread (with its pack worker), Debian's
Chromium driven by Playwright, and axe-core (from npm) run on every page a journey visits."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from docgen.configuration.web import WebSettings
from docgen.entrypoints.web.serve import Listen, serve
from docgen.services.portal import CodeSender
from docgen.services.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Without the background-networking switches Chromium tries to reach Google's hosts; traffic stays on loopback.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-default-apps"]
#: The axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    """The application served on loopback, and a way to stop it."""

    url: str
    stop: threading.Event
    thread: threading.Thread


def start_server(runtime: Runtime, settings: WebSettings, *, secret_key: str,
                 portal_code_sender: CodeSender | None = None) -> LiveServer:
    port = free_port()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=serve, args=(runtime, settings, Listen("127.0.0.1", port)),
                              kwargs={"secret_key": secret_key, "ready": ready, "stop": stop,
                                      "portal_code_sender": portal_code_sender}, daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the web application did not start within 30 seconds")
    return LiveServer(f"http://127.0.0.1:{port}", stop, thread)


@dataclass
class AccessibilityLog:
    """Every page checked in a journey, and the violations axe-core found on each."""

    checked: list[str] = field(default_factory=list)
    violations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def check_accessibility(page: Page, log: AccessibilityLog | None = None) -> None:
    """Run axe-core on the page as it is now, for WCAG 2.2 A and AA; fail listing each violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as strict as served.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("options => window.axe.run(document, options)",
                           {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
    violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "targets": [node["target"] for node in v["nodes"]][:5]} for v in result["violations"]]
    if log is not None:
        log.checked.append(page.url)
        if violations:
            log.violations[page.url] = violations
    assert not violations, f"axe-core found accessibility problems on {page.url}:\n" + json.dumps(violations, indent=2)


def launch_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
