"""Wait for an outcome with a deadline instead of sleeping a fixed time (STYLE §9)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool],
    timeout_s: float = 60.0,
    interval_s: float = 0.05,
) -> T:
    """Call `probe` until `until(result)` holds; fail with the last result after the deadline.

    The deadline only bounds how long a test that fails waits: an outcome that comes returns at
    once. 60 s, because on a 2-core machine running three test workers beside other work, a
    broker round trip and a consumer's poll took over 20 s (a flake, not a defect).
    """
    deadline = time.monotonic() + timeout_s
    result = await probe()
    while not until(result):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s; last value: {result!r}")
        await asyncio.sleep(interval_s)
        result = await probe()
    return result
