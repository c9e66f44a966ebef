"""The loop stall watch notices a loop held by a blocking call, and how long it was held.

The thresholds are far above what a busy machine delays a loop by, so only the block counts."""

from __future__ import annotations

import asyncio
import gc
import time

from libs.platform.stall_watch import StallWatch


async def test_a_blocked_loop_is_a_stall_as_long_as_the_block() -> None:
    watch = StallWatch(threshold_s=0.2, beat_s=0.005)
    watch.start()
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < 0.6:  # holds the loop
            pass
        await asyncio.sleep(0.1)
        assert watch.stalls >= 1
        assert watch.longest_s >= 0.5
    finally:
        await watch.stop()


async def test_collections_during_a_stall_are_counted() -> None:
    watch = StallWatch(threshold_s=0.2, beat_s=0.005)
    watch.start()
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < 0.6:
            gc.collect()
        await asyncio.sleep(0.1)
        assert watch.stalls >= 1
        assert watch.collections.full_runs > 0
        assert watch.collections.longest_s > 0
    finally:
        await watch.stop()
