"""Operator commands of the rating service: `python -m rating.cli <command>`.

- `purge-usage [--retention-days N]` — delete usage event rows past their retention: events of
  periods that are rated and ended more than N days ago (USAGE_RETENTION_DAYS, 100 by default),
  their distinct values, and filtered events as old. Duplicates of a purged event are no longer
  recognised (docs/rating.md "Retention"); aggregates, unmatched events and everything newer stay.
  Run it daily (cron, a Kubernetes CronJob); it prints what it deleted.
- `load-usage FILE [--url URL] [--key KEY] [--format csv|ndjson] [--name NAME]` — upload a
  mediation file to the running service (streamed from disk) and show its load's progress until
  it completes, then what became of its rows (`rating/cli_usage_loads.py`). Exit 0 when the
  load completed, 1 when it failed, 2 when the upload was refused or the service unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from libs.platform.logging import configure_logging
from rating.bootstrap import bootstrap
from rating.cli_usage_loads import DEFAULT_URL, api_key, run_load_usage
from rating.config import RatingSettings
from rating.handlers.usage_reports import PurgeCount, purge_usage


async def purge(settings: RatingSettings, retention_days: int) -> PurgeCount:
    """Run the purge once on the configured database (migrated first when the service would be)."""
    runtime = bootstrap(settings)
    try:
        if settings.migrate_on_start:
            from libs.platform.migrations import upgrade_async

            await upgrade_async(runtime.migrations_dir, runtime.db.url)
        async with runtime.rating_unit_of_work() as uow:
            return await purge_usage(uow=uow, retention_days=retention_days)
    finally:
        await runtime.db.dispose()


def main(argv: list[str] | None = None, settings: RatingSettings | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m rating.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    purge_parser = sub.add_parser("purge-usage", help="delete usage events past their retention")
    purge_parser.add_argument("--retention-days", type=int, default=None, help="USAGE_RETENTION_DAYS (100)")
    load_parser = sub.add_parser("load-usage", help="upload a mediation file and follow its load")
    load_parser.add_argument("file", type=Path, help="a CSV or NDJSON file of usage events")
    load_parser.add_argument("--url", default=DEFAULT_URL, help=f"the rating service ({DEFAULT_URL})")
    load_parser.add_argument("--key", default=None, help="API key (default: $RATING_API_KEY, var/admin-key)")
    load_parser.add_argument("--format", choices=["csv", "ndjson"], default=None, help="default: by the name")
    load_parser.add_argument("--name", default=None, help="what to call the load (default: the file's name)")
    load_parser.add_argument("--interval", type=float, default=1.0, help="seconds between progress polls")
    args = parser.parse_args(argv)
    if args.command == "load-usage":
        if not args.file.is_file():
            parser.error(f"{args.file} is not a file")
        return asyncio.run(
            run_load_usage(
                args.file,
                url=args.url,
                key=api_key(args.key),
                out=sys.stdout,
                fmt=args.format,
                name=args.name,
                poll_s=max(args.interval, 0.05),
            )
        )
    settings = settings or RatingSettings()
    days = args.retention_days if args.retention_days is not None else settings.usage_retention_days
    if days < 1:
        parser.error("--retention-days must be at least 1")
    purged = asyncio.run(purge(settings, days))
    print(f"rating: purged {purged.events} usage events and {purged.distinct_values} distinct values")
    return 0


if __name__ == "__main__":
    configure_logging("WARNING")
    sys.exit(main())
