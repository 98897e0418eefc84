"""Commands for scheduling and dispatch: ``schedule``, ``book-check``, ``scheduler``, ``outbox``, ``compliance``.

``register(commands)`` adds them to the main ``docgen`` parser; ``main`` runs them on their own
(``python -m docgen.entrypoints.cli_schedule``). Handlers wire things up from ``docgen.bootstrap`` and print;
the work is done in ``docgen.services``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from docgen.adapters.case_store import load_case
from docgen.adapters.database import unit_of_work
from docgen.bootstrap import bootstrap, build_carriers, dispatch_policy
from docgen.configuration.circulation import CirculationConfig, load_rules
from docgen.configuration.folder import config_file
from docgen.configuration.scheduler import SchedulerSettings, load_scheduler_settings
from docgen.configuration.transports import OutboxFolderSettings, TransportSettings, load_transport
from docgen.domain.outbox import STATES
from docgen.errors import ConfigurationError
from docgen.services.runtime import Runtime

CONFERENCE_WORDS = {"initial", "review", "transfer_in", "pre_birth"}


def _runtime(args: argparse.Namespace) -> Runtime:
    return bootstrap(getattr(args, "database", None))


def _rules(args: argparse.Namespace) -> CirculationConfig:
    default = Path(args.rules) if getattr(args, "rules", None) else config_file("circulation.toml")
    return load_rules(default, getattr(args, "rules_override", None))


def _case(session: Any, reference: str) -> dict[str, Any]:
    return load_case(session, reference)  # validated when it was saved; what is stored is trusted


def _when(value: Any, zone: Any) -> str:
    return value.astimezone(zone).strftime("%a %d/%m/%Y %H:%M") if value is not None else "-"


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


# -- schedule and book-check ---------------------------------------------------------------------

def cmd_schedule(args: argparse.Namespace) -> None:
    from docgen.services.scheduling import BookingReasonRequired, item_as_dict, schedule_conference
    from docgen.services.window_changes import WindowChangesNeedConfirmation, describe_change

    runtime, config = _runtime(args), _rules(args)
    reason = args.reason
    while True:
        try:
            with unit_of_work(runtime.sessions) as session:
                result = schedule_conference(
                    session, _case(session, args.reference), config, now=runtime.clock(),
                    envelope_from=runtime.settings.authority.email, reason=reason, first_review=args.first_review,
                    accept_changes=args.accept_changes)
            break
        except WindowChangesNeedConfirmation as refused:
            # Nothing was written. The list goes to stderr (and as JSON to stdout with --json); exit 3.
            if args.json:
                print(json.dumps({"reference": refused.reference, "refused": "window changes need --accept-changes",
                                  "changes": [_change_as_dict(c, config.zone) for c in refused.changes]},
                                 indent=2, ensure_ascii=False))
            print(f"docgen: {refused}", file=sys.stderr)
            raise SystemExit(3) from None
        except BookingReasonRequired as exc:
            if reason or args.json or not sys.stdin.isatty():
                raise
            print(exc, file=sys.stderr)
            reason = input("Reason for the delay, with the team manager's agreement: ").strip()
            if not reason:
                raise
    zone = config.zone
    if args.json:
        print(json.dumps({"reference": result.reference, "created": result.created, "updated": result.updated,
                          "made_ready": result.made_ready, "cancelled": result.cancelled,
                          "booking_breaches": [b.rule for b in result.booking.breaches],
                          "meeting_breaches": [{"meeting": what, "rule": b.rule} for what, b in result.booking.meetings],
                          "notes": list(result.notes),
                          "moved": [_change_as_dict(c, zone) for c in result.moved],
                          "items": [item_as_dict(i, zone) for i in result.items]}, indent=2, ensure_ascii=False))
        return
    _print_booking(result.booking)
    for change in result.moved:
        print(f"moved (accepted): {describe_change(change, zone)}")
    rows = [["Id", "Rule", "Copy", "Recipient", "Earliest", "Latest", "State"]]
    for i in result.items:
        rows.append([str(i.id), i.rule, i.copy, i.recipient, _when(i.not_before, zone), _when(i.deadline, zone),
                     i.state + (f" (late {i.late_by} wd)" if i.late_by else "")])
    _print_table(rows)
    for note in result.notes:
        print(f"note: {note}")
    print(f"\n{result.reference}: {len(result.items)} distributions; {result.created} new, {result.made_ready} "
          f"now ready, {result.cancelled} cancelled.")


def _change_as_dict(change: Any, zone: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None
    return {"item": change.item_id, "rule": change.rule, "copy": change.copy, "recipient": change.recipient,
            "old": {"earliest": iso(change.old_not_before), "latest": iso(change.old_deadline)},
            "new": {"earliest": iso(change.new_not_before), "latest": iso(change.new_deadline)}}


def _print_booking(check: Any) -> None:
    from docgen.services.scheduling import describe_breach

    for breach in check.breaches:
        print(f"warning: booking breach: {describe_breach(breach)}")
    for what, breach in check.meetings:
        print(f"warning: {what}: {describe_breach(breach)}")
    for name in check.unchecked:
        print(f"note: booking rule {name} not checked (its anchor is not recorded)")


def cmd_book_check(args: argparse.Namespace) -> None:
    from docgen.services.scheduling import booking_check, is_first_review, previous_conference_case

    runtime, config = _runtime(args), _rules(args)
    with unit_of_work(runtime.sessions) as session:
        case = _case(session, args.reference)
        first = args.first_review
        if first is None:
            first = is_first_review(previous_conference_case(session, case))
    check = booking_check(case, config, first_review=first)
    _print_booking(check)
    if check.breaches:
        reason = case["conference"].get("booking_delay_reason")
        print(f"reason recorded: {reason}" if reason else
              f"No reason recorded: `docgen schedule {args.reference} --reason \"...\"` records one.")
        raise SystemExit(0 if reason else 3)
    print(f"{args.reference}: booked within its timescales.")


# -- the scheduler -------------------------------------------------------------------------------

def _legacy_spec(spec: str) -> str:
    """``--transport``'s value as a channel spec; ``smtp:FILE`` may name a file of any backend, as it always could."""
    kind, _, value = spec.partition(":")
    if kind != "smtp" or not value:
        return spec
    settings = load_transport(Path(value))
    if settings.backend in ("smtp", "notify"):
        return f"{settings.backend}:{value}"
    folder = next(table.folder for table in (settings.outbox_folder, settings.sms_folder, settings.print_batch)
                  if table is not None)
    return f"{settings.backend.replace('_', '-')}:{folder}"


