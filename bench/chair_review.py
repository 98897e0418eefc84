"""Benchmark: the chair opens a ready review of a family copy of the M record (bench/synthetic.py).

Saves the synthetic M conference, makes the review of its first family member's copy as the
background worker does (job kind ``review``: the copy and the chair's review, PDF and HTML), serves
the web application on loopback with Cheroot exactly as ``docgen serve`` does, signs in as the
conference's chair and times over HTTP, after two warm-ups, GET /chair/<reference>/<person>: the
whole page (the review's files read, the disclosure flags checked, the copy and the full record side
by side, the template). Target: under 300 ms (issue 15). Not a timed test: run it by hand.

    .venv/bin/python bench/chair_review.py                       # SQLite in a temporary file
    .venv/bin/python bench/chair_review.py --postgres URL        # also PostgreSQL (a scratch schema)
    .venv/bin/python bench/chair_review.py --runs 20
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import conference
from bench.web_list import database, signed_in
from docgen.adapters.case_store import save_case
from docgen.adapters.database import unit_of_work
from docgen.bootstrap import bootstrap
from docgen.configuration.web import WebSettings
from docgen.domain.accounts import Role
from docgen.domain.documents import plan_copies
from docgen.services.accounts import add_account
from docgen.services.review_jobs import make_review
from tests.support.browser import start_server

TARGET_MS = 300.0
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def time_review(url: str, runs: int) -> tuple[list[float], float, str]:
    """The timings of opening the ready review, the seconds making it took, and what was opened."""
    runtime = replace(bootstrap(url), clock=lambda: NOW)
    case = conference("M")
    with unit_of_work(runtime.sessions) as session:
        save_case(session, case, saved_by="bench", now=NOW.replace(tzinfo=None))
    reference, chair = case["reference"], case["conference"]["chair"]
    person = next(spec.audience.person for spec in plan_copies(case)
                  if spec.audience.is_family_copy and spec.audience.person is not None and spec.kind.key == "conference_record")
    password = secrets.token_urlsafe(16)
    add_account(runtime, "chair", display_name="Chair", role=Role.CHAIR, password=password, professional=chair,
                actor="bench")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        make_review(runtime, Path(folder), reference, person)
        making = time.perf_counter() - started
        server = start_server(runtime, WebSettings(data_folder=Path(folder), workers_beside_server=0),
                              secret_key=secrets.token_urlsafe(48))
        try:
            opener = signed_in(server.url, "chair", password)
            timings = []
            for run in range(runs + 2):  # two warm-ups
                start = time.perf_counter()
                page = opener.open(f"{server.url}/chair/{reference}/{person}").read().decode()
                elapsed = (time.perf_counter() - start) * 1000
                if run >= 2:
                    timings.append(elapsed)
            if "app-side-by-side" not in page:
                raise SystemExit("the review page did not show the ready review")
            return timings, making, f"{person}'s copy of {reference} ({len(page) // 1024} KB of HTML)"
        finally:
            server.stop.set()
            server.thread.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL database (a scratch schema)")
    args = parser.parse_args()
    for backend, postgres in [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else []):
        print(f"{backend}:", flush=True)
        with database(postgres) as url:
            timings, making, what = time_review(url, args.runs)
        median, worst = statistics.median(timings), max(timings)
        verdict = "meets" if median < TARGET_MS else "MISSES"
        print(f"  making the review in the background: {making:.1f} s")
        print(f"  opening the ready review of {what}: median {median:.0f} ms, slowest {worst:.0f} ms over "
              f"{len(timings)} runs; target under {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
