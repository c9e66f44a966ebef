"""What SQLite spends per stored usage event and per aggregate write, by schema variant.

`python -m bench.usage_store [--events 1000000] [--ids sequential,random]` times, in a fresh
SQLite file per variant (WAL, synchronous=NORMAL, a 64 MiB page cache: the service's pragmas),
the driver's `executemany` of 10,000-row batches of usage-event rows, each its own
transaction, as the table grows to `--events` rows (B-tree costs grow with the size), then the
update of 10,000 aggregates by rowid with and without migration 0012's row triggers. CPU
microseconds per row (process time: a shared machine's load blurs it less than the wall clock).

Variants of `usage_events`: the migrated table (a rowid table, the primary key's index on
event_id, the series index, the partial review index); the same WITHOUT ROWID (one B-tree keyed
by event_id); each without the series index; the series index narrowed.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

BATCH = 10_000
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536")
EVENT_COLUMNS = (
    "event_id, meter, subscription_id, account_id, quantity, occurred_at, usage_date, period_start,"
    " status, properties, source, load_id, received_at, review_reason"
)
EVENTS_TABLE = (
    "CREATE TABLE usage_events (event_id VARCHAR(128) NOT NULL, meter VARCHAR(64) NOT NULL,"
    " subscription_id VARCHAR(64), account_id VARCHAR(64), quantity VARCHAR NOT NULL,"
    " occurred_at DATETIME NOT NULL, usage_date DATE, period_start DATE, status VARCHAR(12) NOT NULL,"
    " properties TEXT, source VARCHAR(12) NOT NULL, load_id VARCHAR(40), received_at DATETIME NOT NULL,"
    " review_reason VARCHAR(200), PRIMARY KEY (event_id))"
)
SERIES = "subscription_id, meter, period_start"
VARIANTS: dict[str, tuple[bool, str | None]] = {
    "migrated": (False, SERIES),
    "without-rowid": (True, SERIES),
    "no-series": (False, None),
    "without-rowid-no-series": (True, None),
    "narrow-series": (False, "subscription_id, period_start"),
}
"""name -> (WITHOUT ROWID, the series index's columns or None); narrow-series: the series
index on (subscription_id, period_start)."""


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


def _event_rows(batch: int, ids: str, rnd: random.Random) -> list[tuple[object, ...]]:
    if ids == "sequential":
        event_ids = [f"run1-{batch * BATCH + i:09d}" for i in range(BATCH)]
    else:
        event_ids = sorted(uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(BATCH))
    return [
        (
            event_id,
            ("api_calls", "sms")[(batch * BATCH + i) // 10_000 % 2],
            f"sub_{(batch * BATCH + i) % 10_000:06d}",
            f"acc_{(batch * BATCH + i) % 10_000:06d}",
            str(i % 9 + 1),
            f"2026-07-15 11:{i % 60:02d}:{i % 59:02d}.000000",
            "2026-07-15",
            "2026-07-01",
            "counted",
            '{"region":"eu"}',
            "rest",
            None,
            "2026-07-15 12:00:00.000000",
            None,
        )
        for i, event_id in enumerate(event_ids)
    ]


def events(directory: Path, name: str, ids: str, total: int) -> str:
    """One variant grown to `total` rows: CPU µs per row of its first, middle and last batches."""
    without_rowid, series = VARIANTS[name]
    connection = _connect(directory / f"events-{len(os.listdir(directory))}.db")
    connection.execute(EVENTS_TABLE + (" WITHOUT ROWID" if without_rowid else ""))
    if series is not None:
        connection.execute(f"CREATE INDEX ix_usage_events_series ON usage_events ({series})")
    connection.execute(
        "CREATE INDEX ix_usage_events_review ON usage_events (received_at) WHERE status = 'unmatched'"
    )
    insert = (
        f"INSERT INTO usage_events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 14)})"
        " ON CONFLICT (event_id) DO NOTHING"
    )
    rnd = random.Random(1)
    seconds: list[float] = []
    for batch in range(total // BATCH):
        rows = _event_rows(batch, ids, rnd)
        started = time.process_time()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(insert, rows)
        connection.execute("COMMIT")
        seconds.append(time.process_time() - started)
    connection.close()
    n = len(seconds)

    def per_row(part: Sequence[float]) -> str:
        return f"{sum(part) / len(part) / BATCH * 1e6:5.2f}"

    tenth = max(1, n // 10)
    middle = seconds[n // 2 - tenth // 2 : n // 2 - tenth // 2 + tenth]
    return (
        f"{name:24} {ids:10} first {per_row(seconds[:tenth])}  middle {per_row(middle)}"
        f"  last {per_row(seconds[-tenth:])} µs/row"
    )


def aggregates(directory: Path, *, triggers: bool, rounds: int = 15) -> str:
    """10,000 aggregates updated by rowid (the steady batch), migration 0012's triggers or none."""
    connection = _connect(directory / f"aggregates-{len(os.listdir(directory))}.db")
    connection.execute(
        "CREATE TABLE usage_aggregates (subscription_id VARCHAR(64) NOT NULL, meter VARCHAR(64) NOT NULL,"
        " period_start DATE NOT NULL, period_end DATE NOT NULL, account_id VARCHAR(64) NOT NULL,"
        " quantity VARCHAR NOT NULL, event_count INTEGER NOT NULL, late_quantity VARCHAR NOT NULL,"
        " late_count INTEGER NOT NULL, latest_at DATETIME, updated_at DATETIME NOT NULL, rated_at DATETIME,"
        " PRIMARY KEY (subscription_id, meter, period_start))"
    )
    connection.execute(
        "CREATE INDEX ix_usage_aggregates_unrated ON usage_aggregates (subscription_id, meter, period_start)"
        " WHERE rated_at IS NULL"
    )
    connection.execute(
        "CREATE TABLE rating_usage_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)"
    )
    connection.execute("INSERT INTO rating_usage_generation VALUES (1, 0)")
    if triggers:
        for change in ("INSERT", "UPDATE", "DELETE"):
            connection.execute(
                f"CREATE TRIGGER usage_aggregates_generation_{change.lower()}"
                f" AFTER {change} ON usage_aggregates"
                " WHEN (SELECT generation FROM rating_usage_generation) >= 0"
                " BEGIN UPDATE rating_usage_generation SET generation = generation + 1; END"
            )
    columns = "subscription_id, meter, period_start, period_end, account_id, quantity, event_count,"
    columns += " late_quantity, late_count, latest_at, updated_at"
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        f"INSERT INTO usage_aggregates ({columns}) VALUES ({', '.join('?' * 11)})",
        [
            (f"sub_{i:06d}", meter, "2026-07-01", "2026-08-01", f"acc_{i:06d}", "1", 1, "0", 0, "x", "x")
            for i in range(BATCH)
            for meter in ("api_calls", "sms")
        ],
    )
    connection.execute("COMMIT")
    rowids = {
        (row[1], row[2]): row[0]
        for row in connection.execute("SELECT rowid, subscription_id, meter FROM usage_aggregates")
    }
    update = (
        "UPDATE usage_aggregates SET period_end = ?, account_id = ?, quantity = ?, event_count = ?,"
        " late_quantity = ?, late_count = ?, latest_at = ?, updated_at = ?"
        " WHERE rowid = ? AND subscription_id = ? AND meter = ? AND period_start = ?"
    )
    seconds: list[float] = []
    for n in range(rounds):
        rows = [
            ("2026-08-01", f"acc_{i:06d}", str(n + 2), n + 2, "0", 0, "2026-07-15 11:00:00.000000",
             f"2026-07-15 12:00:{n:02d}.000000", rowids[(f"sub_{i:06d}", "api_calls")], f"sub_{i:06d}",
             "api_calls", "2026-07-01")
            for i in range(BATCH)
        ]  # fmt: skip
        started = time.process_time()
        connection.execute("BEGIN IMMEDIATE")
        if triggers:  # as a batch writes them (migration 0012): the triggers skip its own rows
            connection.execute("UPDATE rating_usage_generation SET generation = -2 - generation")
        connection.executemany(update, rows)
        if triggers:
            connection.execute("UPDATE rating_usage_generation SET generation = -1 - generation")
        connection.execute("COMMIT")
        seconds.append(time.process_time() - started)
    connection.close()
    median = sorted(seconds)[rounds // 2]
    kind = "0012 triggers" if triggers else "no triggers"
    return f"aggregates by rowid, {kind:14} {median / BATCH * 1e6:5.2f} µs/row"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.usage_store", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ids", default="sequential,random")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    args = parser.parse_args(argv)
    print(
        f"SQLite {sqlite3.sqlite_version}; CPU µs per row; {BATCH:,}-row batches up to {args.events:,} rows"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for ids in args.ids.split(","):
            for name in args.variants.split(","):
                print(events(Path(tmp), name, ids, args.events), flush=True)
                for leftover in Path(tmp).iterdir():
                    leftover.unlink()
        for triggers in (True, False, True, False):
            print(aggregates(Path(tmp), triggers=triggers), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
