"""`python -m bench [bus] [quote]`: run the benchmarks (all by default) and print one table.

Progress goes to stderr, the table to stdout. Every benchmark starts what it needs on loopback
(a broker on a free port, SQLite files in a temporary directory), stops by itself and cleans up.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from bench import bus, quote
from bench.report import Figure, render_table

Benchmark = Callable[[argparse.Namespace], list[Figure]]

BENCHMARKS: dict[str, Benchmark] = {
    "bus": lambda args: bus.run(args.events),
    "quote": lambda args: quote.run(
        args.engine_lines,
        quotes=args.quotes,
        lines_per_quote=args.lines_per_quote,
        health_requests=args.health_requests,
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", choices=[[], *BENCHMARKS], metavar="NAME", help="bus, quote (default: all)"
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks in order and print their figures next to their baselines."""
    args = _parser().parse_args(argv)
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)
    figures: list[Figure] = []
    started = time.perf_counter()
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        begun = time.perf_counter()
        figures.extend(BENCHMARKS[name](args))
        print(f"  {name} done in {time.perf_counter() - begun:.1f}s", file=sys.stderr, flush=True)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{time.perf_counter() - started:.0f}s in all. Ratio = figure / baseline, both from this run."
    )
    print(render_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
