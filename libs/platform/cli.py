"""Operator commands shared by every service: `python -m libs.platform.cli <command>`.

- `keys FILE [--role R]` — write development API keys (one per role) unless the file exists;
  print the key of role R (admin).
- `migrate SERVICE…` — apply a service's migrations to its configured database.
- `republish SERVICE [--since ISO] [--parked]` — mark retained outbox rows to be published
  again, so that consumers can rebuild their read models after the in-memory broker forgot
  everything; with `--parked`, the rows the broker refused for good (listed first) instead.
- `dead-letters list SERVICE [--pending]` — the events the service's consumers parked (id,
  group, topic, event type, event id, attempts, error, created, replayed).
- `dead-letters replay SERVICE (--id N … | --all)` — apply parked events again through the
  service's own consumer handlers, each exactly once; replayed dead letters are kept and
  marked with the time of the replay. Exits 1 if any could not be applied (still pending).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import secrets
import sys
from datetime import datetime
from pathlib import Path

from libs.platform.logging import configure_logging
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


async def list_parked(service: str, *, pending_only: bool) -> str:
    """The table of `service`'s dead letters (or a line saying there are none)."""
    from libs.platform.dead_letters import dead_letter_table, list_dead_letters

    runtime = _runtime(service)
    try:
        letters = await list_dead_letters(runtime.db, pending_only=pending_only)
    finally:
        await runtime.stop()
    return dead_letter_table(letters) if letters else f"{service}: no dead letters"


async def replay_parked(service: str, ids: list[int] | None) -> tuple[list[str], bool]:
    """Replay `service`'s dead letters (`ids`, or every pending one); report lines and success."""
    from libs.platform.dead_letters import list_dead_letters
    from libs.platform.inbox import IdempotentConsumer
    from libs.platform.replay import replay_dead_letters

    runtime = _runtime(service)
    lines: list[str] = []
    ok = True
    try:
        groups = {spec.group_id for spec in runtime.consumer_specs}
        if ids is not None:
            letters = await list_dead_letters(runtime.db, ids=ids)
            found = {letter.id: letter.consumer_group for letter in letters}
            for missing in sorted(set(ids) - set(found)):
                lines.append(f"dead letter {missing}: not found")
                ok = False
            for letter_id, group in sorted(found.items()):
                if group not in groups:
                    lines.append(f"dead letter {letter_id}: no consumer group {group} in {service}")
                    ok = False
        for spec in runtime.consumer_specs:
            consumer = IdempotentConsumer(
                runtime.db,
                group_id=spec.group_id,
                topics=spec.topics,
                handlers=spec.handlers,
                bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
            )
            outcome = await replay_dead_letters(consumer, ids)
            lines += [f"dead letter {i}: replayed" for i in outcome.replayed]
            lines += [f"dead letter {i}: already applied, marked replayed" for i in outcome.already_applied]
            lines += [f"dead letter {i}: already replayed, nothing done" for i in outcome.already_replayed]
            lines += [f"dead letter {i}: failed again, still pending: {e}" for i, e in outcome.failed.items()]
            ok = ok and not outcome.failed
    finally:
        await runtime.stop()
    return lines or [f"{service}: nothing to replay"], ok


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
    dead = sub.add_parser("dead-letters", help="list or replay parked events")
    dead_sub = dead.add_subparsers(dest="action", required=True)
    dead_list = dead_sub.add_parser("list", help="list dead letters")
    dead_list.add_argument("service", choices=SERVICES)
    dead_list.add_argument("--pending", action="store_true", help="only those not replayed yet")
    dead_replay = dead_sub.add_parser("replay", help="apply dead letters again, each once")
    dead_replay.add_argument("service", choices=SERVICES)
    which = dead_replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, action="append", dest="ids", metavar="N", help="a dead letter's id")
    which.add_argument("--all", action="store_true", help="every pending dead letter")
    args = parser.parse_args(argv)
    if args.command == "keys":
        print(write_dev_keys(args.file, args.role))
    elif args.command == "migrate":
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            parser.error(f"unknown services: {', '.join(unknown)}")
        migrate(args.services or list(SERVICES))
    elif args.command == "dead-letters":
        return dead_letters_command(args)
    else:
        count = asyncio.run(republish(args.service, args.since, args.parked))
        print(f"{args.service}: {count} events marked for publishing again")
    return 0


def dead_letters_command(args: argparse.Namespace) -> int:
    """Run `dead-letters list|replay`; exit status 1 when a replay left some pending."""
    if args.action == "list":
        print(asyncio.run(list_parked(args.service, pending_only=args.pending)))
        return 0
    lines, ok = asyncio.run(replay_parked(args.service, None if args.all else args.ids))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    configure_logging("WARNING")  # warnings go to stderr; tables and reports to stdout
    sys.exit(main())
