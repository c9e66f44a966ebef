"""SIGKILL of a real `python -m overage` process while signed notices pour in: every notice it
acknowledged is stored (the group commit answers only after its commit); the ones it did not
answer are sent again after a restart and each is stored exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from bench.http_load import HttpFailure, HttpPool
from bench.rating_stack import Databases, StoreProbe
from bench.webhook import PROCESS_ENV, OverageProcess, notice_body, setup_vendor, signed_requests

pytestmark = pytest.mark.timeout(300)
NOTICES = 3_000
KILL_AFTER = 300
CONCURRENCY = 16


async def _send_all(url: str, requests: list[bytes], answered: dict[int, int]) -> None:
    """Closed loop over CONCURRENCY connections until the requests run out or the server dies."""
    pool = HttpPool(url)
    indexes = iter(range(len(requests)))

    async def worker() -> None:
        for i in indexes:
            try:
                answered[i] = (await pool.send(requests[i])).status
            except (HttpFailure, OSError):
                return

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    pool.close()


async def _stored_refs(url: str) -> list[str]:
    probe = StoreProbe(url)
    try:
        return [row[0] for row in await probe.rows("SELECT notice_ref FROM overage_notices")]
    finally:
        await probe.close()


async def test_a_killed_process_has_stored_every_notice_it_acknowledged(tmp_path: Path) -> None:
    databases = Databases(tmp_path, None)
    url = await databases.fresh("overage")
    process = OverageProcess("overage", url, "127.0.0.1:1", tmp_path / "overage.log", extra_env=PROCESS_ENV)
    process.start()
    try:
        await process.wait_ready()
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
            vendor_id, secret = await setup_vendor(client)
        path = f"/v1/webhooks/vendors/{vendor_id}/overage"
        host = process.url.removeprefix("http://")
        ids = [f"crash-{i:05d}" for i in range(NOTICES)]
        requests = signed_requests(
            host, path, secret, [notice_body(ref, 1 + i % 12) for i, ref in enumerate(ids)]
        )
        answered: dict[int, int] = {}
        sending = asyncio.create_task(_send_all(process.url, requests, answered))
        deadline = time.monotonic() + 120
        while len(answered) < KILL_AFTER and not sending.done():
            assert time.monotonic() < deadline, "the notices were not answered in time"
            await asyncio.sleep(0.005)
        process.kill()
        await sending

        acknowledged = {ids[i] for i, status in answered.items() if status in (200, 202)}
        assert set(answered.values()) <= {200, 202}
        assert KILL_AFTER <= len(acknowledged) < NOTICES, "the kill did not come mid-run"
        stored = await _stored_refs(url)
        assert acknowledged <= set(stored), "a notice was acknowledged but not stored"
        assert len(stored) == len(set(stored))

        process.start()
        await process.wait_ready()
        rest = [i for i in range(NOTICES) if ids[i] not in acknowledged]
        resent: dict[int, int] = {}
        retries = signed_requests(host, path, secret, [notice_body(ids[i], 1 + i % 12) for i in rest])
        await _send_all(process.url, retries, resent)
        assert sorted(resent) == list(range(len(rest)))
        assert set(resent.values()) <= {200, 202}
        stored = await _stored_refs(url)
        assert sorted(stored) == ids, "after the retries every notice is stored exactly once"
    finally:
        process.stop()
        await databases.drop_all()
