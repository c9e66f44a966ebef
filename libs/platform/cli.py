"""Operator commands shared by every service: `python -m libs.platform.cli <command>`.

- `keys FILE [--role R]` — write development API keys (one per role) unless the file exists;
  print the key of role R (admin).
- `migrate SERVICE…` — apply a service's migrations to its configured database.
- `republish SERVICE [--since ISO] [--parked]` — mark retained outbox rows to be published
  again, so that consumers can rebuild their read models after the in-memory broker forgot
  everything; with `--parked`, the rows the broker refused for good (listed first) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import secrets
import sys
from datetime import datetime
from pathlib import Path

from libs.platform.settings import Role

SERVICES = ("catalog", "provisioning", "rating", "invoicing", "overage")


def write_dev_keys(path: Path, role: Role = Role.ADMIN) -> str:
    """Create the development key file if missing; return the key of `role` (admin by default)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = {role: f"dev-{role.value}-{secrets.token_urlsafe(24)}" for role in Role}
        path.write_text(",".join(f"{role.value}:{key}" for role, key in keys.items()) + "\n")
        path.chmod(0o600)
    pairs = dict(item.split(":", 1) for item in path.read_text().strip().split(","))
    return pairs[role.value]


def _runtime(service: str):  # type: ignore[no-untyped-def]
    module = importlib.import_module(f"{service}.bootstrap")
    return module.bootstrap()


def migrate(services: list[str]) -> None:
    """Apply migrations of each named service."""
    from libs.platform.migrations import upgrade

    for service in services:
        runtime = _runtime(service)
        upgrade(runtime.migrations_dir, runtime.db.url)
        print(f"{service}: migrated {runtime.db.url.split('@')[-1]}")


async def republish(service: str, since: datetime | None, parked: bool = False) -> int:
    """Mark retained (or parked) outbox rows of `service` for publishing again; the relay sends them."""
    from libs.platform.outbox import list_parked, mark_for_republish

    runtime = _runtime(service)
    try:
        if parked:
            for row in await list_parked(runtime.db, limit=1_000):
                if since is None or row.created_at >= since:
                    print(f"{service}: parked {row.event_type} {row.event_id} key={row.key}: {row.error}")
        return await mark_for_republish(runtime.db, since, parked=parked)
    finally:
        await runtime.db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m libs.platform.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys", help="write development API keys")
    keys.add_argument("file", type=Path)
    keys.add_argument("--role", type=Role, default=Role.ADMIN, help="whose key to print (admin)")
    mig = sub.add_parser("migrate", help="apply migrations")
    mig.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICES)}")
    rep = sub.add_parser("republish", help="re-publish retained outbox events")
    rep.add_argument("service", choices=SERVICES)
    rep.add_argument("--since", type=datetime.fromisoformat, default=None)
    rep.add_argument("--parked", action="store_true", help="the events the broker refused for good")
    args = parser.parse_args(argv)
    if args.command == "keys":
        print(write_dev_keys(args.file, args.role))
    elif args.command == "migrate":
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            parser.error(f"unknown services: {', '.join(unknown)}")
        migrate(args.services or list(SERVICES))
    else:
        count = asyncio.run(republish(args.service, args.since, args.parked))
        print(f"{args.service}: {count} events marked for publishing again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