def transport_settings(spec: str) -> TransportSettings:
    """The transport ``--transport`` names: ``outbox-folder:PATH``, or ``smtp:FILE`` (a transport settings file)."""
    kind, _, value = spec.partition(":")
    if kind == "outbox-folder" and value:
        return TransportSettings(backend="outbox_folder", outbox_folder=OutboxFolderSettings(Path(value)))
    if kind == "smtp" and value:
        return load_transport(Path(value))
    raise ConfigurationError(f"--transport {spec!r}: use outbox-folder:PATH or smtp:CONFIG.toml "
                             "(a file with a [transport] table)")


#: Each flag of ``docgen scheduler`` and the ``scheduler.toml`` key it overrides.
FLAG_KEYS: dict[str, str] = {
    "interval": "interval_seconds", "batch_size": "batch_size", "lease": "lease_seconds",
    "max_attempts": "max_attempts", "backoff_base": "backoff_base_seconds", "backoff_cap": "backoff_cap_seconds",
    "warn_before": "warn_before_hours", "business_support": "business_support", "notices": "notices",
    "envelope_from": "envelope_from", "delivery_folder": "delivery_folder",
    "signing_identity": "signing_identity", "archive_certificate": "archive_certificate", "ca_bundle": "ca_bundle",
}
_PATH_KEYS = {"delivery_folder", "signing_identity", "archive_certificate", "ca_bundle"}


