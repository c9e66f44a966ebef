"""Event-loop stall watch: log what the loop was doing when it stopped answering.

A service answers every request on one event loop: anything that holds the loop (a blocking
call, a long computation, a collection of a large heap) delays every request queued behind it,
which is what a latency's p99 shows. With `LOOP_STALL_LOG_MS` above 0, a task on the loop
stamps a heartbeat every few milliseconds and a daemon thread checks it; when the heartbeat is
older than the threshold, the thread logs `loop.stalled` with the loop thread's stack at that
moment (the frames of the call that holds it), once per stall, then `loop.resumed` with how
long the stall lasted and how many collector runs happened meanwhile.

Off by default (0): the thread wakes a few hundred times a second. The stack is taken with
`sys._current_frames()`; a card number never reaches it (the edge refuses requests holding
one before any handler runs, and every log line is masked anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from libs.platform.logging import get_logger

log = get_logger("stall_watch")

STACK_FRAMES = 25
"""The innermost frames of the loop thread's stack a stall log line carries."""


@dataclass
class _Collections:
    """Collector runs (count and seconds) since the watch started, by the gc callback."""

    runs: int = 0
    seconds: float = 0.0
    full_runs: int = 0
    """Runs of the oldest generation (those scan the whole heap that is not frozen)."""
    longest_s: float = 0.0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            took = time.perf_counter() - self._started
            self.runs += 1
            self.seconds += took
            self.full_runs += info.get("generation") == 2
            self.longest_s = max(self.longest_s, took)


@dataclass
class StallWatch:
    """Heartbeat task on the loop plus a watching thread (see the module)."""

    threshold_s: float
    beat_s: float = 0.005
    stalls: int = 0
    longest_s: float = 0.0
    _last_beat: float = field(default_factory=time.perf_counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _task: asyncio.Task[None] | None = None
    _thread: threading.Thread | None = None
    _loop_thread_id: int = 0
    collections: _Collections = field(default_factory=_Collections)
    """Collector runs seen while watching."""

    def start(self) -> None:
        """Start beating on the running loop and watching from a daemon thread."""
        self._loop_thread_id = threading.get_ident()
        self._last_beat = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._beat(), name="stall-watch")
        gc.callbacks.append(self.collections)
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the heartbeat and the thread."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            self._thread.join(timeout=1)
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self.collections)

    async def _beat(self) -> None:
        while True:
            self._last_beat = time.perf_counter()
            await asyncio.sleep(self.beat_s)

    def _watch(self) -> None:
        stalled_since: float | None = None
        runs_before = full_before = 0
        seconds_before = 0.0
        while not self._stop.wait(self.beat_s):
            now = time.perf_counter()
            late = now - self._last_beat
            if stalled_since is None and late > self.threshold_s:
                stalled_since = self._last_beat
                runs_before, seconds_before = self.collections.runs, self.collections.seconds
                full_before = self.collections.full_runs
                self.collections.longest_s = 0.0
                frame = sys._current_frames().get(self._loop_thread_id)
                stack = traceback.format_stack(frame, limit=STACK_FRAMES) if frame is not None else []
                log.warning("loop.stalled", after_ms=round(late * 1000, 1), stack="".join(stack))
            elif stalled_since is not None and late <= self.threshold_s:
                lasted = self._last_beat - stalled_since
                self.stalls += 1
                self.longest_s = max(self.longest_s, lasted)
                log.warning(
                    "loop.resumed",
                    stalled_ms=round(lasted * 1000, 1),
                    collections=self.collections.runs - runs_before,
                    collection_ms=round((self.collections.seconds - seconds_before) * 1000, 1),
                    full_collections=self.collections.full_runs - full_before,
                    longest_collection_ms=round(self.collections.longest_s * 1000, 1),
                )
                stalled_since = None
