"""Open-loop HTTP load: requests sent on a fixed schedule, latency measured from when each was due.

A closed-loop client (send, wait, send) slows down with the server and so never sees the queue
a slow answer builds: every request that should have gone out meanwhile is simply not sent
(coordinated omission). Here request `i` is due at `start + i / rate` whatever happened before,
and goes out then on an idle connection or a new one, never held back by an answer not yet
come: a stall of the server shows in every request that waited in its queue. A latency runs
from the moment the request is written to the end of its answer; how late each request left
against its due time (the client's own lag: asyncio's timers have a 1 ms grain) is reported
apart, to show the schedule was kept, instead of being charged to the server.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (a pool of connections,
one request in flight on each): a few tens of µs per request, where a full-featured client costs
several hundred, which on a 2-core machine shared with the server would be most of what is
measured. Answers must carry `Content-Length` (uvicorn's do).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class HttpFailure(RuntimeError):
    """A request could not be sent or its answer read."""


@dataclass(frozen=True)
class Answer:
    """Status and body of one answer."""

    status: int
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, request: bytes) -> Answer:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return Answer(status, body)

    def close(self) -> None:
        self.writer.close()


@dataclass
class HttpPool:
    """Keep-alive connections to one server, opened as needed, one request in flight on each."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    _idle: list[_Connection] = field(default_factory=list)
    opened: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._fixed = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": f"{self._host}:{self._port}", **self.headers}.items()
        )

    def request_bytes(self, method: str, path: str, body: object | None = None) -> bytes:
        """The raw request (built once, sent many times)."""
        if body is None:
            return f"{method} {path} HTTP/1.1\r\n{self._fixed}\r\n".encode()
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\n{self._fixed}Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    async def send(self, request: bytes) -> Answer:
        """Send a raw request on an idle connection (or a new one) and read its answer.

        The server closes a keep-alive connection left idle too long (uvicorn: after 5 s): one
        seen closed is dropped, and a request on one that closes under it goes again, once, on a
        new connection (the requests sent here change nothing, so a second try is harmless).
        """
        connection = self._idle_connection()
        if connection is not None:
            try:
                answer = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError):
                connection.close()
            else:
                self._idle.append(connection)
                return answer
        connection = await self._open()
        try:
            answer = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            connection.close()
            raise HttpFailure(f"{type(exc).__name__}: {exc}") from exc
        self._idle.append(connection)
        return answer

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof():
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        self.opened += 1
        return _Connection(reader, writer)

    def close(self) -> None:
        """Close every idle connection."""
        for connection in self._idle:
            connection.close()
        self._idle.clear()


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile of `values` (nearest rank); 0 when there are none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    """Latencies (seconds, from each request's sending), lags and statuses of an open-loop run."""

    seconds: Sequence[float]
    statuses: Sequence[int]
    elapsed: float
    lags: Sequence[float] = ()
    """How late each request left against its due time (seconds)."""

    def percentile(self, p: float) -> float:
        """The p-th percentile of the latencies (nearest rank), in seconds."""
        return percentile(self.seconds, p)

    @property
    def achieved_rate(self) -> float:
        """Answers per second over the run."""
        return len(self.seconds) / self.elapsed if self.elapsed > 0 else 0.0


async def open_loop(pool: HttpPool, requests: Sequence[bytes], rate: float) -> tuple[Latencies, list[Answer]]:
    """Send `requests` at `rate` per second on schedule; each latency counted from its due time."""
    # perf_counter, not loop.time(): uvloop's clock moves in whole milliseconds.
    clock = time.perf_counter
    start = clock() + 0.01
    answers: list[Answer | None] = [None] * len(requests)
    latencies = [0.0] * len(requests)
    lags = [0.0] * len(requests)

    async def one(index: int, due: float) -> None:
        sent = clock()
        lags[index] = sent - due
        answers[index] = await pool.send(requests[index])
        latencies[index] = clock() - sent

    tasks: list[asyncio.Task[None]] = []
    for index in range(len(requests)):
        due = start + index / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    done = [a for a in answers if a is not None]
    return Latencies(latencies, [a.status for a in done], elapsed, lags), done


def cycle(requests: Sequence[bytes], count: int) -> list[bytes]:
    """`count` requests taken in turn from `requests`."""
    return [requests[i % len(requests)] for i in range(count)]
