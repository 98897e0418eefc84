"""The figures of issue 18 beyond a single pack: the M conference end to end (its pack, then every
copy delivered to every recipient through the outbox folder transport, with their "Copy for" lines,
archive copies and passphrase letters), the pack again after one paragraph of the record is
edited, the chair's review when the worker has made it and when nothing is made, and ``docgen
demo``. Every copy store used here is made for the run in a scratch folder and starts empty.
"""

from __future__ import annotations

import contextlib
import copy as copying
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bench.documents import store as save
from bench.timing import Timing, time_runs
from distribution.demo_pki import create_demo_pki
from distribution.keys import load_signing_identity
from distribution.transports import HandDeliveryTransport, OutboxFolderTransport
from docgen.adapters.casefile import validate_case
from docgen.adapters.copy_store import CopyStore
from docgen.bootstrap import bootstrap
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import config_file
from docgen.domain.authority import Settings
from docgen.domain.documents import documents_date, plan_copies
from docgen.entrypoints.demo import DemoClock, _all_items, _booked_at, _moments, _run_timeline
from docgen.services import approval, copies, risk
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.directory import import_certificate
from docgen.services.dispatch import Dispatcher, DispatchPolicy
from docgen.services.importing import stored_version
from docgen.services.pack import build_pack
from docgen.services.review import preview
from docgen.services.review_jobs import make_review
from docgen.services.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
_PASSPHRASE_ENV = "DOCGEN_BENCH_SIGNING_PASSPHRASE"  # never set: the passphrase comes from the prompt below


@contextmanager
def counting_layouts() -> Iterator[list[int]]:
    """Counts the copies laid out (rendered, not taken from the store or stamped) in this process."""
    counter = [0]
    real = copies.make_copy

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return real(*args, **kwargs)

    copies.make_copy = counted  # type: ignore[assignment]
    try:
        yield counter
    finally:
        copies.make_copy = real  # type: ignore[assignment]


def _approve(runtime: Runtime, case: dict[str, Any], chair: str, review_dir: Path) -> None:
    """The chair opens each family member's review, shares every disclosure flag (the synthetic
    conferences' flags are of fictional people; what is timed is delivery, not judgement) and approves."""
    people = sorted({c.audience.person for c in plan_copies(case) if c.audience.person is not None})
    for person in people:
        shown = preview(runtime, case["reference"], person, actor=chair, chair=chair, out_dir=review_dir)
        for flag in shown.flags:
            if flag.status == "open":
                risk.resolve_flag(runtime, case["reference"], person, flag.key, resolution="share",
                                  reason="Synthetic conference for the benchmark", chair=chair)
        approval.approve(runtime, case["reference"], person, chair=chair, comment="Approved for the benchmark.")


