"""`python -m bench [bus] [quote] [usage] [entitlements] [billrun] [webhook]`: run benchmarks, print a table.

Progress goes to stderr, the table (and each benchmark's notes under it) to stdout. Every
benchmark starts what it needs on loopback (a broker on a free port, SQLite files in a temporary
directory, service processes), stops by itself and cleans up. With no name, the quick ones run
(bus, quote); usage and entitlements start the rating service and run when named
(`make bench-usage`, `make bench-entitlements`, `make bench-billrun`); webhook starts the overage
service (`make bench-webhook`).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from bench import billrun, bus, entitlements, quote, usage, webhook
from bench.rating_stack import POSTGRES_ENV
from bench.report import Figure, Section, reference_loop_seconds, render_table
from bench.usage_workload import DEFAULT_BATCH_SIZE, DEFAULT_SUBSCRIPTIONS

Benchmark = Callable[[argparse.Namespace], Sequence[Figure | Section]]


def _usage(args: argparse.Namespace) -> Sequence[Figure | Section]:
    return usage.run(
        usage.UsageOptions(
            events=args.usage_events,
            subscriptions=args.usage_subscriptions,
            batch_size=args.usage_batch_size,
            connections=args.usage_connections,
            process_counts=tuple(int(n) for n in args.usage_processes.split(",")),
            rss_events=args.usage_rss_events,
            ndjson=args.usage_ndjson,
            timeout_s=args.usage_timeout,
        )
    )


def _entitlements(args: argparse.Namespace) -> Sequence[Figure | Section]:
    return entitlements.run(
        entitlements.EntitlementOptions(
            rate=args.entitlement_rate,
            seconds=args.entitlement_seconds,
            subscriptions=args.usage_subscriptions,
            usage_events=args.entitlement_usage_events,
            profile=args.entitlement_profile,
        )
    )


BENCHMARKS: dict[str, Benchmark] = {
    "bus": lambda args: bus.run(args.events),
    "quote": lambda args: quote.run(
        args.engine_lines,
        quotes=args.quotes,
        lines_per_quote=args.lines_per_quote,
        health_requests=args.health_requests,
    ),
    "usage": _usage,
    "entitlements": _entitlements,
    "billrun": lambda args: billrun.run(
        billrun.BillRunOptions(
            accounts=args.billrun_accounts,
            chunk_accounts=args.billrun_chunk,
            process_counts=tuple(int(n) for n in args.billrun_processes.split(",")),
        )
    ),
    "webhook": lambda args: webhook.run(
        webhook.WebhookOptions(
            notices=args.webhook_notices,
            duplicates=args.webhook_duplicates,
            concurrency=args.webhook_concurrency,
            clients=args.webhook_clients,
        )
    ),
}
QUICK = ("bus", "quote")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="NAME",
        help=f"{', '.join(BENCHMARKS)} (default: {', '.join(QUICK)})",
    )
    parser.add_argument("--events", type=int, default=bus.DEFAULT_EVENTS, help="events through the bus")
    parser.add_argument(
        "--engine-lines", type=int, default=quote.DEFAULT_ENGINE_LINES, help="lines priced by the engine"
    )
    parser.add_argument("--quotes", type=int, default=quote.DEFAULT_HTTP_QUOTES, help="quotes posted per run")
    parser.add_argument(
        "--lines-per-quote", type=int, default=quote.DEFAULT_LINES_PER_QUOTE, help="items in each quote"
    )
    parser.add_argument(
        "--health-requests",
        type=int,
        default=quote.DEFAULT_HEALTH_REQUESTS,
        help="GET /healthz requests per baseline run",
    )
    rating = parser.add_argument_group(
        "usage and entitlements",
        f"(PostgreSQL instead of SQLite: {POSTGRES_ENV}=postgresql://user@host:port/db)",
    )
    rating.add_argument(
        "--usage-events", type=int, default=usage.DEFAULT_EVENTS, help="distinct usage events a run"
    )
    rating.add_argument("--usage-subscriptions", type=int, default=DEFAULT_SUBSCRIPTIONS, help="seeded")
    rating.add_argument("--usage-batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="events a batch")
    rating.add_argument(
        "--usage-connections", type=int, default=usage.DEFAULT_CONNECTIONS, help="REST connections in all"
    )
    rating.add_argument("--usage-processes", default="1,2", help="rating processes per run, e.g. 1,2")
    rating.add_argument(
        "--usage-rss-events",
        type=int,
        default=0,
        help="also run each door at this count for peak RSS (5000000)",
    )
    rating.add_argument("--usage-ndjson", action="store_true", help="post NDJSON bodies instead of JSON")
    rating.add_argument(
        "--usage-timeout", type=float, default=0.0, help="seconds a run may take (0: by size)"
    )
    rating.add_argument("--entitlement-rate", type=int, default=entitlements.DEFAULT_RATE, help="requests/s")
    rating.add_argument(
        "--entitlement-seconds", type=int, default=entitlements.DEFAULT_SECONDS, help="rounds of 1 s each"
    )
    rating.add_argument(
        "--entitlement-usage-events",
        type=int,
        default=entitlements.DEFAULT_USAGE_EVENTS,
        help="usage events ingested before the checks",
    )
    rating.add_argument(
        "--entitlement-profile",
        default=None,
        help="write py-spy's samples of the service during the check rounds here (needs py-spy)",
    )
    runs = parser.add_argument_group(
        "billrun", f"(PostgreSQL as well as SQLite: {billrun.POSTGRES_ENV}=postgresql://user@host:port/db)"
    )
    runs.add_argument("--billrun-accounts", type=int, default=billrun.DEFAULT_ACCOUNTS, help="accounts a run")
    runs.add_argument("--billrun-chunk", type=int, default=billrun.DEFAULT_CHUNK, help="accounts a chunk")
    runs.add_argument("--billrun-processes", default="1,2", help="invoicing processes per run, e.g. 1,2")
    hooks = parser.add_argument_group(
        "webhook", f"(PostgreSQL instead of SQLite: {webhook.POSTGRES_ENV}=postgresql://user@host:port/db)"
    )
    hooks.add_argument(
        "--webhook-notices", type=int, default=webhook.DEFAULT_NOTICES, help="distinct notices"
    )
    hooks.add_argument(
        "--webhook-duplicates", type=int, default=webhook.DEFAULT_DUPLICATES, help="notice ids sent again"
    )
    hooks.add_argument(
        "--webhook-concurrency", type=int, default=webhook.DEFAULT_CONCURRENCY, help="requests in flight"
    )
    hooks.add_argument(
        "--webhook-clients", type=int, default=webhook.DEFAULT_CLIENTS, help="load-generating processes"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks in order and print their figures next to their baselines."""
    args = _parser().parse_args(argv)
    names = list(dict.fromkeys(args.names)) or list(QUICK)
    results: list[Figure | Section] = []
    reference = reference_loop_seconds()
    started = time.perf_counter()
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        begun = time.perf_counter()
        results.extend(BENCHMARKS[name](args))
        print(f"  {name} done in {time.perf_counter() - begun:.1f}s", file=sys.stderr, flush=True)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs "
        f"(machine reference: 10,000,000 additions in a Python loop take {reference:.2f} s); "
        f"{time.perf_counter() - started:.0f}s in all. Ratio = figure / baseline, both from this run."
    )
    print(render_table([r for r in results if isinstance(r, Figure)]))
    for section in (r for r in results if isinstance(r, Section)):
        print()
        print(section.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
