"""A closed-loop HTTP load that costs the server's machine little: raw requests built before the
timed window, sent on keep-alive connections by the minimal asyncio client of `bench.http_load`,
from one process or several.

Each of `concurrency` connections sends its next request as soon as the previous one is answered.
With `clients` > 1 the connections are split between that many processes (spawned, started
together at an agreed instant), so one client's event loop is not what limits the rate. Every
process reports its answers, its latencies and the CPU it spent, so a report can say how much of
the machine the load generator itself took.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.http_load import HttpPool, percentile

START_DELAY_S = 1.5


@dataclass
class Run:
    """Latencies (s) and statuses (by request index) of one closed-loop run, its wall time and the
    client's CPU."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Requests answered per second."""
        return len(self.seconds) / max(self.elapsed, 1e-9)

    def ms(self, p: float) -> float:
        """The p-th percentile latency in ms."""
        return percentile(self.seconds, p) * 1000

    @staticmethod
    def merged(runs: Sequence[Run]) -> Run:
        """Several runs side by side as one (wall time: the longest)."""
        return Run(
            [s for r in runs for s in r.seconds],
            [s for r in runs for s in r.statuses],
            max((r.elapsed for r in runs), default=0.0),
            sum(r.client_cpu for r in runs),
        )


def raw_request(host: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode("latin-1") + body


async def _closed_loop(
    url: str, requests: Sequence[bytes], concurrency: int, start_at: float | None
) -> tuple[list[float], list[int], float, float]:
    pool = HttpPool(url)
    statuses = [0] * len(requests)
    seconds: list[float] = []
    indexes = iter(range(len(requests)))

    async def worker() -> None:
        for i in indexes:
            began = time.perf_counter()
            answer = await pool.send(requests[i])
            seconds.append(time.perf_counter() - began)
            statuses[i] = answer.status

    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    pool.close()
    return seconds, statuses, elapsed, cpu


def _client_process(
    url: str, requests: Sequence[bytes], concurrency: int, start_at: float
) -> tuple[list[float], list[int], float, float]:
    return asyncio.run(_closed_loop(url, requests, concurrency, start_at))


async def closed_loop(url: str, requests: Sequence[bytes], concurrency: int, clients: int = 1) -> Run:
    """Send `requests` over `concurrency` keep-alive connections (split between `clients`
    processes), each connection sending its next as soon as one is answered."""
    if clients <= 1:
        seconds, statuses, elapsed, cpu = await _closed_loop(url, requests, concurrency, None)
        return Run(seconds, statuses, elapsed, cpu)
    # Request i goes to client i % clients, so each client's share keeps the run's order.
    shares = [list(requests[c::clients]) for c in range(clients)]
    per_client = [concurrency // clients + (c < concurrency % clients) for c in range(clients)]
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(clients, mp_context=context) as executor:
        # Spawning takes a while: every client waits for the same instant before it starts.
        start_at = time.monotonic() + START_DELAY_S + 0.3 * clients
        results = await asyncio.gather(
            *(
                loop.run_in_executor(executor, _client_process, url, shares[c], per_client[c], start_at)
                for c in range(clients)
            )
        )
    statuses = [0] * len(requests)
    for c, (_, client_statuses, _, _) in enumerate(results):
        statuses[c::clients] = client_statuses
    return Run(
        [s for r in results for s in r[0]],
        statuses,
        max(r[2] for r in results),
        sum(r[3] for r in results),
    )
