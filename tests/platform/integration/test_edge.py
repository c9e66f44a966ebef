"""The edge: 401 before the body is read, bounded bodies (413) and JSON, bounded errors, /metrics access."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict

from catalog.app import create_app as create_catalog_app
from catalog.config import CatalogSettings
from libs.platform.auth import Principal, require_roles
from libs.platform.edge import MIB, edge_body
from libs.platform.problems import MAX_REPORTED_ERRORS
from libs.platform.service import create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.services import auth, running_app, service_settings

Finance = Annotated[Principal, Depends(require_roles(Role.FINANCE))]


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]]


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/test-batches", status_code=201)
    async def default_limit(body: Batch, caller: Finance) -> dict[str, int]:
        return {"items": len(body.items)}

    @router.post("/v1/test-large-batches", status_code=201, max_body_size=8 * MIB)
    async def large_limit(body: Batch, caller: Finance) -> dict[str, int]:
        return {"items": len(body.items)}

    @router.post("/v1/test-uncounted", status_code=201, max_body_size=8 * MIB)
    @edge_body(json_members=None)
    async def uncounted(request: Request, caller: Finance) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @router.post("/v1/test-capped", status_code=201)
    @edge_body(json_members=50)
    async def capped(body: Batch, caller: Finance) -> dict[str, int]:
        return {"items": len(body.items)}

    @router.post("/v1/test-streamed", status_code=201, max_body_size=4 * MIB)
    @edge_body(stream=True)
    async def streamed(request: Request, caller: Finance) -> dict[str, int]:
        chunks = 0
        size = 0
        async for chunk in request.stream():
            chunks += 1
            size += len(chunk)
        return {"bytes": size, "chunks": chunks}

    return router


def _app(sqlite_url: str, **overrides: Any) -> FastAPI:
    base = service_settings(RatingSettings, database_url=sqlite_url, bootstrap=None)
    # Validated again, so ENVIRONMENT=production checks the (strong) test keys as it would.
    runtime = bootstrap(RatingSettings(**{**base.model_dump(), **overrides}))
    return create_service_app(runtime=runtime, title="Test", description="test", routers=[_router()])


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(_app(sqlite_url)) as c:
        yield c


@pytest.fixture
async def catalog(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path}/catalog.db"
    app = create_catalog_app(service_settings(CatalogSettings, database_url=url, bootstrap=None))
    async with running_app(app) as c:
        yield c


class CountingBody:
    """A streamed request body that counts how much of it the server pulled."""

    def __init__(self, chunks: int, chunk: bytes = b"x" * 65536) -> None:
        self.chunks = chunks
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"items": ['
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


async def test_no_key_is_401_before_one_byte_of_the_body_is_read(sqlite_url: str) -> None:
    app = _app(sqlite_url)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body of an unauthenticated request was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with app.router.lifespan_context(app):
        for headers in ([], [(b"authorization", b"Bearer not-a-key")], [(b"x-api-key", b"nope")]):
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/v1/test-batches",
                "raw_path": b"/v1/test-batches",
                "root_path": "",
                "query_string": b"",
                "headers": [(b"content-type", b"application/json"), (b"idempotency-key", b"k1"), *headers],
                "server": ("testserver", 80),
                "client": ("127.0.0.1", 1234),
                "app": app,
            }
            sent.clear()
            await app(scope, receive, send)
            assert sent[0]["type"] == "http.response.start"
            assert sent[0]["status"] == 401


async def test_a_huge_streamed_body_without_a_key_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = CountingBody(chunks=1600)  # 100 MiB if it were read
    response = await client.post(
        "/v1/test-batches", content=body, headers={"content-type": "application/json"}
    )
    _problem(response, 401)
    assert body.pulled == 0


async def test_malformed_json_from_an_unauthenticated_caller_is_401(
    client: httpx.AsyncClient, catalog: httpx.AsyncClient
) -> None:
    for http in (client, catalog):
        path = "/v1/test-batches" if http is client else "/v1/products"
        response = await http.post(path, content=b'{"items": [', headers={"content-type": "application/json"})
        _problem(response, 401)
    # With a key, the same body is the 422 it always was.
    keyed = await catalog.post(
        "/v1/products", content=b'{"sku": ', headers={**auth(), "content-type": "application/json"}
    )
    _problem(keyed, 422)


async def test_a_body_over_the_limit_is_a_413_problem_whether_declared_or_streamed(
    client: httpx.AsyncClient,
) -> None:
    declared = await client.post(
        "/v1/test-batches",
        content=b"{" + b" " * MIB + b"}",
        headers={**auth(), "content-type": "application/json"},
    )
    assert _problem(declared, 413)["code"] == "content_too_large"
    streamed_body = CountingBody(chunks=1600)
    streamed = await client.post(
        "/v1/test-batches", content=streamed_body, headers={**auth(), "content-type": "application/json"}
    )
    _problem(streamed, 413)
    assert streamed_body.pulled <= 1 * MIB // 65536 + 1
    within = await client.post("/v1/test-batches", json={"items": [{"a": 1}]}, headers=auth())
    assert within.status_code == 201


async def test_a_route_may_declare_a_larger_limit(client: httpx.AsyncClient) -> None:
    items = [{"note": "x" * 1000} for _ in range(2000)]  # ~2 MiB
    small = await client.post("/v1/test-batches", json={"items": items}, headers=auth())
    _problem(small, 413)
    large = await client.post("/v1/test-large-batches", json={"items": items}, headers=auth())
    assert large.status_code == 201, large.text[:300]
    assert large.json() == {"items": 2000}
    huge = await client.post("/v1/test-large-batches", content=b"[" + b" " * (8 * MIB) + b"]", headers=auth())
    _problem(huge, 413)


def _unknown_keys(count: int) -> bytes:
    return ("{" + ",".join(f'"k{i}":0' for i in range(count)) + "}").encode()


async def test_700000_unknown_keys_get_a_small_answer(catalog: httpx.AsyncClient) -> None:
    headers = {**auth(), "content-type": "application/json"}
    response = await catalog.post("/v1/products", content=_unknown_keys(700_000), headers=headers)
    assert response.status_code in {413, 422}
    assert len(response.content) < 2_000


async def test_unknown_keys_within_the_body_limit_are_refused_before_validation(
    client: httpx.AsyncClient, catalog: httpx.AsyncClient
) -> None:
    headers = {**auth(), "content-type": "application/json"}
    # ~1 MiB of unknown keys: refused by the member cap, not with 90,000 field errors.
    response = await catalog.post("/v1/products", content=_unknown_keys(90_000), headers=headers)
    problem = _problem(response, 422)
    assert len(response.content) < 2_000
    assert "members" in problem["detail"]
    # Routes with a larger body limit are capped too.
    many = json.dumps({"items": [{f"k{i}": 0 for i in range(100)} for _ in range(3_000)]}).encode()
    capped = await client.post("/v1/test-large-batches", content=many, headers=headers)
    assert "members" in _problem(capped, 422)["detail"]


async def test_a_route_may_declare_its_member_cap_or_skip_the_count(client: httpx.AsyncClient) -> None:
    headers = {**auth(), "content-type": "application/json"}
    many = json.dumps({"items": [{f"k{i}": 0 for i in range(100)} for _ in range(3_000)]}).encode()
    # 300,000 members: over the scaled cap of an 8 MiB route, but this one bounds its own parsing.
    uncounted = await client.post("/v1/test-uncounted", content=many, headers=headers)
    assert uncounted.status_code == 201 and uncounted.json() == {"bytes": len(many)}
    few = json.dumps({"items": [{"a": 1}] * 40}).encode()
    assert (await client.post("/v1/test-capped", content=few, headers=headers)).status_code == 201
    more = json.dumps({"items": [{"a": 1}] * 60}).encode()
    capped = await client.post("/v1/test-capped", content=more, headers=headers)
    assert "at most 50 object members" in _problem(capped, 422)["detail"]
    # Every other route keeps the default caps.
    assert (
        "members"
        in _problem(await client.post("/v1/test-large-batches", content=many, headers=headers), 422)["detail"]
    )
    with pytest.raises(ValueError):
        edge_body(json_members=0)


async def test_a_streaming_route_gets_its_body_as_it_arrives_within_its_limit(
    client: httpx.AsyncClient,
) -> None:
    headers = {**auth(), "content-type": "application/octet-stream"}
    body = CountingBody(chunks=32)  # 2 MiB in 64 KiB chunks, no Content-Length
    streamed = await client.post("/v1/test-streamed", content=body, headers=headers)
    assert streamed.status_code == 201, streamed.text
    assert streamed.json()["bytes"] == len(b'{"items": [') + 32 * 65536
    assert streamed.json()["chunks"] > 1  # handed on chunk by chunk, not read whole first
    over = CountingBody(chunks=200)  # 12.5 MiB: refused as it passes 4 MiB
    _problem(await client.post("/v1/test-streamed", content=over, headers=headers), 413)
    assert over.pulled < 200
    declared = await client.post("/v1/test-streamed", content=b"x" * (4 * MIB + 1), headers=headers)
    _problem(declared, 413)


async def test_field_errors_are_capped_and_the_rest_counted(catalog: httpx.AsyncClient) -> None:
    headers = {**auth(), "content-type": "application/json"}
    response = await catalog.post("/v1/products", content=_unknown_keys(500), headers=headers)
    problem = _problem(response, 422)
    assert len(problem["errors"]) == MAX_REPORTED_ERRORS
    assert problem["omitted_errors"] >= 500 - MAX_REPORTED_ERRORS
    assert str(MAX_REPORTED_ERRORS) in problem["detail"]


async def test_health_docs_and_schema_stay_public(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json", "/static/swagger-ui/swagger-ui.css"):
        assert (await client.get(path)).status_code == 200, path


async def test_metrics_are_public_by_default_outside_production(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200


async def test_metrics_need_an_ops_or_admin_key_in_production(sqlite_url: str) -> None:
    async with running_app(_app(sqlite_url, environment="production")) as http:
        _problem(await http.get("/metrics"), 401)
        _problem(await http.get("/metrics", headers={"Authorization": "Bearer not-a-key"}), 401)
        _problem(await http.get("/metrics", headers=auth(Role.CRM)), 403)
        for role in (Role.OPS, Role.ADMIN):
            response = await http.get("/metrics", headers=auth(role))
            assert response.status_code == 200 and "http_requests_total" in response.text
        assert (await http.get("/healthz")).status_code == 200


async def test_metrics_can_be_opened_or_closed_by_setting(sqlite_url: str) -> None:
    async with running_app(_app(sqlite_url, environment="production", metrics_public=True)) as http:
        assert (await http.get("/metrics")).status_code == 200
    async with running_app(_app(sqlite_url, metrics_public=False)) as http:
        _problem(await http.get("/metrics"), 401)
        assert (await http.get("/metrics", headers=auth(Role.OPS))).status_code == 200
