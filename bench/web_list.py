"""Benchmark: the conference list business support opens first, with 1,000 conferences.

Saves CONFERENCES conferences (the example conference under new references, dates spread over a
year, five chairs) and 30 outbox items for each across six circulation rules, serves the web
application on loopback with Cheroot exactly as ``docgen serve`` does, signs in as business support
and times over HTTP, after a warm-up, the first page of GET /conferences (the whole page: the
conferences, the windows of the 50 shown, the template) and the same list filtered by state (which
needs every conference's windows). Target: each under 200 ms (issue 13).

    .venv/bin/python bench/web_list.py                       # SQLite in a temporary file
    .venv/bin/python bench/web_list.py --postgres URL        # PostgreSQL (a scratch schema)
    .venv/bin/python bench/web_list.py --conferences 1000 --runs 20
"""

from __future__ import annotations

import argparse
import copy
import http.cookiejar
import re
import secrets
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bench.dispatch_pass import database
from docgen.adapters.case_store import save_case
from docgen.adapters.casefile import ValidatedCase, load_case_file, validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_outbox import OutboxItemRow, item_values
from docgen.bootstrap import bootstrap
from docgen.configuration.web import WebSettings
from docgen.domain.accounts import Role
from docgen.services.accounts import add_account
from tests.support.browser import start_server

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0
RULES = ("sw-report-to-chair", "sw-report-to-family", "before-conference", "decisions-to-invited",
         "outline-plan-to-invited", "record-to-invitees")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHAIRS = [("david-pryce", "David Pryce"), ("jo-cole", "Jo Cole"), ("amir-shah", "Amir Shah"),
          ("lucy-brennan", "Lucy Brennan"), ("tomas-novak", "Tomas Novak")]


def signed_in(url: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """A client of the served application signed in as ``username``, as a browser would: the sign-in
    form's CSRF token, then the session cookie."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{url}/sign-in").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    opener.open(f"{url}/sign-in", data=urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": token}).encode()).read()
    return opener


def fill(runtime, conferences: int) -> None:  # type: ignore[no-untyped-def]
    base = validate_case(load_case_file(ROOT / "examples" / "haddad-wisniewska.yaml"), source="example")
    rows = []
    with unit_of_work(runtime.sessions) as session:
        for n in range(conferences):
            case = copy.deepcopy(dict(base))
            case["reference"] = f"NM-ICPC-2026-{n:04d}"
            starts = datetime(2026, 6, 1, 10, 0) + timedelta(days=(n * 7) % 365)
            case["conference"]["starts_at"] = starts.isoformat()
            chair_id, chair_name = CHAIRS[n % len(CHAIRS)]
            chair = next(p for p in case["professionals"] if p["id"] == "david-pryce")
            chair["id"], chair["name"] = chair_id, chair_name
            case["conference"]["chair"] = chair_id
            case["plan"]["lead_social_worker"] = "hannah-okafor"
            save_case(session, ValidatedCase(case), saved_by="bench", now=NOW.replace(tzinfo=None))
            for index in range(30):
                deadline = starts.replace(tzinfo=UTC) + timedelta(days=index // 5 - 3)
                values = item_values(conference=case["reference"], rule=RULES[index % len(RULES)],
                                     document="conference_record", copy=f"copy-{index}", recipient=f"p{index}",
                                     recipient_name=f"Person {index}", recipient_address=f"p{index}@agency.example.org",
                                     envelope_from="cp@northmoor.gov.uk", now=NOW - timedelta(days=30), deadline=deadline)
                values.setdefault("sent_at", None)  # every row the same columns, for one multi-row insert
                if deadline < NOW and index % 3:
                    values.update(state="sent", sent_at=deadline - timedelta(hours=2), due_at=None)
                rows.append(values)
    with runtime.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(OutboxItemRow), rows[start:start + 5000])


PAGES = {"the list": "/conferences", "filtered to overdue": "/conferences?state=overdue"}


def time_list(url: str, conferences: int, runs: int) -> dict[str, list[float]]:
    runtime = replace(bootstrap(url), clock=lambda: NOW)
    started = time.perf_counter()
    fill(runtime, conferences)
    print(f"  {conferences} conferences saved with {conferences * 30} outbox items in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    password = secrets.token_urlsafe(16)
    add_account(runtime, "support", display_name="Business support", role=Role.BUSINESS_SUPPORT, password=password,
                actor="bench")
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(runtime, WebSettings(data_folder=Path(folder), workers_beside_server=0),
                              secret_key=secrets.token_urlsafe(48))
        try:
            opener = signed_in(server.url, "support", password)
            timings: dict[str, list[float]] = {}
            for name, path in PAGES.items():
                timings[name] = []
                for run in range(runs + 2):  # two warm-ups
                    start = time.perf_counter()
                    page = opener.open(f"{server.url}{path}").read().decode()
                    elapsed = (time.perf_counter() - start) * 1000
                    if run >= 2:
                        timings[name].append(elapsed)
                if name == "the list":
                    shown = len(re.findall(r'href="/conferences/NM-ICPC-2026-\d{4}"', page))
                    if shown != min(50, conferences) or f"{conferences} conferences" not in page:
                        raise SystemExit(f"the list showed {shown} conferences of {conferences}")
            return timings
        finally:
            server.stop.set()
            server.thread.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conferences", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL database (a scratch schema)")
    args = parser.parse_args()
    for backend, postgres in [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else []):
        print(f"{backend}:", flush=True)
        with database(postgres) as url:
            results = time_list(url, args.conferences, args.runs)
        for name, timings in results.items():
            median, worst = statistics.median(timings), max(timings)
            verdict = "meets" if median < TARGET_MS else "MISSES"
            print(f"  {name} ({PAGES[name]}) with {args.conferences} conferences: median {median:.0f} ms, slowest "
                  f"{worst:.0f} ms over {len(timings)} runs; target under {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
