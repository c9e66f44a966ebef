"""The cyclic garbage collector paused over a CPU-heavy stretch of work (a usage batch).

A batch of 10,000 usage events allocates some 100,000 container objects that reference counting
frees when the batch ends; the cyclic collector, triggered every 700 allocations, scanned them
again and again while they were alive: about 30 % of the CPU time of a batch (bench/usage_ingest).
`gc_paused()` disables the collector for the stretch and enables it again after, so those objects
die by reference counting before any collection looks at them; cycles made meanwhile are found
by the next collection as usual.

Stretches may overlap (concurrent requests on one event loop) or nest (a consumer's poll holding
several batches): the collector is enabled again when the outermost one ends, and when
stretches keep the collector off for longer than `MAX_PAUSE_SECONDS`, the next one to start
collects the young generations first (the objects made since the pause began; the old ones are
the automatic collections' again once the collector is on — or, when it has not been on for
`MAX_FULL_PAUSE_SECONDS`, all of them), so memory stays bounded whatever the load. (A full
collection each time cost a consumer ~5 % of its CPU: py-spy, 1M events.) A collector someone
else disabled is left alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

MAX_PAUSE_SECONDS: Final = 5.0
"""Longest time stretches keep the collector off before the young generations are collected."""
MAX_FULL_PAUSE_SECONDS: Final = 60.0
"""Longest time stretches keep the collector off before every generation is collected."""


class _Pause:
    depth = 0
    since = 0.0
    """When the collector was last switched off or the young generations collected."""
    began = 0.0
    """When the collector was switched off or all generations last collected."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (see the module)."""
    if _Pause.depth == 0:
        if not gc.isenabled():
            yield  # disabled by someone else: theirs to enable
            return
        gc.disable()
        _Pause.since = _Pause.began = time.monotonic()
    elif time.monotonic() - _Pause.since > MAX_PAUSE_SECONDS:
        full = time.monotonic() - _Pause.began > MAX_FULL_PAUSE_SECONDS
        gc.collect(2 if full else 1)
        _Pause.since = time.monotonic()
        if full:
            _Pause.began = _Pause.since
    _Pause.depth += 1
    try:
        yield
    finally:
        _Pause.depth -= 1
        if _Pause.depth == 0:
            gc.enable()