def with_flags(settings: SchedulerSettings, args: argparse.Namespace) -> SchedulerSettings:
    """``settings`` with every flag given on the command line in place of the file's value."""
    given: dict[str, Any] = {}
    for flag, key in FLAG_KEYS.items():
        value = getattr(args, flag, None)
        # An empty address or path counts as not given, as it always has for these flags.
        if value is None or value == "":
            continue
        given[key] = Path(value) if key in _PATH_KEYS else value
    return dataclasses.replace(settings, **given)


def _document_messages(settings: SchedulerSettings, runtime: Runtime, sender: str, carriers: Any = None) -> Any:
    """The builder of encrypted documents, from the signing identity and certificates configured."""
    import getpass

    from distribution.certificates import load_certificate, load_certificates
    from distribution.keys import check_signing_identity, load_signing_identity
    from docgen.services.delivery import DeliveryContext, DocumentMessages

    identity, archive_path, bundle = settings.signing_identity, settings.archive_certificate, settings.ca_bundle
    if identity is None or archive_path is None:
        raise ConfigurationError(
            "the scheduler signs every document and keeps an encrypted archive copy: give --signing-identity "
            "(or DOCGEN_SIGNING_IDENTITY, or signing_identity in scheduler.toml) and --archive-certificate (or "
            "DOCGEN_ARCHIVE_CERTIFICATE, or archive_certificate in scheduler.toml); the signing passphrase comes "
            "from DOCGEN_SIGNING_PASSPHRASE")
    prompt = getpass.getpass if sys.stdin.isatty() else None
    signer = load_signing_identity(str(identity), prompt=prompt)
    check_signing_identity(signer, at=runtime.clock())
    # The same key signs the audit trail's checkpoints, after every item sent.
    from docgen.adapters.audit_checkpoints import CheckpointSigner
    from docgen.services.audit_trail import use_audit_seal

    use_audit_seal(runtime, signer=CheckpointSigner(signer.private_key, signer.certificate))
    try:
        archive_certificate = load_certificate(archive_path.read_bytes(), source=str(archive_path))
        cas = load_certificates(bundle.read_bytes(), source=str(bundle)) if bundle else None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {exc.filename}: {exc.strerror}") from None
    from docgen.configuration.web import load_web_settings
    from docgen.services.routing import portal_unavailable

    web = load_web_settings()
    delivery = runtime.delivery
    context = DeliveryContext(
        runtime=runtime, signer=signer, archive_certificate=archive_certificate, ca_certificates=cas,
        folder=settings.delivery_folder.resolve(), sender_address=sender, routes=delivery.policy(),
        marking_header=delivery.routes.marking_header, sms=carriers is not None and carriers.sms is not None,
        portal_url=None if portal_unavailable() else web.public_url,
        portal_lifetime=timedelta(days=web.portal_link_days),
        letters=carriers.letter if carriers is not None else None)
    return DocumentMessages(context)


def cmd_scheduler(args: argparse.Namespace) -> None:
    import signal
    import threading

    # Loading the renderers and keys takes seconds: a stop asked for meanwhile is kept, not fatal.
    stopping = threading.Event()
    if not args.once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stopping.set())
    from distribution.transports import HandDeliveryTransport
    from docgen.entrypoints.scheduler import SchedulerProcess

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime, config = _runtime(args), _rules(args)
    settings = with_flags(load_scheduler_settings(), args)
    policy = dispatch_policy(settings, authority_email=runtime.settings.authority.email, circulation=config)
    carriers = build_carriers(runtime.delivery, email=args.transport and _legacy_spec(args.transport),
                              secure_email=args.secure_email_transport, sms=args.sms_transport,
                              letter=args.letter_transport)
    messages = _document_messages(settings, runtime, policy.envelope_from, carriers)
    hand = HandDeliveryTransport(settings.delivery_folder.resolve() / "for-hand-delivery")
    process = SchedulerProcess(runtime, carriers.email, policy,
                               interval=settings.interval_seconds,
                               build_message=messages.build, approval_gate=messages.approval_gate,
                               on_sent=messages.record_sent, hand_delivery=hand, worker=args.worker,
                               stopping=stopping, carriers=carriers.for_dispatcher())
    if args.once:
        report = process.dispatcher.drain()
        print(json.dumps(report.__dict__))
        return
    process.run()


