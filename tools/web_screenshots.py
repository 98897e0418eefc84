"""Screenshots of the web application's main screens for the documentation (docs/images/web-*.png),
business support's and the chair's.

Runs what `./dev serve` runs (a new demo database in a temporary folder, an account for each role
with a password made up for this run), drives Debian's Chromium through Playwright, and writes one
PNG per screen. Run from the repository root after ./dev test has installed the browser:

    .venv/bin/python tools/web_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright

from docgen.bootstrap import bootstrap
from docgen.configuration.web import load_web_settings
from docgen.entrypoints.web.demo_serve import prepare_demo
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, start_server

REFERENCE = "NM-ICPC-2026-0147"


def shoot(page: Page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"web-{name}.png"), full_page=True)
    print(f"  {out / f'web-{name}.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url, accounts = prepare_demo(Path(folder) / "demo")
        passwords = {username: password for username, password, _ in accounts}
        runtime = bootstrap(url)
        settings = replace(load_web_settings(), data_folder=Path(folder) / "web")
        server = start_server(runtime, settings, secret_key="screenshots-" + "x" * 40)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1100, "height": 800}, base_url=server.url).new_page()
                page.goto("/sign-in")
                shoot(page, args.out, "sign-in")
                page.get_by_label("Username").fill("support")
                page.get_by_label("Password", exact=True).fill(passwords["support"])
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/conferences")
                shoot(page, args.out, "conferences")
                page.goto(f"/conferences/{REFERENCE}")
                shoot(page, args.out, "overview")
                page.goto(f"/conferences/{REFERENCE}/pack")
                page.get_by_label("Word (DOCX)").uncheck()
                page.get_by_role("button", name="Generate the pack").click()
                page.get_by_text(re.compile(r"\d+ of \d+ copies made")).first.wait_for(timeout=120_000)
                shoot(page, args.out, "pack-progress")
                page.get_by_role("heading", name="Files of the pack").wait_for(timeout=300_000)
                page.wait_for_load_state("networkidle")  # the page reloads itself once the pack is done
                shoot(page, args.out, "pack-done")
                page.goto(f"/conferences/{REFERENCE}/outbox")
                shoot(page, args.out, "outbox")
                page.goto(f"/conferences/{REFERENCE}/recipients")
                shoot(page, args.out, "recipients")
                page.goto("/conferences/new")
                page.get_by_role("button", name="Book conference").click()
                shoot(page, args.out, "booking-errors")
                chair = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url).new_page()
                chair.goto("/sign-in")
                chair.get_by_label("Username").fill("chair")
                chair.get_by_label("Password", exact=True).fill(passwords["chair"])
                chair.get_by_role("button", name="Sign in").click()
                chair.goto("/chair")  # asks for the reviews not yet made; the worker makes them
                shoot(chair, args.out, "chair-queue")
                chair.get_by_role("link", name=re.compile(rf"^Review Karim Haddad's copy\s+of {REFERENCE}")).click()
                chair.get_by_role("heading", name=re.compile("copy of the record")).wait_for(timeout=120_000)
                chair.set_viewport_size({"width": 1280, "height": 1400})
                chair.screenshot(path=str(args.out / "web-chair-review.png"))  # the top: hashes, flags, withheld
                box = chair.locator(".app-side-by-side").bounding_box()
                assert box is not None
                chair.screenshot(path=str(args.out / "web-chair-side-by-side.png"), full_page=True,
                                 clip={"x": box["x"] - 10, "y": box["y"] - 60, "width": box["width"] + 20,
                                       "height": min(box["height"], 1600) + 60})
                for name in ("chair-review", "chair-side-by-side"):
                    print(f"  {args.out / f'web-{name}.png'}")
                browser.close()
        finally:
            server.stop.set()
            server.thread.join(timeout=30)
            time.sleep(0.2)


if __name__ == "__main__":
    main()
