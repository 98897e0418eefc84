"""The `docgen` command line: every subcommand, and errors turned into messages in one place."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.files import write_atomically
from docgen.bootstrap import bootstrap
from docgen.configuration.folder import EXAMPLES_DIR
from docgen.domain.documents import KINDS, CopySpec, documents_date, family_audience, plan_copies
from docgen.domain.redaction import PROFESSIONALS
from docgen.domain.views import build_case_view
from docgen.errors import CaseFileError, DocgenError, NotFoundError
from docgen.services.importing import import_case_file, stored_case, stored_version
from docgen.services.pack import Artifact, build_pack, render_copy
from docgen.services.report_sharing import reports_shared
from docgen.services.runtime import Runtime

EXAMPLES = [EXAMPLES_DIR / "haddad-wisniewska.yaml", EXAMPLES_DIR / "haddad-wisniewska-review.yaml"]

EXIT_ERROR = 1
EXIT_USAGE = 2


class UsageError(DocgenError):
    """A command named something that is not there: exit status 2, as for any other misuse of a command."""


@contextmanager
def error_messages(*, debug: bool = False) -> Iterator[None]:
    """Turn the product's errors, and operational faults (database, disk, network), into messages for
    people and an exit status; never a traceback unless ``debug``, and then with case values masked."""
    try:
        yield
    except UsageError as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    except CaseFileError as exc:
        print(f"docgen: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
    except DocgenError as exc:
        _debug_traceback(exc, debug)
        print(f"docgen: error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        print("docgen: stopped", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - a fault or a defect: a message, never case content
        from docgen.adapters.faults import describe_fault

        _debug_traceback(exc, debug)
        fault = describe_fault(exc)
        if fault is None:
            fault = (f"docgen failed unexpectedly ({type(exc).__name__}); nothing more is shown because the "
                     "details may quote case content: run the command again with --debug to see where")
        print(f"docgen: error: {fault}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None


def _debug_traceback(exc: BaseException, debug: bool) -> None:
    if debug or os.environ.get("DOCGEN_DEBUG") == "1":
        from docgen.adapters.faults import masked_traceback

        print(masked_traceback(exc), file=sys.stderr, end="")


def _runtime(args: argparse.Namespace) -> Runtime:
    return bootstrap(args.database)


def _case_from(args: argparse.Namespace, runtime_factory: Callable[[], Runtime]) -> tuple[dict[str, Any], date | None]:
    """A case from a case file path, or from the database by conference reference, with the date of
    the documents made from a stored conference's content (the day it was saved); None for a case
    file, whose documents are dated today."""
    candidate = Path(args.case)
    if candidate.suffix.lower() in {".yaml", ".yml", ".json"}:
        return validate_case(load_case_file(candidate), source=str(candidate)), None
    version = stored_version(runtime_factory(), args.case)
    return version.case, documents_date(version.saved_at)


def cmd_import(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    reference, version = import_case_file(runtime, Path(args.case), actor=args.actor, replace=args.replace)
    print(f"Imported conference {reference} (content version {version}).")


def cmd_export(args: argparse.Namespace) -> None:
    case = stored_case(_runtime(args), args.reference)
    text = (json.dumps(case, indent=2, ensure_ascii=False) if args.json
            else yaml.safe_dump(case, allow_unicode=True, sort_keys=False, width=100))
    if args.out:
        write_atomically(Path(args.out), text.encode("utf-8"))
    else:
        sys.stdout.write(text)


def cmd_pack(args: argparse.Namespace) -> None:
    from docgen.adapters.folder_lock import folder_lock

    runtime = _runtime(args)
    case, dated = _case_from(args, lambda: runtime)
    out = Path(args.out)
    with folder_lock(out, holder=args.actor, now=runtime.clock()):
        artifacts = build_pack(case, runtime.settings, out, generated_on=dated or runtime.clock().date(), formats=args.formats,
                               approved_reports=reports_shared(runtime, case, actor=args.actor), store=runtime.copies)
        record_generated(runtime, case["reference"], out, artifacts, actor=args.actor)
    print_summary(artifacts, out)


def record_generated(runtime: Runtime, reference: str, folder: Path, artifacts: Sequence[Artifact], *, actor: str) -> None:
    """Audit a pack's generation: who made it, where, and the hash of its manifest."""
    from docgen.adapters.files import sha256
    from docgen.services.audit_trail import record_event

    record_event(runtime, "generated", actor=actor, reference=reference, subject=str(folder),
                 details={"files": len(artifacts), "manifest_sha256": sha256((folder / "manifest.json").read_bytes())})


