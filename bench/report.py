"""The benchmark's results as a table for people, each figure beside its target.

Everything is read from the same results dictionary that is written as JSON (``--json``), so the
table and the file cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.timing import duration

# The targets of the performance issues (15 and 18), in seconds unless said otherwise.
TARGETS = {
    "pack_M_s": 3.5,  # cold: every copy laid out (issue 18; it was 1.5 s in issue 15)
    "invitation_s": 0.040,
    "preview_s": 0.300,  # the chair's review when it was made before the chair asked
    "review_cold_s": 1.0,  # ... and when nothing was made
    "memory_growth": 0.20,  # RSS after the last pack at most 20 per cent above RSS after pack 10
    "dispatch_s": 0.050,
    "baseline_ratio": 12.0,  # per-document LibreOffice at least 12 times slower than the pack
    "batch_ratio": 1.0,  # and one LibreOffice process for all documents slower than the pack
    "end_to_end_s": 5.0,  # M pack and delivery to every recipient
    "regeneration_s": 1.0,  # the M pack again after one paragraph of the record is edited
    "demo_s": 15.0,  # docgen demo, set-up done
}


@dataclass(frozen=True)
class Row:
    figure: str
    runs: str = ""
    median: str = ""
    spread: str = ""
    target: str = ""
    result: str = ""


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def timed(figure: str, timing: dict[str, Any], *, target: float | None = None, note: str = "") -> Row:
    """A row for a timing (``Timing.as_json``), judged against ``target`` seconds if given."""
    spread = f"{duration(timing['min_s'])} - {duration(timing['max_s'])}"
    if timing["runs"] >= 4:
        spread += f" (IQR {duration(timing['q1_s'])} - {duration(timing['q3_s'])})"
    result = verdict(timing["median_s"] <= target) if target is not None else ""
    if note:
        result = f"{result} {note}".strip()
    return Row(figure, str(timing["runs"]), duration(timing["median_s"]), spread,
               f"<= {duration(target)}" if target is not None else "", result)


def rows(results: dict[str, Any]) -> list[Row]:
    table: list[Row] = []
    for size, pack in results.get("packs", {}).items():
        target = TARGETS["pack_M_s"] if size == "M" else None
        table.append(timed(f"Pack {size}, cold: {pack['files']} files, then {pack['sealed_messages']} S/MIME + "
                           f"{pack['protected_copies']} protected PDFs", pack["total"], target=target))
        table.append(timed("  of which build_pack (PDF + DOCX, verified, manifest)", pack["build"]))
        table.append(timed("  of which signing, encrypting and protecting", pack["seal"]))
    if "invitation" in results:
        for name, figures in results["invitation"].items():
            pages = figures["pages"]
            table.append(timed(f"Invitation, {name.replace('_', ' ')}, PDF, warm ({pages} page{'s' * (pages != 1)})",
                               figures["timing"], target=TARGETS["invitation_s"] if name == "professional_invitation" else None,
                               note="" if pages == 1 else f"({pages} pages, not 1)"))
    if "preview" in results:
        preview = results["preview"]
        table.append(timed(f"Chair's preview, M record, {preview['person']}'s copy ({preview['copy_pages']} pages "
                           f"+ {preview['review_pages']}-page review), no copy store (as in issue 15)", preview["preview"]))
        table.append(timed("  family copy of the record rendered alone", preview["family_copy"]))
    table += _issue_18_rows(results)
    if "memory" in results:
        table += _memory_rows(results["memory"])
    if "dispatch" in results:
        dispatch = results["dispatch"]
        table.append(timed(f"Dispatch pass, {dispatch['open']} open / {dispatch['due']} due "
                           f"({dispatch['backend']}, {dispatch['statements']} SQL statements)",
                           dispatch["timing"], target=TARGETS["dispatch_s"]))
    if "baseline" in results:
        table += _baseline_rows(results)
    return table


def _issue_18_rows(results: dict[str, Any]) -> list[Row]:
    table: list[Row] = []
    if "recipient_invitation" in results:
        table.append(timed("Invitation for its recipient, warm: audience copy from the store, 'Copy for' stamped, gated",
                           results["recipient_invitation"]["timing"], target=TARGETS["invitation_s"]))
    if "review" in results:
        review = results["review"]
        table.append(timed("Chair's review, ready (made by the worker; docgen preview lays nothing out)", review["ready"],
                           target=TARGETS["preview_s"]))
        table.append(timed("Chair's review, cold (nothing made, empty store)", review["cold"],
                           target=TARGETS["review_cold_s"]))
        table.append(Row("  made by the worker in the background, once per content version", "1",
                         duration(review["made_in_background_s"])))
    if "regeneration" in results:
        regeneration = results["regeneration"]
        table.append(timed(f"M pack after a one-paragraph edit of the record ({regeneration['made']} copies made again, "
                           f"{regeneration['reused']} from the store)", regeneration["timing"],
                           target=TARGETS["regeneration_s"]))
    if "end_to_end" in results:
        e2e = results["end_to_end"]
        table.append(timed(f"M end to end: pack, then {e2e['sent']} items sent ({e2e['archived']} archive copies, "
                           f"{e2e['letters']} passphrase letters, {e2e['by_hand']} by hand)", e2e["total"],
                           target=TARGETS["end_to_end_s"]))
        table.append(timed(f"  of which the pack ({e2e['laid_out_in_pack']} copies laid out)", e2e["pack"]))
        table.append(timed(f"  of which delivery ({e2e['laid_out_in_delivery']} copies laid out; the rest stamped)",
                           e2e["delivery"]))
    if "demo" in results:
        table.append(timed("docgen demo (two conferences, set-up done)", results["demo"]["timing"],
                           target=TARGETS["demo_s"]))
    return table


def _memory_rows(memory: dict[str, Any]) -> list[Row]:
    mb = 1024 * 1024
    shortfall = "" if memory["packs"] >= 100 else f" (only {memory['packs']} packs, not 100)"
    others = memory["processes"] - 1
    return [
        Row(f"Memory, {memory['size']} pack {memory['checkpoint']} -> {memory['packs']} in one process "
            f"(PSS, +{others} child process{'es' * (others != 1)})", "",
            f"{memory['growth'] * 100:+.1f} %",
            f"{memory['total_after_checkpoint'] / mb:.0f} -> {memory['total_after_last'] / mb:.0f} MB, "
            f"most after a pack {memory['peak_total'] / mb:.0f} MB",
            f"<= +{TARGETS['memory_growth'] * 100:.0f} %",
            verdict(memory["growth"] <= TARGETS["memory_growth"]) + shortfall),
        Row("  the process alone (RSS)", "", f"{memory['rss_growth'] * 100:+.1f} %",
            f"{memory['rss_after_checkpoint'] / mb:.0f} -> {memory['rss_after_last'] / mb:.0f} MB, "
            f"peak {memory['peak_rss'] / mb:.0f} MB (getrusage)"),
        Row("  the copy store every pack kept its copies in (each pack dated another year: all laid out)", "",
            f"{memory.get('store_bytes', 0) / mb:.0f} MB", f"most after a pack {memory.get('store_peak', 0) / mb:.0f} MB",
            f"<= {memory.get('store_limit', 0) / mb:.0f} MB",
            verdict(memory.get("store_peak", 0) <= memory.get("store_limit", 0))),
    ]


def _baseline_rows(results: dict[str, Any]) -> list[Row]:
    baseline = results["baseline"]
    size, count = baseline["size"], baseline["documents"]
    table = [timed(f"Baseline {size}: docxtpl fill of {count} documents", baseline["fill"]),
             timed(f"Baseline {size}: LibreOffice, one soffice process per document", baseline["each"]),
             timed(f"Baseline {size}: LibreOffice, one soffice process for all", baseline["batch"])]
    ours = results.get("packs", {}).get(size)
    if ours is not None:
        ratio = baseline["total_each_s"] / ours["total"]["median_s"]
        batch_ratio = baseline["total_batch_s"] / ours["total"]["median_s"]
        table.append(Row(f"Baseline / ours, {size} pack (fill + one soffice per document)", "", f"{ratio:.1f}x",
                         f"{duration(baseline['total_each_s'])} / {duration(ours['total']['median_s'])}",
                         f">= {TARGETS['baseline_ratio']:.0f}x", verdict(ratio >= TARGETS["baseline_ratio"])))
        table.append(Row(f"Baseline / ours, {size} pack (fill + one soffice for all)", "", f"{batch_ratio:.1f}x",
                         f"{duration(baseline['total_batch_s'])} / {duration(ours['total']['median_s'])}",
                         f"> {TARGETS['batch_ratio']:.0f}x", verdict(batch_ratio > TARGETS["batch_ratio"])))
    return table


def render(results: dict[str, Any]) -> str:
    """The whole report: what was measured on what, then the table."""
    machine = results["machine"]
    lines = [f"docgen performance benchmark, {results['started_at']} (commit {machine['commit']}), "
             f"took {duration(results['seconds'])}",
             f"Machine: {machine['cpu_count']} CPUs (os.cpu_count), {machine['cpus_usable']} usable "
             f"(sched_getaffinity); load average {machine['load_before'][0]:.2f} before, "
             f"{machine['load_after'][0]:.2f} after",
             f"Python {machine['python']}, WeasyPrint {machine['weasyprint']}"
             + (f", {machine['libreoffice']}" if machine.get("libreoffice") else ""),
             "Synthetic conferences (bench/synthetic.py, seed {}):".format(results["seed"])]
    for size, case in results["cases"].items():
        pages = f"record {case['record_pages']} pages" if case.get("record_pages") else "record not rendered"
        if case.get("social_worker_report_pages"):
            pages += f", social worker's report {case['social_worker_report_pages']} pages"
        children = f"{case['children']} child{'ren' * (case['children'] != 1)}"
        lines.append(f"  {size}: {children}, {case['invitees']} invitees, {case['agency_reports']} "
                     f"agency reports, {case['documents']} documents; {pages} (professional copy, PDF)")
    lines += ["", *_table(rows(results))]
    for note in results.get("notes", []):
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def _table(table: list[Row]) -> list[str]:
    header = Row("Figure", "Runs", "Median", "Spread (min - max)", "Target", "Result")
    every = [header, *table]
    widths = [max(len(getattr(row, field)) for row in every) for field in ("figure", "runs", "median", "spread", "target")]
    out = []
    for index, row in enumerate(every):
        cells = [row.figure.ljust(widths[0]), row.runs.rjust(widths[1]), row.median.rjust(widths[2]),
                 row.spread.ljust(widths[3]), row.target.ljust(widths[4]), row.result]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in [*widths, 6]))
    return out