def _one_end_to_end(case: dict[str, Any], folder: Path) -> dict[str, Any]:
    rules = load_rules(config_file("circulation.toml"))
    clock = DemoClock(_booked_at(case, rules))
    runtime = bootstrap(f"sqlite:///{folder / 'e2e.sqlite3'}", clock=clock)
    try:
        runtime.copies = CopyStore(folder / "approval-store")
        save(runtime, case)
        reference, chair = case["reference"], case["conference"]["chair"]
        passphrase = secrets.token_urlsafe(24)
        professionals = list({p["email"]: (p["name"], p["email"]) for p in case["professionals"]}.values())
        pki = create_demo_pki(folder / "keys", at=clock.now, signing_passphrase=passphrase,
                              authority_email=runtime.settings.authority.email, recipients=professionals)
        for person in case["professionals"]:
            import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                               ca_certificates=[pki.ca.certificate])
        # The chair's approvals are a person's work, done before and not timed, with their own store.
        with tempfile.TemporaryDirectory(prefix="bench-review-") as review_dir:
            _approve(runtime, case, chair, Path(review_dir))
        version = stored_version(runtime, reference)
        final = dict(version.case)
        runtime.copies = CopyStore(folder / "store")  # the timed part starts from nothing
        # Business support makes the pack once everything is known (after the conference) and the
        # scheduler sends every item; each copy is dated the day its content was saved, so the copies
        # sent are the copies the pack made.
        clock.now = _moments([final], [], after=clock.now)[-1]
        sender = runtime.settings.authority.email
        messages = DocumentMessages(DeliveryContext(
            runtime=runtime, signer=load_signing_identity(pki.signing_p12_path, passphrase_env=_PASSPHRASE_ENV,
                                                          prompt=lambda _: passphrase),
            archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate],
            folder=folder / "delivery", sender_address=sender))
        (folder / "outbox").mkdir()
        dispatcher = Dispatcher(
            runtime.sessions, OutboxFolderTransport(folder / "outbox", clock=clock), build_message=messages.build,
            approval_gate=messages.approval_gate, on_sent=messages.record_sent,
            hand_delivery=HandDeliveryTransport(folder / "delivery" / "for-hand-delivery", clock=clock),
            policy=DispatchPolicy(envelope_from=sender, business_support_address=sender, calendar=rules.calendar,
                                  zone=rules.zone),
            clock=clock)
        counts: dict[str, int] = {}
        with counting_layouts() as laid_out:
            started = time.perf_counter()
            # Dated as the pack job dates it: the day this version of the content was saved.
            artifacts = build_pack(final, runtime.settings, folder / "pack", generated_on=documents_date(version.saved_at),
                                   store=runtime.copies, counts=counts)
            packed = time.perf_counter()
            if os.environ.get("DOCGEN_BENCH_PROFILE"):
                import cProfile
                cProfile.runctx("_run_timeline(runtime, clock, rules, [final], dispatcher)", globals(), locals(),
                                os.environ["DOCGEN_BENCH_PROFILE"])
            else:
                with contextlib.redirect_stdout(io.StringIO()):  # the dispatcher's notices to business support
                    _run_timeline(runtime, clock, rules, [final], dispatcher)
            delivered = time.perf_counter()
        items = _all_items(runtime)
        sent = [item for item in items if item.state == "sent"]
        return {"pack_s": packed - started, "delivery_s": delivered - packed, "total_s": delivered - started,
                "files": len(artifacts), "items": len(items), "sent": len(sent),
                "by_hand": sum(1 for item in sent if not item.recipient_address),
                "letters": len(list((folder / "delivery" / "letters").glob("*.pdf"))),
                "archived": len(list((folder / "delivery" / "archive").glob("*.p7m"))),
                "laid_out_in_pack": counts.get("made", 0), "laid_out_in_delivery": laid_out[0],
                "delivery_days": len({item.sent_at.date() for item in sent if item.sent_at is not None})}
    finally:
        runtime.engine.dispose()


def end_to_end(case: dict[str, Any], folder: Path, *, runs: int) -> dict[str, Any]:
    """The conference from nothing to every copy sent, ``runs`` times, each in a new folder."""
    results = []
    for run in range(runs):
        where = folder / f"e2e-{run}"
        where.mkdir(parents=True)
        results.append(_one_end_to_end(case, where))
        shutil.rmtree(where)
    last = results[-1]
    return {**{key: value for key, value in last.items() if not key.endswith("_s")},
            "total": Timing(tuple(r["total_s"] for r in results)).as_json(),
            "pack": Timing(tuple(r["pack_s"] for r in results)).as_json(),
            "delivery": Timing(tuple(r["delivery_s"] for r in results)).as_json()}


def shown_paragraph(case: dict[str, Any]) -> tuple[int, int]:
    """The first paragraph of the record every reader sees (a section and an item marked for no one)."""
    for s, section in enumerate(case["record"]["sections"]):
        if section.get("withheld_from") or section.get("confidentiality") == "confidential":
            continue
        for i, item in enumerate(section["items"]):
            if "text" in item and not item.get("withheld_from") and item.get("confidentiality") != "confidential":
                return s, i
    raise ValueError("the record has no paragraph every reader sees")