def cmd_store(args: argparse.Namespace) -> None:
    from docgen.bootstrap import copy_store

    store = copy_store()
    if args.action == "clear":
        print(f"Removed {store.clear()} files from the copy store {store.folder}.")
    else:
        files, size = store.size()
        print(f"The copy store {store.folder} holds {files} files, {size / 1e6:.1f} MB "
              f"(limit {store.max_bytes / 1e6:.0f} MB).")


def cmd_render(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    case, dated = _case_from(args, lambda: runtime)
    kind = KINDS[args.kind]
    try:
        audience = family_audience(case, args.for_person) if args.for_person else PROFESSIONALS
    except NotFoundError as exc:
        raise UsageError(f"--for {args.for_person[:60]!r}: {exc}") from None
    copy_spec = CopySpec(kind, audience, recipient=args.recipient, report=args.report)
    copy_specs = plan_copies(case, reports_shared(runtime, case))
    planned = {(j.kind.key, j.audience, j.recipient, j.report) for j in copy_specs}
    if (kind.key, audience, copy_spec.recipient, copy_spec.report) not in planned:
        options = sorted(f"--for {j.audience.person or '-'} --recipient {j.recipient or '-'} --report {j.report or '-'}"
                         for j in copy_specs if j.kind.key == kind.key)
        raise DocgenError(f"this conference has no {kind.key} copy like that; its copies are: " + "; ".join(options))
    copy = render_copy(copy_spec, build_case_view(case), runtime.settings, generated_on=dated or runtime.clock().date(),
                       fmt=args.format)
    out = Path(args.out or f"{copy_spec.stem}.{args.format}")
    write_atomically(out, copy.data)
    print(f"Wrote {out} ({copy.pages or '?'} pages).")


def cmd_demo(args: argparse.Namespace) -> None:
    from docgen.entrypoints.demo import run_demo

    result = run_demo(Path(args.out), EXAMPLES)
    print(f"Demo database: {result.folder / 'docgen.sqlite3'}")
    for reference, artifacts in result.artifacts.items():
        print(f"\nConference {reference}")
        print_summary(artifacts, result.folder / "pack" / reference)
    documents = [i for i in result.items if not i.is_notice]
    sent = [i for i in documents if i.state == "sent"]
    late = [i for i in sent if i.late_by]
    print(f"\nThe scheduler, run from the first booking to the last deadline: {len(sent)} of {len(documents)} "
          f"documents sent, {len(late)} late; {result.passes.held} holds for approval, "
          f"{result.passes.failed} failures. By route:")
    for route, count in result.routes.items():
        print(f"  {count:4d}  {route}")
    for item in documents:
        if item.state != "sent":
            print(f"  {item.state.replace('_', ' ')}: {item.copy} for {item.recipient_name}: "
                  f"{item.last_error or item.hold_reason or ''}".rstrip(": "))
    folder = result.folder
    print(f"Email received by the loopback mail server (STARTTLS required): {folder / 'outbox'}")
    print(f"For hand delivery: {folder / 'delivery' / 'for-hand-delivery'}   print batch for the post room: "
          f"{folder / 'post'}")
    print(f"Record of every delivery: {result.folder / 'deliveries.json'}")
    if result.flags_resolved:
        print(f"Disclosure flags the chair resolved before approving: {result.flags_resolved}")
    if result.parent is not None:
        visit = result.parent
        print(f"\n{visit.name} opens his portal link ({visit.link}); the code comes by text message through "
              f"the local GOV.UK Notify:\n  \"{visit.text_message}\"\n  He sees {len(visit.documents)} documents: "
              + ", ".join(visit.documents))
    if result.example_message is not None:
        print("\nOpen one agency's message as the agency would (OpenSSL 3):")
        print(f"  openssl cms -decrypt -in {result.example_message} -recip {result.example_recipient_cert} "
              f"-inkey {result.example_recipient_key} -out /tmp/signed.eml")
        print(f"  openssl cms -verify -in /tmp/signed.eml -CAfile {result.ca_cert} -out /tmp/document.mime")
        print("  awk 'body{print} /^\\r?$/{body=1}' /tmp/document.mime | openssl base64 -d -out /tmp/document.pdf")


def cmd_certificate_import(args: argparse.Namespace) -> None:
    from distribution.certificates import load_certificates
    from docgen.services.directory import import_certificate

    runtime = _runtime(args)
    ca = load_certificates(Path(args.ca).read_bytes(), source=args.ca) if args.ca else None
    summary = import_certificate(runtime, args.professional, Path(args.file), ca_certificates=ca)
    print(f"Imported for {args.professional}: {summary.describe()}")


def print_summary(artifacts: Sequence[Artifact], folder: Path) -> None:
    by_kind: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        by_kind.setdefault(artifact.kind, []).append(artifact)
    rows = [("Document", "Copies", "Family copies", "Formats", "PDF pages")]
    for kind, items in by_kind.items():
        pdfs = [a for a in items if a.format == "pdf"]
        rows.append((kind.replace("_", " "), str(len({a.path.rsplit('.', 1)[0] for a in items})),
                     str(sum(1 for a in pdfs if a.family_copy)), ", ".join(sorted({a.format for a in items})),
                     str(sum(a.pages or 0 for a in pdfs))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\n{len(artifacts)} files written to {folder}; manifest: {folder / 'manifest.json'}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docgen", description="Child protection conference documents: generate and distribute.")
    parser.add_argument("--database", help="database URL (default: DOCGEN_DATABASE_URL, else var/docgen.sqlite3)")
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback too (case values masked)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="import the example conference, write its complete pack and send it encrypted")
    demo.add_argument("--out", default="out/demo", help="folder for the demo (emptied first; default out/demo)")
    demo.set_defaults(handler=cmd_demo)

    imp = commands.add_parser("import", help="validate a case file and store the conference")
    imp.add_argument("case", help="a .yaml, .yml or .json case file")
    imp.add_argument("--replace", action="store_true", help="save the case file as a new version of an already imported conference")
    imp.add_argument("--actor", default=os.environ.get("USER", "business support"), help="who is importing (kept with the version)")
    imp.set_defaults(handler=cmd_import)

    exp = commands.add_parser("export", help="write a stored conference out as a case file")
    exp.add_argument("reference")
    exp.add_argument("--json", action="store_true", help="JSON instead of YAML")
    exp.add_argument("--out", help="file to write (default: standard output)")
    exp.set_defaults(handler=cmd_export)

    pack = commands.add_parser("pack", help="write every document of a conference's pack")
    pack.add_argument("case", help="a case file, or the reference of an imported conference")
    pack.add_argument("--out", required=True, help="an empty or new folder for the pack")
    pack.add_argument("--actor", default=os.environ.get("USER", "business support"), help="who is generating the pack (audited)")
    pack.add_argument("--formats", type=lambda v: tuple(v.split(",")), default=("pdf", "docx"), help="pdf,docx (default both)")
    pack.set_defaults(handler=cmd_pack)

    certificate = commands.add_parser("certificate", help="the recipient directory's certificates")
    certificate_commands = certificate.add_subparsers(dest="certificate_command", required=True, metavar="ACTION")
    cert_import = certificate_commands.add_parser("import", help="check a professional's certificate and add it")
    cert_import.add_argument("professional", help="the professional's id")
    cert_import.add_argument("file", help="the certificate, PEM or DER")
    cert_import.add_argument("--ca", help="CA certificates (PEM) the chain must verify against")
    cert_import.set_defaults(handler=cmd_certificate_import)

    store = commands.add_parser("store", help="the copy store, where rendered copies are kept to be used again")
    store.add_argument("action", choices=("clear", "size"), help="clear: remove every kept copy; size: what it holds")
    store.set_defaults(handler=cmd_store)

    render = commands.add_parser("render", help="render one document of a conference")
    render.add_argument("kind", choices=sorted(KINDS))
    render.add_argument("--case", required=True, help="a case file, or the reference of an imported conference")
    render.add_argument("--for", dest="for_person", help="id of the family member or child whose copy this is (default: professional copy)")
    render.add_argument("--recipient", help="id of the person a letter is addressed to")
    render.add_argument("--report", help="id of the report, for report documents")
    render.add_argument("--format", choices=("pdf", "docx"), default="pdf")
    render.add_argument("--out", help="file to write")
    render.set_defaults(handler=cmd_render)

    from docgen.entrypoints import cli_api_keys, cli_governance, cli_schedule, cli_templates, cli_web

    cli_governance.register(commands)
    cli_schedule.register(commands)
    cli_templates.register(commands)
    cli_web.register(commands)
    cli_api_keys.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with error_messages(debug=args.debug):
        args.handler(args)


if __name__ == "__main__":
    main()