# -- outbox and compliance -----------------------------------------------------------------------

def cmd_outbox_list(args: argparse.Namespace) -> None:
    from docgen.services.dispatch import list_items
    from docgen.services.scheduling import item_as_dict

    runtime, config = _runtime(args), _rules(args)
    with unit_of_work(runtime.sessions) as session:
        items = list_items(session, states=tuple(args.state or ()), reference=args.conference, limit=args.limit)
    if args.json:
        print(json.dumps([item_as_dict(i, config.zone) for i in items], indent=2, ensure_ascii=False))
        return
    rows = [["Id", "Conference", "Copy", "Recipient", "Latest", "State", "Tries", "Why"]]
    for i in items:
        rows.append([str(i.id), i.conference_reference, i.copy, i.recipient, _when(i.deadline, config.zone), i.state,
                     str(i.attempts), (i.last_error or i.hold_reason or "")[:80]])
    _print_table(rows)


def cmd_outbox_change(args: argparse.Namespace) -> None:
    from docgen.services.dispatch import cancel_item, release_item, retry_item

    runtime = _runtime(args)
    with unit_of_work(runtime.sessions) as session:
        if args.action == "retry":
            item = retry_item(session, args.item, now=runtime.clock())
        elif args.action == "release":
            item = release_item(session, args.item, now=runtime.clock())
        else:
            item = cancel_item(session, args.item, reason=args.reason, now=runtime.clock())
    print(f"Outbox item {item.id} ({item.copy} for {item.recipient}) is now {item.state}.")


def cmd_compliance(args: argparse.Namespace) -> None:
    from docgen.services.compliance import as_csv, as_table, compliance_report

    runtime, config = _runtime(args), _rules(args)
    with unit_of_work(runtime.sessions) as session:
        report = compliance_report(session, now=runtime.clock(), calendar=config.calendar, zone=config.zone,
                                   start=args.start, end=args.end)
    print(as_csv(report) if args.csv else as_table(report), end="\n" if not args.csv else "")


# -- the parser ----------------------------------------------------------------------------------

