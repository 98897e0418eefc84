"""Running the chair's and the auditor's commands (``docgen.entrypoints.cli_governance``) in the test process."""

from __future__ import annotations

import argparse

from docgen.entrypoints.cli_governance import register


def run_governance_cli(database_url: str, *argv: str) -> None:
    """Parse ``argv`` as the command line would, against ``database_url``, and run its handler."""
    parser = argparse.ArgumentParser(prog="docgen")
    parser.add_argument("--database")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--database", database_url, *argv])
    args.handler(args)