def regeneration(case: dict[str, Any], settings: Settings, folder: Path, *, runs: int,
                 generated_on: date) -> dict[str, Any]:
    """The pack made again after one paragraph of the record is edited, with the store the first
    pack filled; each run edits the paragraph again (a new sentence), so each is a real change."""
    store = CopyStore(folder / "store")
    build_pack(case, settings, folder / "first", generated_on=generated_on, store=store)
    section, item = shown_paragraph(case)
    counts: dict[str, int] = {}
    current = case

    def edit_and_pack(run: list[int] = [0]) -> None:  # noqa: B006 - a counter kept between calls
        nonlocal current, counts
        run[0] += 1
        edited = copying.deepcopy(current)
        edited["record"]["sections"][section]["items"][item]["text"] += f" It was discussed again ({run[0]})."
        current = validate_case(edited, source="bench edit")
        counts = {}
        build_pack(current, settings, folder / f"edit-{run[0]}", generated_on=generated_on, store=store, counts=counts)

    timing = time_runs(edit_and_pack, runs=runs)
    return {"timing": timing.as_json(), "made": counts.get("made", 0), "reused": counts.get("reused", 0)}


def review_figures(case: dict[str, Any], folder: Path, *, person: str, runs: int) -> dict[str, Any]:
    """The chair's review of ``person``'s copy: opened ready (the worker made it; ``docgen preview``
    then lays nothing out) and cold (nothing made; a new empty store for every run)."""
    runtime = bootstrap(f"sqlite:///{folder / 'review.sqlite3'}")
    try:
        runtime.copies = None
        save(runtime, case)
        reference, chair = case["reference"], case["conference"]["chair"]
        made_in = [0]

        def cold() -> None:
            made_in[0] += 1
            runtime.copies = CopyStore(folder / f"cold-{made_in[0]}")
            preview(runtime, reference, person, actor=chair, out_dir=folder / "out")

        cold_timing = time_runs(cold, runs=runs, warmups=1)
        runtime.copies = CopyStore(folder / "worker-store")
        started = time.perf_counter()
        make_review(runtime, folder / "web", reference, person)  # what the worker does when the content changes
        background = time.perf_counter() - started
        ready = time_runs(lambda: preview(runtime, reference, person, actor=chair, out_dir=folder / "out"),
                          runs=runs, warmups=1)
        return {"ready": ready.as_json(), "cold": cold_timing.as_json(), "made_in_background_s": background}
    finally:
        runtime.engine.dispose()


def recipient_invitation(case: dict[str, Any], settings: Settings, *, runs: int, generated_on: date,
                         folder: Path) -> dict[str, Any]:
    """A professional invitation as delivery makes it for its recipient, warm: the audience's copy
    from the store, the recipient's line stamped on it and the stamped bytes gated."""
    from docgen.domain.documents import plan_copies
    from docgen.domain.views import build_case_view

    spec = next(c for c in plan_copies(case) if c.kind.key == "professional_invitation")
    view = build_case_view(case)
    store = CopyStore(folder / "store")
    line = f"Copy for: A Recipient, An Agency, {generated_on.day} {generated_on:%B %Y}"

    def make() -> Any:
        base = copies.audience_copy(store, spec, view, settings, generated_on=generated_on, fmt="pdf")
        return copies.stamped_copy(base, view, settings, recipient_line=line)

    return {"timing": time_runs(make, runs=runs, warmups=2).as_json()}


def demo(runs: int, folder: Path) -> dict[str, Any]:
    """``docgen demo`` as ``./dev demo`` runs it (set-up done), in a new process each run."""
    def run() -> None:
        out = folder / "demo"
        subprocess.run([sys.executable, "-m", "docgen.entrypoints.cli", "demo", "--out", str(out)], cwd=ROOT, check=True,
                       capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {"timing": time_runs(run, runs=runs).as_json()}
