"""`docgen api-keys add|revoke|list`: the API keys case management systems call the API with."""

from __future__ import annotations

import argparse
import os
from typing import Any

from docgen.bootstrap import bootstrap
from docgen.services.api_keys import create_api_key, list_api_keys, revoke_api_key


def cmd_add(args: argparse.Namespace) -> None:
    made = create_api_key(bootstrap(args.database), args.system, actor=args.actor)
    print(f"API key for {made.info.system} (shown this once; only its SHA-256 is kept, and it is recognised by "
          f"its start {made.info.prefix}):")
    print(made.key)


def cmd_revoke(args: argparse.Namespace) -> None:
    revoked = revoke_api_key(bootstrap(args.database), args.prefix, actor=args.actor)
    print(f"Revoked API key {revoked.prefix} of {revoked.system}: it is refused from now on.")


def cmd_list(args: argparse.Namespace) -> None:
    keys = list_api_keys(bootstrap(args.database))
    if not keys:
        print("No API keys have been made.")
        return
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} by {key.revoked_by}" if key.revoked_at else "in use"
        print(f"{key.prefix}  {key.system:<24} made {key.created_at:%Y-%m-%d %H:%M} by {key.created_by}  {state}")


def register(commands: Any) -> None:
    keys = commands.add_parser("api-keys", help="API keys of case management systems (made, listed, revoked)")
    actions = keys.add_subparsers(dest="api_keys_command", required=True, metavar="ACTION")
    actor = os.environ.get("USER", "administrator")
    add = actions.add_parser("add", help="make a key for a system; the key is printed once")
    add.add_argument("system", help="the system's name, for example mosaic (its changes are audited as api:SYSTEM)")
    add.add_argument("--actor", default=actor, help="who is making it (audited)")
    add.set_defaults(handler=cmd_add)
    revoke = actions.add_parser("revoke", help="revoke a key, named by the start `list` shows")
    revoke.add_argument("prefix", help="the key's start, for example dgk_AbCd1234")
    revoke.add_argument("--actor", default=actor, help="who is revoking it (audited)")
    revoke.set_defaults(handler=cmd_revoke)
    listing = actions.add_parser("list", help="every key made, revoked ones included, without the keys")
    listing.set_defaults(handler=cmd_list)
