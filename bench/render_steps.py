"""Benchmark: where the time of generating a conference pack goes, step by step.

Times, warm (after one untimed run), the median and spread of several runs of:

    pack      build_pack on a case (the example ICPC, or the synthetic M conference below)
    copy      render_copy of one copy (kind, audience, format), e.g. the chair's preview
    steps     one copy split into its steps: redact, context, HTML, layout, write_pdf or
              docx, read back, what the reader may see, leak check
    breakdown a pack built in this process (workers 1), its CPU time split by step over all copies
    memory    resident memory after 10 and after 100 packs in a row (the worker pool reused)

    .venv/bin/python bench/render_steps.py pack --case m --runs 5 --workers 2
    .venv/bin/python bench/render_steps.py pack --case example --workers 1
    .venv/bin/python bench/render_steps.py copy --kind conference_record --audience family-zofia --case m
    .venv/bin/python bench/render_steps.py steps --kind professional_invitation --case m
    .venv/bin/python bench/render_steps.py breakdown --case m --runs 3
    .venv/bin/python bench/render_steps.py memory --case example --packs 100

The M conference (``--case m``): 2 children, 12 invitees, a 12-page record, a 10-page social
worker's report and 4 agency reports, built from the example by adding an invitee, a report
and more sections; every name and event is invented.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen.adapters.casefile import load_case_file, validate_case
from docgen.configuration.authority import load_settings
from docgen.domain.authority import Settings
from docgen.domain.documents import CopySpec, build_context, plan_copies

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "haddad-wisniewska.yaml"
GENERATED_ON = date(2026, 11, 20)

_PARAGRAPHS = [
    "The social worker visited the family home and saw both children with their mother. The home "
    "was warm, clean and well organised, and there was food in the cupboards and the fridge.",
    "Lena talked about her friends at school and her swimming lessons. She said she sometimes "
    "worries about her mum when she is at school and likes to know where she will be at home time.",
    "Adam was seen playing with building blocks and went to his mother for comfort when a door "
    "banged. His mother responded warmly and quickly and he settled within a minute.",
    "Ms Wiśniewska has attended every appointment offered to her and has engaged well with the "
    "domestic abuse service. She has been open about the difficulties she has faced.",
    "The health visitor has no concerns about Adam's growth or development. He is due his next "
    "review in the spring and his mother has agreed to bring him to the clinic.",
    "The school reports that Lena's attendance remains good. Her class teacher has arranged a "
    "weekly check-in with a trusted adult and Lena has used it to talk about home.",
]


def _section(title: str, index: int, paragraphs: int, *, table: bool = False, opinion: str | None = None) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"text": f"{_PARAGRAPHS[(index + n) % len(_PARAGRAPHS)]} (Note {index}.{n + 1}.)"} for n in range(paragraphs)]
    if table:
        items.append({"table": {"columns": ["Date", "Event", "Source", "Outcome"], "rows": [
            {"cells": [f"{(index + r) % 28 + 1:02d}/10/26", _PARAGRAPHS[r % len(_PARAGRAPHS)][:90], "Social care",
                       "Recorded and discussed with the family"]} for r in range(4)]}})
    if opinion:
        items.append({"opinion": {"by": opinion, "text": f"In my opinion {_PARAGRAPHS[index % len(_PARAGRAPHS)].lower()}"}})
    return {"title": title, "items": items}


def m_case() -> dict[str, Any]:
    """The M conference: the example grown to 12 invitees, 5 reports, a 12-page record and a
    10-page social worker's report."""
    data = copy.deepcopy(load_case_file(EXAMPLE))
    data["professionals"].append({"id": "priya-shah", "name": "Priya Shah", "role": "School nurse",
                                  "agency": "health-visiting", "email": "priya.shah@nhs.example.uk"})
    data["invitations"].append({"invitee": "priya-shah", "attendance": "attended", "report_due_on": "2026-11-16"})
    data["reports"].append({
        "id": "nurse-report", "kind": "agency", "title": "School nurse report", "author": "priya-shah",
        "agency": "health-visiting", "received_on": "2026-11-16", "shared_with_parents": "yes",
        "sections": [_section("Health in school", 1, 2), _section("Wellbeing", 2, 2)]})
    sw = next(r for r in data["reports"] if r["id"] == "sw-report")
    sw["sections"] += [_section(f"Home visit {n}", n, 4, table=n % 3 == 0, opinion="hannah-okafor" if n % 4 == 0 else None)
                       for n in range(1, 15)]
    data["record"]["sections"][4:4] = [
        _section(f"Discussion of agency information, part {n}", n, 4, table=n % 3 == 0,
                 opinion=("claire-dunn", "joanna-baker", "tom-richardson")[n % 3] if n % 2 == 0 else None)
        for n in range(1, 9)]
    return data


