"""The benchmark command: ``./dev bench [options]`` (or ``.venv/bin/python -m bench``).

Generates synthetic conferences in three sizes and times, after a warm-up, what users wait for:
the whole pack of each size (every document in PDF and DOCX, family copies redacted and verified,
then every PDF sealed for its recipients), a one-page invitation rendered warm, the chair's preview
of a family copy of the M record, memory over many consecutive M packs, one dispatch pass with
100,000 open outbox rows of which 100 are due, and the LibreOffice baseline. Prints a table with
each figure beside its target, and writes the same results as JSON with ``--json PATH``.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import baseline, documents, endtoend, memory
from bench.packs import Keys, make_keys, make_pack
from bench.report import render
from bench.synthetic import conference
from bench.timing import Timing
from docgen.adapters.copy_store import CopyStore
from docgen.configuration.authority import load_settings
from docgen.domain.authority import Settings
from docgen.domain.documents import plan_copies

ROOT = Path(__file__).resolve().parent.parent
GENERATED_ON = date(2026, 11, 20)
SIZES = ("S", "M", "L")

# Run counts: (full run, --quick, what is counted). A figure's runs come after its warm-up.
RUNS = {
    "runs": (5, 1, "timed packs of sizes S and M"),
    "large_runs": (3, 1, "timed packs of size L"),
    "invitation_runs": (30, 10, "timed renders of each invitation"),
    "preview_runs": (10, 3, "timed chair's previews"),
    "memory_packs": (100, 12, "consecutive M packs in the memory process"),
    "dispatch_runs": (7, 3, "timed dispatch passes"),
    "baseline_runs": (2, 1, "LibreOffice runs"),
    "end_to_end_runs": (3, 1, "M conferences from nothing to every copy sent"),
    "regeneration_runs": (5, 3, "M packs after a one-paragraph edit"),
    "demo_runs": (2, 1, "docgen demo runs"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./dev bench", description="Time what people wait for, in three sizes of "
                                     "conference, and print each figure beside its target (docs/performance.md).",
                                     epilog="Run counts default to the full run; --quick lowers every one that "
                                            "is not given explicitly. See docs/performance.md.")
    parser.add_argument("--quick", action="store_true", help="one run of each pack, 12 packs for memory, and so on")
    parser.add_argument("--sizes", default=",".join(SIZES), help="which pack sizes to time (default S,M,L)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic conferences (default 0)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    for name, (full, quick, counted) in RUNS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, metavar="N",
                            help=f"{counted} (default {full}, with --quick {quick})")
    parser.add_argument("--dispatch-open", type=int, default=100_000, metavar="N", help="open outbox rows (default 100000)")
    parser.add_argument("--dispatch-due", type=int, default=100, metavar="N", help="of which due now (default 100)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    parser.add_argument("--no-dispatch", action="store_true", help="skip the dispatch pass")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LibreOffice baseline")
    parser.add_argument("--no-demo", action="store_true", help="skip timing docgen demo")
    args = parser.parse_args(argv)
    for name, (full, quick, _) in RUNS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    args.sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if not args.sizes or set(args.sizes) - set(SIZES):
        parser.error("--sizes takes a comma-separated list of S, M and L")
    return args


def progress(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine(libreoffice: str | None) -> dict[str, Any]:
    import weasyprint

    # A copy made with `git archive` has no .git: DOCGEN_BENCH_COMMIT then says what it is a copy of.
    commit = os.environ.get("DOCGEN_BENCH_COMMIT", "")
    if not commit:
        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                    timeout=30).stdout.strip() or "unknown"
        except OSError:
            commit = "unknown"
    return {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "platform": platform.platform(),
            "python": platform.python_version(), "weasyprint": weasyprint.__version__, "libreoffice": libreoffice,
            "commit": commit, "load_before": list(os.getloadavg())}


def describe(case: dict[str, Any]) -> dict[str, Any]:
    return {"reference": case["reference"], "children": len(case["children"]), "invitees": len(case["invitations"]),
            "agency_reports": sum(r["kind"] == "agency" for r in case["reports"]), "documents": len(plan_copies(case))}


def time_packs(case: dict[str, Any], settings: Settings, keys: Keys, folder: Path, runs: int) -> dict[str, Any]:
    """Make the pack ``runs`` times, each into a new folder removed afterwards, cold: each with a
    new, empty copy store (so every copy is laid out, and kept)."""
    totals, builds, seals = [], [], []
    figures = None
    for run in range(runs):
        out_dir = folder / f"{case['reference']}-{run}"
        started = time.perf_counter()
        figures = make_pack(case, settings, keys, out_dir, generated_on=GENERATED_ON,
                            store=CopyStore(folder / f"store-{case['reference']}-{run}"))
        totals.append(time.perf_counter() - started)
        builds.append(figures.build_s)
        seals.append(figures.seal_s)
        shutil.rmtree(out_dir)
    assert figures is not None
    return {"files": figures.files, "sealed_messages": figures.sealed_messages,
            "protected_copies": figures.protected_copies,
            "record_pages": figures.pages_of("conference_record--professional"),
            "social_worker_report_pages": figures.pages_of("social_worker_report--sw-report--professional"),
            "total": Timing(tuple(totals)).as_json(), "build": Timing(tuple(builds)).as_json(),
            "seal": Timing(tuple(seals)).as_json()}


def dispatch(open_rows: int, due_rows: int, runs: int) -> dict[str, Any]:
    """One dispatch pass, timed by bench/dispatch_pass.py; its first pass is the warm-up."""
    from bench import dispatch_pass  # imported only when used: it puts the repository on sys.path

    with dispatch_pass.database(None) as url:
        timings, statements, _ = dispatch_pass.bench(url, open_rows, due_rows, runs + 1)
    return {"backend": "sqlite", "open": open_rows, "due": due_rows, "statements": statements,
            "timing": Timing(tuple(timings[1:])).as_json()}


def invitations(case: dict[str, Any], settings: Settings, runs: int) -> dict[str, Any]:
    figures = {}
    for kind in ("professional_invitation", "parent_invitation"):
        result = documents.invitation(case, settings, kind=kind, runs=runs, generated_on=GENERATED_ON)
        figures[kind] = {"pages": result.pages, "timing": result.timing.as_json()}
    return figures


def chair_preview(case: dict[str, Any], folder: Path, runs: int) -> dict[str, Any]:
    """The chair previews the father's copy: the family copy with the most withheld from it."""
    father = next(m["id"] for m in case["family"] if m["relationship"] == "father")
    folder.mkdir()
    result = documents.chair_preview(case, folder, person=father, runs=runs)
    return {"person": "the father", "person_id": father, "copy_pages": result.copy_pages,
            "review_pages": result.review_pages, "withheld_items": result.withheld_items,
            "preview": result.preview.as_json(), "family_copy": result.family_copy.as_json()}


