"""The chair's and the auditor's commands: preview, flags, resolve-flag, approve, return,
share-report, audit.

``register`` adds them to the ``docgen`` command's subparsers; each handler takes the parsed
arguments, and errors are turned into messages by the CLI's one error handler.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC
from pathlib import Path
from typing import Any

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import audit_entries
from docgen.bootstrap import bootstrap
from docgen.domain.audit import AuditEntry
from docgen.domain.calendar import LONDON
from docgen.errors import AuditError
from docgen.services import approval, review, risk


def cmd_preview(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    chair = args.chair or args.actor
    if chair is None:
        raise SystemExit("docgen preview: give --chair ID (the chair's professional id) or --actor NAME")
    result = review.preview(runtime, args.reference, args.for_person, actor=chair, out_dir=Path(args.out),
                            chair=args.chair)
    print(f"Family copy:   {result.family_copy} ({result.copy.pages} pages)")
    print(f"Chair review:  {result.chair_review} ({len(result.withheld)} withheld items highlighted)")
    print(f"Content version {result.copy.content_version}; SHA-256 of the copy {result.copy.sha256}")
    _print_flags(result.flags, args.reference, args.for_person)


def _print_flags(flags: tuple[risk.FlagView, ...] | list[risk.FlagView], reference: str, person: str) -> None:
    still_open = [f for f in flags if f.status == "open"]
    print(f"Disclosure flags: {len(flags)} ({len(still_open)} open)")
    for flag in flags:
        print(f"  {flag.key}  {flag.status:<8} {flag.description}")
    if still_open:
        print(f"Resolve each open flag before approving: `docgen resolve-flag {reference} --for {person} FLAG "
              "(--withhold | --share) --reason TEXT --chair ID`")


def cmd_flags(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    _print_flags(risk.flags(runtime, args.reference, args.for_person, actor=args.actor or "docgen"), args.reference,
                 args.for_person)


def cmd_resolve_flag(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    flag = risk.resolve_flag(runtime, args.reference, args.for_person, args.flag, resolution=args.resolution,
                             reason=args.reason, chair=args.chair)
    done = "withheld from them (a new content version was saved)" if flag.status == "withheld" else "shared"
    print(f"Flag {flag.key} on {args.for_person}'s copy of {args.reference}: {done}.")


def cmd_approve(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    row = approval.approve(runtime, args.reference, args.for_person, chair=args.chair, comment=args.comment)
    print(f"Approved {args.for_person}'s copies of {args.reference} (content version {row.content_version}); "
          f"SHA-256 of the approved record {row.copy_sha256}")


def cmd_return(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    row = approval.return_copy(runtime, args.reference, args.for_person, chair=args.chair, comment=args.comment)
    print(f"Returned {args.for_person}'s copy of {args.reference} (content version {row.content_version}); "
          "nothing will be sent to them until the chair approves again")


def cmd_share_report(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    row = approval.approve_report_sharing(runtime, args.reference, args.report, chair=args.chair,
                                          decision=args.share, comment=args.comment)
    verdict = "may be shared with parents" if row.shared else "will not be shared with parents"
    print(f"Report {args.report} of {args.reference} {verdict}.")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    from docgen.services.audit_trail import verify_sealed_trail

    runtime = bootstrap(args.database)
    count, head, seal, checked = verify_sealed_trail(runtime, expected_head=args.expect_head)
    print(f"Audit trail intact: {count} entries; newest entry's SHA-256 {head}")
    if seal is None:
        print("No signed checkpoints are configured, so only the chain itself was checked: set "
              "DOCGEN_SIGNING_IDENTITY (or DOCGEN_AUDIT_CHECKPOINTS) to check it against them.")
    else:
        print(f"Checked against {checked} signed checkpoint{'s' if checked != 1 else ''} in {seal.log.path}.")
    print("Note that hash down: `docgen audit verify --expect-head HASH` later also detects entries "
          "removed from the end.")


def cmd_audit_checkpoint(args: argparse.Namespace) -> None:
    from docgen.adapters.orm_governance import entries_from
    from docgen.services.audit_trail import audit_seal, checkpoint, signed_checkpoints

    runtime = bootstrap(args.database)
    seal = audit_seal(runtime)
    if seal is None or seal.signer is None:
        raise AuditError("no signing key: set DOCGEN_SIGNING_IDENTITY (and DOCGEN_SIGNING_PASSPHRASE) to the "
                         "authority's signing identity to sign a checkpoint")
    vouched: list[int] = []
    if args.confirm:
        read = signed_checkpoints(seal)
        with unit_of_work(runtime.sessions) as session:
            since = entries_from(session, read.checkpoints[-1].sequence + 1 if read.checkpoints else 1)
        vouched = [entry.sequence for entry in since]
    made = checkpoint(runtime, vouch_for=vouched, actor=args.actor)
    if made is None:
        print("Nothing new to sign: the newest checkpoint covers the newest entry.")
    else:
        print(f"Signed checkpoint of entry {made.sequence} (SHA-256 {made.sha256}) added to {seal.log.path}.")


def cmd_audit_list(args: argparse.Namespace) -> None:
    runtime = bootstrap(args.database)
    with unit_of_work(runtime.sessions) as session:
        for entry in audit_entries(session, reference=args.reference):
            print(_line(entry))


def _line(entry: AuditEntry) -> str:
    at = entry.recorded_at.replace(tzinfo=UTC).astimezone(LONDON).strftime("%d/%m/%Y %H:%M:%S")
    shown = json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (f"{entry.sequence:>6}  {at}  {entry.actor:<16} {entry.action:<26} {entry.reference or '-'} "
            f"{entry.subject or '-'}  {shown}")


def register(commands: Any) -> None:
    """Add the governance commands to the ``docgen`` subparsers."""
    preview = commands.add_parser("preview", help="write a family copy of the record and the chair's review beside it")
    preview.add_argument("reference", help="the conference's reference")
    preview.add_argument("--for", dest="for_person", required=True, help="id of the family member or child")
    preview.add_argument("--out", required=True, help="folder to write the two PDFs to")
    preview.add_argument("--chair", help="the chair's professional id: the chair opening the review before approving")
    preview.add_argument("--actor", help="who is previewing, when not the chair (recorded in the audit trail)")
    preview.set_defaults(handler=cmd_preview)

    flags = commands.add_parser("flags", help="list the disclosure-risk flags of a family copy of the record")
    flags.add_argument("reference")
    flags.add_argument("--for", dest="for_person", required=True, help="id of the family member or child")
    flags.add_argument("--actor", help="who is looking (recorded in the audit trail when flags are raised)")
    flags.set_defaults(handler=cmd_flags)

    resolve = commands.add_parser("resolve-flag", help="the chair withholds a flagged item or shares it with a reason")
    resolve.add_argument("reference")
    resolve.add_argument("--for", dest="for_person", required=True, help="id of the family member or child")
    resolve.add_argument("flag", help="the flag's key, as `docgen flags` lists it")
    how = resolve.add_mutually_exclusive_group(required=True)
    how.add_argument("--withhold", dest="resolution", action="store_const", const="withhold",
                     help="withhold the item from this reader (saved as a new content version)")
    how.add_argument("--share", dest="resolution", action="store_const", const="share",
                     help="the item may be shared with this reader")
    resolve.add_argument("--reason", required=True, help="the chair's reason, kept with the resolution")
    resolve.add_argument("--chair", required=True, help="the chair's professional id")
    resolve.set_defaults(handler=cmd_resolve_flag)

    approve = commands.add_parser("approve", help="the chair approves what a family member or child may be sent")
    approve.add_argument("reference")
    approve.add_argument("--for", dest="for_person", required=True, help="id of the family member or child")
    approve.add_argument("--chair", required=True, help="the chair's professional id")
    approve.add_argument("--comment", help="optional comment kept with the approval")
    approve.set_defaults(handler=cmd_approve)

    ret = commands.add_parser("return", help="the chair returns a family copy with comments; nothing is sent")
    ret.add_argument("reference")
    ret.add_argument("--for", dest="for_person", required=True, help="id of the family member or child")
    ret.add_argument("--chair", required=True, help="the chair's professional id")
    ret.add_argument("--comment", required=True, help="what must change before the copy can be approved")
    ret.set_defaults(handler=cmd_return)

    share = commands.add_parser("share-report", help="the chair decides whether a report may be shared with parents")
    share.add_argument("reference")
    share.add_argument("report", help="the report's id")
    share.add_argument("--chair", required=True, help="the chair's professional id")
    decision = share.add_mutually_exclusive_group(required=True)
    decision.add_argument("--yes", dest="share", action="store_true", help="the report may be shared")
    decision.add_argument("--no", dest="share", action="store_false", help="the report is not shared")
    share.add_argument("--comment", help="optional reason kept with the decision")
    share.set_defaults(handler=cmd_share_report)

    audit = commands.add_parser("audit", help="check or list the audit trail")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check that no audit entry was changed, removed or reordered")
    verify.add_argument("--expect-head", help="the newest entry's SHA-256 noted at an earlier check (the trail "
                        "may have grown since)")
    verify.set_defaults(handler=cmd_audit_verify)
    sign = actions.add_parser("checkpoint", help="sign the trail's head into the checkpoint file "
                              "(needs the authority's signing key)")
    sign.add_argument("--confirm", action="store_true", help="also cover decisions no checkpoint covers yet, once "
                      "you have checked them with `docgen audit list`")
    sign.add_argument("--actor", default="business support", help="who is signing (named if a decision is not covered)")
    sign.set_defaults(handler=cmd_audit_checkpoint)
    listing = actions.add_parser("list", help="list audit entries, oldest first")
    listing.add_argument("reference", nargs="?", help="only this conference's entries")
    listing.set_defaults(handler=cmd_audit_list)
