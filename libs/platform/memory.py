"""The process's native memory: few malloc arenas, so that a long-running service stays flat.

glibc gives each thread that allocates its own malloc arena (up to eight per core), and memory
freed in an arena is rarely handed back to the system. A service on SQLite runs each pooled
connection in a thread of its own (aiosqlite), so rows read and written by the thousand leave a
fragmented arena per connection: a bill run's worker grew from ~180 MiB to ~300 MiB over 100,000
accounts while its Python objects stayed ~25 MiB (tracemalloc) and SQLite's own heap ~35 MiB.
Two arenas shared by all threads keep that flat; `MALLOC_ARENA_MAX` set in the environment
still wins (this only applies when it is not).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
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
