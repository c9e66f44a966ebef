"""Idempotency-Key on a route that streams its body (`edge_body(stream=True)`): the body is never
read into memory by the middleware, the key is claimed at its last byte, and the answers are
those of every other route — replayed, reused (409), in flight (409) — with one change at most.
Plus the edge's body limit taken from a setting, for such a route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from sqlmodel import select

from libs.platform.audit import AuditRecord
from libs.platform.auth import Principal, require_roles
from libs.platform.edge import edge_body
from libs.platform.errors import ValidationFailed
from libs.platform.service import ServiceRuntime, create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.polling import eventually
from tests.support.services import auth, service_settings

Finance = Annotated[Principal, Depends(require_roles(Role.FINANCE))]


class Seen:
    """What the routes saw, and a gate to hold one after it read its body."""

    def __init__(self) -> None:
        self.chunks: list[int] = []
        self.hold = False
        self.read = asyncio.Event()
        self.release = asyncio.Event()


def _router(seen: Seen) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/test-uploads", status_code=201)
    @edge_body(stream=True, max_body_setting="usage_file_max_bytes")
    async def upload(request: Request, caller: Finance) -> dict[str, int]:
        if request.headers.get("content-type") != "text/csv":
            raise ValidationFailed.single("content-type", "send text/csv")
        size = 0
        pieces = 0
        async for chunk in request.stream():
            size += len(chunk)
            pieces += 1 if chunk else 0
        seen.chunks.append(pieces)
        if seen.hold:
            seen.read.set()
            await seen.release.wait()
        async with request.app.state.runtime.unit_of_work(caller) as uow:
            uow.audit("upload.received", "upload", "up_1", {"bytes": size})
            await uow.commit()
        return {"bytes": size}

    @router.post("/v1/test-pings", status_code=201)
    @edge_body(stream=True)
    async def ping(caller: Finance) -> dict[str, int]:
        seen.chunks.append(0)
        return {"pings": len(seen.chunks)}

    @router.post("/v1/test-hasty-uploads", status_code=201)
    @edge_body(stream=True)
    async def commit_before_reading(request: Request, caller: Finance) -> dict[str, str]:
        async with request.app.state.runtime.unit_of_work(caller) as uow:
            uow.audit("upload.received", "upload", "up_hasty", {})
            await uow.commit()
        return {"read": "nothing"}

    return router


@pytest.fixture
def runtime(sqlite_url: str) -> ServiceRuntime:
    settings = service_settings(
        RatingSettings, database_url=sqlite_url, bootstrap=None, usage_file_max_bytes=64 * 1024
    )
    return bootstrap(settings)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
async def client(runtime: ServiceRuntime, seen: Seen) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(runtime=runtime, title="Test", description="test", routers=[_router(seen)])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as c:
            yield c


async def _pieces(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _changes(runtime: ServiceRuntime, entity_id: str) -> int:
    async with runtime.db.session() as session:
        rows = await session.exec(select(AuditRecord).where(AuditRecord.entity_id == entity_id))
        return len(rows.all())


def _headers(key: str) -> dict[str, str]:
    return {**auth("finance"), "Idempotency-Key": key, "content-type": "text/csv"}


async def test_a_streamed_body_is_applied_once_replayed_after_and_refused_with_another_body(
    client: httpx.AsyncClient, runtime: ServiceRuntime, seen: Seen
) -> None:
    body = b"a,b\n" * 5000  # 20,000 bytes, sent in 20 pieces

    first = await client.post("/v1/test-uploads", content=_pieces(body), headers=_headers("k-1"))
    again = await client.post("/v1/test-uploads", content=_pieces(body, 333), headers=_headers("k-1"))
    other = await client.post("/v1/test-uploads", content=body + b"x", headers=_headers("k-1"))

    assert (first.status_code, first.json()) == (201, {"bytes": 20_000})
    assert seen.chunks[0] == 20  # the route got the pieces as they came, not one buffered body
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (
        201,
        {"bytes": 20_000},
        "true",
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert await _changes(runtime, "up_1") == 1


async def test_a_second_request_while_the_first_holds_the_key_is_in_flight_and_changes_nothing(
    client: httpx.AsyncClient, runtime: ServiceRuntime, seen: Seen
) -> None:
    seen.hold = True
    body = b"a,b\n" * 100
    first = asyncio.create_task(client.post("/v1/test-uploads", content=body, headers=_headers("k-2")))
    await eventually(lambda: _is_set(seen.read), until=bool)
    seen.hold = False

    second = await client.post("/v1/test-uploads", content=_pieces(body, 50), headers=_headers("k-2"))
    seen.release.set()

    assert second.status_code == 409 and second.json()["code"] == "idempotency_key_in_flight"
    assert (await first).status_code == 201
    assert await _changes(runtime, "up_1") == 1


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()


async def test_an_error_before_the_body_is_read_is_not_remembered(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    refused = await client.post(
        "/v1/test-uploads", content=b"a,b\n", headers={**_headers("k-3"), "content-type": "text/plain"}
    )
    accepted = await client.post("/v1/test-uploads", content=b"a,b\n", headers=_headers("k-3"))

    assert refused.status_code == 422
    assert accepted.status_code == 201 and "idempotent-replayed" not in accepted.headers
    assert await _changes(runtime, "up_1") == 1


async def test_a_streaming_route_that_never_reads_its_body_is_still_keyed_by_it(
    client: httpx.AsyncClient, seen: Seen
) -> None:
    first = await client.post("/v1/test-pings", content=_pieces(b"p" * 3000), headers=_headers("k-4"))
    again = await client.post("/v1/test-pings", content=b"p" * 3000, headers=_headers("k-4"))
    other = await client.post("/v1/test-pings", content=b"q", headers=_headers("k-4"))

    assert (first.json(), again.json(), again.headers["idempotent-replayed"]) == ({"pings": 1},) * 2 + (
        "true",
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    # Such a route runs before its key is known (it changes nothing: a commit would be refused);
    # the answers are the first one's.
    assert len(seen.chunks) == 3


async def test_a_streaming_route_that_commits_before_reading_its_body_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    hasty = await client.post("/v1/test-hasty-uploads", content=b"a,b\n", headers=_headers("k-6"))
    assert hasty.status_code == 500
    assert await _changes(runtime, "up_hasty") == 0


async def test_a_route_s_body_limit_may_come_from_a_setting(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    headers = {**auth("finance"), "content-type": "text/csv"}
    declared = await client.post("/v1/test-uploads", content=b"x" * (64 * 1024 + 1), headers=headers)
    streamed = await client.post(
        "/v1/test-uploads", content=_pieces(b"x" * (64 * 1024 + 1), 4096), headers=headers
    )
    keyed = await client.post(
        "/v1/test-uploads", content=_pieces(b"x" * (64 * 1024 + 1), 4096), headers=_headers("k-5")
    )
    within = await client.post("/v1/test-uploads", content=_pieces(b"x" * 64 * 1024, 4096), headers=headers)

    for refused in (declared, streamed, keyed):
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "content_too_large" and "65536" in refused.json()["detail"]
    assert (within.status_code, within.json()) == (201, {"bytes": 64 * 1024})
    assert await _changes(runtime, "up_1") == 1