def load_case(which: str) -> dict[str, Any]:
    """``m``, ``example``, ``synthetic:SIZE`` (bench/synthetic.py's conference of that size, seed 0)
    or the path of a case file."""
    if which.startswith("synthetic:"):
        from bench import synthetic

        return synthetic.conference(which.split(":", 1)[1], seed=0)
    data = m_case() if which == "m" else load_case_file(EXAMPLE if which == "example" else Path(which))
    return validate_case(data, source=which)


def timed(runs: int, action: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU times (this process only) of ``runs`` runs after one warm-up run.

    On a busy machine the CPU time is the steadier figure for work done in this process; the
    wall-clock time is what a user waits for, and the only fair one when workers do the work."""
    action()  # warm: templates compiled, fonts loaded, workers started
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def report(what: str, times: list[float] | tuple[list[float], list[float]]) -> None:
    wall, cpu = times if isinstance(times, tuple) else (times, [])
    ms = sorted(t * 1000 for t in wall)
    line = f"{what}: median {statistics.median(ms):.1f} ms, min {ms[0]:.1f}, max {ms[-1]:.1f}"
    if cpu:
        cpu_ms = sorted(t * 1000 for t in cpu)
        line += f"; CPU median {statistics.median(cpu_ms):.1f} ms, min {cpu_ms[0]:.1f}"
    print(f"{line} (n={len(ms)}, load {os.getloadavg()[0]:.2f})", flush=True)


def find_copy_spec(case: dict[str, Any], kind: str, audience: str, recipient: str | None) -> CopySpec:
    for copy_spec in plan_copies(case):
        if copy_spec.kind.key == kind and copy_spec.audience.slug == audience and (recipient is None or copy_spec.recipient == recipient):
            return copy_spec
    raise SystemExit(f"no copy of {kind} for {audience} in this case")


def cmd_pack(args: argparse.Namespace, case: dict[str, Any], settings: Settings) -> None:
    from docgen.services.pack import build_pack

    extra: dict[str, Any] = {} if args.workers is None else {"workers": args.workers}

    def build() -> None:
        with tempfile.TemporaryDirectory() as folder:
            build_pack(case, settings, Path(folder) / "pack", generated_on=GENERATED_ON, **extra)

    copy_specs = plan_copies(case)
    before = _children_cpu()
    wall, cpu = timed(args.runs, build)
    report(f"pack {args.case} ({len(copy_specs)} copies x 2 formats, workers {args.workers})", (wall, cpu))
    workers_cpu = (_children_cpu() - before) / (args.runs + 1)
    if workers_cpu:
        print(f"  CPU of the worker processes, mean per pack (warm-up included): {workers_cpu * 1000:.0f} ms; "
              f"this process and workers together: {(workers_cpu + statistics.mean(cpu)) * 1000:.0f} ms")


def _descendants() -> list[int]:
    """This process's running descendants: the fork server and the workers forked from it."""
    found, pending = [], [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            continue
        found.extend(children)
        pending.extend(children)
    return found


def _children_cpu() -> float:
    """CPU seconds used so far by this process's running descendants (the worker pool)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in _descendants():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def cmd_copy(args: argparse.Namespace, case: dict[str, Any], settings: Settings) -> None:
    from docgen.domain.views import build_case_view
    from docgen.services.pack import render_copy

    copy_spec = find_copy_spec(case, args.kind, args.audience, args.recipient)
    box: dict[str, Any] = {}

    def render() -> None:
        box["copy"] = render_copy(copy_spec, build_case_view(case), settings, generated_on=GENERATED_ON, fmt=args.format)

    times = timed(args.runs, render)
    report(f"render_copy {copy_spec.stem}.{args.format} ({box['copy'].pages} pages)", times)


def cmd_steps(args: argparse.Namespace, case: dict[str, Any], settings: Settings) -> None:
    """One copy, step by step, as render_copy does it."""
    from docgen.adapters.docx import render_docx
    from docgen.adapters.pdf import render_pdf
    from docgen.adapters.readback import read_back_docx, read_back_pdf
    from docgen.adapters.templating import render_html
    from docgen.domain.disclosure import LeakCheck
    from docgen.domain.views import build_case_view
    from docgen.services.leak_gate import AudienceView, ReaderView, RenderedCopy

    copy_spec = find_copy_spec(case, args.kind, args.audience, args.recipient)
    view = build_case_view(case)
    results: dict[str, tuple[list[float], list[float]]] = {}

    def step(name: str, action: Callable[[], Any]) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        value = action()
        wall, cpu = results.setdefault(name, ([], []))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        return value

    for run in range(args.runs + 1):
        step("build_case_view", lambda: build_case_view(case))
        prepared = step("redact + prepare audience", lambda: AudienceView.prepare(view, copy_spec.audience))
        context = step("build_context", lambda: build_context(copy_spec, prepared.view, settings, generated_on=GENERATED_ON))
        title = context["document"]["title"]
        if args.format == "pdf":
            html = step("render_html", lambda: render_html(copy_spec.kind.html_template, context))
            data, pages = step("render_pdf", lambda: render_pdf(html, source=copy_spec.kind.html_template))
            read_back = step("read_back_pdf", lambda: read_back_pdf(data))
        else:
            created = datetime.combine(GENERATED_ON, datetime.min.time())
            data = step("render_docx", lambda: render_docx(copy_spec.kind.docx_template, context, title=title, created=created))
            pages = None
            read_back = step("read_back_docx", lambda: read_back_docx(data))
        rendered = RenderedCopy(copy_spec, args.format, data, pages, title)
        reader = step("what the reader may see (evidence, allowed text)",
                      lambda: ReaderView.for_copy(prepared, rendered, settings))
        check = step("LeakCheck()", lambda: LeakCheck(reader.withheld, reader.allowed))
        step("LeakCheck.find", lambda: check.find(read_back))
        if run == 0:
            results.clear()
    if args.format == "pdf":
        _pdf_steps(args.runs, html, results)
    for name, times in results.items():
        report(f"  {copy_spec.stem}.{args.format} {name}", times)


def _pdf_steps(runs: int, html: str, results: dict[str, tuple[list[float], list[float]]]) -> None:
    """render_pdf split into WeasyPrint's layout and writing."""
    from docgen.adapters import pdf

    for run in range(runs + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        document = pdf.layout(html, source="bench")
        middle, middle_cpu = time.perf_counter(), time.process_time()
        pdf.write(document, source="bench")
        end, end_cpu = time.perf_counter(), time.process_time()
        if run:
            for name, wall, cpu in (("  layout (HTML.render)", middle - start, middle_cpu - start_cpu),
                                    ("  write_pdf", end - middle, end_cpu - middle_cpu)):
                results.setdefault(name, ([], []))[0].append(wall)
                results[name][1].append(cpu)


def cmd_breakdown(args: argparse.Namespace, case: dict[str, Any], settings: Settings) -> None:
    """Build the pack in this process with each step wrapped to add up its CPU time."""
    from docgen.adapters import pdf
    from docgen.adapters.copy_store import CopyStore
    from docgen.services import copies, leak_gate, pack, rendering

    totals: dict[str, float] = {}
    counts: dict[str, int] = {}

    def wrap(module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed_step(*a: Any, **k: Any) -> Any:
            start = time.process_time()
            try:
                result = original(*a, **k)
                if label == "WeasyPrint layout":
                    counts["pages laid out"] = counts.get("pages laid out", 0) + len(result.pages)
                return result
            finally:
                totals[label] = totals.get(label, 0.0) + time.process_time() - start
                counts[label] = counts.get(label, 0) + 1
        setattr(module, name, timed_step)

    wrap(leak_gate.AudienceView, "prepare", "redact + prepare audience")
    wrap(rendering, "build_context", "build_context")
    wrap(rendering, "render_html", "Jinja HTML (reads noted)")
    wrap(pdf, "layout", "WeasyPrint layout")
    wrap(pdf, "write", "WeasyPrint write_pdf")
    wrap(rendering, "render_docx", "docxtpl DOCX (reads noted)")
    wrap(leak_gate, "choose_evidence", "evidence (withheld kept)")
    wrap(rendering, "read_back_copy", "read back (PDF and DOCX)")
    wrap(rendering, "check_copy", "leak gate: match, marking")
    wrap(leak_gate, "LeakCheck", "  LeakCheck()")
    wrap(copies, "stamp", "stamping (agency forms)")
    wrap(pack, "keep", "copy store: keep")
    wrap(pack, "write_atomically", "write files (fsync)")
    pages = 0
    for run in range(args.runs + 1):
        if run == 1:
            totals.clear()
            counts.clear()
        with tempfile.TemporaryDirectory() as folder:
            store = CopyStore(Path(folder) / "store") if args.store else None
            start, start_cpu = time.perf_counter(), time.process_time()
            artifacts = pack.build_pack(case, settings, Path(folder) / "pack", generated_on=GENERATED_ON, workers=1,
                                        store=store)
            pages = sum(a.pages or 0 for a in artifacts if a.format == "pdf")
            if run:
                totals["(whole pack)"] = totals.get("(whole pack)", 0.0) + time.process_time() - start_cpu
                totals["(whole pack, wall)"] = totals.get("(whole pack, wall)", 0.0) + time.perf_counter() - start
    laid_out = counts.get("pages laid out", 0) // args.runs  # the stamp's one-line pages included
    print(f"CPU per pack by step, mean of {args.runs} serial packs of {args.case} "
          f"({pages} PDF pages in the pack, {laid_out} laid out; load {os.getloadavg()[0]:.2f}):")
    for label, seconds in totals.items():
        calls = counts.get(label, args.runs) // args.runs
        per_page = f"  {seconds / args.runs / laid_out * 1000:5.1f} ms a page laid out" if label.startswith("WeasyPrint") else ""
        print(f"  {label:34s} {seconds / args.runs * 1000:8.0f} ms  ({calls} calls){per_page}")


def cmd_memory(args: argparse.Namespace, case: dict[str, Any], settings: Settings) -> None:
    from docgen.services.pack import build_pack

    extra: dict[str, Any] = {} if args.workers is None else {"workers": args.workers}
    marks = {}
    for number in range(1, args.packs + 1):
        with tempfile.TemporaryDirectory() as folder:
            build_pack(case, settings, Path(folder) / "pack", generated_on=GENERATED_ON, **extra)
        if number in (10, args.packs):
            marks[number] = _total_rss_kib()
            print(f"after {number} packs: {marks[number] / 1024:.1f} MiB (this process and its workers)", flush=True)
    if 10 in marks and args.packs in marks:
        print(f"growth from 10 to {args.packs} packs: {100 * (marks[args.packs] / marks[10] - 1):+.1f}%")


def _total_rss_kib() -> int:
    """Resident memory of this process and its descendants (the worker pool), in KiB."""
    total = 0
    for pid in [os.getpid(), *_descendants()]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["pack", "copy", "steps", "breakdown", "memory"])
    parser.add_argument("--case", default="m", help="m (the M conference), example, synthetic:M, or a case file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None, help="build_pack's workers (default: its own)")
    parser.add_argument("--kind", default="conference_record")
    parser.add_argument("--audience", default="family-zofia")
    parser.add_argument("--recipient", default=None)
    parser.add_argument("--format", default="pdf", choices=["pdf", "docx"])
    parser.add_argument("--packs", type=int, default=100)
    parser.add_argument("--store", action="store_true", help="breakdown: keep copies in a new copy store, as the bench's cold pack")
    args = parser.parse_args()
    case = load_case(args.case)
    settings = load_settings()
    commands = {"pack": cmd_pack, "copy": cmd_copy, "steps": cmd_steps, "breakdown": cmd_breakdown, "memory": cmd_memory}
    commands[args.command](args, case, settings)


if __name__ == "__main__":
    main()