def libreoffice(program: str, case: dict[str, Any], settings: Settings, runs: int) -> tuple[dict[str, Any], str]:
    """The baseline's figures, and a note on what is not counted in them."""
    result = baseline.measure(program, case, settings, runs=runs, generated_on=GENERATED_ON)
    figures = {"size": "M", "documents": result.documents, "fill": result.fill.as_json(), "each": result.each.as_json(),
               "batch": result.batch.as_json(), "first_start_s": list(result.first_start_s),
               "record_pages": result.record_pages, "total_each_s": result.total_each(),
               "total_batch_s": result.total_batch()}
    starts = ", ".join(f"{seconds:.1f} s" for seconds in result.first_start_s)
    note = (f"LibreOffice makes {result.record_pages} pages of the M record's DOCX; the first start with each run's "
            f"fresh profile took {starts} (not counted)")
    return figures, note


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    soffice = None if args.no_baseline else baseline.soffice()
    if not args.no_baseline and soffice is None:
        sys.exit("bench: LibreOffice (soffice) is not installed; run ./dev bench, which installs it, or give --no-baseline")
    results: dict[str, Any] = {
        "started_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "seed": args.seed,
        "machine": machine(baseline.version(soffice) if soffice else None),
        "settings": {name: getattr(args, name) for name in RUNS} | {"quick": args.quick, "sizes": args.sizes},
        "cases": {}, "packs": {}, "notes": []}
    settings = load_settings()
    cases = {size: conference(size, args.seed) for size in SIZES}
    for size in args.sizes:
        results["cases"][size] = describe(cases[size])

    with tempfile.TemporaryDirectory(prefix="docgen-bench-") as scratch:
        work = Path(scratch)
        progress("making keys and certificates for every professional")
        keys = make_keys(list(cases.values()), work / "keys", settings)
        progress("warm-up: one S pack")
        make_pack(cases["S"], settings, keys, work / "warm-up", generated_on=GENERATED_ON)
        for size in args.sizes:
            runs = args.large_runs if size == "L" else args.runs
            progress(f"pack {size}: {runs} run(s)")
            pack = time_packs(cases[size], settings, keys, work / "packs", runs)
            results["packs"][size] = pack
            results["cases"][size].update(record_pages=pack["record_pages"],
                                          social_worker_report_pages=pack["social_worker_report_pages"])
        progress(f"invitations: {args.invitation_runs} runs each")
        results["invitation"] = invitations(cases["M"], settings, args.invitation_runs)
        progress(f"chair's preview: {args.preview_runs} runs")
        results["preview"] = chair_preview(cases["M"], work / "preview", args.preview_runs)
        progress(f"invitation for its recipient from the store: {args.invitation_runs} runs")
        (work / "invitation").mkdir()
        results["recipient_invitation"] = endtoend.recipient_invitation(
            cases["M"], settings, runs=args.invitation_runs, generated_on=GENERATED_ON, folder=work / "invitation")
        progress(f"chair's review, ready and cold: {args.preview_runs} runs each")
        (work / "review").mkdir()
        results["review"] = endtoend.review_figures(cases["M"], work / "review", person=results["preview"]["person_id"],
                                                    runs=args.preview_runs)
        progress(f"regeneration after a one-paragraph edit: {args.regeneration_runs} runs")
        (work / "regeneration").mkdir()
        results["regeneration"] = endtoend.regeneration(cases["M"], settings, work / "regeneration",
                                                        runs=args.regeneration_runs, generated_on=GENERATED_ON)
        progress(f"M end to end: {args.end_to_end_runs} run(s)")
        results["end_to_end"] = endtoend.end_to_end(cases["M"], work / "end-to-end", runs=args.end_to_end_runs)
        if not args.no_demo:
            progress(f"docgen demo: {args.demo_runs} run(s)")
            results["demo"] = endtoend.demo(args.demo_runs, work)
        if not args.no_dispatch:
            progress(f"dispatch pass: {args.dispatch_open} open, {args.dispatch_due} due, {args.dispatch_runs} runs")
            results["dispatch"] = dispatch(args.dispatch_open, args.dispatch_due, args.dispatch_runs)

    if not args.no_memory:
        progress(f"memory: {args.memory_packs} M packs in a new process")
        results["memory"] = memory.measure(packs=args.memory_packs, size="M", seed=args.seed).as_json()
    if soffice is not None:
        progress(f"baseline: LibreOffice, {args.baseline_runs} run(s)")
        results["baseline"], note = libreoffice(soffice, cases["M"], settings, args.baseline_runs)
        results["notes"].append(note)
        if "M" not in results["packs"]:
            results["notes"].append("no M pack was timed (--sizes), so there is no baseline ratio")

    results["machine"]["load_after"] = list(os.getloadavg())
    results["seconds"] = time.perf_counter() - started
    print(render(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Results written to {args.json}")
