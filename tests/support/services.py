"""Start a service app in-process for tests: real database, real broker, real lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from libs.platform.settings import Role

API_KEYS: dict[Role, str] = {role: f"test-{role.value}-key-0123456789abcdef" for role in Role}
API_KEYS_SETTING = ",".join(f"{role.value}:{key}" for role, key in API_KEYS.items())

GROUP_SESSION_TIMEOUT_MS = 2_000
"""The consumer groups' session timeout in tests. The local broker (Tansu 0.6) holds a JoinGroup
for about half the session timeout (whatever the rebalance timeout says) and a join after a member
left for about twice it: measured, 6 s made every join 3 s and every rejoin 11 s; 2 s makes them
1 s and 4 s. A member is still dropped only after 2 s without a heartbeat (sent every 200 ms)."""
GROUP_REBALANCE_TIMEOUT_MS = 1_000
GROUP_TIMEOUTS: dict[str, int] = {
    "session_timeout_ms": GROUP_SESSION_TIMEOUT_MS,
    "rebalance_timeout_ms": GROUP_REBALANCE_TIMEOUT_MS,
}
"""The keyword arguments of an `IdempotentConsumer` in tests: the same group timeouts as the apps'."""


def auth(role: Role | str = Role.ADMIN) -> dict[str, str]:
    """Headers that authenticate as `role`."""
    return {"Authorization": f"Bearer {API_KEYS[Role(role)]}"}


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, relay, consumers) and yield a client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            yield client


def service_settings(
    settings_cls: Callable[..., Any], *, database_url: str, bootstrap: str | None, **extra: Any
) -> Any:
    """Settings for a service under test (bus off when no broker is given)."""
    return settings_cls(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap or "127.0.0.1:1",
        bus_enabled=bootstrap is not None,
        api_keys=API_KEYS_SETTING,
        relay_poll_interval_s=0.05,
        kafka_topic_partitions=3,
        consumer_session_timeout_ms=GROUP_SESSION_TIMEOUT_MS,
        consumer_rebalance_timeout_ms=GROUP_REBALANCE_TIMEOUT_MS,
        **extra,
    )
