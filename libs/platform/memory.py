"""The process's memory: few malloc arenas, and a collector that spares start-up objects and batches.

Native memory. glibc gives each thread that allocates its own malloc arena (up to eight per
core), and memory freed in an arena is rarely handed back to the system. A service on SQLite runs
each pooled connection in a thread of its own (aiosqlite), so rows read and written by the
thousand leave a fragmented arena per connection: a bill run's worker grew from ~180 MiB to
~300 MiB over 100,000 accounts while its Python objects stayed ~25 MiB (tracemalloc) and SQLite's
own heap ~35 MiB. Two arenas shared by all threads (`limit_malloc_arenas`) keep that flat;
`MALLOC_ARENA_MAX` set in the environment still wins.

The cyclic collector, at start-up (`settle_collector`): everything built so far is frozen out of
its reach, and the young generation is made larger (`GC_YOUNG_THRESHOLD`), so request objects die
young instead of being promoted into full collections of the whole heap.

The cyclic collector, over a CPU-heavy stretch (`gc_paused`, a usage batch): a batch of 10,000
usage events allocates some 100,000 container objects that reference counting frees when the
batch ends; the collector scanned them again and again while they were alive (about 30 % of a
batch's CPU, bench/usage_ingest). `gc_paused()` disables it for the stretch and enables it again
after, so those objects die by reference counting first; cycles made meanwhile are found by the
next collection as usual. Stretches may overlap (concurrent requests on one event loop) or nest
(a consumer's poll holding several batches): the collector is enabled again when the outermost
one ends, and when stretches keep it off for longer than `MAX_PAUSE_SECONDS`, the next one to
start collects the young generations first (or, when it has not been on for
`MAX_FULL_PAUSE_SECONDS`, all of them), so memory stays bounded whatever the load. (A full
collection each time cost a consumer ~5 % of its CPU: py-spy, 1M events.) A collector someone
else disabled is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from libs.platform.logging import get_logger

log = get_logger("platform.memory")

MALLOC_ARENAS: Final = 2
_M_ARENA_MAX: Final = -8
"""glibc's `mallopt` parameter for the arena count (malloc.h)."""


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap the malloc arenas of this process (threads started from now on share them); True when
    applied. Call it before the database's threads start. Nothing happens off glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    applied = bool(mallopt(_M_ARENA_MAX, arenas))
    if not applied:
        log.warning("memory.arena_limit_refused", arenas=arenas)
    return applied


def settle_collector(young_threshold: int) -> None:
    """Once start-up is done: freeze what it built (modules, schemas, settings live as long as the
    process, and a full collection would scan them every time) and set the young generation's
    threshold (0 keeps Python's)."""
    gc.freeze()
    if young_threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, older, oldest)


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
