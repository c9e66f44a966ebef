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
    timeout_s: float = 20.0,
    interval_s: float = 0.05,
) -> T:
    """Call `probe` until `until(result)` holds; fail with the last result after the deadline."""
    deadline = time.monotonic() + timeout_s
    result = await probe()
    while not until(result):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s; last value: {result!r}")
        await asyncio.sleep(interval_s)
        result = await probe()
    return result
