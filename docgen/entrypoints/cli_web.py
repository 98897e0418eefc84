"""`docgen serve`, `docgen worker` and `docgen users`: the web application from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from docgen.bootstrap import between_jobs, bootstrap, code_sender, job_handlers
from docgen.configuration.web import load_web_settings
from docgen.domain.accounts import Role
from docgen.errors import AccountError
from docgen.services.accounts import add_account


def cmd_serve(args: argparse.Namespace) -> None:
    from docgen.entrypoints.web.serve import Listen, secret_key_from_environment, serve

    if bool(args.tls_certificate) != bool(args.tls_key):
        raise AccountError("give both --tls-certificate and --tls-key, or neither")
    listen = Listen(args.host, args.port, Path(args.tls_certificate) if args.tls_certificate else None,
                    Path(args.tls_key) if args.tls_key else None)
    if args.demo:
        from docgen.entrypoints.web.demo_serve import serve_demo

        serve_demo(listen, Path(args.demo_folder))
        return
    secret = secret_key_from_environment()
    runtime = bootstrap(args.database)
    settings = load_web_settings()
    scheme = "https" if listen.tls else "http"
    print(f"Serving on {scheme}://{listen.host}:{listen.port}/ (Ctrl+C to stop)", flush=True)
    sender = code_sender(runtime.delivery, sender=runtime.settings.authority.email)
    serve(runtime, settings, listen, secret_key=secret, portal_code_sender=sender)


def cmd_worker(args: argparse.Namespace) -> None:
    from docgen.services.jobs import work

    runtime = bootstrap(args.database)
    settings = load_web_settings()
    stop = threading.Event()
    print("Worker started: generating packs as they are requested (Ctrl+C to stop).", flush=True)
    try:
        work(runtime, job_handlers(settings.data_folder), stop, lease=timedelta(seconds=settings.job_lease_seconds),
             on_idle=between_jobs(settings.data_folder))
    except KeyboardInterrupt:
        stop.set()


def cmd_users_add(args: argparse.Namespace) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            raise AccountError("the two passwords are not the same; nothing was saved")
    runtime = bootstrap(args.database)
    account = add_account(runtime, args.username, display_name=args.name, role=args.role, password=password,
                          professional=args.professional, actor=args.actor)
    print(f"Added {account.role.label.lower()} account {account.username}.")


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the web application (and pack workers beside it)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--tls-certificate", help="PEM certificate chain, to serve HTTPS")
    serve.add_argument("--tls-key", help="PEM private key of the certificate")
    serve.add_argument("--demo", action="store_true",
                       help="serve a new demo database with the example conferences and demo accounts")
    serve.add_argument("--demo-folder", default="out/serve", help="folder for the demo (emptied first)")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="generate packs requested in the web application (more workers, "
                                                "on any machine, when the database is PostgreSQL)")
    worker.set_defaults(handler=cmd_worker)

    users = commands.add_parser("users", help="staff accounts of the web application")
    users_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_commands.add_parser("add", help="add an account (the first administrator, for example)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the person's full name")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--professional", help="for a chair: their professional id in case files")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--actor", default=os.environ.get("USER", "administrator"), help="who is adding it (audited)")
    add.set_defaults(handler=cmd_users_add)
