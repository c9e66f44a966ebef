"""Operator commands of the rating service: `python -m rating.cli <command>`.

- `purge-usage [--retention-days N]` — delete usage event rows past their retention: events of
  periods that are rated and ended more than N days ago (USAGE_RETENTION_DAYS, 100 by default),
  their distinct values, and filtered events as old. Duplicates of a purged event are no longer
  recognised (docs/rating.md "Retention"); aggregates, unmatched events and everything newer stay.
  Run it daily (cron, a Kubernetes CronJob); it prints what it deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from libs.platform.logging import configure_logging
from rating.bootstrap import bootstrap
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
    args = parser.parse_args(argv)
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