def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def register(commands: Any) -> None:
    """Add this module's subcommands to the ``docgen`` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", default=argparse.SUPPRESS, help="database URL")
    common.add_argument("--rules", help="circulation rules file (default circulation.toml in the configuration folder)")
    common.add_argument("--rules-override", help="a local authority's override of the circulation rules")

    schedule = commands.add_parser("schedule", parents=[common],
                                   help="put a conference's distributions in the outbox and list their windows")
    schedule.add_argument("reference")
    schedule.add_argument("--json", action="store_true")
    schedule.add_argument("--reason", help="the recorded reason for booking outside the timescale")
    schedule.add_argument("--accept-changes", action="store_true",
                          help="move stored windows (earliest, deadline) to follow the rules and the case; without "
                               "it, scheduling that would move one lists what would change and changes nothing")
    schedule.add_argument("--first-review", action=argparse.BooleanOptionalAction, default=None,
                          help="hold a review to the first-review limit (default: found from the stored conferences)")
    schedule.set_defaults(handler=cmd_schedule)

    check = commands.add_parser("book-check", parents=[common], help="check a booking against the timescales")
    check.add_argument("reference")
    check.add_argument("--first-review", action=argparse.BooleanOptionalAction, default=None)
    check.set_defaults(handler=cmd_book_check)

    run = commands.add_parser("scheduler", parents=[common], help="run the dispatch scheduler until stopped",
                              description="Run the dispatch scheduler. Its policy comes from scheduler.toml in the "
                              "configuration folder (DOCGEN_CONFIG_DIR, else config/); each flag overrides its key.")
    run.add_argument("--transport", help="what carries email: outbox-folder:PATH, smtp:CONFIG.toml or notify:CONFIG.toml "
                     "(default [channels] email in delivery.toml)")
    run.add_argument("--secure-email-transport", help="the relay to accredited domains: smtp:CONFIG.toml "
                     "(default [channels] secure_email in delivery.toml, else the email transport)")
    run.add_argument("--sms-transport", help="what carries text messages: notify:CONFIG.toml or sms-folder:PATH "
                     "(default [channels] sms in delivery.toml; none: codes go by email)")
    run.add_argument("--letter-transport", help="what posts passphrase letters: notify:CONFIG.toml or "
                     "print-batch:PATH (default [channels] letter in delivery.toml; none: the delivery folder's letters/)")
    # Each policy flag's default is its key in scheduler.toml (shipped values in brackets); the
    # file is read only when the scheduler runs, so a broken file never stops other commands.
    run.add_argument("--interval", type=float, help="seconds between passes (default interval_seconds [10])")
    run.add_argument("--batch-size", type=int, help="items a pass claims at a time (default batch_size [20])")
    run.add_argument("--lease", type=float, help="seconds an item stays claimed unless renewed (default lease_seconds [60]); "
                     "renewed every third of it while the scheduler runs")
    run.add_argument("--max-attempts", type=int, help="tries before an item fails (default max_attempts [12])")
    run.add_argument("--backoff-base", type=float, help="seconds before the first retry "
                     "(default backoff_base_seconds [30])")
    run.add_argument("--backoff-cap", type=float, help="longest wait between retries, seconds "
                     "(default backoff_cap_seconds [1800])")
    run.add_argument("--warn-before", type=float, help="hours before a deadline to warn "
                     "(default warn_before_hours [24])")
    run.add_argument("--business-support", help="address for warnings (default business_support, "
                     "else the authority's email)")
    run.add_argument("--no-notices", dest="notices", action="store_false", default=None,
                     help="log warnings and breaches but send no notices (default notices [true])")
    run.add_argument("--envelope-from", help="sender address (default envelope_from, else the authority's email)")
    run.add_argument("--worker", help="this process's name in claims (default host:pid:random)")
    run.add_argument("--signing-identity", help="the authority's signing key and certificate, .p12 or .pem "
                     "(default $DOCGEN_SIGNING_IDENTITY, else signing_identity; passphrase from "
                     "$DOCGEN_SIGNING_PASSPHRASE)")
    run.add_argument("--archive-certificate", help="certificate archive copies are encrypted to "
                     "(default $DOCGEN_ARCHIVE_CERTIFICATE, else archive_certificate)")
    run.add_argument("--ca-bundle", help="CA certificates recipients' certificates must chain to "
                     "(default $DOCGEN_CA_BUNDLE, else ca_bundle)")
    run.add_argument("--delivery-folder", help="archive copies, passphrase letters and texts, copies for hand "
                     "delivery (default delivery_folder [var/delivery])")
    run.add_argument("--once", action="store_true", help="drain what is due now, then exit")
    run.set_defaults(handler=cmd_scheduler)

    outbox = commands.add_parser("outbox", help="look at and mend outbox items")
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="list outbox items")
    listing.add_argument("--state", action="append", choices=STATES)
    listing.add_argument("--conference")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_outbox_list)
    for action, text in (("retry", "put a failed item back to ready"),
                         ("release", "look again at a held family copy now (after approval)"),
                         ("cancel", "stop an item for good")):
        sub = actions.add_parser(action, parents=[common], help=text)
        sub.add_argument("item", help="item id or idempotency key")
        if action == "cancel":
            sub.add_argument("--reason", required=True)
        sub.set_defaults(handler=cmd_outbox_change)

    report = commands.add_parser("compliance", parents=[common], help="timescales met and missed, per rule")
    report.add_argument("--from", dest="start", type=_day)
    report.add_argument("--to", dest="end", type=_day)
    report.add_argument("--csv", action="store_true")
    report.set_defaults(handler=cmd_compliance)


def main(argv: Sequence[str] | None = None) -> None:
    """Run these commands without the rest of the CLI (and without loading the renderers)."""
    parser = argparse.ArgumentParser(prog="docgen")
    parser.add_argument("--database", help="database URL (default: DOCGEN_DATABASE_URL, else var/docgen.sqlite3)")
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback too (case values masked)")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (Exception, KeyboardInterrupt):
        from docgen.entrypoints.cli import error_messages  # errors become messages in one place

        with error_messages(debug=args.debug):
            raise


if __name__ == "__main__":
    main()
