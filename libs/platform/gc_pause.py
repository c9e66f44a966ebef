"""The cyclic garbage collector paused over a CPU-heavy stretch of work (a usage batch).

A batch of 10,000 usage events allocates some 100,000 container objects that reference counting
frees when the batch ends; the cyclic collector, triggered every 700 allocations, scanned them
again and again while they were alive: about 30 % of the CPU time of a batch (bench/usage_ingest).
`gc_paused()` disables the collector for the stretch and enables it again after, so those objects
die by reference counting before any collection looks at them; cycles made meanwhile are found
by the next collection as usual.

Stretches may overlap (concurrent requests on one event loop): the collector is enabled again
when the last one ends, and when stretches keep overlapping for longer than `MAX_PAUSE_SECONDS`
a full collection runs at the next start, so memory stays bounded whatever the load. A
collector someone else disabled is left alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

MAX_PAUSE_SECONDS: Final = 1.0
"""Longest time overlapping stretches keep the collector off before one full collection runs."""


class _Pause:
    depth = 0
    since = 0.0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (see the module)."""
    if _Pause.depth == 0:
        if not gc.isenabled():
            yield  # disabled by someone else: theirs to enable
            return
        gc.disable()
        _Pause.since = time.monotonic()
    elif time.monotonic() - _Pause.since > MAX_PAUSE_SECONDS:
        gc.collect()
        _Pause.since = time.monotonic()
    _Pause.depth += 1
    try:
        yield
    finally:
        _Pause.depth -= 1
        if _Pause.depth == 0:
            gc.enable()
