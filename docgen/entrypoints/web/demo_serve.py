"""`docgen serve --demo` (what `./dev serve` runs): a new database in a folder of its own with the example
conferences imported and scheduled, one demo account for each role with a password made up for this
run, and a session key made up for this run; nothing of it is kept in the repository."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import replace
from pathlib import Path

from docgen.adapters.database import unit_of_work
from docgen.bootstrap import bootstrap
from docgen.bootstrap import code_sender as code_sender_for
from docgen.configuration.circulation import load_rules
from docgen.configuration.delivery import ChannelsSettings, DeliverySettings
from docgen.configuration.folder import EXAMPLES_DIR, config_file
from docgen.configuration.web import load_web_settings
from docgen.domain.accounts import Role
from docgen.entrypoints.web.serve import Listen, serve
from docgen.errors import SchedulingError
from docgen.services.accounts import add_account
from docgen.services.importing import import_case_file, stored_case
from docgen.services.routing import PORTAL_SECRET_VARIABLE
from docgen.services.scheduling import schedule_conference

EXAMPLES = ("haddad-wisniewska.yaml", "haddad-wisniewska-review.yaml")
DEMO_ACCOUNTS = (
    ("support", "Aisha Rahman", Role.BUSINESS_SUPPORT, None),
    ("chair", "David Pryce", Role.CHAIR, "david-pryce"),
    ("manager", "Marta Kowalczyk", Role.MANAGER, None),
    ("admin", "Sam Lee", Role.ADMINISTRATOR, None),
)


def prepare_demo(folder: Path) -> tuple[str, list[tuple[str, str, Role]]]:
    """Make the demo database in ``folder`` (emptied first); returns its URL and the accounts with passwords."""
    folder = folder.resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'docgen.sqlite3'}"
    runtime = bootstrap(url)
    rules = load_rules(config_file("circulation.toml"))
    for name in EXAMPLES:
        reference, _ = import_case_file(runtime, EXAMPLES_DIR / name, actor="docgen demo")
        case = stored_case(runtime, reference)
        try:
            with unit_of_work(runtime.sessions) as session:
                schedule_conference(session, case, rules, now=runtime.clock(), envelope_from=runtime.settings.authority.email,
                                    reason="Demo: booked when the demo started")
        except SchedulingError as error:
            print(f"  {reference} not scheduled: {error}")
    accounts = []
    for username, name, role, professional in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        add_account(runtime, username, display_name=name, role=role, password=password, professional=professional,
                    actor="docgen demo")
        accounts.append((username, password, role))
    return url, accounts


def serve_demo(listen: Listen, folder: Path) -> None:
    url, accounts = prepare_demo(folder)
    runtime = bootstrap(url)
    scheme = "https" if listen.tls else "http"
    settings = replace(load_web_settings(), data_folder=folder.resolve() / "web",
                       public_url=f"{scheme}://{listen.host}:{listen.port}")
    # The recipient portal's key for this run only, and its codes written to folders instead of sent.
    os.environ.setdefault(PORTAL_SECRET_VARIABLE, secrets.token_hex(32))
    texts, emails = folder.resolve() / "texts", folder.resolve() / "emails"
    code_sender = code_sender_for(DeliverySettings(channels=ChannelsSettings(
        sms=f"sms-folder:{texts}", email=f"outbox-folder:{emails}")), sender=runtime.settings.authority.email)
    print(f"\nThe web application is at {scheme}://{listen.host}:{listen.port}/ (Ctrl+C to stop)")
    print(f"Demo database: {folder.resolve() / 'docgen.sqlite3'}; its passwords are made up for this run only:")
    for username, password, role in accounts:
        print(f"  {role.label:<18} username {username:<8} password {password}")
    print(f"Recipient portal codes are written to {texts} (text messages) and {emails} (emails), not sent.")
    print(flush=True)
    serve(runtime, settings, listen, secret_key=secrets.token_urlsafe(48), portal_code_sender=code_sender)
